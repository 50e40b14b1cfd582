import { describe, expect, it } from 'vitest';
import { parseAggregateReport } from '../../src/reports/aggregate';
import type { AggregateReport } from '../../src/reports/model';
import { sampleText } from './helpers';

// Expected values were read from the sample files themselves (and samples/README's table);
// epoch seconds were converted by hand, e.g. 1529366400 = 2018-06-19 00:00:00 UTC.

const sum = (report: AggregateReport) => report.records.reduce((total, r) => total + r.count, 0);

describe('example.net!example.com!1529366400!1529452799.xml (RFC 7489, mixed content, empty auth_results)', () => {
  it('reads the header', async () => {
    const report = await parseAggregateReport(sampleText('aggregate/example.net!example.com!1529366400!1529452799.xml'));
    expect(report).toMatchObject({
      kind: 'aggregate',
      schema: 'rfc7489',
      version: '1.0',
      org_name: 'example.net',
      org_email: 'postmaster@example.net',
      extra_contact_info: null,
      generator: null,
      report_id: 'b043f0e264cf4ea995e93765242f6dfb',
      begin: '2018-06-19T00:00:00Z',
      end: '2018-06-19T23:59:59Z',
      errors: [],
    });
    expect(report.policy).toEqual({
      domain: 'example.com',
      p: 'none',
      sp: 'none',
      np: null,
      adkim: 'r',
      aspf: 'r',
      pct: 100,
      fo: '0',
      testing: null,
      discovery_method: null,
    });
  });

  it('reads its one record and says what was odd', async () => {
    const report = await parseAggregateReport(sampleText('aggregate/example.net!example.com!1529366400!1529452799.xml'));
    expect(report.records).toEqual([
      {
        source_ip: '199.230.200.36',
        count: 1,
        disposition: 'none',
        dkim: 'fail',
        spf: 'fail',
        reasons: [],
        header_from: 'example.com',
        envelope_from: 'example.com',
        envelope_to: null,
        dkim_results: [],
        spf_results: [],
      },
    ]);
    expect(report.warnings).toContain('stray text "11" inside <policy_published> was ignored');
    expect(report.warnings).toContain('record 0 has no SPF result in auth_results');
  });
});

describe('!large-example.com!1711897200!1711983600.xml (2,286 records, empty org_name)', () => {
  const load = () => parseAggregateReport(sampleText('aggregate/!large-example.com!1711897200!1711983600.xml'));

  it('falls back to the email domain for the empty org_name', async () => {
    const report = await load();
    expect(report.org_name).toBe('accurateplastics.com');
    expect(report.org_email).toBe('administrator@accurateplastics.com');
    expect(report.warnings).toContain(
      "org_name is empty; the domain of the reporter's email, accurateplastics.com, is used instead",
    );
    expect(report).toMatchObject({
      schema: 'draft',
      version: null,
      report_id: 'example.com:1711897200',
      begin: '2024-03-31T15:00:00Z',
      end: '2024-04-01T15:00:00Z',
    });
    expect(report.policy).toMatchObject({ domain: 'example.com', p: 'none', sp: 'reject', adkim: 'r', aspf: 'r', pct: 100 });
  });

  it('has 2,286 records from 2,286 distinct IPs, one message each', async () => {
    const report = await load();
    expect(report.records).toHaveLength(2286);
    expect(sum(report)).toBe(2286);
    expect(new Set(report.records.map((r) => r.source_ip)).size).toBe(2286);
    expect(report.records[0]?.source_ip).toBe('12.20.121.1');
    expect(report.records.at(-1)?.source_ip).toBe('12.20.129.254');
  });

  it('keeps the empty SPF domain as "" and warns once for all records', async () => {
    const report = await load();
    expect(report.records[5]?.spf_results).toEqual([{ domain: '', scope: null, result: 'none', human_result: null }]);
    expect(report.records.every((r) => r.header_from === 'example.com' && r.dkim === 'fail' && r.spf === 'fail')).toBe(true);
    expect(report.warnings).toContain('record 0 has an SPF result with an empty domain (and 2285 more like it)');
  });
});

