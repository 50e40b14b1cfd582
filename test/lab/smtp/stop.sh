#!/usr/bin/env bash
# Stops the SMTP TLS lab started by start.sh: each Postfix instance by its own config directory (Postfix
# stops the master whose pid it recorded in that instance's queue), and the drop server by its pid file.
set -euo pipefail

LAB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RUN="${SMTP_LAB_RUN_DIR:-$LAB/.run}"
[[ -d "$RUN" ]] || exit 0
if [[ -z "${SMTP_LAB_LOCKED:-}" ]]; then
  exec 9>"$RUN/.lock"
  flock 9
fi
export PATH="$PATH:/usr/sbin"

# Alive and not a zombie (an ended daemon waits for init to reap it, which can take seconds here).
running() { local stat; stat="$(ps -o stat= -p "$1" 2>/dev/null)" && [[ -n "$stat" && "$stat" != Z* ]]; }

for etc in "$RUN"/*/etc; do
  [[ -f "$etc/main.cf" ]] || continue
  if postfix -c "$etc" status >/dev/null 2>&1; then
    # `script`: Postfix reports to a terminal or syslog only.
    script -qec "postfix -c $(printf '%q' "$etc") stop" /dev/null >/dev/null 2>&1 || true
    printf '[smtp-lab] stopped postfix (%s)\n' "$(basename "$(dirname "$etc")")" >&2
  fi
done

pidfile="$RUN/drop-server.pid"
if [[ -f "$pidfile" ]]; then
  pid="$(cat "$pidfile")"
  # Only if it is still our node process (a recycled id is left alone).
  if [[ -n "$pid" ]] && [[ "$(ps -p "$pid" -o comm= 2>/dev/null)" == node* ]]; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do running "$pid" || break; sleep 0.1; done
    if running "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    printf '[smtp-lab] stopped drop-server (%s)\n' "$pid" >&2
  fi
  rm -f "$pidfile"
fi
rm -f "$RUN/lab.json" "$RUN/fingerprint"
