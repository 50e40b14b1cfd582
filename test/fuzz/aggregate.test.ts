/**
 * Fuzzing the DMARC aggregate parser: random and mutated XML from the samples and generated reports
 * (truncation, byte flips, deep nesting, huge numbers, entity and DTD tricks), cut into random chunks.
 * Property: it resolves with a report or rejects with ReportRejection; nothing else, and never hangs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reportXml } from '../../bench/generate-report';
import { parseAggregateReport } from '../../src/reports/aggregate';
import { sampleText } from '../reports/helpers';
import { chunked, decode, encode, mutate, mutationArb, onlyRejection, params, testTimeout } from './support';

const SEEDS = [
  sampleText('aggregate/example.net!example.com!1529366400!1529452799.xml'),
  sampleText('aggregate/rfc9990-sample.xml'),
  sampleText('aggregate/invalid_xml.xml'),
  sampleText('extract_report/nice-input.xml'),
  [...reportXml({ records: 12, seed: 1, reportId: 'fuzz-1' })].join(''),
];

/** Pieces that XML parsers and report readers trip on. */
const TOKENS = [
  '<record>', '</record>', '<row>', '</row>', '<count>', '</count>', '<feedback>', '</feedback>',
  '<!DOCTYPE feedback [<!ENTITY a "aaaaaaaaaa">]>', '<!ENTITY b "&a;&a;">', '&a;', '&#0;', '&#x110000;', '&lt;', '&amp;', '&',
  '<![CDATA[', ']]>', '<?xml version="1.0" encoding="UTF-16"?>', '<!-- ', ' -->', '<', '>', '"', "'", '\u0000', '\uFEFF', '\uD800',
  '99999999999999999999999999999', '-1', '1e308', 'NaN', '0x10', '18446744073709551616', '4294967296',
  '<date_range><begin>99999999999999999999</begin><end>-5</end></date_range>', '<source_ip>::ffff:999.1.1.1</source_ip>',
  '<report_id></report_id>', '<domain>xn--</domain>', '<a:b xmlns:a="urn:x">', '</a:b>',
];

/** A text mutation: cut, insert a token, or wrap a spot in deep nesting. */
const textMutation = fc.oneof(
  fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('token' as const), at: fc.nat(), token: fc.constantFrom(...TOKENS) }),
  fc.record({ op: fc.constant('nest' as const), at: fc.nat(), depth: fc.integer({ min: 1, max: 20_000 }), name: fc.constantFrom('a', 'record', 'row', 'dkim') }),
  fc.record({ op: fc.constant('number' as const), at: fc.nat(), value: fc.oneof(fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String), fc.double().map(String)) }),
);
type TextMutation = typeof textMutation extends fc.Arbitrary<infer T> ? T : never;

function applyText(text: string, mutations: readonly TextMutation[]): string {
  let t = text;
  for (const m of mutations) {
    const at = m.at % (t.length + 1);
    if (m.op === 'cut') t = t.slice(0, at);
    else if (m.op === 'token') t = t.slice(0, at) + m.token + t.slice(at);
    else if (m.op === 'number') t = t.slice(0, at) + m.value + t.slice(at);
    else t = t.slice(0, at) + `<${m.name}>`.repeat(m.depth) + `</${m.name}>`.repeat(m.depth) + t.slice(at);
  }
  return t;
}

async function parsesOrRejects(chunks: string[]): Promise<void> {
  try {
    const report = await parseAggregateReport(chunks);
    // A result is a report with the fields the store needs.
    expect(typeof report.report_id).toBe('string');
    expect(Array.isArray(report.records)).toBe(true);
  } catch (error) {
    onlyRejection(error);
  }
}

describe('aggregate report parser under fuzzing', () => {
  it('the seeds themselves parse or are refused cleanly', async () => {
    for (const seed of SEEDS) await parsesOrRejects([seed]);
  });

  it('mutated XML text (tokens, cuts, deep nesting, huge numbers), in random chunks', { timeout: testTimeout(150) }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SEEDS),
        fc.array(textMutation, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (seed, mutations, cuts) => parsesOrRejects(chunked(applyText(seed, mutations), cuts)),
      ),
      params(150),
    );
  });

  it('byte-level mutations (flips, truncation, inserted bytes, repeated ranges) decoded as UTF-8', { timeout: testTimeout(150) }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SEEDS),
        fc.array(mutationArb, { minLength: 1, maxLength: 6 }),
        async (seed, mutations) => parsesOrRejects([decode(mutate(encode(seed), mutations))]),
      ),
      params(150),
    );
  });

  it('random strings over the XML alphabet', { timeout: testTimeout(100) }, async () => {
    const piece = fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 8 }), fc.constantFrom('<report_metadata>', '</report_metadata>', '<policy_published>', '</policy_published>', '<report_id>x</report_id>', '<domain>example.com</domain>'));
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 60 }), fc.array(fc.nat(), { maxLength: 4 }), async (pieces, cuts) =>
        parsesOrRejects(chunked(`<feedback>${pieces.join('')}`, cuts)),
      ),
      params(100),
    );
  });
});
