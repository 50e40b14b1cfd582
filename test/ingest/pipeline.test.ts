import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import worker from '../../src/index';
import { rawKey } from '../../src/ingest/raw-store';
import { deliverEmail, inboundRow, migrate, reportEmail, sample, scalar, settle } from './helpers';

beforeAll(migrate);

async function reportsFor(reportId: string) {
  const { results } = await env.DB.prepare('SELECT * FROM aggregate_reports WHERE report_id = ? ORDER BY id')
    .bind(reportId)
    .all<{ id: number; org_name: string; domain: string; status: string; record_count: number; message_count: number; p: string }>();
  return results;
}

describe('email → R2 → queue → D1', () => {
  it('stores a zipped report sent by Google (twilight.eml) and keeps the raw message', async () => {
    const raw = sample('aggregate/twilight.eml');
    const { inboundId, rejections } = await deliverEmail(raw);
    expect(rejections).toEqual([]);
    const received = await inboundRow(inboundId);
    expect(received.status).toBe('received');
    const stored = await env.RAW_REPORTS.get(rawKey((await env.DB.prepare('SELECT sha256 FROM inbound_messages WHERE id = ?').bind(inboundId).first<{ sha256: string }>())!.sha256));
    expect(new Uint8Array(await stored!.arrayBuffer())).toEqual(raw);

    const row = await settle(inboundId);
    expect(row.status).toBe('parsed');
    const report = await env.DB.prepare("SELECT * FROM aggregate_reports WHERE domain = 'twlnet.com'").first<Record<string, unknown>>();
    expect(report).toMatchObject({ org_name: 'google.com', p: 'reject', adkim: 's', aspf: 's', status: 'complete', record_count: 1, message_count: 1 });
  });

  it('stores one copy of a report delivered as XML, gzip and zip (nice-input)', async () => {
    const kinds: Array<[string, string]> = [
      ['extract_report/nice-input.xml', 'text/xml'],
      ['extract_report/nice-input.xml.gz', 'application/gzip'],
      ['extract_report/nice-input.xml.zip', 'application/zip'],
    ];
    const statuses: string[] = [];
    for (const [name, contentType] of kinds) {
      const raw = reportEmail([{ filename: name.split('/')[1]!, contentType, bytes: sample(name) }]);
      const { inboundId } = await deliverEmail(raw);
      statuses.push((await settle(inboundId)).status);
    }
    expect(statuses).toEqual(['parsed', 'duplicate', 'duplicate']);
    const reports = await reportsFor('11038226378739404135');
    const google = reports.filter((r) => r.org_name === 'google.com');
    expect(google).toHaveLength(1);
    expect(google[0]).toMatchObject({ domain: 'example.com', status: 'complete', record_count: 20, message_count: 3047 });
    const id = google[0]!.id;
    expect(await scalar('SELECT count(*) AS v FROM aggregate_records WHERE report_id = ?', id)).toBe(20);
    expect(await scalar('SELECT sum(count) AS v FROM aggregate_records WHERE report_id = ?', id)).toBe(3047);
    expect(await scalar('SELECT count(*) AS v FROM record_dkim_results WHERE report_id = ?', id)).toBeGreaterThan(0);
    // Counted once in the roll-up, not three times.
    const day = await scalar<string>('SELECT day AS v FROM aggregate_reports WHERE id = ?', id);
    expect(await scalar("SELECT sum(messages) AS v FROM aggregate_daily WHERE domain = 'example.com' AND day = ?", day)).toBe(3047);
  });

  it('keeps a report with the same id from another reporter apart (changed-input)', async () => {
    const raw = reportEmail([{ filename: 'changed-input.xml', contentType: 'text/xml', bytes: sample('extract_report/changed-input.xml') }]);
    const { inboundId } = await deliverEmail(raw);
    expect((await settle(inboundId)).status).toBe('parsed');
    const reports = await reportsFor('11038226378739404135');
    expect(reports.map((r) => r.org_name).sort()).toEqual(['fred.com', 'google.com']);
  });

  it('records a re-delivery of the same bytes as a duplicate without processing it again', async () => {
    const raw = sample('aggregate/twilight.eml');
    const { inboundId } = await deliverEmail(raw);
    const row = await inboundRow(inboundId);
    expect(row.status).toBe('duplicate');
    expect(row.duplicate_of).toBeGreaterThan(0);
    expect(await scalar("SELECT count(*) AS v FROM aggregate_reports WHERE domain = 'twlnet.com'")).toBe(1);
  });

  it('stores an SMTP TLS report sent as gzip inside an email', async () => {
    const { inboundId } = await deliverEmail(sample('smtp_tls/google.com_smtp_tls_report.eml'));
    expect((await settle(inboundId)).status).toBe('parsed');
    const policy = await env.DB.prepare("SELECT * FROM tls_report_policies WHERE policy_domain = 'cardinalhealth.ca'").first<Record<string, unknown>>();
    expect(policy).toMatchObject({ policy_type: 'no-policy-found', successful_sessions: 48, failed_sessions: 0 });
  });

  it('counts a failure report per domain and day without storing its content, once', async () => {
    const raw = sample('failure/dmarc_ruf_report_linkedin.eml');
    const { inboundId } = await deliverEmail(raw);
    const row = await settle(inboundId);
    expect(row.status).toBe('parsed');
    const counted = await env.DB.prepare("SELECT sum(reports) AS v FROM failure_daily WHERE domain = 'example.com'").first<{ v: number }>();
    expect(counted?.v).toBe(1);
    // Replaying the same message does not count it again.
    const replay = await worker.fetch(
      new Request('http://x/api/admin/replay', { method: 'POST', headers: { Authorization: 'Bearer test-admin-token-0123456789abcdef' }, body: JSON.stringify({ ids: [inboundId] }) }),
      env,
      createExecutionContext(),
    );
    expect(replay.status).toBe(202);
    await settle(inboundId);
    expect(await scalar("SELECT sum(reports) AS v FROM failure_daily WHERE domain = 'example.com'")).toBe(1);
    const tables = await env.DB.prepare("SELECT group_concat(sql) AS v FROM sqlite_master WHERE name LIKE 'failure%'").first<{ v: string }>();
    expect(tables?.v).not.toMatch(/subject|body|header/i);
  });

  it('keeps mail that is not a report and marks it rejected with the reason', async () => {
    const raw = new TextEncoder().encode('From: a@b.example\r\nTo: rua@reports.example\r\nSubject: hello\r\n\r\nJust saying hi.\r\n');
    const { inboundId } = await deliverEmail(raw);
    const row = await settle(inboundId);
    expect(row.status).toBe('rejected');
    expect(row.reason_code).toBe('not-a-report');
    expect(row.reason).toBeTruthy();
    expect(await env.RAW_REPORTS.head(rawKey(await scalar<string>('SELECT sha256 AS v FROM inbound_messages WHERE id = ?', inboundId)))).not.toBeNull();
  });

  it('refuses mail over the size limit and mail to other addresses with SMTP reasons', async () => {
    const big = await deliverEmail(new Uint8Array(2048), { ...env, MAX_MESSAGE_BYTES: '1024' });
    expect(big.rejections[0]).toMatch(/^552 5\.3\.4 .*1024/);
    const other = await deliverEmail(sample('aggregate/twilight.eml'), { ...env, REPORT_ADDRESSES: 'dmarc@reports.example' });
    expect(other.rejections[0]).toMatch(/^550 5\.1\.1/);
  });
});
