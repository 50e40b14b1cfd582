import { describe, expect, it } from 'vitest';
import { suiteBand, suiteProperties } from '../../src/tls/grading/index';
import { gradeServer } from '../../src/tls/grading/grade-server';
import { danePublished, downgradeProtection, rollUpGrades } from '../../src/tls/grading/domain';
import { probeResult } from './fixtures';

const ids = (r: { findings: { id: string }[] }) => r.findings.map((f) => f.id);

describe('suite properties from the IANA name', () => {
  it.each([
    ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', { keyExchange: 'ECDHE', authentication: 'RSA', cipher: 'AES', cipherBits: 128, mode: 'GCM', forwardSecrecy: true, aead: true }],
    ['TLS_AES_256_GCM_SHA384', { keyExchange: 'TLS13', cipher: 'AES', cipherBits: 256, mode: 'GCM', forwardSecrecy: true, aead: true }],
    ['TLS_CHACHA20_POLY1305_SHA256', { keyExchange: 'TLS13', cipher: 'CHACHA20', mode: 'POLY1305', aead: true }],
    ['TLS_RSA_WITH_3DES_EDE_CBC_SHA', { keyExchange: 'RSA', cipher: '3DES', cipherBits: 112, mode: 'CBC', mac: 'SHA', forwardSecrecy: false, aead: false }],
    ['TLS_RSA_EXPORT_WITH_RC4_40_MD5', { keyExchange: 'RSA', cipher: 'RC4', cipherBits: 40, mode: 'STREAM', mac: 'MD5', export: true }],
    ['TLS_DH_anon_WITH_AES_128_CBC_SHA', { keyExchange: 'DH', authentication: 'anon', forwardSecrecy: false }],
    ['TLS_DHE_RSA_WITH_AES_256_CBC_SHA256', { keyExchange: 'DHE', mode: 'CBC', mac: 'SHA256', forwardSecrecy: true }],
    ['TLS_RSA_PSK_WITH_AES_128_GCM_SHA256', { keyExchange: 'PSK', authentication: 'PSK' }],
    ['TLS_AES_128_CCM_8_SHA256', { mode: 'CCM_8', aead: true }],
    ['SSL_CK_RC4_128_WITH_MD5', { keyExchange: 'RSA', cipher: 'RC4', mac: 'MD5' }],
    ['TLS_FALLBACK_SCSV', { signalling: true }],
  ])('%s', (name, expected) => {
    expect(suiteProperties(name)).toMatchObject(expected);
  });

  it('puts suites in the NCSC-NL bands', () => {
    expect(suiteBand('TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256')).toBe('good');
    expect(suiteBand('TLS_AES_128_GCM_SHA256')).toBe('good');
    expect(suiteBand('TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA')).toBe('sufficient');
    expect(suiteBand('TLS_DHE_RSA_WITH_AES_128_GCM_SHA256')).toBe('sufficient');
    expect(suiteBand('TLS_RSA_WITH_AES_128_GCM_SHA256')).toBe('phase_out');
    expect(suiteBand('TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA')).toBe('phase_out');
    expect(suiteBand('TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384')).toBe('phase_out');
    for (const weak of ['TLS_RSA_WITH_RC4_128_SHA', 'TLS_RSA_WITH_NULL_SHA256', 'TLS_RSA_WITH_DES_CBC_SHA', 'TLS_ECDH_anon_WITH_AES_128_CBC_SHA', 'TLS_RSA_EXPORT_WITH_DES40_CBC_SHA', 'TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256']) {
      expect(suiteBand(weak), weak).toBe('insufficient');
    }
  });
});

