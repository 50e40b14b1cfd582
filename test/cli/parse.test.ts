import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../../src/cli/format/csv';
import { cli, csvObjects, parseCsv, ROOT, tempDir } from './helpers';

// Spawns the real command (`node bin/mailcheck-edge.js`) on the samples in samples/reports/
// (described in samples/README.md); the expected values were read off the files themselves.

const S = 'samples/reports';
const NICE = `${S}/extract_report/nice-input.xml`;
const LARGE = `${S}/aggregate/!large-example.com!1711897200!1711983600.xml`;
const TWILIGHT = `${S}/aggregate/twilight.eml`;
const TLS_JSON = `${S}/smtp_tls/rfc8460.json`;
const TLS_EML = `${S}/smtp_tls/google.com_smtp_tls_report.eml`;
const RUF = `${S}/failure/dmarc_ruf_report_linkedin.eml`;
const EMPTY = `${S}/empty.xml`;

type Json = Record<string, any>;

const temps: string[] = [];
function temp(): string {
  const dir = tempDir();
  temps.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function ndjson(text: string): Json[] {
  expect(text.endsWith('\n') || text === '').toBe(true);
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Json);
}

const sum = (records: Json[]) => records.reduce((n, r) => n + (r.count as number), 0);
const utc = (iso: string) => new Date(iso).toISOString();

/** The Google report of extract_report/ (nice-input.xml and its .gz and .zip). */
function expectNiceReport(report: Json) {
  expect(report).toMatchObject({
    kind: 'aggregate',
    report_id: '11038226378739404135',
    org_name: 'google.com',
    org_email: 'noreply-dmarc-support@google.com',
    extra_contact_info: 'https://support.google.com/a/answer/2466580',
    policy: {
      domain: 'example.com',
      p: 'none',
      sp: 'none',
      np: 'none',
      adkim: 'r',
      aspf: 'r',
      pct: 100,
      fo: null,
      testing: null,
      discovery_method: null,
    },
  });
  expect(report.begin).toMatch(/Z$/);
  expect(utc(report.begin)).toBe('2024-06-13T00:00:00.000Z'); // 1718236800
  expect(utc(report.end)).toBe('2024-06-13T23:59:59.000Z'); // 1718323199
  expect(report.records).toHaveLength(20);
  expect(sum(report.records)).toBe(3047);
  expect(report.records[0]).toEqual({
    source_ip: '209.85.220.69',
    count: 1,
    disposition: 'none',
    dkim: 'fail',
    spf: 'pass',
    reasons: [],
    header_from: 'example.com',
    envelope_from: null,
    envelope_to: null,
    dkim_results: [],
    spf_results: [{ domain: 'example.com', scope: null, result: 'pass', human_result: null }],
  });
  expect(report.records[1]).toMatchObject({
    source_ip: '209.85.220.41',
    count: 2,
    dkim: 'pass',
    spf: 'fail',
    dkim_results: [
      { domain: 'example.com', selector: 'awbr2rp4egb35wbg4umq4e5dcoe5kc4n', result: 'pass' },
      { domain: 'amazonses.com', selector: 'ug7nbtf4gccmlpwj322ax3p6ow6yfsug', result: 'pass' },
    ],
    spf_results: [{ domain: 'gmail.com', result: 'pass' }],
  });
  expect(Array.isArray(report.warnings)).toBe(true);
}

