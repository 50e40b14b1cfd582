/**
 * Findings about the certificate chain a mail server presents (ids `certificate.*`). Trust and name
 * come in two forms: informational for opportunistic TLS (senders encrypt to any certificate, RFC 7435),
 * errors when the domain asks senders to authenticate (MTA-STS enforce, or DANE).
 */
import { findingMaker, rulesList, type RuleTable } from '../../dns/checks/finding.ts';

const RFC6125 = 'https://www.rfc-editor.org/rfc/rfc6125#section-6.4';
const RFC8461_4 = 'https://www.rfc-editor.org/rfc/rfc8461#section-4.2';
const RFC5280 = 'https://www.rfc-editor.org/rfc/rfc5280';
const MOZILLA = 'https://wiki.mozilla.org/CA/Required_or_Recommended_Practices';

const RULES = {
  'certificate.none': {
    severity: 'warning',
    title: 'No certificate was presented',
    advice: '{host} completed STARTTLS but the scan saw no certificate (e.g. an anonymous suite, or the chain could not be read). Configure a certificate for {host} (Postfix: smtpd_tls_chain_files).',
    reference: RFC5280,
  },
  'certificate.untrusted': {
    severity: 'info',
    title: 'The certificate does not chain to a public root',
    advice: 'The chain of {host} does not verify against the public roots ({error}). Senders using opportunistic TLS still encrypt, so mail is not lost; but MTA-STS in enforce mode needs a publicly trusted certificate. Use one from a public CA (e.g. Let\'s Encrypt) before enforcing.',
    reference: RFC8461_4,
  },
  'certificate.untrusted-strict': {
    severity: 'error',
    title: 'The certificate does not chain to a public root, and senders are told to insist on it',
    advice: 'The chain of {host} does not verify against the public roots ({error}), and {domainRule}, so senders that apply it refuse to deliver to {host}. Install a certificate from a public CA with its full intermediate chain.',
    reference: RFC8461_4,
  },
  'certificate.self-signed': {
    severity: 'info',
    title: 'The certificate is self-signed',
    advice: '{host} presents a self-signed certificate. Opportunistic senders still encrypt; but nobody can verify it, and it cannot be used with MTA-STS. Use a certificate from a public CA, or publish DANE-EE (3 1 1) TLSA records for it.',
    reference: RFC8461_4,
  },
  'certificate.self-signed-strict': {
    severity: 'error',
    title: 'The certificate is self-signed, and senders are told to insist on a trusted one',
    advice: '{host} presents a self-signed certificate, and {domainRule}, so senders that apply it refuse to deliver. Use a certificate from a public CA (or, with DANE only, make sure the TLSA record matches it).',
    reference: RFC8461_4,
  },
  'certificate.name-mismatch': {
    severity: 'info',
    title: 'The certificate does not name the MX host',
    advice: 'The certificate of {host} names {names}, not {host}. Opportunistic senders do not check names; MTA-STS in enforce mode does. Get a certificate whose subjectAltName includes {host} (a wildcard covers one label only).',
    reference: RFC6125,
  },
  'certificate.name-mismatch-strict': {
    severity: 'error',
    title: 'The certificate does not name the MX host, and senders are told to insist on it',
    advice: 'The certificate of {host} names {names}, not {host}, and {domainRule}, so senders that apply it refuse to deliver to {host}. Get a certificate whose subjectAltName includes {host}.',
    reference: RFC6125,
  },
  'certificate.expired': {
    severity: 'error',
    title: 'The certificate has expired',
    advice: 'The certificate of {host} expired on {date}. Senders that check certificates (MTA-STS, DANE-TA) refuse to deliver. Renew it now and check why automatic renewal did not run.',
    reference: RFC5280,
  },
  'certificate.not-yet-valid': {
    severity: 'error',
    title: 'The certificate is not yet valid',
    advice: 'The certificate of {host} is valid only from {date}. Check the server\'s clock and the certificate installed.',
    reference: RFC5280,
  },
  'certificate.expires-soon': {
    severity: 'warning',
    title: 'The certificate expires soon',
    advice: 'The certificate of {host} expires on {date}, in {days} days. Renew it now: automated renewal (e.g. Let\'s Encrypt at 30 days left) should already have run, so check that it works.',
    reference: RFC5280,
  },
  'certificate.weak-key': {
    severity: 'error',
    title: 'A certificate has a weak key',
    advice: 'The certificate "{subject}" in the chain of {host} has a {type} key of {bits} bits; at least RSA 2048 or EC 256 bits are needed. Issue a new certificate with a stronger key.',
    reference: MOZILLA,
  },
  'certificate.weak-signature': {
    severity: 'error',
    title: 'A certificate is signed with a weak hash',
    advice: 'The certificate "{subject}" in the chain of {host} is signed with {algorithm}; MD5 and SHA-1 signatures can be forged. Replace it with a certificate signed with SHA-256 or better.',
    reference: MOZILLA,
  },
  'certificate.missing-intermediates': {
    severity: 'warning',
    title: 'Intermediate certificates are missing',
    advice: '{host} does not send the full chain: an intermediate certificate is missing, and senders that do not fetch it themselves cannot verify the certificate. Configure the full chain file (leaf, then intermediates).',
    reference: 'https://www.rfc-editor.org/rfc/rfc8446#section-4.4.2',
  },
  'certificate.out-of-order': {
    severity: 'warning',
    title: 'The certificates are sent out of order',
    advice: '{host} sends its chain out of order (each certificate should be followed by its issuer). Some senders fail to verify such a chain; list the leaf first, then each issuer in turn.',
    reference: 'https://www.rfc-editor.org/rfc/rfc8446#section-4.4.2',
  },
  'certificate.wrong-usage': {
    severity: 'warning',
    title: 'The certificate is not meant for TLS servers',
    advice: 'The certificate of {host} has an extended key usage ({usages}) without serverAuth, so strict clients refuse it. Get a certificate issued for TLS server authentication.',
    reference: 'https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.12',
  },
  'certificate.dane-mismatch': {
    severity: 'error',
    title: 'No TLSA record matches the certificate',
    advice: 'The DNSSEC-validated TLSA records at {name} match none of the certificates {host} presents, so senders using DANE refuse to deliver to it. Publish TLSA records for the current certificate (e.g. "3 1 1 <SHA-256 of its public key>"), ideally before each key rollover.',
    reference: 'https://www.rfc-editor.org/rfc/rfc7672#section-3',
  },
  'certificate.dane-lookup-failed': {
    severity: 'warning',
    title: 'The TLSA lookup fails',
    advice: 'Looking up the TLSA records at {name} for {host} failed ({status}), and the addresses of {host} are DNSSEC-signed, so senders that use DANE look for TLSA records there and defer mail to {host} until the lookup works. A validating resolver answers SERVFAIL when the answer\'s DNSSEC signatures do not verify or the name servers do not answer TLSA queries properly. Check the zone of {name} with a DNSSEC analyser (e.g. DNSViz) and its name servers.',
    reference: 'https://www.rfc-editor.org/rfc/rfc7672#section-2.2',
  },
  'certificate.dane-unsigned': {
    severity: 'info',
    title: 'TLSA records without DNSSEC are ignored',
    advice: 'TLSA records for {host} were found at {name}, but the answer is not DNSSEC-validated, so senders ignore them. Sign the zone with DNSSEC, or remove the records.',
    reference: 'https://www.rfc-editor.org/rfc/rfc7672#section-2.2',
  },
} as const satisfies RuleTable<string>;

export type CertificateRuleId = keyof typeof RULES;
export const CERTIFICATE_RULES = rulesList(RULES);
export const certificateFinding = findingMaker(RULES);
