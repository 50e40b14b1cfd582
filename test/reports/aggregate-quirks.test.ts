import { describe, expect, it } from 'vitest';
import { parseAggregateReport, streamAggregateReport } from '../../src/reports/aggregate';
import { ReportRejection } from '../../src/reports/model';
import { aggregateXml, collect, recordXml } from './helpers';

async function rejection(text: string | Iterable<string>): Promise<ReportRejection> {
  try {
    await parseAggregateReport(text);
  } catch (error) {
    if (error instanceof ReportRejection) return error;
    throw error;
  }
  throw new Error('the report was accepted');
}

const ONE_RECORD = recordXml('192.0.2.1', 1);

describe('normalisation', () => {
  it('lower-cases enumerations and domains (PASS → pass, Reject → reject)', async () => {
    const xml = `<feedback><report_metadata><org_name>R</org_name><email>a@r.example</email><report_id>1</report_id>
      <date_range><begin>0</begin><end>86399</end></date_range></report_metadata>
      <policy_published><domain>Example.ORG</domain><p>Reject</p><sp>QUARANTINE</sp><adkim>S</adkim><aspf>R</aspf>
      <testing>Y</testing><discovery_method>PSL</discovery_method></policy_published>
      <record><row><source_ip>2001:DB8::1</source_ip><count>2</count><policy_evaluated><disposition>Quarantine</disposition>
      <dkim>PASS</dkim><spf>Fail</spf><reason><type>Local_Policy</type><comment>arc=pass</comment></reason></policy_evaluated></row>
      <identifiers><header_from>Mail.Example.ORG</header_from></identifiers>
      <auth_results><dkim><domain>Example.ORG</domain><selector>Sel</selector><result>PASS</result><human_result>Good Key</human_result></dkim>
      <spf><domain>Example.ORG</domain><scope>MFROM</scope><result>SoftFail</result></spf></auth_results></record></feedback>`;
    const report = await parseAggregateReport(xml);
    expect(report.begin).toBe('1970-01-01T00:00:00Z');
    expect(report.end).toBe('1970-01-01T23:59:59Z');
    expect(report.policy).toMatchObject({
      domain: 'example.org',
      p: 'reject',
      sp: 'quarantine',
      adkim: 's',
      aspf: 'r',
      testing: 'y',
      discovery_method: 'psl',
    });
    expect(report.records[0]).toEqual({
      source_ip: '2001:db8::1',
      count: 2,
      disposition: 'quarantine',
      dkim: 'pass',
      spf: 'fail',
      reasons: [{ type: 'local_policy', comment: 'arc=pass' }],
      header_from: 'mail.example.org',
      envelope_from: null,
      envelope_to: null,
      dkim_results: [{ domain: 'example.org', selector: 'Sel', result: 'pass', human_result: 'Good Key' }],
      spf_results: [{ domain: 'example.org', scope: 'mfrom', result: 'softfail', human_result: null }],
    });
    expect(report.warnings).toEqual([]);
  });

  it('turns empty elements into null, warning only where a required value is missing', async () => {
    const xml = aggregateXml(ONE_RECORD)
      .replace('<email>dmarc@reporter.example</email>', '<email></email><extra_contact_info/>')
      .replace('<p>reject</p>', '<p></p><sp></sp><pct/><fo> </fo>');
    const report = await parseAggregateReport(xml);
    expect(report.org_email).toBeNull();
    expect(report.extra_contact_info).toBeNull();
    expect(report.policy).toMatchObject({ p: null, sp: null, pct: null, fo: null });
    expect(report.warnings).toEqual(['policy_published has no p (the published policy)']);
  });

  it('leaves missing optional elements null without warnings', async () => {
    const report = await parseAggregateReport(aggregateXml(ONE_RECORD));
    expect(report.policy).toEqual({
      domain: 'example.org',
      p: 'reject',
      sp: null,
      np: null,
      adkim: null,
      aspf: null,
      pct: null,
      fo: null,
      testing: null,
      discovery_method: null,
    });
    expect(report.records[0]).toMatchObject({ envelope_from: null, envelope_to: null, dkim_results: [], reasons: [] });
    expect(report.warnings).toEqual([]);
  });

  it('empties invalid enumerations and out-of-range pct, with a warning each', async () => {
    const xml = aggregateXml(ONE_RECORD.replace('<disposition>none</disposition>', '<disposition>deliver</disposition>')).replace(
      '<p>reject</p>',
      '<p>block</p><adkim>loose</adkim><pct>150</pct><testing>maybe</testing>',
    );
    const report = await parseAggregateReport(xml);
    expect(report.policy).toMatchObject({ p: null, adkim: null, pct: null, testing: null });
    expect(report.records[0]?.disposition).toBeNull();
    expect(report.warnings).toEqual([
      'policy_published p "block" is not one of none, quarantine, reject; it was left empty',
      'policy_published pct "150" is not a percentage; it was left empty',
      'policy_published adkim "loose" is not one of r, s; it was left empty',
      'policy_published testing "maybe" is not one of y, n; it was left empty',
      'policy_evaluated disposition "deliver" is not one of none, quarantine, reject, pass; it was left empty',
    ]);
  });

  it('reads a raw SPF result written as the DMARC verdict (old reporters) as fail, and says so', async () => {
    const report = await parseAggregateReport(aggregateXml(ONE_RECORD.replace('<spf>pass</spf>', '<spf>softfail</spf>')));
    expect(report.records[0]?.spf).toBe('fail');
    expect(report.warnings).toEqual([
      'policy_evaluated spf "softfail" is an authentication result, not a DMARC verdict; it was read as fail',
    ]);
  });

  it('reads old-draft reason shapes and several reasons', async () => {
    const record = ONE_RECORD.replace(
      '<spf>pass</spf></policy_evaluated>',
      '<spf>pass</spf><reason>Forwarded</reason><reason><type>mailing_list</type></reason><reason><comment>no type</comment></reason></policy_evaluated>',
    );
    const report = await parseAggregateReport(aggregateXml(record));
    expect(report.records[0]?.reasons).toEqual([
      { type: 'forwarded', comment: null },
      { type: 'mailing_list', comment: null },
      { type: 'other', comment: 'no type' },
    ]);
    expect(report.warnings).toEqual(['record 0 has a policy override reason without a type; it was read as "other"']);
  });

  it('decodes the five entities and character references, and nothing else', async () => {
    const xml = aggregateXml(ONE_RECORD).replace(
      '<org_name>Reporter Inc</org_name>',
      '<org_name>A&amp;B &lt;Mail&gt; &#233;t&#xE9; &quot;x&quot; &apos;y&apos; &nbsp; AT&T</org_name>',
    );
    const report = await parseAggregateReport(xml);
    expect(report.org_name).toBe(`A&B <Mail> été "x" 'y' &nbsp; AT&T`);
  });

  it('converts begin/end given in milliseconds, with a warning', async () => {
    const xml = aggregateXml(ONE_RECORD).replace(
      '<begin>1700000000</begin><end>1700086399</end>',
      '<begin>1700000000000</begin><end>1700086399000</end>',
    );
    const report = await parseAggregateReport(xml);
    expect(report.begin).toBe('2023-11-14T22:13:20Z');
    expect(report.end).toBe('2023-11-15T22:13:19Z');
    expect(report.warnings).toContain('date_range begin is in milliseconds, not seconds; it was converted');
  });

  it('keeps <error> elements of report_metadata', async () => {
    const xml = aggregateXml(ONE_RECORD).replace('<report_id>r-1</report_id>', '<report_id>r-1</report_id><error>DNS timeout</error><error>second</error>');
    expect((await parseAggregateReport(xml)).errors).toEqual(['DNS timeout', 'second']);
  });

  it('ignores RFC 9990 extensions and comments without a word', async () => {
    const xml = aggregateXml(
      `<!-- first --> ${ONE_RECORD.replace('</record>', '<ext:thing xmlns:ext="urn:x">1</ext:thing></record>')} <!-- between --> ${ONE_RECORD}`,
      '<extension><ext:policy xmlns:ext="urn:x">v</ext:policy></extension>',
    );
    const report = await parseAggregateReport(xml);
    expect(report.records).toHaveLength(2);
    expect(report.warnings).toEqual([]);
  });
});