describe('mailcheck-edge parse, JSON (the default)', () => {
  it('prints one report as a pretty-printed JSON array', () => {
    const { status, stdout, stderr } = cli(['parse', NICE]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const reports = JSON.parse(stdout) as Json[];
    expect(reports).toHaveLength(1);
    expect(reports[0]!.file).toBe(NICE);
    expectNiceReport(reports[0]!);
    // Written piece by piece, yet exactly what JSON.stringify(…, null, 2) gives.
    expect(stdout).toBe(`${JSON.stringify(reports, null, 2)}\n`);
    expect(stdout.startsWith('[\n  {\n    "file": ')).toBe(true);
  });

  it('has the public field names, in order', () => {
    const [report] = JSON.parse(cli(['parse', NICE]).stdout) as Json[];
    const keys = Object.keys(report!);
    for (const name of ['file', 'kind', 'report_id', 'org_name', 'org_email', 'begin', 'end', 'policy', 'records', 'warnings']) {
      expect(keys).toContain(name);
    }
    expect(keys.slice(0, 3)).toEqual(['file', 'part', 'kind']);
    expect(keys.indexOf('records')).toBe(keys.length - 2);
    expect(Object.keys(report!.policy)).toEqual(['domain', 'p', 'sp', 'np', 'adkim', 'aspf', 'pct', 'fo', 'testing', 'discovery_method']);
    expect(Object.keys(report!.records[0])).toEqual([
      'source_ip',
      'count',
      'disposition',
      'dkim',
      'spf',
      'reasons',
      'header_from',
      'envelope_from',
      'envelope_to',
      'dkim_results',
      'spf_results',
    ]);
  });

  it('reads the same report from XML, gzip and zip', () => {
    const { status, stdout, stderr } = cli(['parse', '--format', 'ndjson', NICE, `${NICE}.gz`, `${NICE}.zip`]);
    expect(status).toBe(0);
    const reports = ndjson(stdout);
    expect(reports.map((r) => r.file)).toEqual([NICE, `${NICE}.gz`, `${NICE}.zip`]);
    for (const report of reports) expectNiceReport(report);
    expect(reports[1]!.records).toEqual(reports[0]!.records);
    expect(reports[2]!.records).toEqual(reports[0]!.records);
    expect(reports[2]!.part).toBe('nice-input.xml'); // the zip entry
    expect(stderr).toBe('3 files, 3 reports, 0 errors\n');
  });

  it('writes a large report (2,286 records) completely', () => {
    const { status, stdout } = cli(['parse', LARGE]);
    expect(status).toBe(0);
    const [report] = JSON.parse(stdout) as Json[];
    expect(report!.file).toBe(LARGE); // `!` in names is nothing special
    expect(report!.report_id).toBe('example.com:1711897200');
    expect(report!.org_email).toBe('administrator@accurateplastics.com');
    expect(report!.policy).toMatchObject({ domain: 'example.com', p: 'none', sp: 'reject', pct: 100 });
    expect(report!.records).toHaveLength(2286);
    expect(sum(report!.records)).toBe(2286);
    expect(report!.records[0].source_ip).toBe('12.20.121.1');
    expect(report!.records.at(-1).source_ip).toBe('12.20.129.254');
    expect(stdout).toBe(`${JSON.stringify([report], null, 2)}\n`);
  });

  it('reads an RFC 9990 (dmarc-2.0) report with its new fields', () => {
    const [report] = JSON.parse(cli(['parse', `${S}/aggregate/rfc9990-sample.xml`]).stdout) as Json[];
    expect(report).toMatchObject({
      kind: 'aggregate',
      schema: 'dmarc-2.0',
      report_id: '3v98abbp8ya9n3va8yr8oa3ya',
      org_name: 'Sample Reporter',
      generator: 'Example DMARC Aggregate Reporter v1.2',
      policy: { domain: 'example.com', p: 'quarantine', sp: 'none', np: 'none', testing: 'n', discovery_method: 'treewalk' },
    });
    expect(utc(report!.begin)).toBe('1979-08-07T00:00:00.000Z'); // 302832000
    expect(report!.records).toEqual([
      {
        source_ip: '192.0.2.123',
        count: 123,
        disposition: 'pass',
        dkim: 'pass',
        spf: 'fail',
        reasons: [],
        header_from: 'example.com',
        envelope_from: 'example.com',
        envelope_to: null,
        dkim_results: [{ domain: 'example.com', selector: 'abc123', result: 'pass', human_result: null }],
        spf_results: [{ domain: 'example.com', scope: null, result: 'fail', human_result: null }],
      },
    ]);
  });

  it('reads reports attached to emails: a zipped aggregate report and a gzipped SMTP TLS report', () => {
    const { status, stdout } = cli(['parse', TWILIGHT, TLS_EML]);
    expect(status).toBe(0);
    const [dmarc, tls] = JSON.parse(stdout) as Json[];
    expect(dmarc).toMatchObject({
      file: TWILIGHT,
      kind: 'aggregate',
      report_id: '1627703331531660819',
      org_name: 'google.com',
      policy: { domain: 'twlnet.com', p: 'reject', sp: 'reject', adkim: 's', aspf: 's', pct: 100 },
    });
    expect(dmarc!.records).toHaveLength(1);
    expect(dmarc!.records[0]).toMatchObject({
      source_ip: '87.106.127.28',
      count: 1,
      dkim_results: [{ domain: 'twlnet.com', selector: '201810', result: 'pass' }],
    });
    expect(tls).toMatchObject({
      file: TLS_EML,
      kind: 'smtp_tls',
      report_id: '2024-09-03T00:00:00Z_cardinalhealth.ca',
      org_name: 'Google Inc.',
      org_email: 'smtp-tls-reporting@google.com',
      policies: [
        {
          policy_type: 'no-policy-found',
          policy_domain: 'cardinalhealth.ca',
          total_successful_session_count: 48,
          total_failure_session_count: 0,
        },
      ],
    });
    expect(utc(tls!.begin)).toBe('2024-09-03T00:00:00.000Z');
  });

  it('reads an RFC 8460 SMTP TLS report (JSON)', () => {
    const [report] = JSON.parse(cli(['parse', TLS_JSON]).stdout) as Json[];
    expect(report).toMatchObject({
      kind: 'smtp_tls',
      report_id: '5065427c-23d3-47ca-b6e0-946ea0e8c4be',
      org_name: 'Company-X',
      org_email: 'sts-reporting@company-x.example',
    });
    expect(utc(report!.end)).toBe('2016-04-01T23:59:59.000Z');
    const [policy] = report!.policies as Json[];
    expect(policy).toMatchObject({
      policy_type: 'sts',
      policy_domain: 'company-y.example',
      mx_host: ['*.mail.company-y.example'],
      total_successful_session_count: 5326,
      total_failure_session_count: 303,
    });
    expect(policy!.policy_string).toEqual(['version: STSv1', 'mode: testing', 'mx: *.mail.company-y.example', 'max_age: 86400']);
    expect((policy!.failure_details as Json[]).map((d) => [d.result_type, d.failed_session_count])).toEqual([
      ['certificate-expired', 100],
      ['starttls-not-supported', 200],
      ['validation-failure', 3],
    ]);
    expect(policy!.failure_details[2]).toMatchObject({
      sending_mta_ip: '198.51.100.62',
      receiving_ip: '203.0.113.58',
      failure_reason_code: 'X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED',
    });
  });

  it('keeps only the facts of a failure report', () => {
    const { status, stdout } = cli(['parse', RUF]);
    expect(status).toBe(0);
    const reports = JSON.parse(stdout) as Json[];
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({
      file: RUF,
      kind: 'failure',
      domain: 'example.com',
      day: '2019-04-30',
      source_ip: '10.10.10.10',
      feedback_type: 'auth-failure',
    });
    expect(Object.keys(reports[0]!)).toEqual(['file', 'kind', 'domain', 'day', 'source_ip', 'reporter', 'feedback_type', 'warnings']);
  });
});

describe('errors and exit codes', () => {
  it('names a file that is not a report, prints the other reports and exits 1', () => {
    const { status, stdout, stderr } = cli(['parse', EMPTY, NICE]);
    expect(status).toBe(1);
    const reports = JSON.parse(stdout) as Json[];
    expect(reports).toHaveLength(1);
    expectNiceReport(reports[0]!);
    const lines = stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^error: samples\/reports\/empty\.xml: .+ \([a-z0-9-]+\)$/);
    expect(lines[1]).toBe('2 files, 1 report, 1 error');
  });

  it('reports a missing file the same way', () => {
    const { status, stdout, stderr } = cli(['parse', '--format', 'ndjson', 'no/such/file.xml', TLS_JSON]);
    expect(status).toBe(1);
    expect(ndjson(stdout).map((r) => r.kind)).toEqual(['smtp_tls']);
    expect(stderr).toContain('error: no/such/file.xml: cannot read: no such file or folder (ENOENT)\n');
  });

  it('exits 2 on usage errors without reading anything', () => {
    for (const args of [['parse', NICE, '--bogus'], ['parse', NICE, '--format', 'xml'], ['parse'], [], ['convert', NICE], ['parse', NICE, '--out']]) {
      const { status, stdout, stderr } = cli(args);
      expect(status, args.join(' ')).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toMatch(/^mailcheck-edge: .+\nTry 'mailcheck-edge --help' for usage\.\n$/);
    }
    expect(cli(['parse', NICE, '--bogus']).stderr).toContain("'--bogus'");
    expect(cli(['parse', NICE, '-f', 'xml']).stderr).toContain("not 'xml'");
  });

  it('prints help and version', () => {
    const help = cli(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: mailcheck-edge parse \[options\] <file or folder>\.\.\./);
    for (const flag of ['--format', '--out', '--progress', '--help', '--version']) expect(help.stdout).toContain(flag);
    const version = cli(['--version']);
    expect(version.status).toBe(0);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(version.stdout).toBe(`${pkg.version}\n`);
  });
});

