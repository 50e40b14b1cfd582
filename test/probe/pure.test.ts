/** SMTP replies, target specs, the SSRF guard and the DANE matcher (with certificates openssl made). */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ehloKeywords, takeReplies } from '../../probe-agent/src/smtp/reply.ts';
import { parseTargetSpec } from '../../probe-agent/src/scan/resolve-targets.ts';
import { checkTarget, parseAllowList } from '../../probe-agent/src/scan/target-guard.ts';
import { certificateFacts } from '../../probe-agent/src/certificates/facts.ts';
import { verifyChain, parsePemBundle } from '../../probe-agent/src/certificates/chain.ts';
import type { DnsAnswer, DnsStatus, Resolver, RRType } from '../../src/dns/resolver.ts';
import { daneFacts, matchTlsa, subjectPublicKeyInfo } from '../../src/tls/dane.ts';
import { createTestPki } from './support/pki.ts';

describe('SMTP replies', () => {
  it('joins multi-line replies and keeps an unfinished one for later', () => {
    const { replies, rest } = takeReplies('250-mx.example\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n220-part');
    expect(replies).toHaveLength(1);
    expect(replies[0]!.code).toBe(250);
    expect(ehloKeywords(replies[0]!)).toEqual(['PIPELINING', 'STARTTLS', '8BITMIME']);
    expect(rest).toBe('220-part');
  });
});

describe('target specs', () => {
  it('reads host, host:port, IPv4, bare IPv6 and [IPv6]:port', () => {
    expect(parseTargetSpec('MX.Example.org.')).toEqual({ host: 'mx.example.org', port: 25 });
    expect(parseTargetSpec('mx.example.org:2525')).toEqual({ host: 'mx.example.org', port: 2525 });
    expect(parseTargetSpec('192.0.2.1:25')).toEqual({ host: '192.0.2.1', port: 25 });
    expect(parseTargetSpec('2001:db8::1')).toEqual({ host: '2001:db8::1', port: 25 });
    expect(parseTargetSpec('[2001:db8::1]:587')).toEqual({ host: '2001:db8::1', port: 587 });
    expect(() => parseTargetSpec('mx.example.org:99999')).toThrow(/port/);
    expect(() => parseTargetSpec('bad host!')).toThrow(/not a host name/);
  });
});

describe('SSRF guard', () => {
  const refused = ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '240.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fc00::1', 'fd12::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1'];
  it.each(refused)('refuses %s', (ip) => {
    const verdict = checkTarget(ip, []);
    expect(verdict.allowed).toBe(false);
    if (!verdict.allowed) expect(verdict.reason).toMatch(/--allow-targets/);
  });
  it('allows public unicast, and private ranges named in --allow-targets', () => {
    expect(checkTarget('8.8.8.8', []).allowed).toBe(true);
    expect(checkTarget('2a00:1450:4001:80b::201a', []).allowed).toBe(true);
    const allow = parseAllowList(['127.0.25.0/24', 'fd00::/8']);
    expect(checkTarget('127.0.25.3', allow).allowed).toBe(true);
    expect(checkTarget('127.0.0.1', allow).allowed).toBe(false);
    expect(checkTarget('fd12::1', allow).allowed).toBe(true);
    expect(() => parseAllowList(['10.0.0.0/33'])).toThrow(/CIDR/);
  });
});

