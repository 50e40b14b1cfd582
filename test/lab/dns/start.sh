#!/usr/bin/env bash
# Starts the DNS lab on loopback (docs/dns-lab.md): Knot signs and serves the zones in zones/, kresd
# validates them with the lab's own trust anchor, dnsdist serves RFC 8484 DoH in front of kresd.
# Idempotent: a lab already running with the same zones and scripts is left alone. Prints and writes
# the DoH URL to $RUN/doh-url. Nothing leaves loopback: kresd forwards only the lab suffix, to Knot.
set -euo pipefail

LAB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RUN="${DNS_LAB_RUN_DIR:-$LAB/.run}"
SUFFIX="lab.mailcheck.test."
KNOT_PORT="${DNS_LAB_KNOT_PORT:-15353}"
KRESD_PORT="${DNS_LAB_KRESD_PORT:-15354}"
DNSDIST_PORT="${DNS_LAB_DNSDIST_PORT:-15355}"
DOH_PORT="${DNS_LAB_DOH_PORT:-18053}"
DOH_URL="http://127.0.0.1:$DOH_PORT/dns-query"
PACKAGES=(knot knot-dnsutils knot-resolver dnsdist)

LAB_NAME=dns-lab
# shellcheck source=../lib.sh
source "$LAB/../lib.sh"
lab_lock

