#!/usr/bin/env bash
# Stops the DNS lab started by start.sh: only the processes whose ids start.sh recorded.
set -euo pipefail

LAB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RUN="${DNS_LAB_RUN_DIR:-$LAB/.run}"
[[ -d "$RUN" ]] || exit 0
if [[ -z "${DNS_LAB_LOCKED:-}" ]]; then
  exec 9>"$RUN/.lock"
  flock 9
fi

# Alive and not a zombie (an ended daemon waits for init to reap it, which can take seconds here).
running() { local stat; stat="$(ps -o stat= -p "$1" 2>/dev/null)" && [[ -n "$stat" && "$stat" != Z* ]]; }

# Ends the process in $RUN/<name>.pid if it is still that program (a recycled id is left alone).
stop_one() {
  local name="$1" pidfile="$RUN/$1.pid" pid
  [[ -f "$pidfile" ]] || return 0
  pid="$(cat "$pidfile")"
  if [[ -n "$pid" ]] && [[ "$(ps -p "$pid" -o comm= 2>/dev/null)" == "$name"* ]]; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do running "$pid" || break; sleep 0.1; done
    if running "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    printf '[dns-lab] stopped %s (%s)\n' "$name" "$pid" >&2
  fi
  rm -f "$pidfile"
}

stop_one dnsdist
stop_one kresd
stop_one knotd
rm -f "$RUN/doh-url" "$RUN/fingerprint"
