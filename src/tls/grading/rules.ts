/**
 * Findings about one mail server's TLS (ids `tls.*`), each with the NCSC-NL band it puts the server
 * in. Rendered into docs/rules.md with the DNS rules. The original MailCheck's twelve
 * securityevaluator tests map onto these (named in `original`).
 */
import { findingMaker, rulesList, type Rule, type Severity } from '../../dns/checks/finding.ts';
import type { Band } from './bands.ts';

const NCSC = 'https://english.ncsc.nl/publications/publications/2021/january/19/it-security-guidelines-for-transport-layer-security-2.1';

interface TlsRule {
  severity: Severity;
  /** The band a server with this finding is in at best; `null`: the finding does not grade (status notes). */
  band: Band | null;
  title: string;
  advice: string;
  reference: string;
  original?: string;
}

const RULES = {
  'tls.no-starttls': {
    severity: 'error',
    band: null,
    title: 'The mail server does not offer STARTTLS',
    advice:
      '{host} ({ip}) answered SMTP but did not offer STARTTLS, so all mail to it travels unencrypted. Enable TLS in the mail server (Postfix: smtpd_tls_security_level = may with a certificate and key; Exchange: a certificate bound to the SMTP service).',
    reference: 'https://www.rfc-editor.org/rfc/rfc3207',
    original: 'SESSION_INITIALIZATION_FAILED',
  },
  'tls.inconclusive': {
    severity: 'info',
    band: null,
    title: 'The TLS test could not be completed',
    advice:
      'The scan of {host} ({ip}) did not get far enough to judge its TLS ({reason}). This is usually rate limiting, greylisting or a firewall towards the scanner, not a fault of the server; it is tried again at the next scan. If it persists, allow the scanner\'s address to connect on port {port}.',
    reference: 'https://www.rfc-editor.org/rfc/rfc5321#section-4.5.3.2',
    original: 'INCONCLUSIVE (TCP_CONNECTION_FAILED)',
  },
  'tls.refused': {
    severity: 'warning',
    band: null,
    title: 'The MX address was not scanned: it is not a public address',
    advice:
      '{host} resolves to {ip}, which the scanner refused to test ({reason}). Private, loopback, link-local, shared (CGNAT) and reserved addresses cannot be reached by senders on the internet, so they try the next MX or defer mail. Publish the mail server\'s public address for {host}, or remove the record.',
    reference: 'https://www.rfc-editor.org/rfc/rfc6890',
  },
  'tls.incomplete': {
    severity: 'info',
    band: null,
    title: 'Not every TLS test ran',
    advice: 'The scan of {host} ({ip}) stopped before every test ran (the connection budget per server ran out or the server stopped answering); the grade is from the tests that did. It is completed at the next scan.',
    reference: NCSC,
  },
  'tls.protocol-sslv2': {
    severity: 'error',
    band: 'insufficient',
    title: 'SSL 2.0 is enabled',
    advice: '{host} ({ip}) accepts SSL 2.0, which is broken (RFC 6176). Disable it (Postfix: smtpd_tls_protocols = >=TLSv1.2, or at least !SSLv2, !SSLv3).',
    reference: 'https://www.rfc-editor.org/rfc/rfc6176',
  },
  'tls.protocol-sslv3': {
    severity: 'error',
    band: 'insufficient',
    title: 'SSL 3.0 is enabled',
    advice: '{host} ({ip}) accepts SSL 3.0, which is broken (POODLE, RFC 7568). Disable it (Postfix: smtpd_tls_protocols = >=TLSv1.2, or at least !SSLv2, !SSLv3).',
    reference: 'https://www.rfc-editor.org/rfc/rfc7568',
    original: 'Ssl3FailsWithBadCipherSuite',
  },
  'tls.protocol-tls10': {
    severity: 'warning',
    band: 'phase_out',
    title: 'TLS 1.0 is enabled',
    advice: '{host} ({ip}) accepts TLS 1.0, which is deprecated (RFC 8996). Plan to disable it once no important sender still needs it (Postfix: smtpd_tls_protocols = >=TLSv1.2); senders that cannot do better fall back to unencrypted delivery, which is why this is a phase-out and not a failure.',
    reference: 'https://www.rfc-editor.org/rfc/rfc8996',
    original: 'Tls10AvailableWithBestCipherSuiteSelected',
  },
  'tls.protocol-tls11': {
    severity: 'warning',
    band: 'phase_out',
    title: 'TLS 1.1 is enabled',
    advice: '{host} ({ip}) accepts TLS 1.1, which is deprecated (RFC 8996). Plan to disable it (Postfix: smtpd_tls_protocols = >=TLSv1.2).',
    reference: 'https://www.rfc-editor.org/rfc/rfc8996',
    original: 'Tls11AvailableWithBestCipherSuiteSelected',
  },
  'tls.no-tls12': {
    severity: 'warning',
    band: 'phase_out',
    title: 'Neither TLS 1.2 nor TLS 1.3 is supported',
    advice: '{host} ({ip}) supports only old protocol versions ({protocols}). Upgrade the mail server or its TLS library so that it offers TLS 1.2 and TLS 1.3.',
    reference: NCSC,
    original: 'Tls12AvailableWithBestCipherSuiteSelected',
  },
  'tls.no-tls13': {
    severity: 'info',
    band: 'sufficient',
    title: 'TLS 1.3 is not supported',
    advice: '{host} ({ip}) offers TLS 1.2 but not TLS 1.3. TLS 1.2 is sufficient; TLS 1.3 is better (forward secrecy and AEAD always, fewer round trips). Most current mail servers enable it with an up-to-date OpenSSL.',
    reference: 'https://www.rfc-editor.org/rfc/rfc8446',
  },
  'tls.suite-insufficient': {
    severity: 'error',
    band: 'insufficient',
    title: 'Insecure cipher suites are accepted',
    advice:
      '{host} ({ip}) accepts cipher suites without real protection: {suites}. Remove them (Postfix: smtpd_tls_exclude_ciphers = aNULL, eNULL, EXPORT, DES, RC4, MD5, PSK, SRP, IDEA, RC2, or smtpd_tls_mandatory_ciphers = high).',
    reference: NCSC,
    original: 'TlsWeakCipherSuitesRejected / Tls12AvailableWithWeakCipherSuiteNotSelected',
  },
  'tls.suite-phase-out': {
    severity: 'warning',
    band: 'phase_out',
    title: 'Cipher suites to phase out are accepted',
    advice:
      '{host} ({ip}) accepts cipher suites the NCSC-NL guidelines list for phasing out: {suites}. RSA key exchange gives no forward secrecy, 3DES has 64-bit blocks. Prefer ECDHE suites with AES-GCM or ChaCha20-Poly1305 and remove these once senders no longer need them.',
    reference: NCSC,
    original: 'Tls12AvailableWithSha2HashFunctionSelected',
  },
  'tls.suite-sufficient': {
    severity: 'info',
    band: 'sufficient',
    title: 'Cipher suites that are sufficient, not good, are accepted',
    advice: '{host} ({ip}) accepts suites that are sufficient but not good: {suites} (AES-CBC, or DHE key exchange). Nothing needs to change now; the good choice is ECDHE with AES-GCM or ChaCha20-Poly1305.',
    reference: NCSC,
  },
  'tls.no-server-preference': {
    severity: 'info',
    band: 'sufficient',
    title: 'The server lets the client choose the cipher suite',
    advice: '{host} ({ip}) picks the cipher suite by the sender\'s order for {protocols}, although it accepts suites of different strength, so a sender that lists a weak suite first gets it. Make the server prefer its own order (Postfix: tls_preempt_cipherlist = yes).',
    reference: NCSC,
    original: 'Tls12AvailableWithBestCipherSuiteSelectedFromReverseList',
  },
  'tls.weak-suite-preferred': {
    severity: 'info',
    band: 'sufficient',
    title: 'A weaker cipher suite is preferred over a stronger one',
    advice: '{host} ({ip}) prefers {first} for {protocol} although it also accepts {better}. Order the suites best first.',
    reference: NCSC,
    original: 'Tls12AvailableWithBestCipherSuiteSelected',
  },
  'tls.dh-insufficient': {
    severity: 'error',
    band: 'insufficient',
    title: 'Finite-field Diffie-Hellman below 2048 bits',
    advice: '{host} ({ip}) uses a {bits}-bit Diffie-Hellman group for DHE, which can be broken (Logjam). Use ffdhe3072 or larger (RFC 7919) or remove the DHE suites (Postfix: smtpd_tls_dh1024_param_file with a 3072-bit or ffdhe3072 file).',
    reference: 'https://www.rfc-editor.org/rfc/rfc7919',
    original: 'TlsSecureDiffieHellmanGroupSelected',
  },
  'tls.dh-phase-out': {
    severity: 'warning',
    band: 'phase_out',
    title: 'Finite-field Diffie-Hellman of 2048 bits',
    advice: '{host} ({ip}) uses a 2048-bit Diffie-Hellman group for DHE; the NCSC-NL guidelines ask for 3072 bits or more. Use ffdhe3072 (RFC 7919), or rely on ECDHE and remove the DHE suites.',
    reference: 'https://www.rfc-editor.org/rfc/rfc7919',
    original: 'TlsSecureDiffieHellmanGroupSelected',
  },
  'tls.group-insufficient': {
    severity: 'error',
    band: 'insufficient',
    title: 'A weak key-exchange group is accepted',
    advice: '{host} ({ip}) accepts the key-exchange groups {groups}, which are too small to be safe. Limit the groups to X25519, secp256r1 and secp384r1 (Postfix: tls_eecdh_auto_curves = X25519 prime256v1 secp384r1).',
    reference: 'https://www.rfc-editor.org/rfc/rfc8422',
    original: 'TlsSecureEllipticCurveSelected',
  },
  'tls.group-phase-out': {
    severity: 'warning',
    band: 'phase_out',
    title: 'A key-exchange group to phase out is accepted',
    advice: '{host} ({ip}) accepts the key-exchange groups {groups}, which the guidelines list for phasing out. Limit the groups to X25519, secp256r1 and secp384r1 (and X25519MLKEM768 where supported).',
    reference: NCSC,
    original: 'TlsSecureEllipticCurveSelected',
  },
  'tls.signature-md5': {
    severity: 'error',
    band: 'insufficient',
    title: 'MD5 signatures in the key exchange',
    advice: '{host} ({ip}) signs its key exchange with MD5 ({algorithms}), which can be forged. Update the TLS library; current OpenSSL never does this.',
    reference: 'https://www.rfc-editor.org/rfc/rfc9155',
  },
  'tls.signature-sha1': {
    severity: 'warning',
    band: 'phase_out',
    title: 'SHA-1 (or SHA-224) signatures in the key exchange',
    advice: '{host} ({ip}) signs its key exchange with {algorithms}. SHA-1 is deprecated for TLS signatures (RFC 9155); update the TLS library or its signature-algorithm settings so SHA-256 or better is used.',
    reference: 'https://www.rfc-editor.org/rfc/rfc9155',
    original: 'Tls12AvailableWithSha2HashFunctionSelected',
  },
  'tls.insecure-renegotiation': {
    severity: 'error',
    band: 'insufficient',
    title: 'No secure renegotiation',
    advice: '{host} ({ip}) does not support secure renegotiation (RFC 5746), so an attacker can splice data into a session. Update the TLS library; every version since 2010 supports it.',
    reference: 'https://www.rfc-editor.org/rfc/rfc5746',
  },
  'tls.compression': {
    severity: 'error',
    band: 'insufficient',
    title: 'TLS compression is enabled',
    advice: '{host} ({ip}) accepts TLS-level compression, which leaks secrets through the size of messages (CRIME). Turn it off (OpenSSL: SSL_OP_NO_COMPRESSION, the default since 1.1.0).',
    reference: 'https://www.rfc-editor.org/rfc/rfc7457#section-2.6',
  },
  'tls.no-fallback-scsv': {
    severity: 'info',
    band: 'sufficient',
    title: 'No downgrade protection between TLS versions',
    advice: '{host} ({ip}) accepts several old TLS versions ({protocols}) but does not refuse a downgraded handshake marked with TLS_FALLBACK_SCSV (RFC 7507). Disabling the versions below TLS 1.2 removes the problem; otherwise update the TLS library.',
    reference: 'https://www.rfc-editor.org/rfc/rfc7507',
  },
  'tls.starttls-injection': {
    severity: 'error',
    band: 'insufficient',
    title: 'Commands sent before STARTTLS are executed inside TLS',
    advice: '{host} ({ip}) answered a command that was sent in plain text before the TLS handshake as if it came inside TLS (CVE-2011-0411), so an attacker can inject commands into the encrypted session. Update the mail server software; it must discard buffered input when STARTTLS starts.',
    reference: 'https://www.cve.org/CVERecord?id=CVE-2011-0411',
  },
} as const satisfies Record<string, TlsRule>;

export type TlsRuleId = keyof typeof RULES;

export const TLS_RULES: readonly (Rule & { when?: string; original?: string })[] = rulesList(RULES).map((rule) => {
  const band = RULES[rule.id as TlsRuleId].band;
  const original = (RULES[rule.id as TlsRuleId] as TlsRule).original;
  return {
    id: rule.id,
    severity: rule.severity,
    title: rule.title,
    advice: rule.advice,
    reference: rule.reference,
    ...(band ? { when: `Grade: ${band.replace('_', ' ')}` } : { when: 'Not graded' }),
    ...(original ? { original } : {}),
  };
});

export const tlsFinding = findingMaker(RULES);

/** The band a finding puts the server in; null for status notes that do not grade. */
export function bandOf(id: string): Band | null {
  return id in RULES ? RULES[id as TlsRuleId].band : null;
}
