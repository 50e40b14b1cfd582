import { gzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { parseAggregateReport } from '../../src/reports/aggregate';
import { ReportRejection } from '../../src/reports/model';
import { readInbound, type InboundContent, type ReportPart } from '../../src/reports/read-inbound';
import { parseSmtpTlsReport } from '../../src/reports/tlsrpt';
import { aggregateXml, allSamples, joinText, MiB, recordXml, sampleBytes } from './helpers';

const encode = (text: string) => new TextEncoder().encode(text);

function ok(content: InboundContent): Extract<InboundContent, { ok: true }> {
  if (!content.ok) throw new Error(`expected reports, got ${content.code}: ${content.reason}`);
  return content;
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/.{76}/g, '$&\r\n');
}

interface MimePart {
  type: string;
  filename?: string;
  body: Uint8Array | string;
}

/** A multipart email; binary bodies go base64, text bodies as they are. */
function email(parts: MimePart[], contentType = 'multipart/mixed', headers = ''): Uint8Array {
  const lines = [
    'From: reports@reporter.example',
    'To: dmarc@example.org',
    'Subject: Report',
    'Date: Mon, 01 Jan 2024 00:00:00 +0000',
    'MIME-Version: 1.0',
    `Content-Type: ${contentType}; boundary="XYZ"`,
    ...(headers ? [headers] : []),
    '',
    'preamble',
  ];
  for (const part of parts) {
    lines.push('--XYZ', `Content-Type: ${part.type}${part.filename ? `; name="${part.filename}"` : ''}`);
    if (part.filename) lines.push(`Content-Disposition: attachment; filename="${part.filename}"`);
    if (typeof part.body === 'string') lines.push('', part.body);
    else lines.push('Content-Transfer-Encoding: base64', '', base64(part.body));
  }
  lines.push('--XYZ--', '');
  return encode(lines.join('\r\n'));
}

async function aggregateOf(part: ReportPart | undefined) {
  expect(part?.kind).toBe('aggregate');
  return parseAggregateReport(part!.text());
}

const niceXml = sampleBytes('extract_report/nice-input.xml');

