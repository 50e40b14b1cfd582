#!/usr/bin/env bash
# Generates the SMTP TLS lab's certificates ONCE (docs/smtp-lab.md). The results are committed under
# certs/ so that the lab zone's TLSA records can be static: run this again only to replace them, and
# then update the TLSA records it prints in test/lab/dns/zones/tls.lab.mailcheck.test.zone.
# TEST ONLY: the private keys are public; nothing here may be trusted outside the lab.
set -euo pipefail

LAB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$LAB/certs"
ZONE="tls.lab.mailcheck.test"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"

# `openssl ca` rather than `openssl x509 -req`: only it takes explicit start and end dates (OpenSSL 3.0),
# which the expired certificate needs and which keep every other certificate valid until 2046.
ca_conf() { # $1 = CA name
  mkdir -p "$WORK/$1"
  : >"$WORK/$1/index.txt"
  cat >"$WORK/$1/ca.cnf" <<CNF
[ca]
default_ca = lab
[lab]
database = $WORK/$1/index.txt
new_certs_dir = $WORK/$1
rand_serial = yes
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
# The subject in this order: O, then CN (as the self-signed one, made by openssl req).
[anything]
organizationName = optional
commonName = supplied
organizationalUnitName = optional
[v3_intermediate]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_leaf]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = \${ENV::SAN}
CNF
}

key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$OUT/$1.key" 2>/dev/null; }
subj() { printf '/O=MailCheck Edge TLS lab (TEST ONLY)/CN=%s' "$1"; }

# Root CA: self-signed, 2019-2046 (before the expired leaf's dates, so that only the leaf is out of date).
key ca
openssl req -new -key "$OUT/ca.key" -subj "$(subj 'MailCheck Edge lab root CA')" -out "$WORK/ca.csr"
ca_conf root
cat >>"$WORK/root/ca.cnf" <<CNF
[v3_root]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
CNF
SAN=DNS:unused openssl ca -batch -config "$WORK/root/ca.cnf" -selfsign -keyfile "$OUT/ca.key" -in "$WORK/ca.csr" \
  -extensions v3_root -startdate 20190101000000Z -enddate 20461231000000Z -out "$OUT/ca.pem" -notext 2>/dev/null

# Intermediate, signed by the root.
key intermediate
openssl req -new -key "$OUT/intermediate.key" -subj "$(subj 'MailCheck Edge lab intermediate CA')" -out "$WORK/int.csr"
SAN=DNS:unused openssl ca -batch -config "$WORK/root/ca.cnf" -cert "$OUT/ca.pem" -keyfile "$OUT/ca.key" -in "$WORK/int.csr" \
  -extensions v3_intermediate -startdate 20190101000000Z -enddate 20461231000000Z -out "$OUT/intermediate.pem" -notext 2>/dev/null
ca_conf intermediate

# leaf NAME CN START END: a leaf signed by the intermediate; NAME.pem is the leaf, NAME.chain.pem the
# chain as Postfix sends it (leaf, intermediate), NAME.key its key.
leaf() {
  key "$1"
  openssl req -new -key "$OUT/$1.key" -subj "$(subj "$2")" -out "$WORK/$1.csr"
  SAN="DNS:$2" openssl ca -batch -config "$WORK/intermediate/ca.cnf" -cert "$OUT/intermediate.pem" \
    -keyfile "$OUT/intermediate.key" -in "$WORK/$1.csr" -extensions v3_leaf -startdate "$3" -enddate "$4" \
    -out "$OUT/$1.pem" -notext 2>/dev/null
  cat "$OUT/$1.pem" "$OUT/intermediate.pem" >"$OUT/$1.chain.pem"
}
leaf modern "mx.modern.$ZONE" 20260101000000Z 20460101000000Z
leaf legacy "mx.legacy.$ZONE" 20260101000000Z 20460101000000Z
leaf expired "mx.expired.$ZONE" 20200101000000Z 20210101000000Z
# Valid, from the lab CA, but for a host the wrongname set-up is not.
leaf wrongname "mx.elsewhere.example" 20260101000000Z 20460101000000Z

# Self-signed: its own issuer, no intermediate.
key selfsigned
SAN="DNS:mx.selfsigned.$ZONE" openssl req -x509 -new -key "$OUT/selfsigned.key" -subj "$(subj "mx.selfsigned.$ZONE")" \
  -addext "subjectAltName=DNS:mx.selfsigned.$ZONE" -addext "extendedKeyUsage=serverAuth" \
  -days 7300 -sha256 -out "$OUT/selfsigned.pem" 2>/dev/null
cp "$OUT/selfsigned.pem" "$OUT/selfsigned.chain.pem"

# Finite-field DH parameters of 1024 bits for the legacy set-up's DHE suites (a weak-DH finding).
openssl genpkey -genparam -algorithm DH -pkeyopt dh_paramgen_prime_len:1024 -out "$OUT/dh1024.pem" 2>/dev/null

rm -f "$OUT"/*.csr
chmod 644 "$OUT"/*.key

spki() { openssl x509 -in "$OUT/$1.pem" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1; }
echo "TLSA records for test/lab/dns/zones/$ZONE.zone (DANE-EE, SPKI, SHA-256):"
for n in modern legacy expired wrongname selfsigned; do printf '  %-10s 3 1 1 %s\n' "$n" "$(spki "$n")"; done