describe('byte-order mark and namespaces', () => {
  it('ignores a BOM at the start of the text', async () => {
    const report = await parseAggregateReport('\uFEFF' + aggregateXml(ONE_RECORD));
    expect(report.report_id).toBe('r-1');
    expect(report.warnings).toEqual([]);
  });

  it('matches elements by local name under a namespace prefix', async () => {
    const prefixed = aggregateXml(ONE_RECORD)
      .replace(/<(\/?)([a-z_]+)([ >])/g, '<$1dmarc:$2$3')
      .replace(/<(\/?)([a-z_]+)>/g, '<$1dmarc:$2>')
      .replace('<dmarc:feedback>', '<dmarc:feedback xmlns:dmarc="urn:ietf:params:xml:ns:dmarc-2.0">');
    expect(prefixed).toContain('<dmarc:record>');
    const plain = await parseAggregateReport(aggregateXml(ONE_RECORD));
    const report = await parseAggregateReport(prefixed);
    expect(report.schema).toBe('dmarc-2.0');
    expect({ ...report, schema: plain.schema }).toEqual(plain);
  });

  it('calls a report with <version> and an old namespace rfc7489, one without version draft', async () => {
    const old = aggregateXml(ONE_RECORD).replace('<feedback>', '<feedback xmlns="http://dmarc.org/dmarc-xml/0.1"><version>1.0</version>');
    expect((await parseAggregateReport(old)).schema).toBe('rfc7489');
    expect((await parseAggregateReport(aggregateXml(ONE_RECORD))).schema).toBe('draft');
  });
});

