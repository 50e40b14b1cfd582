# Shared by the labs' start scripts (sourced, not run). The caller sets LAB_NAME (log prefix) and RUN
# (its run directory) first.

log() { printf '[%s] %s\n' "$LAB_NAME" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# One start at a time (vitest's global setups, CI and a developer may call a start script together):
# holds $RUN/.lock on descriptor 9 until the script ends.
lab_lock() {
  mkdir -p "$RUN"
  exec 9>"$RUN/.lock"
  flock 9
}

# The process in $RUN/<name>.pid runs (an ended one may linger as a zombie until init reaps it).
alive() {
  local stat
  [[ -f "$RUN/$1.pid" ]] && stat="$(ps -o stat= -p "$(cat "$RUN/$1.pid")" 2>/dev/null)" && [[ -n "$stat" && "$stat" != Z* ]]
}

# Installs the Debian packages named that are missing (root only; apt's log in $RUN/apt.log). A function
# `before_install`, when the caller defines one, runs first (e.g. to preseed debconf).
ensure_packages() {
  local p t0 missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  [[ "$(id -u)" == 0 ]] || die "missing Debian packages ${missing[*]}: run as root, or apt-get install them"
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if declare -F before_install >/dev/null; then before_install; fi
  t0="$(now)"
  # Wait for another apt/dpkg run on this machine instead of failing on its lock.
  apt-get -o DPkg::Lock::Timeout=600 update >"$RUN/apt.log" 2>&1 || { cat "$RUN/apt.log" >&2; die "apt-get update failed"; }
  log "apt-get update: $(elapsed "$t0") s"
  t0="$(now)"
  apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}" >>"$RUN/apt.log" 2>&1 \
    || { cat "$RUN/apt.log" >&2; die "apt-get install ${missing[*]} failed"; }
  log "apt-get install: $(elapsed "$t0") s"
}