describe('every sample file', () => {
  const expected: Record<string, { kinds?: Array<[string | null, string, string]>; failures?: number; refused?: string }> = {
    'empty.xml': { refused: 'not-a-report' },
    'aggregate/!large-example.com!1711897200!1711983600.xml': { kinds: [['!large-example.com!1711897200!1711983600.xml', 'aggregate', 'plain']] },
    'aggregate/example.net!example.com!1529366400!1529452799.xml': { kinds: [['example.net!example.com!1529366400!1529452799.xml', 'aggregate', 'plain']] },
    'aggregate/invalid_xml.xml': { kinds: [['invalid_xml.xml', 'aggregate', 'plain']] },
    'aggregate/rfc9990-sample.xml': { kinds: [['rfc9990-sample.xml', 'aggregate', 'plain']] },
    'aggregate/twilight.eml': { kinds: [['google.com!twlnet.com!1549756800!1549843199.xml', 'aggregate', 'zip']] },
    'extract_report/changed-input.xml': { kinds: [['changed-input.xml', 'aggregate', 'plain']] },
    'extract_report/nice-input.xml': { kinds: [['nice-input.xml', 'aggregate', 'plain']] },
    'extract_report/nice-input.xml.gz': { kinds: [['nice-input.xml.gz', 'aggregate', 'gzip']] },
    'extract_report/nice-input.xml.zip': { kinds: [['nice-input.xml', 'aggregate', 'zip']] },
    'failure/dmarc_ruf_report_linkedin.eml': { failures: 1 },
    'failure/dmarc_ruf_report_linkedin.crlf.eml': { failures: 1 },
    'failure/exim_plain_text_only_no_arf_part.eml': { failures: 1 },
    'smtp_tls/google.com_smtp_tls_report.eml': {
      kinds: [['google.com!cardinalhealth.ca!1725321600!1725407999!001.json.gz', 'smtp_tls', 'gzip']],
    },
    'smtp_tls/rfc8460.json': { kinds: [['rfc8460.json', 'smtp_tls', 'plain']] },
  };

  it('covers all of samples/reports', () => {
    expect(allSamples().sort()).toEqual(Object.keys(expected).sort());
  });

  for (const [path, want] of Object.entries(expected)) {
    it(`${path} is recognised by content`, async () => {
      const content = await readInbound(sampleBytes(path), { filename: path.split('/').at(-1)! });
      if (want.refused) {
        expect(content).toMatchObject({ ok: false, code: want.refused });
        return;
      }
      const { parts, failures, warnings } = ok(content);
      expect(parts.map((p) => [p.name, p.kind, p.container])).toEqual(want.kinds ?? []);
      expect(failures).toHaveLength(want.failures ?? 0);
      expect(warnings).toEqual([]);
    });
  }

  it('empty.xml is refused as "empty file"', async () => {
    expect(await readInbound(sampleBytes('empty.xml'))).toEqual({ ok: false, code: 'not-a-report', reason: 'empty file' });
  });

  it('the three deliveries of nice-input (xml, gz, zip) give identical reports', async () => {
    const reports = [];
    for (const path of ['extract_report/nice-input.xml', 'extract_report/nice-input.xml.gz', 'extract_report/nice-input.xml.zip']) {
      reports.push(await aggregateOf(ok(await readInbound(sampleBytes(path))).parts[0]));
    }
    expect(reports[0]?.records).toHaveLength(20);
    expect(reports[1]).toEqual(reports[0]);
    expect(reports[2]).toEqual(reports[0]);
  });

  it('twilight.eml: the zip attachment holds the google.com report for twlnet.com', async () => {
    const report = await aggregateOf(ok(await readInbound(sampleBytes('aggregate/twilight.eml'))).parts[0]);
    expect(report).toMatchObject({
      org_name: 'google.com',
      report_id: '1627703331531660819',
      begin: '2019-02-10T00:00:00Z',
      end: '2019-02-10T23:59:59Z',
      policy: { domain: 'twlnet.com', p: 'reject', sp: 'reject', adkim: 's', aspf: 's', pct: 100 },
    });
    expect(report.records).toEqual([
      {
        source_ip: '87.106.127.28',
        count: 1,
        disposition: 'none',
        dkim: 'pass',
        spf: 'pass',
        reasons: [],
        header_from: 'twlnet.com',
        envelope_from: null,
        envelope_to: null,
        dkim_results: [{ domain: 'twlnet.com', selector: '201810', result: 'pass', human_result: null }],
        spf_results: [{ domain: 'twlnet.com', scope: null, result: 'pass', human_result: null }],
      },
    ]);
  });

  it('google.com_smtp_tls_report.eml: the tlsrpt+gzip attachment is a TLS report', async () => {
    const [part] = ok(await readInbound(sampleBytes('smtp_tls/google.com_smtp_tls_report.eml'))).parts;
    const report = parseSmtpTlsReport(await joinText(part!.text()));
    expect(report).toMatchObject({ org_name: 'Google Inc.', report_id: '2024-09-03T00:00:00Z_cardinalhealth.ca' });
    expect(report.policies[0]).toMatchObject({ policy_type: 'no-policy-found', policy_domain: 'cardinalhealth.ca' });
  });

  it('failure samples come back as facts, not parts', async () => {
    const content = ok(await readInbound(sampleBytes('failure/dmarc_ruf_report_linkedin.eml')));
    expect(content.failures).toEqual([
      {
        kind: 'failure',
        domain: 'example.com',
        day: '2019-04-30',
        source_ip: '10.10.10.10',
        reporter: 'linkedin.com',
        feedback_type: 'auth-failure',
        warnings: [],
      },
    ]);
  });

  it('text() re-streams from the start every time', async () => {
    const [part] = ok(await readInbound(sampleBytes('extract_report/nice-input.xml.gz'))).parts;
    const first = await joinText(part!.text());
    expect(await joinText(part!.text())).toBe(first);
    expect(first).toBe(new TextDecoder().decode(niceXml));
  });
});