describe('certificates and DANE', () => {
  it("looks at the MX host's addresses only when its TLSA lookup fails", async () => {
    const answer = (name: string, type: RRType, status: DnsStatus, authenticated: boolean, records: DnsAnswer['records'] = []): DnsAnswer => ({ name, type, status, records, authenticated, cnames: [] });
    const resolver = (tlsa: DnsStatus, addressSigned: boolean) => {
      const asked: string[] = [];
      const r: Resolver = {
        async query(name, type) {
          asked.push(`${type} ${name}`);
          if (type === 'TLSA') return answer(name, type, tlsa, false);
          if (type === 'A') return answer(name, type, 'NOERROR', addressSigned, [{ type: 'A', name, ttl: 300, address: '192.0.2.25' }]);
          return answer(name, type, 'NOERROR', false);
        },
      };
      return { r, asked };
    };
    const signed = resolver('SERVFAIL', true);
    expect(await daneFacts(signed.r, 'mx.example.org', [])).toMatchObject({ dns_status: 'SERVFAIL', records: [], address_authenticated: true });
    expect(signed.asked).toEqual(['TLSA _25._tcp.mx.example.org', 'A mx.example.org']);
    expect((await daneFacts(resolver('SERVFAIL', false).r, 'mx.example.org', [])).address_authenticated).toBe(false);
    const answered = resolver('NXDOMAIN', true);
    expect(await daneFacts(answered.r, 'mx.example.org', [])).not.toHaveProperty('address_authenticated');
    expect(answered.asked).toEqual(['TLSA _25._tcp.mx.example.org']);
  });

  const pki = createTestPki();
  const leaf = pki.leaf('dane.test.example', { ec: true });
  const leafDer = new Uint8Array(new X509Certificate(leaf.cert).raw);
  const intDer = new Uint8Array(new X509Certificate(pki.intermediatePem).raw);
  const facts = [certificateFacts(leafDer), certificateFacts(intDer)];
  /** What openssl says, independently of our DER walking. */
  const spkiSha256 = (pem: string) => {
    const pub = execFileSync('openssl', ['x509', '-pubkey', '-noout'], { input: pem });
    const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'DER'], { input: pub });
    return execFileSync('openssl', ['dgst', '-sha256', '-r'], { input: der }).toString().split(' ')[0]!;
  };

  it('fills CertificateFacts', () => {
    const [l, i] = facts;
    expect(l!.subject).toBe('CN=dane.test.example');
    expect(l!.issuer).toBe('CN=Probe Test Intermediate,O=Probe Test');
    expect(l!.san_dns).toEqual(['dane.test.example']);
    expect(l!.key_type).toBe('EC');
    expect(l!.key_bits).toBe(256);
    expect(l!.signature_algorithm).toBe('sha256WithRSAEncryption');
    expect(l!.extended_key_usage).toEqual(['serverAuth']);
    expect(l!.is_ca).toBe(false);
    expect(l!.self_signed).toBe(false);
    expect(l!.spki_sha256).toBe(spkiSha256(leaf.cert));
    expect(i!.is_ca).toBe(true);
    expect(i!.key_type).toBe('RSA');
    expect(i!.key_bits).toBe(2048);
    expect(Buffer.from(subjectPublicKeyInfo(leafDer)).length).toBeGreaterThan(60);
  });

  it('matches TLSA usages 3 and 2, selectors 0 and 1, matching types 0, 1 and 2', async () => {
    const spki = Buffer.from(subjectPublicKeyInfo(leafDer));
    const sha512 = execFileSync('openssl', ['dgst', '-sha512', '-r'], { input: Buffer.from(intDer) }).toString().split(' ')[0]!;
    expect(await matchTlsa([{ usage: 3, selector: 1, matching_type: 1, data: spkiSha256(leaf.cert) }], facts)).toBe(true);
    expect(await matchTlsa([{ usage: 3, selector: 1, matching_type: 0, data: spki.toString('hex') }], facts)).toBe(true);
    expect(await matchTlsa([{ usage: 3, selector: 0, matching_type: 1, data: facts[0]!.sha256 }], facts)).toBe(true);
    expect(await matchTlsa([{ usage: 2, selector: 0, matching_type: 2, data: sha512 }], facts)).toBe(true);
    // DANE-TA must be a certificate after the leaf; a PKIX usage is not usable for SMTP.
    expect(await matchTlsa([{ usage: 2, selector: 0, matching_type: 1, data: facts[0]!.sha256 }], facts)).toBe(false);
    expect(await matchTlsa([{ usage: 1, selector: 0, matching_type: 1, data: facts[0]!.sha256 }], facts)).toBeNull();
  });

  it('verifies the chain as sent: trusted, missing intermediate, out of order, self-signed, expired', () => {
    const anchors = parsePemBundle(pki.rootPem);
    expect(verifyChain([leafDer, intDer], anchors)).toEqual({ trusted: true, error: null, in_order: true, missing_intermediates: false });
    expect(verifyChain([leafDer], anchors)).toMatchObject({ trusted: false, missing_intermediates: true, error: 'unable to verify the first certificate' });
    expect(verifyChain([leafDer, intDer], [])).toMatchObject({ trusted: false, error: 'unable to get local issuer certificate' });
    const rootDer = new Uint8Array(anchors[0]!.raw);
    expect(verifyChain([leafDer, rootDer, intDer], anchors)).toMatchObject({ trusted: true, in_order: false });
    const self = pki.selfSigned('self.test.example');
    expect(verifyChain([new Uint8Array(new X509Certificate(self.cert).raw)], anchors)).toMatchObject({ trusted: false, error: 'self-signed certificate' });
    expect(verifyChain([leafDer, intDer], anchors, new Date('2100-01-01'))).toMatchObject({ trusted: false, error: 'certificate has expired' });
    expect(verifyChain([leafDer, intDer], anchors, new Date('2000-01-01'))).toMatchObject({ trusted: false, error: 'certificate is not yet valid' });
  });
});
