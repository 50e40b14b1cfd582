import { describe, expect, it } from 'vitest';
import { checkDkim, isDkimKeyRecord, measureDkimKey, parseDkimKeyRecord } from '../../../src/dns/checks/dkim.ts';
import { failingResolver, ids, labResolver, ZONE } from './lab.ts';

const DOMAIN = `dkim.${ZONE}`;

describe('checkDkim against the DNS lab', () => {
  it.each([
    ['rsa2048', [], { keyType: 'rsa', keyBits: 2048 }],
    ['cnamed', [], { keyType: 'rsa', keyBits: 2048 }],
    ['rsa1024', ['dkim.rsa-1024'], { keyType: 'rsa', keyBits: 1024 }],
    ['rsa512', ['dkim.rsa-too-short'], { keyType: 'rsa', keyBits: 512 }],
    ['ed25519', [], { keyType: 'ed25519', keyBits: 256 }],
    ['revoked', ['dkim.revoked'], { revoked: true, keyBits: null }],
    ['testing', ['dkim.testing'], { testing: true, keyBits: 2048 }],
    ['sha1', ['dkim.sha1-only'], { keyBits: 2048 }],
    ['garbage', ['dkim.invalid'], { keyBits: null }],
    ['badtype', ['dkim.invalid'], { keyType: null }],
    ['missing', ['dkim.key-missing'], { record: null }],
  ])('selector %s → %j', async (selector, expected, facts) => {
    const result = await checkDkim(labResolver(), DOMAIN, { selectors: [selector] });
    expect(ids(result.findings)).toEqual(expected);
    expect(result.facts.selectors[0]).toMatchObject({ selector, name: `${selector}._domainkey.${DOMAIN}`, ...facts });
  });

  it('gives the severities the issue asks for: under 1024 bits an error, 1024 a warning', async () => {
    const result = await checkDkim(labResolver(), DOMAIN, { selectors: ['rsa512', 'rsa1024', 'rsa2048'] });
    expect(result.findings.map((f) => [f.id, f.severity])).toEqual([
      ['dkim.rsa-too-short', 'error'],
      ['dkim.rsa-1024', 'warning'],
    ]);
    expect(result.facts.selectors.map((s) => s.keyBits)).toEqual([512, 1024, 2048]);
    expect(result.record).toBeNull();
  });

  it('never guesses selectors', async () => {
    const resolver = labResolver();
    const result = await checkDkim(resolver, DOMAIN);
    expect(ids(result.findings)).toEqual(['dkim.no-selectors']);
    expect(resolver.queriesMade()).toBe(0);
  });

  it('reports SERVFAIL and resolver trouble as DNS failures, not missing keys', async () => {
    expect(ids((await checkDkim(labResolver(), `bogus.${ZONE}`, { selectors: ['s1'] })).findings)).toEqual(['dkim.dns-failure']);
    expect(ids((await checkDkim(failingResolver('ERROR'), DOMAIN, { selectors: ['rsa2048'] })).findings)).toEqual(['dkim.dns-failure']);
  });
});

describe('DKIM key records', () => {
  it('parses tags, removes whitespace inside p= and defaults k to rsa', () => {
    expect(parseDkimKeyRecord('v=DKIM1; h=sha256:sha1; s=email; t=y:s; p=MIIB IjAN\tBgkq')).toEqual({
      version: 'DKIM1',
      keyType: 'rsa',
      publicKey: 'MIIBIjANBgkq',
      hashAlgorithms: ['sha256', 'sha1'],
      serviceTypes: ['email'],
      flags: ['y', 's'],
      errors: [],
    });
  });

  it('finds the mistakes', () => {
    expect(parseDkimKeyRecord('k=rsa; v=DKIM1; p=AAAA').errors).toEqual(['v=DKIM1 must come first']);
    expect(parseDkimKeyRecord('v=DKIM1; k=rsa').errors).toEqual(['the public key tag p= is missing']);
    expect(parseDkimKeyRecord('v=DKIM1; p=AAAA; p=BBBB').errors).toEqual(['the tag "p" appears more than once']);
    expect(parseDkimKeyRecord('v=DKIM1; s=tlsrpt; p=AAAA').errors).toEqual(['s=tlsrpt excludes email']);
    expect(parseDkimKeyRecord('v=DKIM1; p=not*base64').errors).toEqual(['p= is not base64']);
  });

  it('recognises key records', () => {
    expect(isDkimKeyRecord('v=DKIM1; p=')).toBe(true);
    expect(isDkimKeyRecord('k=rsa; p=AAAA')).toBe(true);
    expect(isDkimKeyRecord('google-site-verification=abc')).toBe(false);
  });

  it('measures keys with WebCrypto', async () => {
    const { publicKey } = (await crypto.subtle.generateKey(
      { name: 'RSASSA-PKCS1-v1_5', modulusLength: 3072, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
      true,
      ['sign', 'verify'],
    )) as CryptoKeyPair;
    const spki = new Uint8Array((await crypto.subtle.exportKey('spki', publicKey)) as ArrayBuffer);
    expect(await measureDkimKey('rsa', btoa(String.fromCharCode(...spki)))).toEqual({ bits: 3072 });
    expect(await measureDkimKey('ed25519', btoa('x'.repeat(31)))).toEqual({ error: 'an ed25519 key is 32 octets, this p= has 31' });
    expect(await measureDkimKey('rsa', btoa('not a key'))).toMatchObject({ error: expect.stringContaining('SubjectPublicKeyInfo') });
  });
});