describe('folders', () => {
  it('walks folders recursively in name order, skipping hidden entries', () => {
    const dir = temp();
    const xml = join(ROOT, NICE);
    mkdirSync(join(dir, 'b', 'nested'), { recursive: true });
    mkdirSync(join(dir, '.git'));
    copyFileSync(xml, join(dir, 'c.xml'));
    copyFileSync(xml, join(dir, 'b', 'nested', 'google.com!example.com!1718236800!1718323199.xml'));
    copyFileSync(join(ROOT, `${NICE}.gz`), join(dir, 'b', '!first.xml.gz'));
    copyFileSync(join(ROOT, TLS_JSON), join(dir, 'a.json'));
    copyFileSync(xml, join(dir, '.hidden.xml'));
    copyFileSync(xml, join(dir, '.git', 'report.xml'));
    writeFileSync(join(dir, 'b', '.DS_Store'), 'junk');

    const { status, stdout, stderr } = cli(['parse', '--format', 'ndjson', dir]);
    expect(stderr).toBe('4 files, 4 reports, 0 errors\n');
    expect(status).toBe(0);
    const reports = ndjson(stdout);
    expect(reports.map((r) => r.file)).toEqual([
      join(dir, 'a.json'),
      join(dir, 'b', '!first.xml.gz'),
      join(dir, 'b', 'nested', 'google.com!example.com!1718236800!1718323199.xml'),
      join(dir, 'c.xml'),
    ]);
    expect(reports.map((r) => r.kind)).toEqual(['smtp_tls', 'aggregate', 'aggregate', 'aggregate']);
    // Paths are shown relative when the folder is given relative.
    const relative = ndjson(cli(['parse', '--format', 'ndjson', 'b'], { cwd: dir }).stdout);
    expect(relative.map((r) => r.file)).toEqual([join('b', '!first.xml.gz'), join('b', 'nested', 'google.com!example.com!1718236800!1718323199.xml')]);
    // A hidden file named explicitly is read.
    expect(ndjson(cli(['parse', '--format', 'ndjson', join(dir, '.hidden.xml')]).stdout)).toHaveLength(1);
  });

  it('reads the whole samples folder: every kind, one error for empty.xml, summary line', () => {
    const { status, stdout, stderr } = cli(['parse', '--format', 'ndjson', S]);
    expect(status).toBe(1);
    const reports = ndjson(stdout);
    const kinds = new Set(reports.map((r) => r.kind));
    expect(kinds).toEqual(new Set(['aggregate', 'smtp_tls', 'failure']));
    // Files come in name order (code units: `!` sorts before letters).
    const files = reports.map((r) => r.file as string);
    expect(files.indexOf(LARGE)).toBeLessThan(files.indexOf(TWILIGHT));
    expect(files.indexOf(TWILIGHT)).toBeLessThan(files.indexOf(NICE));
    expect(files.indexOf(NICE)).toBeLessThan(files.indexOf(TLS_JSON));
    const ids = reports.filter((r) => r.kind === 'aggregate').map((r) => r.report_id);
    expect(ids).toContain('b043f0e264cf4ea995e93765242f6dfb');
    expect(ids.filter((id) => id === '11038226378739404135')).toHaveLength(4); // changed, nice, .gz, .zip
    expect(reports.find((r) => r.file === `${S}/extract_report/changed-input.xml`)!.org_name).toBe('fred.com');
    expect(reports.some((r) => r.file === TLS_EML && r.kind === 'smtp_tls')).toBe(true);
    expect(reports.filter((r) => r.kind === 'failure').map((r) => r.file)).toContain(RUF);

    const lines = stderr.trimEnd().split('\n');
    const errors = lines.filter((l) => l.startsWith('error: '));
    expect(errors.some((l) => l.startsWith(`error: ${EMPTY}: `))).toBe(true);
    expect(lines.at(-1)).toBe(`15 files, ${reports.length} reports, ${errors.length} error${errors.length === 1 ? '' : 's'}`);
  });
});

