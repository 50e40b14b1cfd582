import { describe, expect, it } from 'vitest';
import { parseCommandLine, UsageError } from '../../src/cli/args';
import { CSV_COLUMNS, CsvFormatter, csvField, csvRow } from '../../src/cli/format/csv';
import type { Formatter } from '../../src/cli/format/formatter';
import { JsonFormatter, NdjsonFormatter } from '../../src/cli/format/json';
import type { AggregateHead, AggregateOutput, FailureOutput, SmtpTlsOutput } from '../../src/cli/objects';
import { Status } from '../../src/cli/status';
import type { AggregateRecord } from '../../src/reports/model';
import { csvObjects, parseCsv } from './helpers';

const head: AggregateHead = {
  file: 'in/a "b", c.xml',
  part: null,
  kind: 'aggregate',
  schema: 'rfc7489',
  version: '1.0',
  report_id: 'r-1',
  org_name: 'Fred, "the" reporter',
  org_email: 'dmarc@fred.example',
  extra_contact_info: null,
  generator: null,
  begin: '2024-06-13T00:00:00Z',
  end: '2024-06-13T23:59:59Z',
  policy: {
    domain: 'example.com',
    p: 'none',
    sp: null,
    np: null,
    adkim: 'r',
    aspf: 's',
    pct: 100,
    fo: '1:d',
    testing: null,
    discovery_method: null,
  },
  errors: [],
};

const record = (n: number): AggregateRecord => ({
  source_ip: `192.0.2.${n}`,
  count: n,
  disposition: 'none',
  dkim: 'pass',
  spf: 'fail',
  reasons: n === 2 ? [{ type: 'forwarded', comment: 'line one\r\nline two' }, { type: 'local_policy', comment: null }] : [],
  header_from: 'example.com',
  envelope_from: null,
  envelope_to: null,
  dkim_results: [
    { domain: 'example.com', selector: 's1', result: 'pass', human_result: null },
    { domain: 'esp.example', selector: null, result: 'fail', human_result: 'bad sig' },
  ],
  spf_results: [{ domain: 'bounce.example.com', scope: 'mfrom', result: 'fail', human_result: null }],
});

const tls: SmtpTlsOutput = {
  file: 'tls.json',
  part: null,
  kind: 'smtp_tls',
  report_id: 't-1',
  org_name: 'Company-X',
  org_email: null,
  begin: '2016-04-01T00:00:00Z',
  end: '2016-04-01T23:59:59Z',
  policies: [],
  warnings: [],
};

const failure: FailureOutput = {
  file: 'ruf.eml',
  kind: 'failure',
  domain: 'example.com',
  day: '2019-04-30',
  source_ip: '10.10.10.10',
  reporter: 'linkedin.com',
  feedback_type: 'auth-failure',
  warnings: ['w'],
};

/** Feeds a formatter: aggregate reports in record batches of `batch`, the others whole. */
function render(formatter: Formatter, reports: (AggregateOutput | SmtpTlsOutput | FailureOutput)[], batch = 2): string {
  let text = formatter.begin();
  for (const report of reports) {
    if (report.kind !== 'aggregate') {
      text += formatter.report(report);
      continue;
    }
    const { records, warnings, error, ...h } = report;
    text += formatter.aggregateStart(h);
    for (let i = 0; i < records.length; i += batch) text += formatter.aggregateRecords(records.slice(i, i + batch));
    text += formatter.aggregateEnd(warnings, error);
  }
  return text + formatter.end();
}

const full: AggregateOutput = { ...head, records: [1, 2, 3, 4, 5].map(record), warnings: ['one', 'two'] };
const empty: AggregateOutput = { ...head, report_id: 'r-2', records: [], warnings: [] };
const all = [full, tls, empty, failure];

describe('json formatter', () => {
  it('writes exactly JSON.stringify(array, null, 2), piece by piece', () => {
    for (const batch of [1, 2, 100]) {
      expect(render(new JsonFormatter(), all, batch)).toBe(`${JSON.stringify(all, null, 2)}\n`);
    }
    expect(render(new JsonFormatter(), [])).toBe('[]\n');
    expect(render(new JsonFormatter(), [empty])).toBe(`${JSON.stringify([empty], null, 2)}\n`);
  });

  it('closes a report that broke part-way with an error member', () => {
    const broken: AggregateOutput = { ...full, warnings: [], error: { code: 'xml-malformed', reason: 'cut short' } };
    const text = render(new JsonFormatter(), [broken, tls]);
    expect(JSON.parse(text)).toEqual([broken, tls]);
    expect(text).toBe(`${JSON.stringify([broken, tls], null, 2)}\n`);
  });
});