describe('content decides, not names or MIME types', () => {
  it('finds a gzip report in an attachment that claims to be a PNG', async () => {
    const raw = email([
      { type: 'text/plain', body: 'Please find the report attached.' },
      { type: 'image/png', filename: 'logo.png', body: gzipSync(niceXml) },
    ]);
    const { parts } = ok(await readInbound(raw));
    expect(parts.map((p) => [p.name, p.kind, p.container])).toEqual([['logo.png', 'aggregate', 'gzip']]);
  });

  it('reads plain XML in an attachment named .xml.gz and typed application/gzip', async () => {
    const { parts } = ok(await readInbound(email([{ type: 'application/gzip', filename: 'r.xml.gz', body: niceXml }])));
    expect(parts.map((p) => [p.kind, p.container])).toEqual([['aggregate', 'plain']]);
  });

  it('reads a report that is the body of the message', async () => {
    const raw = encode(`From: a@b.example\r\nSubject: report\r\nContent-Type: text/plain\r\n\r\n${aggregateXml(recordXml('192.0.2.1', 3))}`);
    const report = await aggregateOf(ok(await readInbound(raw)).parts[0]);
    expect(report.records[0]).toMatchObject({ source_ip: '192.0.2.1', count: 3 });
  });

  it('finds the report inside a forwarded message (message/rfc822)', async () => {
    const inner = new TextDecoder().decode(email([{ type: 'application/zip', filename: 'r.zip', body: zipSync({ 'r.xml': niceXml }) }]));
    const raw = email([
      { type: 'text/plain', body: 'FYI, forwarding this' },
      { type: 'message/rfc822', body: inner },
    ]);
    const { parts } = ok(await readInbound(raw));
    expect(parts.map((p) => [p.name, p.kind])).toEqual([['r.xml', 'aggregate']]);
    // Attached (not inline) messages are opened by readInbound itself rather than by postal-mime.
    const attached = email([{ type: 'message/rfc822', filename: 'fwd.eml', body: inner }]);
    expect(ok(await readInbound(attached)).parts.map((p) => [p.name, p.kind])).toEqual([['r.xml', 'aggregate']]);
  });

  it('takes a file with a namespace-prefixed root, a BOM, or UTF-16 for an aggregate report', async () => {
    const prefixed = encode(`<dmarc:feedback xmlns:dmarc="urn:ietf:params:xml:ns:dmarc-2.0"></dmarc:feedback>`);
    expect(ok(await readInbound(prefixed)).parts[0]?.kind).toBe('aggregate');
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...niceXml]);
    expect((await aggregateOf(ok(await readInbound(bom)).parts[0])).records).toHaveLength(20);
    const text = '\uFEFF' + new TextDecoder().decode(niceXml);
    const utf16 = new Uint8Array(text.length * 2);
    for (let i = 0; i < text.length; i++) new DataView(utf16.buffer).setUint16(i * 2, text.charCodeAt(i), true);
    expect((await aggregateOf(ok(await readInbound(utf16)).parts[0])).records).toHaveLength(20);
  });

  it('reads every report of a zip and says which entries it ignored', async () => {
    const archive = zipSync({ 'a.xml': niceXml, 'README.txt': encode('hello'), 'b.json': sampleBytes('smtp_tls/rfc8460.json') });
    const content = ok(await readInbound(archive, { filename: 'bundle.zip' }));
    expect(content.parts.map((p) => [p.name, p.kind])).toEqual([
      ['a.xml', 'aggregate'],
      ['b.json', 'smtp_tls'],
    ]);
    expect(content.warnings).toEqual(['zip entry "README.txt" is not a report: it is neither XML nor JSON; it was ignored']);
  });
});

