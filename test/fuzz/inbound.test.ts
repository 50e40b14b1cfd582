/**
 * Fuzzing what arrives: readInbound on mutated emails (multipart with plain, gzip and zip attachments
 * whose bodies get corrupted), on mutated bare gzip/zip/JSON files, and the unpackers on corrupt
 * archives and bombs within small caps. Properties: readInbound never throws (it answers ok or a
 * refusal with a code and reason); streaming a part's text and parsing it gives a report or a
 * ReportRejection; decompression never produces more than its cap.
 */
import fc from 'fast-check';
import { gzipSync, strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { parseAggregateReport } from '../../src/reports/aggregate';
import { readInbound } from '../../src/reports/read-inbound';
import { parseSmtpTlsReport } from '../../src/reports/tlsrpt';
import { gunzipChunks, unzipEntries, type UnpackLimits } from '../../src/reports/unpack';
import { joinText, sampleBytes, sampleText } from '../reports/helpers';
import { encode, mutate, mutationArb, onlyRejection, params, testTimeout } from './support';

/** Small caps so bombs are refused within milliseconds; the logic is the same as the 1 GiB defaults. */
const SMALL: UnpackLimits = { maxOutputBytes: 2 * 1024 * 1024, maxRatio: 50, ratioCheckAfterBytes: 256 * 1024, maxZipEntries: 4 };

const xml = sampleBytes('extract_report/nice-input.xml');
const json = sampleBytes('smtp_tls/rfc8460.json');

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/.{76}/g, '$&\r\n');
}

function email(parts: { type: string; name: string; body: Uint8Array }[], encoding: 'base64' | '8bit' = 'base64'): Uint8Array {
  const lines = ['From: dmarc@reporter.example', 'To: rua@example.org', 'Subject: Report', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="XYZ"', '', 'preamble'];
  for (const p of parts) {
    lines.push('--XYZ', `Content-Type: ${p.type}; name="${p.name}"`, `Content-Disposition: attachment; filename="${p.name}"`);
    if (encoding === 'base64') lines.push('Content-Transfer-Encoding: base64', '', base64(p.body));
    else lines.push('', new TextDecoder().decode(p.body));
  }
  lines.push('--XYZ--', '');
  return encode(lines.join('\r\n'));
}

const EMAILS = [
  sampleBytes('aggregate/twilight.eml'),
  sampleBytes('smtp_tls/google.com_smtp_tls_report.eml'),
  sampleBytes('failure/dmarc_ruf_report_linkedin.eml'),
  email([{ type: 'application/gzip', name: 'r.xml.gz', body: gzipSync(xml) }]),
  email([{ type: 'application/zip', name: 'r.zip', body: zipSync({ 'r.xml': xml }) }]),
  email([{ type: 'text/xml', name: 'r.xml', body: xml }], '8bit'),
  email([
    { type: 'application/gzip', name: 'a.xml.gz', body: gzipSync(xml) },
    { type: 'application/json', name: 't.json', body: json },
  ]),
];
const FILES = [gzipSync(xml), zipSync({ 'r.xml': xml }), zipSync({ 'a.xml': xml, 'b.json': json }), gzipSync(json), xml, json, sampleBytes('extract_report/nice-input.xml.zip')];

/** readInbound's contract, then every part streamed and parsed to the end. */
async function readsOrRefuses(raw: Uint8Array): Promise<void> {
  const content = await readInbound(raw, {}, SMALL);
  if (!content.ok) {
    expect(content.code).toMatch(/^[a-z-]+$/);
    expect(content.reason.length).toBeGreaterThan(0);
    return;
  }
  for (const part of content.parts) {
    try {
      if (part.kind === 'aggregate') await parseAggregateReport(part.text());
      else parseSmtpTlsReport(await joinText(part.text()));
    } catch (error) {
      onlyRejection(error);
    }
  }
}

/** A body-only mutation: corrupts the attachment, keeps the MIME structure around it. */
const corruptAttachment = fc.record({
  which: fc.nat(),
  mutations: fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
  encoding: fc.constantFrom('base64' as const, '8bit' as const),
});

describe('inbound messages under fuzzing', () => {
  it('mutated emails (headers, boundaries, bodies)', { timeout: testTimeout(150) }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...EMAILS), fc.array(mutationArb, { minLength: 1, maxLength: 6 }), async (raw, mutations) => readsOrRefuses(mutate(raw, mutations))),
      params(150),
    );
  });

  it('well-formed emails whose gzip/zip/xml/json attachments are corrupt', { timeout: testTimeout(150) }, async () => {
    await fc.assert(
      fc.asyncProperty(corruptAttachment, async ({ which, mutations, encoding }) => {
        const body = mutate(FILES[which % FILES.length]!, mutations);
        const type = ['application/gzip', 'application/zip', 'application/octet-stream', 'text/xml'][which % 4]!;
        await readsOrRefuses(email([{ type, name: `r${which}.bin`, body }], encoding));
      }),
      params(150),
    );
  });

  it('mutated bare files (gzip, zip, xml, json)', { timeout: testTimeout(200) }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FILES), fc.array(mutationArb, { minLength: 1, maxLength: 6 }), async (file, mutations) => readsOrRefuses(mutate(file, mutations))),
      params(200),
    );
  });

  it('random bytes', { timeout: testTimeout(150) }, async () => {
    const prefix = fc.constantFrom(new Uint8Array(), encode('From: a@b\r\n\r\n'), Uint8Array.of(0x1f, 0x8b, 0x08), encode('PK\x03\x04'), encode('{"'), encode('<?xml'));
    await fc.assert(
      fc.asyncProperty(prefix, fc.uint8Array({ maxLength: 2048 }), async (head, tail) => {
        const raw = new Uint8Array(head.length + tail.length);
        raw.set(head);
        raw.set(tail, head.length);
        await readsOrRefuses(raw);
      }),
      params(150),
    );
  });
});