describe('attacks and refusals', () => {
  it('refuses a DOCTYPE', async () => {
    const xml = aggregateXml(ONE_RECORD).replace('<feedback>', '<!DOCTYPE feedback SYSTEM "http://evil.example/x.dtd">\n<feedback>');
    expect(await rejection(xml)).toMatchObject({ code: 'xml-entities' });
  });

  it('refuses billion laughs without expanding anything', async () => {
    const lol = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<feedback><report_metadata><org_name>&lol9;</org_name><report_id>x</report_id></report_metadata></feedback>`;
    expect(await rejection(lol)).toMatchObject({ code: 'xml-entities' });
  });

  it('refuses a DTD hidden between records, and an entity declaration inside a record', async () => {
    const between = aggregateXml(`${ONE_RECORD}<!DOCTYPE x [<!ENTITY a "b">]>${ONE_RECORD}`);
    expect(await rejection(between)).toMatchObject({ code: 'xml-entities' });
    const inside = aggregateXml(ONE_RECORD.replace('<row>', '<!ENTITY a "b"><row>'));
    expect(await rejection(inside)).toMatchObject({ code: 'xml-entities' });
  });

  it('refuses a record longer than 1 MiB instead of buffering it', async () => {
    const huge = ONE_RECORD.replace('<row>', `<junk>${'x'.repeat(1_100_000)}</junk><row>`);
    expect(await rejection(aggregateXml(huge))).toMatchObject({ code: 'invalid-report' });
  });
});

describe('missing required parts', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['no report_id', aggregateXml(ONE_RECORD).replace('<report_id>r-1</report_id>', ''), /report_id/],
    ['empty report_id', aggregateXml(ONE_RECORD).replace('<report_id>r-1</report_id>', '<report_id> </report_id>'), /report_id/],
    ['no report_metadata', aggregateXml(ONE_RECORD).replace(/<report_metadata>[\s\S]*<\/report_metadata>/, ''), /report_metadata/],
    ['no policy_published', aggregateXml(ONE_RECORD).replace(/<policy_published>.*<\/policy_published>/, ''), /policy_published/],
    ['no policy domain', aggregateXml(ONE_RECORD).replace('<domain>example.org</domain><p>', '<p>'), /policy_published has no domain/],
    ['no date_range', aggregateXml(ONE_RECORD).replace(/<date_range>.*<\/date_range>/, ''), /date_range/],
    ['begin not a number', aggregateXml(ONE_RECORD).replace('<begin>1700000000</begin>', '<begin>yesterday</begin>'), /begin "yesterday"/],
    ['root is not feedback', '<report><record/></report>', /root element is <report>/],
    ['no XML at all', 'just some text', /no XML element/],
    ['empty text', '', /no XML element/],
  ];
  for (const [name, xml, reason] of cases) {
    it(`rejects a report with ${name}`, async () => {
      const error = await rejection(xml);
      expect(error.code).toBe('invalid-report');
      expect(error.message).toMatch(reason);
    });
  }
});

describe('record-level problems skip the record, never the report', () => {
  it('names each skipped record by index', async () => {
    const records = [
      recordXml('192.0.2.1', 1),
      recordXml('', 1),
      recordXml('192.0.2.300', 1),
      recordXml('192.0.2.4', -1),
      recordXml('192.0.2.5', ''),
      '<record/>',
      recordXml('192.0.2.7', 7),
    ].join('\n');
    const report = await parseAggregateReport(aggregateXml(records));
    expect(report.records.map((r) => r.source_ip)).toEqual(['192.0.2.1', '192.0.2.7']);
    expect(report.warnings).toEqual([
      'record 1 was skipped: it has no source_ip (and 1 more like it)',
      'record 2 was skipped: source_ip "192.0.2.300" is not an IP address',
      'record 3 was skipped: count "-1" is not a whole number',
      'record 4 was skipped: it has no count',
    ]);
  });

  it('accepts a report with zero records, with a warning', async () => {
    const report = await parseAggregateReport(aggregateXml(''));
    expect(report.records).toEqual([]);
    expect(report.warnings).toEqual(['the report has no records']);
  });

  it('warns about a report cut off inside a record and keeps the complete records', async () => {
    const xml = aggregateXml(`${ONE_RECORD}${ONE_RECORD}`);
    const cut = xml.slice(0, xml.lastIndexOf('<count>'));
    const events = await collect(streamAggregateReport([cut]));
    expect(events.at(-1)).toMatchObject({
      recordCount: 1,
      warnings: ['the report is truncated: record 1 has no end and was dropped'],
    });
  });

  it('warns about a report without </feedback>', async () => {
    const report = await parseAggregateReport(aggregateXml(ONE_RECORD).replace('</feedback>', ''));
    expect(report.records).toHaveLength(1);
    expect(report.warnings).toEqual(['the report ends without </feedback>; it may be truncated']);
  });

  it('tolerates stray text inside a record and attributes on <record>', async () => {
    const record = ONE_RECORD.replace('<record>', '<record id="7">').replace('</row>', '</row>oops');
    const report = await parseAggregateReport(aggregateXml(record));
    expect(report.records).toHaveLength(1);
    expect(report.warnings).toEqual(['stray text "oops" inside <record> was ignored']);
  });
});
