import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateCertificates, nameMatches, presentedNames } from '../../src/tls/certificates/evaluate';
import type { CertificateFacts, ChainFacts } from '../../src/tls/probe-result';
import { certificate, probeResult } from './fixtures';

/**
 * Real certificates made with openssl (a CA, leaves signed by it, self-signed and weak ones), read
 * back into the facts the agent sends with node:crypto, and chains verified by `openssl verify`, as
 * the agent verifies against its root store.
 */
let dir: string;
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();

function facts(file: string): CertificateFacts {
  const x = new X509Certificate(readFileSync(join(dir, file)));
  const key = x.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  const curveBits: Record<string, number> = { prime256v1: 256, secp384r1: 384, secp521r1: 521, secp224r1: 224 };
  const text = openssl('x509', '-in', file, '-noout', '-text');
  return {
    subject: x.subject.split('\n').reverse().join(','),
    issuer: x.issuer.split('\n').reverse().join(','),
    not_before: new Date(x.validFrom).toISOString(),
    not_after: new Date(x.validTo).toISOString(),
    sha256: x.fingerprint256.replace(/:/g, '').toLowerCase(),
    spki_sha256: createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex'),
    der: x.raw.toString('base64'),
    serial: x.serialNumber,
    san_dns: (x.subjectAltName ?? '').split(', ').filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4)),
    key_type: key.asymmetricKeyType === 'rsa' ? 'RSA' : key.asymmetricKeyType === 'ec' ? 'EC' : String(key.asymmetricKeyType),
    key_bits: details.modulusLength ?? curveBits[details.namedCurve ?? ''] ?? 0,
    signature_algorithm: /Signature Algorithm: (\S+)/.exec(text)![1]!,
    self_signed: x.checkIssued(x) && x.verify(key),
    is_ca: x.ca,
    extended_key_usage: x.keyUsage ?? [],
  };
}

function chainFacts(files: string[]): ChainFacts {
  try {
    const untrusted = files.slice(1);
    openssl('verify', '-CAfile', 'ca.pem', ...(untrusted.length ? ['-untrusted', untrusted.join('')] : []), files[0]!);
    return { trusted: true, error: null, in_order: true, missing_intermediates: false };
  } catch (error) {
    const out = String((error as { stderr?: Buffer }).stderr ?? error);
    return { trusted: false, error: /error \d+ at \d+ depth lookup: (.*)/.exec(out)?.[1] ?? out.trim(), in_order: true, missing_intermediates: false };
  }
}

function leaf(name: string, options: { san?: string; key?: string[]; digest?: string; ca?: boolean; eku?: string } = {}) {
  openssl('req', '-new', '-newkey', ...(options.key ?? ['ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']), '-nodes', '-keyout', `${name}.key`, '-subj', `/CN=${name}`, '-out', `${name}.csr`);
  const ext = [`subjectAltName=${options.san ?? `DNS:${name}`}`, `extendedKeyUsage=${options.eku ?? 'serverAuth'}`].join('\n');
  writeFileSync(join(dir, `${name}.ext`), ext);
  if (options.ca === false) {
    openssl('x509', '-req', '-in', `${name}.csr`, '-key', `${name}.key`, `-${options.digest ?? 'sha256'}`, '-days', '90', '-extfile', `${name}.ext`, '-out', `${name}.pem`);
  } else {
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', `-${options.digest ?? 'sha256'}`, '-days', '90', '-extfile', `${name}.ext`, '-out', `${name}.pem`);
  }
  return `${name}.pem`;
}

