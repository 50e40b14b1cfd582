#!/usr/bin/env bash
# Starts the SMTP TLS lab on loopback (docs/smtp-lab.md): one Postfix instance per TLS set-up, each with
# its own config, queue and data directories under $RUN and its own 127.0.25.x address on port 25, plus a
# small Node server for the two misbehaving set-ups (drop, 421). The set-ups and what each is configured to
# do are in setups.json; the certificates in certs/ (made once by make-certs.sh, committed).
# Idempotent: a lab already running with the same scripts, certificates and set-ups is left alone.
# Prints and writes the lab's facts to $RUN/lab.json (the last line of stdout is that file's path).
# Nothing leaves loopback: no instance has an SMTP client, relays or looks up client names.
set -euo pipefail

LAB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RUN="${SMTP_LAB_RUN_DIR:-$LAB/.run}"
CERTS="$LAB/certs"
PORT=25
PACKAGES=(postfix sslscan testssl.sh)
# The Postfix set-ups, by name (setups.json has their addresses); drop and busy are drop-server.mjs.
POSTFIX_SETUPS=(modern legacy nostarttls expired wrongname selfsigned)

LAB_NAME=smtp-lab
# shellcheck source=../lib.sh
source "$LAB/../lib.sh"
lab_lock

# A value from setups.json: field FIELD of set-up NAME.
setup_field() {
  node -e 'const s = require(process.argv[1]).setups.find((x) => x.name === process.argv[2]); if (!s) process.exit(1); console.log(s[process.argv[3]]);' \
    "$LAB/setups.json" "$1" "$2"
}

