import { env } from 'cloudflare:workers';
import { gzipSync, zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { processInbound } from '../../src/ingest/process-inbound';
import { WorkBudget } from '../../src/ingest/work-budget';
import { deliverEmail, inboundRow, migrate, reportEmail, sample, scalar, settle } from './helpers';

beforeAll(migrate);

const small = { maxRecords: 1_000, maxQueries: 1_000, maxMillis: 600_000 };

function report(reportId: string, records: number, domain: string, countOf = (i: number) => (i % 5) + 1): string {
  let body = '';
  for (let i = 0; i < records; i++) {
    body += `<record><row><source_ip>192.0.2.${i % 250}</source_ip><count>${countOf(i)}</count><policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>fail</spf></policy_evaluated></row><identifiers><header_from>${domain}</header_from></identifiers><auth_results><dkim><domain>${domain}</domain><result>pass</result></dkim><spf><domain>${domain}</domain><result>fail</result></spf></auth_results></record>`;
  }
  return `<feedback><report_metadata><org_name>Receiver</org_name><email>r@receiver.example</email><report_id>${reportId}</report_id><date_range><begin>1735689600</begin><end>1735775999</end></date_range></report_metadata><policy_published><domain>${domain}</domain><p>reject</p></policy_published>${body}</feedback>`;
}

async function deliverXml(xml: string, name = 'r.xml.gz') {
  return (await deliverEmail(reportEmail([{ filename: name, contentType: 'application/gzip', bytes: gzipSync(new TextEncoder().encode(xml)) }]))).inboundId;
}

describe('idempotent processing', () => {
  it('makes a second delivery wait while the first is still storing the report, then calls it a duplicate', async () => {
    const xml = report('concurrent-1', 2_500, 'concurrent.example');
    const a = await deliverXml(xml, 'a.xml.gz');
    const b = await deliverXml(xml + '\n', 'b.xml.gz'); // other bytes, same report
    expect(await processInbound(env, a, new WorkBudget(small))).toEqual({ status: 'continue', delaySeconds: 0 });
    // B finds A half-way: it must not end as a duplicate of a report that may yet be discarded.
    expect(await processInbound(env, b, new WorkBudget(small))).toEqual({ status: 'continue', delaySeconds: 60 });
    expect((await inboundRow(b)).status).toBe('received');
    expect((await settle(a)).status).toBe('parsed');
    expect((await settle(b)).status).toBe('duplicate');
    expect(await scalar("SELECT count(*) AS v FROM aggregate_reports WHERE report_id = 'concurrent-1'")).toBe(1);
    expect(await scalar("SELECT sum(messages) AS v FROM aggregate_daily WHERE domain = 'concurrent.example'")).toBe(
      Array.from({ length: 2_500 }, (_, i) => (i % 5) + 1).reduce((n, c) => n + c, 0),
    );
  });

  it('takes over, from scratch, a report whose first delivery gave up', async () => {
    const xml = report('takeover-1', 2_500, 'takeover.example');
    const a = await deliverXml(xml, 'a.xml.gz');
    expect((await processInbound(env, a, new WorkBudget(small))).status).toBe('continue');
    await env.DB.prepare("UPDATE inbound_messages SET status = 'failed' WHERE id = ?").bind(a).run();
    const b = await deliverXml(xml + ' ', 'b.xml.gz');
    expect((await settle(b)).status).toBe('parsed');
    const row = await env.DB.prepare("SELECT id, inbound_id, record_count FROM aggregate_reports WHERE report_id = 'takeover-1'").first<{ id: number; inbound_id: number; record_count: number }>();
    expect(row).toMatchObject({ inbound_id: b, record_count: 2_500 });
    expect(await scalar('SELECT count(*) AS v FROM aggregate_records WHERE report_id = ?', row!.id)).toBe(2_500);
  });

  it('calls a report stored by its own earlier attempt stored, not a duplicate', async () => {
    const id = await deliverXml(report('own-retry-1', 10, 'own.example'));
    expect((await settle(id)).status).toBe('parsed');
    // The attempt committed the report, then died before settling the inbound row.
    await env.DB.prepare("UPDATE inbound_messages SET status = 'received' WHERE id = ?").bind(id).run();
    expect((await settle(id)).status).toBe('parsed');
    expect(await scalar("SELECT sum(messages) AS v FROM aggregate_daily WHERE domain = 'own.example'")).toBe(30);
  });

  it('keeps the first copy and flags a later one with the same key but other content', async () => {
    const first = await deliverXml(report('conflict-1', 10, 'conflict.example'));
    expect((await settle(first)).status).toBe('parsed');
    const forged = await deliverXml(report('conflict-1', 10, 'conflict.example', () => 1000));
    const row = await settle(forged);
    expect(row.status).toBe('duplicate');
    expect(row.reason_code).toBe('conflicting-duplicate');
    expect(row.reason).toMatch(/other content/);
    expect(await scalar("SELECT sum(messages) AS v FROM aggregate_daily WHERE domain = 'conflict.example'")).toBe(30);
  });

  it('stores every report of a zip with several entries', async () => {
    const zip = zipSync({
      'one.xml': new TextEncoder().encode(report('zip-entry-1', 3, 'zip.example')),
      'two.xml': sample('aggregate/rfc9990-sample.xml'),
    });
    const { inboundId } = await deliverEmail(reportEmail([{ filename: 'reports.zip', contentType: 'application/zip', bytes: zip }]));
    const row = await settle(inboundId);
    expect(row.status).toBe('parsed');
    const summary = JSON.parse(row.summary!) as { aggregate: { status: string; report_id: string }[] };
    expect(summary.aggregate.map((a) => [a.status, a.report_id])).toEqual([
      ['stored', 'zip-entry-1'],
      ['stored', '3v98abbp8ya9n3va8yr8oa3ya'],
    ]);
  });

  it('rejects a failure report that names no domain instead of calling it parsed', async () => {
    const raw = new TextEncoder().encode(
      [
        'From: mailer@receiver.example',
        'To: ruf@reports.example',
        'Subject: DMARC failure report',
        'MIME-Version: 1.0',
        'Content-Type: multipart/report; report-type=feedback-report; boundary="b"',
        '',
        '--b',
        'Content-Type: text/plain',
        '',
        'A message failed DMARC.',
        '--b',
        'Content-Type: message/feedback-report',
        '',
        'Feedback-Type: auth-failure',
        'Version: 1',
        '',
        '--b--',
        '',
      ].join('\r\n'),
    );
    const { inboundId } = await deliverEmail(raw);
    const row = await settle(inboundId);
    expect(row.status).toBe('rejected');
    expect(row.reason).toMatch(/domain/);
  });
});
