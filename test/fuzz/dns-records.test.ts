/**
 * Fuzzing the DMARC and SPF record parsers with strings from each grammar's alphabet and mutated
 * valid records. Property: a result every time, never an exception; problems are reported as issues
 * (DMARC) or syntax errors (SPF) with a message, and a record with no error has a usable policy.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { explainTag, parseDmarcRecord, suggestRecord } from '../../src/dns/dmarc/parse';
import { expandMacros, parseMacroString, parseSpfRecord, type MacroContext, type MacroValues } from '../../src/dns/spf';
import { decode, encode, mutate, mutationArb, params, testTimeout } from './support';

const DMARC_VALID = [
  'v=DMARC1; p=none',
  'v=DMARC1; p=reject; sp=quarantine; np=reject; pct=50; adkim=s; aspf=r; fo=0:1:d:s; rf=afrf; ri=86400; rua=mailto:a@example.org,mailto:b@example.net!10m; ruf=mailto:f@example.org; psd=n; t=y',
  'v=DMARC1;p=quarantine;rua=mailto:dmarc@example.com!1g',
];
const DMARC_PIECES = ['v', 'p', 'sp', 'np', 'pct', 't', 'adkim', 'aspf', 'fo', 'rf', 'ri', 'rua', 'ruf', 'psd', 'DMARC1', 'dmarc1', 'none', 'quarantine', 'reject', 'mailto:', '@', 'example.org', '!', '10m', '1g', '99999999999999999999', '-1', '4294967296', '=', ';', ',', ' ', '\t', ':', 'y', 'n', 'u', 'r', 's', '%', '\u0000', 'é', 'xn--', 'https://x/'];

const SPF_VALID = [
  'v=spf1 -all',
  'v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx/24 include:_spf.example.org exists:%{i}._spf.%{d} ~all',
  'v=spf1 a:mail.example.org/28//64 mx:example.net ptr:example.com ?include:x.example redirect=_spf.example.org exp=explain.%{d2}',
  'v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} include:%{d3}.%{h} -all',
];
const SPF_PIECES = ['v=spf1', ' ', '+', '-', '~', '?', 'all', 'include:', 'a', 'mx', 'ptr', 'ip4:', 'ip6:', 'exists:', 'redirect=', 'exp=', ':', '/', '//', '0', '24', '32', '128', '129', '999999999999', '192.0.2.1', '::', '2001:db8::1', '1.2.3.256', 'example.org', '.', '%{', '}', '%%', '%_', '%-', '%{i}', '%{ir}', '%{d2}', '%{l1r+-}', '%{s9999999999}', '%{x}', 'r', '-', '+', '_', '=', '\u0000', 'ü'];

function fromPieces(pieces: string[]) {
  return fc.array(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...pieces) }, { weight: 1, arbitrary: fc.string({ maxLength: 4 }) }), { maxLength: 40 }).map((p) => p.join(''));
}

function dmarcHolds(text: string) {
  const parsed = parseDmarcRecord(text);
  expect(parsed.text).toBe(text);
  for (const issue of parsed.issues) expect(issue.message.length).toBeGreaterThan(0);
  expect(Number.isFinite(parsed.policy.pct)).toBe(true);
  for (const tag of parsed.tags) expect(typeof explainTag(tag.name, tag.value)).toBe('string');
}

function spfHolds(text: string) {
  const parsed = parseSpfRecord(text);
  for (const error of parsed.errors) expect(error.message.length).toBeGreaterThan(0);
  if (parsed.errors.length === 0) expect(text.toLowerCase().startsWith('v=spf1')).toBe(true);
}

const mutated = (valid: string[]) =>
  fc.tuple(fc.constantFrom(...valid), fc.array(mutationArb, { minLength: 1, maxLength: 5 })).map(([text, m]) => decode(mutate(encode(text), m)));

describe('DMARC record parser under fuzzing', () => {
  it('strings from the grammar alphabet', { timeout: testTimeout(500, 2) }, () => {
    fc.assert(fc.property(fromPieces(DMARC_PIECES), (s) => dmarcHolds(`v=DMARC1; ${s}`)), params(300));
    fc.assert(fc.property(fromPieces(DMARC_PIECES), dmarcHolds), params(200));
  });

  it('mutated valid records', { timeout: testTimeout(500, 2) }, () => {
    fc.assert(fc.property(mutated(DMARC_VALID), dmarcHolds), params(500));
  });

  it('any string, and a suggestion from any parsed record', { timeout: testTimeout(200, 2) }, () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300, unit: 'binary' }), (s) => {
        dmarcHolds(s);
        // The record a domain owner is told to publish, built from whatever was parsed.
        expect(suggestRecord(parseDmarcRecord(s), { p: 'reject' })).toMatch(/^v=DMARC1; /);
      }),
      params(200),
    );
  });
});

describe('SPF record parser under fuzzing', () => {
  it('strings from the grammar alphabet', { timeout: testTimeout(500, 2) }, () => {
    fc.assert(fc.property(fromPieces(SPF_PIECES), (s) => spfHolds(`v=spf1 ${s}`)), params(400));
    fc.assert(fc.property(fromPieces(SPF_PIECES), spfHolds), params(100));
  });

  it('mutated valid records', { timeout: testTimeout(500, 2) }, () => {
    fc.assert(fc.property(mutated(SPF_VALID), spfHolds), params(500));
  });

  it('macro strings parse to tokens or an error, and expand without throwing', { timeout: testTimeout(500, 2) }, () => {
    const values: MacroValues = { s: 'user@example.org', l: 'user', o: 'example.org', d: 'example.org', i: '192.0.2.1', p: 'unknown', h: 'mail.example.org', c: '192.0.2.1', r: 'mx.example.net', t: '1767225600', v: 'in-addr' };
    const contexts: MacroContext[] = ['domain-spec', 'explanation', 'modifier'];
    fc.assert(
      fc.property(fromPieces(['%{', '}', '%%', '%_', '%-', 'i', 'r', 'd', 's', 'l', 'o', 'h', 'c', 'p', 't', 'v', '0', '1', '99', '99999999999', '.', '-', '+', '_', '=', '/', ',', 'example.org']), fc.constantFrom(...contexts), (s, context) => {
        const parsed = parseMacroString(s, context);
        if (parsed.ok) expect(typeof expandMacros(parsed.tokens, values)).toBe('string');
        else expect(parsed.error.length).toBeGreaterThan(0);
      }),
      params(500),
    );
  });
});