# A fingerprint of everything that shapes the running lab: a change restarts it.
fingerprint() {
  {
    cat "$LAB/start.sh" "$LAB/../lib.sh" "$LAB/drop-server.mjs" "$LAB/setups.json"
    cat "$CERTS"/*.pem
  } | sha256sum | cut -d' ' -f1
}

# The first 4 bytes a server sends on ADDR:PORT ("220 ", "421 "), or nothing.
greeting() {
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" && head -c 4 <&3' "$1" "$PORT" 2>/dev/null || true
}

# Postfix logs to syslog unless stderr is a terminal, and there is no syslog here: `script` gives it one,
# so its errors reach our stderr.
pf() { script -qec "postfix -c $(printf '%q' "$1") $2" /dev/null 9>&-; }

all_up() {
  local n
  [[ "$(cat "$RUN/fingerprint" 2>/dev/null)" == "$FP" && -f "$RUN/lab.json" ]] || return 1
  for n in "${POSTFIX_SETUPS[@]}"; do
    [[ -f "$RUN/$n/etc/main.cf" ]] && postfix -c "$RUN/$n/etc" status >/dev/null 2>&1 || return 1
    [[ "$(greeting "$(setup_field "$n" ip)")" == "220 " ]] || return 1
  done
  alive drop-server && [[ "$(greeting "$(setup_field busy ip)")" == "421 " ]]
}

command -v node >/dev/null || die "node not found"
FP="$(fingerprint)"
if command -v postfix >/dev/null 2>&1 || [[ -x /usr/sbin/postfix ]]; then
  export PATH="$PATH:/usr/sbin"
  if all_up; then
    log "already running: $RUN/lab.json"
    echo "$RUN/lab.json"
    exit 0
  fi
fi
# Something is half up, stale or out of date: start from nothing (we hold the lock already).
SMTP_LAB_LOCKED=1 bash "$LAB/stop.sh" >/dev/null 2>&1 || true

# --- packages ---------------------------------------------------------------------------------
# "No configuration": the package then neither writes /etc/postfix/main.cf nor starts a system
# instance, which would listen on 0.0.0.0:25 and keep the lab's instances from binding 127.0.25.x:25.
before_install() { echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections; }
ensure_packages "${PACKAGES[@]}"
export PATH="$PATH:/usr/sbin"
for b in postfix postconf sslscan testssl openssl script; do
  command -v "$b" >/dev/null || die "$b not found after install"
done
id postfix >/dev/null 2>&1 || die "the postfix user is missing (the postfix package did not install cleanly)"

# --- port 25 ----------------------------------------------------------------------------------
ADDRS=()
while read -r n; do ADDRS+=("$(setup_field "$n" ip)"); done < <(node -e 'for (const s of require(process.argv[1]).setups) console.log(s.name)' "$LAB/setups.json")
# Listeners on port 25 that would keep an instance from binding its address (a wildcard does).
conflicts() {
  local a
  ss -Hlnt "sport = :$PORT" | awk '{ print $4 }' | while read -r local; do
    case "$local" in
      0.0.0.0:* | '*:'* | '[::]:'*) echo "$local" ;;
      *) for a in "${ADDRS[@]}"; do [[ "$local" == "$a:$PORT" ]] && echo "$local"; done ;;
    esac
  done
}
if [[ -n "$(conflicts)" ]]; then
  # The Debian package's own instance (/etc/postfix) listens on every address by default. It is not ours
  # to keep: the lab cannot run beside it, so stop it, loudly. Anything else we leave alone and stop.
  if [[ -f /etc/postfix/main.cf ]] && postfix status >/dev/null 2>&1; then
    log "stopping the system Postfix instance (/etc/postfix): it holds port $PORT ($(conflicts | tr '\n' ' '))"
    pf /etc/postfix stop >&2 || true
    for _ in $(seq 50); do [[ -z "$(conflicts)" ]] && break; sleep 0.1; done
  fi
  [[ -z "$(conflicts)" ]] || die "port $PORT is taken by another program on $(conflicts | tr '\n' ' '): $(ss -Hlntp "sport = :$PORT")"
fi

# --- Postfix instances ------------------------------------------------------------------------
T1="$(now)"
# Postfix's daemons run as the postfix user inside each queue directory, so that user must be able to reach
# $RUN (a checkout under a private home directory is not).
if ! runuser -u postfix -- test -x "$RUN"; then
  die "the postfix user cannot reach $RUN (a parent directory is not searchable): set SMTP_LAB_RUN_DIR to a directory it can reach, e.g. /tmp/mailcheck-smtp-lab"
fi
# A start that fails half-way stops what it had started.
trap 'status=$?; ((status == 0)) || SMTP_LAB_LOCKED=1 bash "$LAB/stop.sh" >/dev/null 2>&1 || true' EXIT

# Suites as OpenSSL names; setups.json lists the same by IANA id, and test/probe/smtp-lab.test.ts checks
# sslscan's view against it. Modern: ECDHE + AEAD only, in the server's order.
MODERN_CIPHERS='ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256'
# Legacy: CBC with SHA-1, static RSA key exchange, Camellia, anonymous DH, 1024-bit DHE; 7 suites in TLS
# 1.0/1.1 and 11 in TLS 1.2, so a full scan fits a 40-connection budget. SECLEVEL=0: OpenSSL 3 refuses
# TLS 1.0/1.1 (SHA-1 signatures), 1024-bit DH and anonymous suites at any higher level. Debian 12's
# OpenSSL has no 3DES or RC4 suites left to offer.
LEGACY_CIPHERS='ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA:DHE-RSA-AES128-SHA:AES128-GCM-SHA256:AES128-SHA256:AES128-SHA:AES256-SHA:CAMELLIA128-SHA:ADH-AES128-SHA:@SECLEVEL=0'

# TLS settings of set-up $1 (main.cf lines).
tls_config() {
  case "$1" in
    nostarttls)
      echo 'smtpd_tls_security_level = none'
      return ;;
    legacy)
      cat <<EOF
smtpd_tls_security_level = may
smtpd_tls_chain_files = $CERTS/legacy.key, $CERTS/legacy.chain.pem
smtpd_tls_protocols = >=TLSv1, <=TLSv1.2
smtpd_tls_ciphers = medium
tls_medium_cipherlist = $LEGACY_CIPHERS
tls_preempt_cipherlist = no
smtpd_tls_dh1024_param_file = $CERTS/dh1024.pem
EOF
      return ;;
  esac
  # modern, and the certificate set-ups: the same TLS as modern, so only the certificate differs.
  cat <<EOF
smtpd_tls_security_level = may
smtpd_tls_chain_files = $CERTS/$1.key, $CERTS/$1.chain.pem
smtpd_tls_protocols = >=TLSv1.2
smtpd_tls_ciphers = high
tls_high_cipherlist = $MODERN_CIPHERS
tls_preempt_cipherlist = yes
tls_eecdh_auto_curves = X25519 prime256v1 secp384r1
EOF
}

starts=()
for n in "${POSTFIX_SETUPS[@]}"; do
  ip="$(setup_field "$n" ip)"
  host="$(setup_field "$n" host)"
  d="$RUN/$n"
  rm -rf "$d"
  mkdir -p "$d/etc" "$d/queue" "$d/data"
  # master takes its lock in data_directory as the mail owner.
  chown postfix "$d/data"
  cat >"$d/etc/main.cf" <<EOF
# Generated by test/lab/smtp/start.sh for the "$n" set-up (docs/smtp-lab.md).
compatibility_level = 3.6
queue_directory = $d/queue
data_directory = $d/data
mail_owner = postfix
myhostname = $host
mydomain = tls.lab.mailcheck.test
myorigin = \$myhostname
smtpd_banner = \$myhostname ESMTP MailCheck Edge TLS lab ($n)
# master.cf binds $ip:$PORT explicitly: inet_interfaces must name an interface address, and 127.0.25.x
# is reachable through lo's 127.0.0.0/8 route without being one.
inet_interfaces = loopback-only
inet_protocols = ipv4
# Accept no mail, relay nothing, deliver nothing: the lab only talks SMTP up to STARTTLS and TLS.
mydestination =
relay_domains =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = reject
local_recipient_maps =
alias_maps =
alias_database =
biff = no
# No DNS: client names are not looked up (nothing leaves the machine, and no lookup delays a scan).
smtpd_peername_lookup = no
disable_dns_lookups = yes
# Scanners open many connections one after another: no per-client limits that would answer 421.
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_new_tls_session_rate_limit = 0
maillog_file = $d/maillog
maillog_file_prefixes = $RUN
$(tls_config "$n")
EOF
  # Only what smtpd needs; nothing chrooted (a chroot would need copies of /etc files in the queue).
  cat >"$d/etc/master.cf" <<EOF
# Generated by test/lab/smtp/start.sh for the "$n" set-up.
$ip:$PORT inet  n       -       n       -       -       smtpd
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
proxymap  unix  -       -       n       -       -       proxymap
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
  # In parallel: `postfix start` takes about 2 s, most of it in its own checks.
  pf "$d/etc" start >"$d/start.log" 2>&1 &
  starts+=("$!")
done
for i in "${!POSTFIX_SETUPS[@]}"; do
  n="${POSTFIX_SETUPS[$i]}"
  wait "${starts[$i]}" \
    || die "postfix ($n) did not start: $(cat "$RUN/$n/start.log")"$'\n'"$(tail -5 "$RUN/$n/maillog" 2>/dev/null)"
done

# --- the misbehaving servers ------------------------------------------------------------------
( exec setsid node "$LAB/drop-server.mjs" "$(setup_field drop ip)" "$(setup_field busy ip)" "$PORT" \
    </dev/null >"$RUN/drop-server.log" 2>&1 9>&- ) &
echo $! >"$RUN/drop-server.pid"

for n in "${POSTFIX_SETUPS[@]}"; do
  ip="$(setup_field "$n" ip)"
  for i in $(seq 100); do
    [[ "$(greeting "$ip")" == "220 " ]] && break
    ((i == 100)) && die "postfix ($n) does not greet on $ip:$PORT (see $RUN/$n/maillog)"
    sleep 0.1
  done
done
for i in $(seq 100); do
  [[ "$(greeting "$(setup_field busy ip)")" == "421 " ]] && break
  ((i == 100)) && die "drop-server.mjs does not answer (see $RUN/drop-server.log)"
  sleep 0.1
done

# --- lab.json: what tests and the bench need --------------------------------------------------
node -e '
  const [setupsFile, certs, run, out] = process.argv.slice(1);
  const lab = require(setupsFile);
  lab.ca_file = certs + "/ca.pem";
  lab.certs_dir = certs;
  lab.run_dir = run;
  for (const s of lab.setups) if (s.certificate) s.certificate.file = certs + "/" + s.certificate.file;
  require("fs").writeFileSync(out, JSON.stringify(lab, null, 2) + "\n");
' "$LAB/setups.json" "$CERTS" "$RUN" "$RUN/lab.json"
echo "$FP" >"$RUN/fingerprint"
log "startup: $(elapsed "$T1") s; ${#POSTFIX_SETUPS[@]} Postfix instances and drop/busy on 127.0.25.x:$PORT; facts in $RUN/lab.json"
echo "$RUN/lab.json"