describe('--out and --progress', () => {
  it('writes to the --out file and nothing to stdout', () => {
    const out = join(temp(), 'reports.json');
    const { status, stdout, stderr } = cli(['parse', '--out', out, NICE, TLS_JSON]);
    expect(status).toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toBe('2 files, 2 reports, 0 errors\n');
    const reports = JSON.parse(readFileSync(out, 'utf8')) as Json[];
    expect(reports.map((r) => r.kind)).toEqual(['aggregate', 'smtp_tls']);
    expectNiceReport(reports[0]!);
  });

  it('does not read its own --out file inside a walked folder', () => {
    const dir = temp();
    copyFileSync(join(ROOT, NICE), join(dir, 'a.xml'));
    const out = join(dir, 'out.ndjson');
    writeFileSync(out, 'old content');
    const { status } = cli(['parse', '-f', 'ndjson', '-o', out, dir]);
    expect(status).toBe(0);
    expect(ndjson(readFileSync(out, 'utf8')).map((r) => r.file)).toEqual([join(dir, 'a.xml')]);
  });

  it('fails with exit 1 when --out cannot be written', () => {
    const { status, stderr } = cli(['parse', '--out', join(temp(), 'missing', 'x.json'), NICE]);
    expect(status).toBe(1);
    expect(stderr).toMatch(/^error: .*x\.json: cannot write: /);
  });

  it('shows a progress line with --progress', () => {
    const { status, stderr } = cli(['parse', '--progress', '--out', join(temp(), 'o.json'), `${S}/extract_report`]);
    expect(status).toBe(0);
    expect(stderr).toMatch(/^parsed 1\/4 files, 0 errors\n/);
    expect(stderr.trimEnd().split('\n').at(-1)).toBe('4 files, 4 reports, 0 errors');
    // No progress without the flag when stderr is not a terminal.
    expect(cli(['parse', '--out', join(temp(), 'o.json'), `${S}/extract_report`]).stderr).toBe('4 files, 4 reports, 0 errors\n');
  });
});