describe('ndjson formatter', () => {
  it('writes one compact object per line', () => {
    const text = render(new NdjsonFormatter(), all, 2);
    expect(text).toBe(all.map((r) => `${JSON.stringify(r)}\n`).join(''));
    expect(render(new NdjsonFormatter(), [])).toBe('');
  });
});

describe('csv', () => {
  it('quotes per RFC 4180', () => {
    expect(csvField(null)).toBe('');
    expect(csvField(12)).toBe('12');
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('a\nb')).toBe('"a\nb"');
    expect(csvField('a\rb')).toBe('"a\rb"');
    expect(csvField(' spaced ')).toBe(' spaced ');
    expect(csvRow(['a', null, 'b,c'])).toBe('a,,"b,c"\r\n');
  });

  it('writes a header then one row per record, lists joined with ;', () => {
    const formatter = new CsvFormatter();
    const text = render(formatter, all, 2);
    expect(parseCsv(text)[0]).toEqual([...CSV_COLUMNS]);
    const rows = csvObjects(text);
    expect(rows).toHaveLength(5);
    expect(rows.map((r) => r.source_ip)).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4', '192.0.2.5']);
    const second = rows[1]!;
    expect(second).toMatchObject({
      file: 'in/a "b", c.xml',
      part: '',
      org_name: 'Fred, "the" reporter',
      policy_domain: 'example.com',
      policy_sp: '',
      policy_pct: '100',
      policy_fo: '1:d',
      count: '2',
      reason_types: 'forwarded;local_policy',
      reason_comments: 'line one\r\nline two;',
      dkim_domains: 'example.com;esp.example',
      dkim_selectors: 's1;',
      dkim_results: 'pass;fail',
      spf_domains: 'bounce.example.com',
      spf_scopes: 'mfrom',
      spf_results: 'fail',
      envelope_from: '',
    });
    expect(rows[0]!.reason_types).toBe('');
    expect(formatter.skipped).toEqual({ smtp_tls: 1, failure: 1 });
  });
});

describe('command line', () => {
  it('parses parse with its options', () => {
    expect(parseCommandLine(['parse', 'a', 'b'])).toEqual({
      command: 'parse',
      paths: ['a', 'b'],
      format: 'json',
      out: null,
      progress: false,
    });
    expect(parseCommandLine(['--format=csv', 'parse', '-o', 'x.csv', '--progress', '--', '-odd-name'])).toEqual({
      command: 'parse',
      paths: ['-odd-name'],
      format: 'csv',
      out: 'x.csv',
      progress: true,
    });
    expect(parseCommandLine(['--help'])).toEqual({ command: 'help' });
    expect(parseCommandLine(['parse', '-v'])).toEqual({ command: 'version' });
  });

  it('rejects what it does not know', () => {
    for (const argv of [[], ['parse'], ['frobnicate', 'x'], ['parse', 'x', '--format', 'xml'], ['parse', 'x', '--nope'], ['parse', 'x', '--out']]) {
      expect(() => parseCommandLine(argv), argv.join(' ')).toThrow(UsageError);
    }
  });
});

describe('status line', () => {
  it('throttles progress and prints the summary', () => {
    let out = '';
    let now = 0;
    const status = new Status({ write: (t: string) => (out += t), isTTY: false }, { total: 3, progress: true, now: () => now });
    status.fileDone();
    status.error('b.xml', 'not a report', 'not-a-report');
    now = 100;
    status.fileDone(); // too soon after the last line
    now = 5000;
    status.reports = 4;
    status.fileDone();
    status.finish();
    expect(out).toBe(
      'parsed 1/3 files, 0 errors\nerror: b.xml: not a report (not-a-report)\nparsed 3/3 files, 1 error\n3 files, 4 reports, 1 error\n',
    );
  });

  it('redraws in place on a terminal and clears before messages', () => {
    let out = '';
    const status = new Status({ write: (t: string) => (out += t), isTTY: true }, { total: 2, progress: true, now: () => 0 });
    status.fileDone();
    status.warning('a.eml', 'skipped attachment x.pdf');
    status.fileDone();
    status.finish();
    expect(out).toBe(
      '\rparsed 1/2 files, 0 errors\x1b[K\r\x1b[Kwarning: a.eml: skipped attachment x.pdf\n' +
        '\rparsed 2/2 files, 0 errors\x1b[K\r\x1b[K2 files, 0 reports, 0 errors\n',
    );
  });
});
