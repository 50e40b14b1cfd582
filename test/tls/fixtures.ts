import type { CertificateFacts, ProbeTargetResult } from '../../src/tls/probe-result';

/** A ProbeTargetResult for a modern server (TLS 1.2/1.3, ECDHE AES-GCM only); tests change what they need. */
export function probeResult(overrides: Partial<ProbeTargetResult> = {}): ProbeTargetResult {
  return {
    host: 'mx.example.org',
    ip: '192.0.2.25',
    port: 25,
    status: 'ok',
    status_reason: null,
    protocols: { SSLv2: false, SSLv3: false, 'TLSv1.0': false, 'TLSv1.1': false, 'TLSv1.2': true, 'TLSv1.3': true },
    cipher_suites: {
      'TLSv1.3': [
        { id: '0x1302', name: 'TLS_AES_256_GCM_SHA384' },
        { id: '0x1303', name: 'TLS_CHACHA20_POLY1305_SHA256' },
        { id: '0x1301', name: 'TLS_AES_128_GCM_SHA256' },
      ],
      'TLSv1.2': [
        { id: '0xC030', name: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384' },
        { id: '0xC02F', name: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256' },
      ],
    },
    server_preference: { 'TLSv1.2': true, 'TLSv1.3': true },
    groups: ['x25519', 'secp256r1', 'secp384r1'],
    key_exchange: { groups: ['x25519', 'secp256r1', 'secp384r1'], dh_bits: null, ecdh_bits: 253 },
    signature_algorithms: ['rsa_pss_rsae_sha256'],
    secure_renegotiation: true,
    fallback_scsv: true,
    compression: false,
    certificates: [certificate()],
    chain: { trusted: true, error: null, in_order: true, missing_intermediates: false },
    dane: null,
    smtp: { greeting: '220 mx.example.org ESMTP', ehlo_extensions: ['PIPELINING', 'STARTTLS'], starttls_offered: true, starttls_injection: false, error: null },
    connections: 12,
    complete: true,
    started_at: '2026-11-25T12:00:00Z',
    duration_ms: 800,
    findings: [],
    ...overrides,
  };
}

export function certificate(overrides: Partial<CertificateFacts> = {}): CertificateFacts {
  return {
    subject: 'CN=mx.example.org',
    issuer: 'CN=Example Issuing CA,O=Example CA',
    not_before: '2026-10-01T00:00:00Z',
    not_after: '2026-12-30T00:00:00Z',
    sha256: 'a'.repeat(64),
    spki_sha256: 'b'.repeat(64),
    der: '',
    serial: '01',
    san_dns: ['mx.example.org'],
    key_type: 'EC',
    key_bits: 256,
    signature_algorithm: 'ecdsa-with-SHA256',
    self_signed: false,
    is_ca: false,
    extended_key_usage: ['serverAuth'],
    ...overrides,
  };
}