describe('CSV', () => {
  it('writes a header and one row per aggregate record', () => {
    const { status, stdout, stderr } = cli(['parse', '--format', 'csv', NICE, TWILIGHT]);
    expect(status).toBe(0);
    expect(stderr).toBe('2 files, 2 reports, 0 errors\n');
    expect(stdout.split('\r\n')[0]).toBe(CSV_COLUMNS.join(','));
    expect(parseCsv(stdout)[0]).toEqual([...CSV_COLUMNS]);
    const rows = csvObjects(stdout);
    expect(rows).toHaveLength(21);
    const nice = rows.filter((r) => r.file === NICE);
    expect(nice).toHaveLength(20);
    expect(nice.reduce((n, r) => n + Number(r.count), 0)).toBe(3047);
    expect(new Set(nice.map((r) => r.report_id))).toEqual(new Set(['11038226378739404135']));
    expect(nice[0]).toMatchObject({
      part: '',
      org_name: 'google.com',
      org_email: 'noreply-dmarc-support@google.com',
      policy_domain: 'example.com',
      policy_p: 'none',
      policy_adkim: 'r',
      policy_pct: '100',
      policy_fo: '',
      source_ip: '209.85.220.69',
      count: '1',
      disposition: 'none',
      dkim: 'fail',
      spf: 'pass',
      header_from: 'example.com',
      dkim_domains: '',
      spf_domains: 'example.com',
      spf_results: 'pass',
    });
    expect(utc(nice[0]!.begin!)).toBe('2024-06-13T00:00:00.000Z');
    expect(nice[1]).toMatchObject({
      dkim_domains: 'example.com;amazonses.com',
      dkim_selectors: 'awbr2rp4egb35wbg4umq4e5dcoe5kc4n;ug7nbtf4gccmlpwj322ax3p6ow6yfsug',
      dkim_results: 'pass;pass',
      spf_domains: 'gmail.com',
    });
    expect(rows[20]).toMatchObject({
      file: TWILIGHT,
      part: 'google.com!twlnet.com!1549756800!1549843199.xml',
      report_id: '1627703331531660819',
      policy_p: 'reject',
      source_ip: '87.106.127.28',
      dkim_selectors: '201810',
    });
  });

  it('quotes fields with commas, quotes and line breaks (RFC 4180)', () => {
    const dir = temp();
    const xml = readFileSync(join(ROOT, NICE), 'utf8')
      .replace('<org_name>google.com</org_name>', '<org_name>Fred, &quot;the&quot; Reporter</org_name>')
      .replace(
        '<spf>pass</spf>\n      </policy_evaluated>',
        '<spf>pass</spf>\n        <reason><type>forwarded</type><comment>line one\nline "two", end</comment></reason>\n      </policy_evaluated>',
      );
    const file = join(dir, 'quoted, "name".xml');
    writeFileSync(file, xml);
    const { status, stdout } = cli(['parse', '-f', 'csv', file]);
    expect(status).toBe(0);
    expect(stdout).toContain('"Fred, ""the"" Reporter"');
    const rows = csvObjects(stdout);
    expect(rows).toHaveLength(20);
    expect(rows[0]).toMatchObject({
      file,
      org_name: 'Fred, "the" Reporter',
      reason_types: 'forwarded',
      reason_comments: 'line one\nline "two", end',
      source_ip: '209.85.220.69',
    });
  });

  it('leaves SMTP TLS and failure reports out, with a note', () => {
    const { status, stdout, stderr } = cli(['parse', '--format', 'csv', TLS_JSON, RUF, NICE]);
    expect(status).toBe(0);
    expect(csvObjects(stdout)).toHaveLength(20);
    expect(stderr).toContain('3 files, 3 reports, 0 errors\n');
    expect(stderr).toMatch(/note: .*1 SMTP TLS.*1 failure.*--format json/);
  });
});