# A fingerprint of everything that shapes the running lab: a change restarts it.
fingerprint() {
  {
    printf '%s\n' "$KNOT_PORT $KRESD_PORT $DNSDIST_PORT $DOH_PORT"
    cat "$LAB/start.sh" "$LAB/../lib.sh"
    for f in "$LAB"/zones/*.zone; do printf '%s\n' "$f"; cat "$f"; done
  } | sha256sum | cut -d' ' -f1
}

# Answers when dnsdist's DoH endpoint returns a DNS message for the lab's SOA.
doh_answers() {
  node --input-type=module -e '
    // The wire query for "lab.mailcheck.test. SOA" (id 0, RD), made once with dns-packet.encode.
    const q = "AAABAAABAAAAAAAAA2xhYgltYWlsY2hlY2sEdGVzdAAABgAB";
    const res = await fetch(process.argv[1] + "?dns=" + q, { signal: AbortSignal.timeout(2000) });
    const body = new Uint8Array(await res.arrayBuffer());
    // RCODE 0 (NOERROR) in the low bits of the 4th octet.
    process.exit(res.ok && body.length > 12 && (body[3] & 0x0f) === 0 ? 0 : 1);
  ' "$1" 2>/dev/null
}

FP="$(fingerprint)"
if alive knotd && alive kresd && alive dnsdist && [[ "$(cat "$RUN/fingerprint" 2>/dev/null)" == "$FP" ]] \
  && doh_answers "$DOH_URL"; then
  log "already running: $DOH_URL"
  echo "$DOH_URL"
  exit 0
fi
# Something is half up, stale or out of date: start from nothing (we hold the lock already).
DNS_LAB_LOCKED=1 bash "$LAB/stop.sh" >/dev/null 2>&1 || true

# --- packages ---------------------------------------------------------------------------------
ensure_packages "${PACKAGES[@]}"
for b in knotd knotc keymgr kdig kresd dnsdist; do
  command -v "$b" >/dev/null || [[ -x "/usr/sbin/$b" ]] || die "$b not found after install"
done
export PATH="$PATH:/usr/sbin"

for port in "$KNOT_PORT" "$KRESD_PORT" "$DNSDIST_PORT" "$DOH_PORT"; do
  if ss -Hlntu "sport = :$port" | grep -q .; then
    die "port $port on loopback is taken by another program (set DNS_LAB_*_PORT, see docs/dns-lab.md)"
  fi
done

# --- zones ------------------------------------------------------------------------------------
T1="$(now)"
# A start that fails half-way stops what it had started.
trap 'status=$?; ((status == 0)) || DNS_LAB_LOCKED=1 bash "$LAB/stop.sh" >/dev/null 2>&1 || true' EXIT
rm -rf "$RUN/knot" "$RUN/kresd" "$RUN/dnsdist"
mkdir -p "$RUN/knot/zones" "$RUN/knot/db" "$RUN/kresd" "$RUN/dnsdist"

zones=()
for f in "$LAB"/zones/*.zone; do zones+=("$(basename "$f" .zone).") ; done
is_child_of() { [[ "$1" == *".$2" ]]; }
# The closest enclosing lab zone of a zone, or nothing for the apex.
parent_of() {
  local best="" z
  for z in "${zones[@]}"; do
    if is_child_of "$1" "$z" && ((${#z} > ${#best})); then best="$z"; fi
  done
  printf '%s' "$best"
}
marker() { grep -qE "^;[[:space:]]*lab:[[:space:]]*$2([[:space:]]|$)" "$LAB/zones/${1%.}.zone"; }

[[ " ${zones[*]} " == *" $SUFFIX "* ]] || die "zones/${SUFFIX%.}.zone is missing"
for z in "${zones[@]}"; do
  [[ "$z" == "$SUFFIX" ]] || is_child_of "$z" "$SUFFIX" || die "zone $z is not under $SUFFIX"
  {
    printf '$ORIGIN %s\n$TTL 300\n' "$z"
    printf '@ SOA ns1.%s hostmaster.%s 1 3600 600 86400 300\n' "$SUFFIX" "$SUFFIX"
    printf '@ NS ns1.%s\n' "$SUFFIX"
    cat "$LAB/zones/${z%.}.zone"
    printf '\n; --- delegations added by start.sh ---\n'
  } >"$RUN/knot/zones/${z%.}.zone"
done
for z in "${zones[@]}"; do
  p="$(parent_of "$z")"
  [[ -n "$p" ]] && printf '%s NS ns1.%s\n' "$z" "$SUFFIX" >>"$RUN/knot/zones/${p%.}.zone"
done

{
  cat <<EOF
server:
    rundir: "$RUN/knot"
    pidfile: "$RUN/knotd.pid"
    listen: 127.0.0.1@$KNOT_PORT
database:
    storage: "$RUN/knot/db"
control:
    listen: "$RUN/knot/knot.sock"
log:
  - target: "$RUN/knot/knotd.log"
    any: info
template:
  - id: default
    storage: "$RUN/knot/zones"
    file: "%s.zone"
    dnssec-signing: on
    zonefile-load: difference-no-serial
    journal-content: all
    zonefile-sync: -1
    semantic-checks: on
zone:
EOF
  for z in "${zones[@]}"; do
    printf '  - domain: %s\n' "$z"
    marker "$z" unsigned && printf '    dnssec-signing: off\n'
  done
} >"$RUN/knot/knot.conf"
KNOTCONF="$RUN/knot/knot.conf"

knotc -c "$KNOTCONF" conf-check >/dev/null || die "knot.conf does not check (see above)"
knotd -c "$KNOTCONF" -d 9>&-
for _ in $(seq 100); do [[ -S "$RUN/knot/knot.sock" ]] && break; sleep 0.1; done

# Wait until every zone is loaded, and every signed one serves its DNSKEY.
signed=()
for z in "${zones[@]}"; do
  rrtype=SOA
  marker "$z" unsigned || { signed+=("$z"); rrtype=DNSKEY; }
  for i in $(seq 100); do
    kdig +short +time=1 +retry=0 @127.0.0.1 -p "$KNOT_PORT" "$z" "$rrtype" | grep -q . && break
    if ((i == 100)) || grep -qF "[$z] zone event 'load' failed" "$RUN/knot/knotd.log"; then
      die "knot did not load or sign $z:"$'\n'"$(grep -F " error: [$z]" "$RUN/knot/knotd.log" | cut -c 26-)"
    fi
    sleep 0.1
  done
done

# DS of each signed child into its parent (corrupted for "lab: bogus-ds"), then reload the parents.
reload=()
for z in "${signed[@]}"; do
  p="$(parent_of "$z")"
  [[ -n "$p" ]] || continue
  ds="$(keymgr -c "$KNOTCONF" "$z" ds)"
  [[ -n "$ds" ]] || die "keymgr gave no DS for $z"
  if marker "$z" bogus-ds; then
    # Same key tag and algorithm, a digest of the right length that matches nothing.
    ds="$(awk '{ d = $NF; gsub(/./, "0", d); $NF = d; print }' <<<"$ds")"
  fi
  printf '%s\n' "$ds" >>"$RUN/knot/zones/${p%.}.zone"
  reload+=("$p")
done
for p in $(printf '%s\n' "${reload[@]}" | sort -u); do knotc -c "$KNOTCONF" zone-reload "$p" >/dev/null; done
for z in "${signed[@]}"; do
  p="$(parent_of "$z")"
  [[ -n "$p" ]] || continue
  for i in $(seq 100); do
    kdig +short +time=1 +retry=0 @127.0.0.1 -p "$KNOT_PORT" "$z" DS | grep -q . && break
    ((i == 100)) && die "parent $p does not serve the DS of $z"
    sleep 0.1
  done
done

# --- kresd: validating, forwards only the lab suffix -----------------------------------------
trust=""
while read -r line; do
  [[ -n "$line" ]] && trust+="trust_anchors.add('$line')"$'\n'
done < <(keymgr -c "$KNOTCONF" "$SUFFIX" ds)
[[ -n "$trust" ]] || die "keymgr gave no DS for $SUFFIX"

cat >"$RUN/kresd/kresd.conf" <<EOF
-- Generated by test/lab/dns/start.sh
net.ipv6 = false
net.listen('127.0.0.1', $KRESD_PORT, { kind = 'dns' })
-- Nothing goes to the root: no root trust anchor, no priming, no RFC 5011 or skew checks against it.
trust_anchors.remove('.')
for _, m in ipairs({ 'priming', 'detect_time_skew', 'ta_signal_query', 'ta_update' }) do
  pcall(modules.unload, m)
end
$trust
cache.open(16 * MB, 'lmdb://$RUN/kresd/cache')
-- FORWARD (not STUB) validates. Every other name is refused.
policy.add(policy.suffix(policy.FORWARD({ '127.0.0.1@$KNOT_PORT' }), { todname('$SUFFIX') }))
-- The rest of the reserved .test tree does not exist (RFC 6761): NXDOMAIN, as a real resolver would
-- say, so checks that walk up the tree (the DMARC tree walk) see "no record" rather than a failure.
policy.add(policy.suffix(policy.DENY, { todname('test.') }))
policy.add(policy.all(policy.REFUSE))
EOF
( cd "$RUN/kresd" && exec setsid kresd -n -c "$RUN/kresd/kresd.conf" "$RUN/kresd" \
    </dev/null >"$RUN/kresd/kresd.log" 2>&1 9>&- ) &
echo $! >"$RUN/kresd.pid"

for i in $(seq 100); do
  out="$(kdig +dnssec +time=1 +retry=0 @127.0.0.1 -p "$KRESD_PORT" "$SUFFIX" SOA 2>/dev/null || true)"
  grep -q 'status: NOERROR' <<<"$out" && grep -qiE 'flags:.* ad' <<<"$out" && break
  ((i == 100)) && die "kresd does not answer $SUFFIX with AD (see $RUN/kresd/kresd.log): $out"
  sleep 0.1
done

# --- dnsdist: DoH over plain HTTP ---------------------------------------------------------------
cat >"$RUN/dnsdist/dnsdist.conf" <<EOF
-- Generated by test/lab/dns/start.sh
setSecurityPollSuffix('')
setACL({ '127.0.0.0/8' })
setLocal('127.0.0.1:$DNSDIST_PORT')
newServer({ address = '127.0.0.1:$KRESD_PORT', name = 'kresd', checkName = '$SUFFIX', checkType = 'SOA' })
addDOHLocal('127.0.0.1:$DOH_PORT', nil, nil, '/dns-query')
EOF
dnsdist --check-config -C "$RUN/dnsdist/dnsdist.conf" >/dev/null || die "dnsdist.conf does not check"
( exec setsid dnsdist --supervised --disable-syslog -C "$RUN/dnsdist/dnsdist.conf" \
    </dev/null >"$RUN/dnsdist/dnsdist.log" 2>&1 9>&- ) &
echo $! >"$RUN/dnsdist.pid"

for i in $(seq 150); do
  doh_answers "$DOH_URL" && break
  ((i == 150)) && die "dnsdist DoH does not answer at $DOH_URL (see $RUN/dnsdist/dnsdist.log)"
  sleep 0.2
done

echo "$FP" >"$RUN/fingerprint"
echo "$DOH_URL" >"$RUN/doh-url"
log "startup: $(elapsed "$T1") s; DoH at $DOH_URL (knot :$KNOT_PORT, kresd :$KRESD_PORT, dnsdist :$DNSDIST_PORT)"
echo "$DOH_URL"