describe('what is not a report', () => {
  it('says why for a cover letter without attachment', async () => {
    const raw = encode('From: a@b.example\r\nSubject: hi\r\n\r\nJust saying hello.\r\n');
    expect(await readInbound(raw)).toEqual({
      ok: false,
      code: 'not-a-report',
      reason: 'the message has no attachment and its body is not a report',
    });
  });

  it('says why for XML that is not DMARC, JSON that is not TLS-RPT, and binary junk', async () => {
    expect(await readInbound(encode('<html><body/></html>'), { filename: 'page.html' })).toEqual({
      ok: false,
      code: 'not-a-report',
      reason: 'no DMARC aggregate or SMTP TLS report found: "page.html" is not a report: it is XML whose root element is <html>, not <feedback>',
    });
    expect(await readInbound(encode('{"hello": 1}'))).toMatchObject({ code: 'not-a-report', reason: expect.stringMatching(/not an SMTP TLS report/) });
    expect(await readInbound(new Uint8Array([0, 1, 2, 3, 200]))).toMatchObject({ code: 'not-a-report' });
  });

  it('recognises a bounce', async () => {
    const raw = email([{ type: 'text/plain', body: 'Delivery failed' }], 'multipart/report; report-type=delivery-status');
    expect(await readInbound(raw)).toMatchObject({ ok: false, code: 'not-a-report', reason: expect.stringMatching(/bounce/) });
  });
});

describe('refusals', () => {
  it('refuses a DTD (billion laughs) in a bare file and in an attachment', async () => {
    const lol = encode('<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>\n<feedback>&lol2;</feedback>');
    expect(await readInbound(lol)).toMatchObject({ ok: false, code: 'xml-entities' });
    expect(await readInbound(email([{ type: 'text/xml', filename: 'r.xml', body: lol }]))).toMatchObject({ ok: false, code: 'xml-entities' });
  });

  it('refuses a truncated gzip detected while peeking', async () => {
    const gz = sampleBytes('extract_report/nice-input.xml.gz');
    expect(await readInbound(gz.subarray(0, 300))).toMatchObject({ ok: false, code: 'corrupt-archive' });
  });

  it('refuses a zip bomb (declared size) up front', async () => {
    const bomb = zipSync({ 'r.xml': new Uint8Array(64 * MiB) }, { level: 9 });
    expect(await readInbound(bomb)).toMatchObject({ ok: false, code: 'decompression-bomb' });
  });

  it('lets a gzip bomb through the peek but throws from text()', async () => {
    const bomb = gzipSync(encode('<feedback>' + ' '.repeat(64 * MiB)));
    const { parts } = ok(await readInbound(bomb));
    let caught: unknown;
    try {
      for await (const _ of parts[0]!.text());
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ReportRejection);
    expect(caught).toMatchObject({ code: 'decompression-bomb' });
  });

  it('keeps the good attachment and warns about the refused one', async () => {
    const raw = email([
      { type: 'application/gzip', filename: 'broken.xml.gz', body: sampleBytes('extract_report/nice-input.xml.gz').subarray(0, 300) },
      { type: 'application/gzip', filename: 'good.xml.gz', body: sampleBytes('extract_report/nice-input.xml.gz') },
    ]);
    const content = ok(await readInbound(raw));
    expect(content.parts.map((p) => p.name)).toEqual(['good.xml.gz']);
    expect(content.warnings).toEqual([
      '"broken.xml.gz": gzip data is truncated: it ends before the compressed stream does (corrupt-archive); the other reports in it were read',
    ]);
  });

  it('reports gzip trailing garbage through text(onWarning)', async () => {
    const padded = new Uint8Array([...sampleBytes('extract_report/nice-input.xml.gz'), ...new Uint8Array(64)]);
    const [part] = ok(await readInbound(padded)).parts;
    const warnings: string[] = [];
    expect(await joinText(part!.text((w) => warnings.push(w)))).toBe(new TextDecoder().decode(niceXml));
    expect(warnings).toEqual(['ignored bytes after the end of the gzip data (after its member)']);
  });
});