describe('unpacking under fuzzing', () => {
  async function drain(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<number> {
    let total = 0;
    for await (const c of chunks) total += c.length;
    return total;
  }

  it('corrupt gzip: the output or a ReportRejection, never more than the cap', { timeout: testTimeout(200) }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(gzipSync(xml), gzipSync(json), gzipSync(new Uint8Array(100_000))), fc.array(mutationArb, { minLength: 1, maxLength: 6 }), async (gz, mutations) => {
        try {
          expect(await drain(gunzipChunks(mutate(gz, mutations), SMALL))).toBeLessThanOrEqual(SMALL.maxOutputBytes);
        } catch (error) {
          onlyRejection(error);
        }
      }),
      params(200),
    );
  });

  it('corrupt zip: the entries or a ReportRejection', { timeout: testTimeout(200) }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FILES.slice(1, 3), FILES[6]!), fc.array(mutationArb, { minLength: 1, maxLength: 6 }), async (zip, mutations) => {
        try {
          for (const entry of unzipEntries(mutate(zip, mutations), SMALL)) expect(await drain(entry.chunks())).toBeLessThanOrEqual(SMALL.maxOutputBytes);
        } catch (error) {
          onlyRejection(error);
        }
      }),
      params(200),
    );
  });

  it('bombs of any shape within the caps are refused as decompression-bomb', { timeout: testTimeout(12, 1000) }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 3, max: 12 }).map((mb) => mb * 1024 * 1024),
        fc.constantFrom(0x00, 0x20, 0x3c),
        fc.constantFrom('gzip' as const, 'zip' as const, 'zip-many' as const),
        async (size, fill, shape) => {
          const data = new Uint8Array(size).fill(fill);
          const archive = shape === 'gzip' ? gzipSync(data, { level: 9 }) : shape === 'zip' ? zipSync({ 'r.xml': data }, { level: 9 }) : zipSync(Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`r${i}.xml`, strToU8('<feedback/>')])));
          const content = await readInbound(archive, {}, SMALL);
          if (content.ok) {
            // The bomb shows only while streaming (sizes deferred or lying): then it must be refused there.
            await expect(
              (async () => {
                for (const part of content.parts) for await (const _ of part.text()) void _;
              })(),
            ).rejects.toMatchObject({ code: 'decompression-bomb' });
          } else {
            expect(content.code).toBe('decompression-bomb');
          }
        },
      ),
      params(12, 15_000),
    );
  });

  it('the TLS-RPT JSON sample mutated: a report or a ReportRejection', { timeout: testTimeout(200) }, async () => {
    const text = sampleText('smtp_tls/rfc8460.json');
    await fc.assert(
      fc.property(fc.array(mutationArb, { minLength: 1, maxLength: 6 }), (mutations) => {
        try {
          parseSmtpTlsReport(new TextDecoder().decode(mutate(encode(text), mutations)));
        } catch (error) {
          onlyRejection(error);
        }
      }),
      params(200),
    );
  });
});