describe('gradeServer', () => {
  it('grades a modern server good with no findings', () => {
    expect(gradeServer(probeResult())).toEqual({ grade: 'good', findings: [] });
  });

  it('grades TLS 1.2 only as sufficient (no TLS 1.3)', () => {
    const { 'TLSv1.3': _, ...suites } = probeResult().cipher_suites;
    const result = gradeServer(probeResult({ protocols: { ...probeResult().protocols, 'TLSv1.3': false }, cipher_suites: suites }));
    expect(result.grade).toBe('sufficient');
    expect(ids(result)).toEqual(['tls.no-tls13']);
  });

  it('grades a legacy server (TLS 1.0, 3DES, RC4) insufficient, with each reason', () => {
    const legacy = probeResult({
      protocols: { SSLv2: false, SSLv3: false, 'TLSv1.0': true, 'TLSv1.1': true, 'TLSv1.2': true, 'TLSv1.3': false },
      cipher_suites: {
        'TLSv1.2': [
          { id: '0xC02F', name: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256' },
          { id: '0x000A', name: 'TLS_RSA_WITH_3DES_EDE_CBC_SHA' },
          { id: '0x0005', name: 'TLS_RSA_WITH_RC4_128_SHA' },
        ],
        'TLSv1.1': [{ id: '0xC013', name: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA' }],
        'TLSv1.0': [{ id: '0xC013', name: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA' }],
      },
      server_preference: { 'TLSv1.2': false, 'TLSv1.1': null, 'TLSv1.0': null },
      fallback_scsv: false,
    });
    const result = gradeServer(legacy);
    expect(result.grade).toBe('insufficient');
    expect(ids(result)).toEqual(
      expect.arrayContaining(['tls.protocol-tls10', 'tls.protocol-tls11', 'tls.no-tls13', 'tls.suite-insufficient', 'tls.suite-phase-out', 'tls.suite-sufficient', 'tls.no-server-preference', 'tls.no-fallback-scsv']),
    );
    const insufficient = result.findings.find((f) => f.id === 'tls.suite-insufficient')!;
    expect(insufficient.advice).toContain('TLS_RSA_WITH_RC4_128_SHA');
    expect(insufficient.advice).toContain('mx.example.org (192.0.2.25)');
    expect(insufficient.severity).toBe('error');
  });

  it('judges SSL, DH size, groups, signatures, renegotiation, compression and STARTTLS injection', () => {
    const result = gradeServer(
      probeResult({
        protocols: { SSLv2: false, SSLv3: true, 'TLSv1.0': false, 'TLSv1.1': false, 'TLSv1.2': true, 'TLSv1.3': true },
        key_exchange: { groups: ['secp192r1', 'x25519'], dh_bits: 1024, ecdh_bits: 192 },
        signature_algorithms: ['rsa_pkcs1_sha1', 'rsa_pkcs1_sha256'],
        secure_renegotiation: false,
        compression: true,
        smtp: { ...probeResult().smtp, starttls_injection: true },
      }),
    );
    expect(result.grade).toBe('insufficient');
    expect(ids(result)).toEqual(
      expect.arrayContaining(['tls.protocol-sslv3', 'tls.dh-insufficient', 'tls.group-insufficient', 'tls.signature-sha1', 'tls.insecure-renegotiation', 'tls.compression', 'tls.starttls-injection']),
    );
  });

  it('puts 2048-bit DH and SHA-1 signatures in phase out', () => {
    const result = gradeServer(probeResult({ key_exchange: { groups: ['x25519'], dh_bits: 2048, ecdh_bits: 253 }, signature_algorithms: ['ecdsa_sha1'] }));
    expect(result.grade).toBe('phase_out');
    expect(ids(result).sort()).toEqual(['tls.dh-phase-out', 'tls.signature-sha1']);
  });

  it('notes a weaker suite preferred over a stronger one by a server that picks', () => {
    const result = gradeServer(
      probeResult({
        cipher_suites: { ...probeResult().cipher_suites, 'TLSv1.2': [{ id: '0xC013', name: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA' }, { id: '0xC02F', name: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256' }] },
      }),
    );
    expect(ids(result)).toContain('tls.weak-suite-preferred');
    expect(result.grade).toBe('sufficient');
  });

  it('does not fail a server that could not be judged, or that refused', () => {
    const inconclusive = gradeServer(probeResult({ status: 'inconclusive', status_reason: '421 4.7.0 Too many connections' }));
    expect(inconclusive.grade).toBe('inconclusive');
    expect(inconclusive.findings).toMatchObject([{ id: 'tls.inconclusive', severity: 'info' }]);
    expect(inconclusive.findings[0]!.advice).toContain('421 4.7.0');
    const refused = gradeServer(probeResult({ ip: '10.0.0.25', status: 'refused', status_reason: '10.0.0.25 is in a private range (10.0.0.0/8)' }));
    expect(refused).toMatchObject({ grade: 'inconclusive', findings: [{ id: 'tls.refused', severity: 'warning' }] });
  });

  it('grades a server without STARTTLS no_tls', () => {
    const result = gradeServer(probeResult({ status: 'no_starttls', status_reason: 'STARTTLS not offered' }));
    expect(result).toMatchObject({ grade: 'no_tls', findings: [{ id: 'tls.no-starttls', severity: 'error' }] });
  });

  it('says when the budget stopped the scan, without changing the grade', () => {
    const result = gradeServer(probeResult({ complete: false }));
    expect(result).toMatchObject({ grade: 'good', findings: [{ id: 'tls.incomplete' }] });
  });
});

describe('domain roll-up and downgrade protection', () => {
  it('is the worst server, ignoring inconclusive ones while others are graded', () => {
    expect(rollUpGrades([])).toBe('pending');
    expect(rollUpGrades([null])).toBe('pending');
    expect(rollUpGrades(['good', 'inconclusive'])).toBe('good');
    expect(rollUpGrades(['inconclusive', 'inconclusive'])).toBe('inconclusive');
    expect(rollUpGrades(['good', 'phase_out', 'sufficient'])).toBe('phase_out');
    expect(rollUpGrades(['insufficient', 'no_tls'])).toBe('no_tls');
  });

  it('is DANE when every MX has validated TLSA, else MTA-STS in enforce mode, else none', () => {
    expect(downgradeProtection({ mtaStsMode: 'enforce', daneByHost: new Map([['a', true], ['b', true]]) })).toBe('dane');
    expect(downgradeProtection({ mtaStsMode: 'enforce', daneByHost: new Map([['a', true], ['b', false]]) })).toBe('mta_sts');
    expect(downgradeProtection({ mtaStsMode: 'testing', daneByHost: new Map([['a', false]]) })).toBe('none');
    expect(downgradeProtection({ mtaStsMode: null, daneByHost: new Map() })).toBe('none');
    expect(danePublished({ name: '_25._tcp.mx', dns_status: 'NOERROR', authenticated: false, records: [{ usage: 3, selector: 1, matching_type: 1, data: 'ab' }], matched: true })).toBe(false);
  });
});

describe('the probe result schema (what POST /api/probe/results accepts)', () => {
  it('accepts the contract and refuses unknown fields, bad values and oversized chains', async () => {
    const { probeTargetResultSchema } = await import('../../src/tls/probe-result-schema');
    expect(probeTargetResultSchema.safeParse(probeResult()).success).toBe(true);
    const paths = (value: unknown) => {
      const parsed = probeTargetResultSchema.safeParse(value);
      return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}:${i.code}`);
    };
    expect(paths({ ...probeResult(), grade: 'good' })).toEqual([':unrecognized_keys']);
    expect(paths({ ...probeResult(), status: 'fine' })).toEqual(['status:invalid_value']);
    expect(paths({ ...probeResult(), cipher_suites: { 'TLSv1.2': [{ id: 'c02f', name: 'x' }] } })).toEqual(['cipher_suites.TLSv1.2.0.id:invalid_format']);
    expect(paths({ ...probeResult(), protocols: { ...probeResult().protocols, TLSv1_3: true } })).toEqual(['protocols:unrecognized_keys']);
    const cert = probeResult().certificates[0]!;
    expect(paths({ ...probeResult(), certificates: Array.from({ length: 11 }, () => cert) })).toEqual(['certificates:too_big']);
    expect(paths({ ...probeResult(), certificates: [{ ...cert, sha256: 'ABC' }] })).toEqual(['certificates.0.sha256:invalid_format']);
  });
});