describe('invalid_xml.xml (not well-formed, recovered)', () => {
  it('reads a stray "<" as text: <bad-xml@bad-xml.net> and bad<xml.net', async () => {
    const report = await parseAggregateReport(sampleText('aggregate/invalid_xml.xml'));
    expect(report).toMatchObject({
      schema: 'draft',
      org_name: 'veeam.com',
      org_email: 'bad-xml@bad-xml.net',
      report_id: 'sonexushealth.com:1530233361',
      begin: '2018-06-27T21:00:00Z',
      end: '2018-06-28T21:00:00Z',
    });
    expect(report.policy).toMatchObject({ domain: 'example.com', p: 'none', sp: 'none', pct: 100 });
    expect(report.records).toHaveLength(1);
    expect(report.records[0]).toMatchObject({
      source_ip: '199.230.200.36',
      count: 1,
      header_from: 'bad<xml.net',
      spf_results: [{ domain: '', scope: null, result: 'none', human_result: null }],
    });
    expect(report.warnings).toContain('the report header is not well-formed XML: a "<" that starts no tag was read as text');
    expect(report.warnings).toContain('record 0 is not well-formed XML: a "<" that starts no tag was read as text');
  });
});

describe('rfc9990-sample.xml (dmarc-2.0 namespace)', () => {
  it('reads the RFC 9990 fields', async () => {
    const report = await parseAggregateReport(sampleText('aggregate/rfc9990-sample.xml'));
    expect(report).toMatchObject({
      schema: 'dmarc-2.0',
      version: '1.0',
      org_name: 'Sample Reporter',
      org_email: 'report_sender@example-reporter.com',
      extra_contact_info: '...',
      report_id: '3v98abbp8ya9n3va8yr8oa3ya',
      generator: 'Example DMARC Aggregate Reporter v1.2',
      begin: '1979-08-07T00:00:00Z',
      end: '1979-08-07T23:59:59Z',
      warnings: [],
    });
    expect(report.policy).toEqual({
      domain: 'example.com',
      p: 'quarantine',
      sp: 'none',
      np: 'none',
      adkim: null,
      aspf: null,
      pct: null,
      fo: null,
      testing: 'n',
      discovery_method: 'treewalk',
    });
    expect(report.records).toEqual([
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
});

describe('extract_report/nice-input.xml and changed-input.xml', () => {
  it('reads the Google report: 20 records, 3,047 messages', async () => {
    const report = await parseAggregateReport(sampleText('extract_report/nice-input.xml'));
    expect(report).toMatchObject({
      schema: 'draft',
      org_name: 'google.com',
      org_email: 'noreply-dmarc-support@google.com',
      extra_contact_info: 'https://support.google.com/a/answer/2466580',
      report_id: '11038226378739404135',
      begin: '2024-06-13T00:00:00Z',
      end: '2024-06-13T23:59:59Z',
      warnings: [],
    });
    expect(report.policy).toMatchObject({ domain: 'example.com', p: 'none', sp: 'none', np: 'none', pct: 100 });
    expect(report.records).toHaveLength(20);
    expect(sum(report)).toBe(3047);
    expect(report.records[1]).toEqual({
      source_ip: '209.85.220.41',
      count: 2,
      disposition: 'none',
      dkim: 'pass',
      spf: 'fail',
      reasons: [],
      header_from: 'example.com',
      envelope_from: null,
      envelope_to: null,
      dkim_results: [
        { domain: 'example.com', selector: 'awbr2rp4egb35wbg4umq4e5dcoe5kc4n', result: 'pass', human_result: null },
        { domain: 'amazonses.com', selector: 'ug7nbtf4gccmlpwj322ax3p6ow6yfsug', result: 'pass', human_result: null },
      ],
      spf_results: [{ domain: 'gmail.com', scope: null, result: 'pass', human_result: null }],
    });
    expect(report.records[8]).toMatchObject({ source_ip: '2607:f8b0:4864:20::132', count: 1, dkim: 'pass', spf: 'pass' });
    expect(report.records[12]).toMatchObject({ source_ip: '209.85.220.69', count: 2252 });
    expect(report.records[18]?.spf_results).toEqual([{ domain: 'rphvac.com', scope: null, result: 'none', human_result: null }]);
  });

  it('changed-input differs from nice-input only in org_name', async () => {
    const nice = await parseAggregateReport(sampleText('extract_report/nice-input.xml'));
    const changed = await parseAggregateReport(sampleText('extract_report/changed-input.xml'));
    expect(changed.org_name).toBe('fred.com');
    expect({ ...changed, org_name: nice.org_name }).toEqual(nice);
  });
});