const ctx = (overrides: Partial<{ host: string; now: Date; strict: boolean }> = {}) => ({ host: 'mx.example.org', now: new Date(), strict: false, ...overrides });
const result = (files: string[]) => probeResult({ certificates: files.map(facts), chain: chainFacts(files) });
const ids = (findings: { id: string }[]) => findings.map((f) => f.id).sort();

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mce-certs-'));
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-subj', '/CN=Test Root CA', '-days', '3650', '-out', 'ca.pem');
  leaf('mx.example.org');
  leaf('wild', { san: 'DNS:*.example.org' });
  leaf('other.example.net');
  leaf('self', { san: 'DNS:mx.example.org', ca: false });
  leaf('weak', { san: 'DNS:mx.example.org', key: ['rsa:1024'], digest: 'sha1' });
  leaf('client', { san: 'DNS:mx.example.org', eku: 'clientAuth' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('evaluateCertificates with real certificates', () => {
  it('finds nothing wrong with a trusted certificate for the MX host', () => {
    expect(evaluateCertificates(result(['mx.example.org.pem']), ctx())).toEqual([]);
    expect(evaluateCertificates(result(['mx.example.org.pem']), ctx({ strict: true }))).toEqual([]);
  });

  it('accepts a wildcard for one label only', () => {
    expect(evaluateCertificates(result(['wild.pem']), ctx())).toEqual([]);
    expect(ids(evaluateCertificates(result(['wild.pem']), ctx({ host: 'a.mx.example.org' })))).toEqual(['certificate.name-mismatch']);
  });

  it('makes a wrong name informational for opportunistic TLS and an error when the domain is strict', () => {
    const r = result(['other.example.net.pem']);
    expect(evaluateCertificates(r, ctx())).toMatchObject([{ id: 'certificate.name-mismatch', severity: 'info' }]);
    const strict = evaluateCertificates(r, ctx({ strict: true }));
    expect(strict).toMatchObject([{ id: 'certificate.name-mismatch-strict', severity: 'error' }]);
    expect(strict[0]!.advice).toContain('other.example.net');
  });

  it('flags a self-signed certificate (error only when strict)', () => {
    const r = result(['self.pem']);
    expect(r.certificates[0]!.self_signed).toBe(true);
    expect(r.chain!.trusted).toBe(false);
    expect(ids(evaluateCertificates(r, ctx()))).toEqual(['certificate.self-signed']);
    expect(evaluateCertificates(r, ctx({ strict: true }))).toMatchObject([{ id: 'certificate.self-signed-strict', severity: 'error' }]);
  });

  it('flags an untrusted chain with the verifier\'s reason', () => {
    const r = probeResult({ certificates: [facts('mx.example.org.pem')], chain: { trusted: false, error: 'unable to get local issuer certificate', in_order: true, missing_intermediates: true } });
    const found = evaluateCertificates(r, ctx({ strict: true }));
    expect(ids(found)).toEqual(['certificate.missing-intermediates', 'certificate.untrusted-strict']);
    expect(found.find((f) => f.id === 'certificate.untrusted-strict')!.advice).toContain('unable to get local issuer certificate');
  });

  it('warns 14 days ahead of expiry and fails after it', () => {
    const r = result(['mx.example.org.pem']);
    const notAfter = Date.parse(r.certificates[0]!.not_after);
    expect(ids(evaluateCertificates(r, ctx({ now: new Date(notAfter - 15 * 86_400_000) })))).toEqual([]);
    expect(evaluateCertificates(r, ctx({ now: new Date(notAfter - 10 * 86_400_000) }))).toMatchObject([{ id: 'certificate.expires-soon', severity: 'warning' }]);
    expect(evaluateCertificates(r, ctx({ now: new Date(notAfter + 1000) }))).toMatchObject([{ id: 'certificate.expired', severity: 'error' }]);
  });

  it('flags a 1024-bit RSA key and a SHA-1 signature', () => {
    const r = result(['weak.pem']);
    expect(r.certificates[0]).toMatchObject({ key_type: 'RSA', key_bits: 1024, signature_algorithm: 'sha1WithRSAEncryption' });
    expect(ids(evaluateCertificates(r, ctx()))).toEqual(['certificate.weak-key', 'certificate.weak-signature']);
  });

  it('flags a certificate not meant for servers', () => {
    expect(ids(evaluateCertificates(result(['client.pem']), ctx()))).toEqual(['certificate.wrong-usage']);
  });
});

describe('DANE and the edges', () => {
  const tlsa = (matched: boolean | null, authenticated = true, usage = 3) => ({
    name: '_25._tcp.mx.example.org',
    dns_status: 'NOERROR',
    authenticated,
    records: [{ usage, selector: 1, matching_type: 1, data: 'ab'.repeat(32) }],
    matched,
  });

  it('fails a validated TLSA set that matches nothing', () => {
    expect(evaluateCertificates(probeResult({ dane: tlsa(false) }), ctx({ strict: true }))).toMatchObject([{ id: 'certificate.dane-mismatch', severity: 'error' }]);
  });

  it('ignores names, roots and dates under a matching DANE-EE record (RFC 7672 §3.1.1)', () => {
    const r = probeResult({ dane: tlsa(true), certificates: [certificate({ self_signed: true, san_dns: ['other.example'], not_after: '2020-01-01T00:00:00Z' })], chain: { trusted: false, error: 'self-signed certificate', in_order: true, missing_intermediates: false } });
    expect(evaluateCertificates(r, ctx({ strict: true })).filter((f) => f.severity === 'error')).toEqual([]);
  });

  it('warns when the TLSA lookup fails with SERVFAIL for a host with signed addresses, and only then', () => {
    const failed = (dns_status: string, address_authenticated?: boolean | null) =>
      probeResult({ dane: { name: '_25._tcp.mx.example.org', dns_status, authenticated: false, records: [], matched: null, address_authenticated } });
    expect(evaluateCertificates(failed('SERVFAIL', true), ctx())).toMatchObject([{ id: 'certificate.dane-lookup-failed', severity: 'warning' }]);
    expect(evaluateCertificates(failed('SERVFAIL', true), ctx())[0]!.advice).toContain('_25._tcp.mx.example.org');
    // Unsigned addresses: DANE senders never ask for TLSA, so the failure costs no mail.
    expect(evaluateCertificates(failed('SERVFAIL', false), ctx())).toEqual([]);
    // An agent that did not look (older) says nothing either; nor does the agent's own timeout.
    expect(evaluateCertificates(failed('SERVFAIL'), ctx())).toEqual([]);
    expect(evaluateCertificates(failed('TIMEOUT', true), ctx())).toEqual([]);
    expect(evaluateCertificates(failed('NXDOMAIN'), ctx())).toEqual([]);
  });

  it('notes TLSA records without DNSSEC', () => {
    expect(ids(evaluateCertificates(probeResult({ dane: tlsa(null, false) }), ctx()))).toEqual(['certificate.dane-unsigned']);
  });

  it('says so when no certificate came, and says nothing without a handshake', () => {
    expect(ids(evaluateCertificates(probeResult({ certificates: [] }), ctx()))).toEqual(['certificate.none']);
    expect(evaluateCertificates(probeResult({ status: 'no_starttls', certificates: [] }), ctx())).toEqual([]);
  });

  it('matches names per RFC 6125 (CN only without SAN)', () => {
    expect(nameMatches('*.example.org', 'mx.example.org')).toBe(true);
    expect(nameMatches('*.example.org', 'example.org')).toBe(false);
    expect(nameMatches('*.org', 'example.org')).toBe(false);
    expect(nameMatches('m*.example.org', 'mx.example.org')).toBe(false);
    expect(nameMatches('MX.Example.org.', 'mx.example.org')).toBe(true);
    expect(presentedNames(certificate({ san_dns: [], subject: 'CN=mx.example.org,O=Example\\, Inc' }))).toEqual(['mx.example.org']);
    expect(presentedNames(certificate({ san_dns: ['a.example.org'], subject: 'CN=mx.example.org' }))).toEqual(['a.example.org']);
  });
});
