/**
 * What the probe agent measures on one mail-server IP: the contract between `probe-agent/` (which
 * fills it), the Worker (which stores and grades it) and `mailcheck-probe scan --format json` (which
 * prints it). Pure types, no platform API. Field names are snake_case and public: scripts read them,
 * so they are only ever added to, never renamed.
 *
 * Facts only: what the server did. Interpretation (grades, certificate findings, DANE verdicts in the
 * light of MTA-STS) lives in `src/tls/grading/` and `src/tls/certificates/`, so it can change without
 * a rescan.
 */
import type { Finding } from '../dns/checks/finding.ts';

export const PROTOCOLS = ['SSLv2', 'SSLv3', 'TLSv1.0', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
export type ProtocolName = (typeof PROTOCOLS)[number];

/** `ok`: STARTTLS offered and a TLS handshake completed with at least one protocol. */
export type ProbeStatus = 'ok' | 'no_starttls' | 'inconclusive' | 'refused';

export interface CipherSuiteRef {
  /** The IANA code point as four hex digits, upper case: "0xC02F". */
  id: string;
  /** The IANA name: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256". */
  name: string;
}

export interface CertificateFacts {
  /** RFC 4514 string, e.g. "CN=mx.example.com,O=Example". */
  subject: string;
  issuer: string;
  /** ISO 8601 UTC. */
  not_before: string;
  not_after: string;
  /** SHA-256 of the DER certificate, lower-case hex. */
  sha256: string;
  /** SHA-256 of the DER SubjectPublicKeyInfo, lower-case hex (DANE selector 1). */
  spki_sha256: string;
  /** The certificate as sent, base64 DER (DANE full-certificate matches, re-evaluation without a rescan). */
  der: string;
  serial: string;
  /** dNSName entries of subjectAltName, as written (may start with "*."). */
  san_dns: string[];
  /** e.g. "RSA", "EC", "Ed25519". */
  key_type: string;
  /** RSA modulus bits or EC field bits. */
  key_bits: number;
  /** e.g. "sha256WithRSAEncryption", "ecdsa-with-SHA256". */
  signature_algorithm: string;
  /** Issuer and subject equal and the signature verifies with its own key. */
  self_signed: boolean;
  is_ca: boolean;
  /** Extended key usages as OIDs or names ("serverAuth"); empty when the extension is absent. */
  extended_key_usage: string[];
}

/** Chain verification, done by the agent (it holds the root store; the Worker does not). */
export interface ChainFacts {
  /** The chain as sent links up to a trusted root (public roots plus any `--ca-file`). */
  trusted: boolean;
  /** Why not, e.g. "unable to get local issuer certificate", "certificate has expired". */
  error: string | null;
  /** Every certificate after the leaf was issued by the next one (RFC 8446 §4.4.2 order). */
  in_order: boolean;
  /** The chain sent lacked an intermediate that verification had to find elsewhere (or could not). */
  missing_intermediates: boolean;
}

export interface TlsaRecordFacts {
  usage: number;
  selector: number;
  matching_type: number;
  /** Lower-case hex. */
  data: string;
}

export interface DaneFacts {
  /** Name queried: `_25._tcp.<mx host>`. */
  name: string;
  /** NOERROR, NXDOMAIN, SERVFAIL, … of the TLSA query. */
  dns_status: string;
  /** The answer was DNSSEC-validated (AD bit); DANE counts only when true. */
  authenticated: boolean;
  records: TlsaRecordFacts[];
  /** Some usable record matched the chain; null when there were no usable records to match. */
  matched: boolean | null;
  /**
   * Whether the MX host's address records are DNSSEC-validated, looked up only when the TLSA query
   * failed (SERVFAIL): only then do DANE senders look for TLSA and defer on the failure (RFC 7672 §2.2).
   * Absent or null when not looked up (older agents too).
   */
  address_authenticated?: boolean | null;
}

export interface SmtpFacts {
  /** The 220 greeting line, as received (without CRLF). */
  greeting: string | null;
  /** EHLO keywords, upper case ("STARTTLS", "SIZE", "PIPELINING", …). */
  ehlo_extensions: string[];
  starttls_offered: boolean;
  /**
   * Response to bytes pipelined after STARTTLS (CVE-2011-0411 class): true when the server answered
   * the injected command inside TLS, false when it did not, null when not tested.
   */
  starttls_injection: boolean | null;
  /** The last SMTP reply when the dialogue ended early (e.g. "421 4.7.0 Too many connections"). */
  error: string | null;
}

export interface KeyExchangeFacts {
  /** Named groups the server accepted, IANA names ("x25519", "secp256r1", "X25519MLKEM768", "ffdhe2048"). */
  groups: string[];
  /** Size in bits of the finite-field DH the server chose for a DHE suite; null when none. */
  dh_bits: number | null;
  /** Size in bits of the smallest ECDH group accepted; null when none. */
  ecdh_bits: number | null;
}

export interface ProbeTargetResult {
  /** The MX host name the IP belongs to (the first, when several share one IP). */
  host: string;
  ip: string;
  port: number;
  status: ProbeStatus;
  /** Why the status is not `ok`, in words; null when ok. */
  status_reason: string | null;
  protocols: Record<ProtocolName, boolean>;
  /** Per supported protocol, in the server's order of preference when it has one. */
  cipher_suites: Partial<Record<ProtocolName, CipherSuiteRef[]>>;
  /** Per protocol: true when the server picks by its own order, false when by the client's, null unknown. */
  server_preference: Partial<Record<ProtocolName, boolean | null>>;
  /** Named groups accepted (same as key_exchange.groups; top-level because the issue names it). */
  groups: string[];
  key_exchange: KeyExchangeFacts;
  /** Signature algorithms seen in the server's key exchange / CertificateVerify (IANA names). */
  signature_algorithms: string[];
  /** RFC 5746 renegotiation_info in the ServerHello; null when not tested. */
  secure_renegotiation: boolean | null;
  /** Server refused a downgraded handshake that carried TLS_FALLBACK_SCSV (RFC 7507); null when untestable. */
  fallback_scsv: boolean | null;
  /** Server accepted TLS compression (CRIME); null when not tested. */
  compression: boolean | null;
  /** The chain as sent, leaf first. */
  certificates: CertificateFacts[];
  chain: ChainFacts | null;
  dane: DaneFacts | null;
  smtp: SmtpFacts;
  /** TCP connections the scan used. */
  connections: number;
  /** False when the connection budget ran out before every test ran. */
  complete: boolean;
  started_at: string;
  duration_ms: number;
  /** Findings from the shared grading rules (src/tls/grading), for the one-off scan's reader. */
  findings: Finding[];
}
