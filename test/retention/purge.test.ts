import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { purgeExpiredData } from '../../src/retention/purge';
import { deliverEmail, migrate, reportEmail, settle } from '../ingest/helpers';
import { adminApi, aggregateXml, count, ingestFile, recordsOf, reportIdOf, tlsJson } from './helpers';

/** The purge's "now": report days below are chosen relative to it; the defaults are 90 (raw) and 400 (records) days. */
const NOW = new Date('2026-11-25T03:17:00Z');

/** The statistics summary over a range (at most 400 days, as the route allows). */
async function summary(domain: string, from = '2025-01-01', to = '2026-01-31') {
  const { status, json } = await adminApi<Record<string, unknown>>('GET', `/api/aggregatereport/${domain}/summary?from=${from}&to=${to}`);
  expect(status).toBe(200);
  return json;
}

async function rawKeyOf(inboundId: number): Promise<string> {
  return (await env.DB.prepare('SELECT r2_key FROM inbound_messages WHERE id = ?').bind(inboundId).first<{ r2_key: string }>())!.r2_key;
}

async function backdate(inboundId: number, at = '2026-01-01T00:00:00Z') {
  await env.DB.prepare('UPDATE inbound_messages SET received_at = ? WHERE id = ?').bind(at, inboundId).run();
}

async function purgeUntilComplete(options: Parameters<typeof purgeExpiredData>[2] = {}) {
  for (let round = 0; round < 200; round++) {
    const result = await purgeExpiredData(env, NOW, { trigger: 'manual', ...options });
    if (result.complete) return round + 1;
  }
  throw new Error('the purge never completed');
}

beforeAll(async () => {
  await migrate();
});

describe('retention purge', () => {
  it('removes the records of reports past their date and keeps roll-ups, report rows and statistics', async () => {
    await ingestFile('old.xml', aggregateXml('old-1', 'aged.example', '2025-01-02'));
    await ingestFile('new.xml', aggregateXml('new-1', 'aged.example', '2026-11-01'));
    const tls = await ingestFile('tls.json', tlsJson('tls-old-1', '2025-01-02', ['aged.example']), 'application/tlsrpt+json');
    const old = await reportIdOf('aged.example', 'old-1');
    const fresh = await reportIdOf('aged.example', 'new-1');
    expect(await recordsOf(old)).toEqual({ records: 2, dkim: 2, spf: 2 });
    const before = await summary('aged.example');
    const recentBefore = await summary('aged.example', '2026-10-01', '2026-11-24');
    expect(before).toMatchObject({ reports: 1, messages: 7 });
    const tlsBefore = await adminApi('GET', '/api/aggregatereport/aged.example/tls?from=2025-01-01&to=2026-01-31');
    const dailyBefore = await count('aggregate_daily', "domain = 'aged.example'");
    const sourcesBefore = await count('aggregate_daily_sources', "domain = 'aged.example'");

    const result = await purgeExpiredData(env, NOW, { trigger: 'manual' });
    expect(result.complete).toBe(true);
    expect(result.counts).toMatchObject({ aggregate_records: 2, record_dkim_results: 2, record_spf_results: 2, tls_report_failures: 1, raw_objects: 0 });

    expect(await recordsOf(old)).toEqual({ records: 0, dkim: 0, spf: 0 });
    expect(await recordsOf(fresh)).toEqual({ records: 2, dkim: 2, spf: 2 });
    expect(await count('aggregate_reports', "domain = 'aged.example'")).toBe(2);
    expect(await count('aggregate_daily', "domain = 'aged.example'")).toBe(dailyBefore);
    expect(await count('aggregate_daily_sources', "domain = 'aged.example'")).toBe(sourcesBefore);
    expect(await summary('aged.example')).toEqual(before);
    expect(await summary('aged.example', '2026-10-01', '2026-11-24')).toEqual(recentBefore);
    // The TLS policy rows (its session counts) stay; only the failure details go.
    expect(await count('tls_report_policies', "policy_domain = 'aged.example'")).toBe(1);
    const tlsAfter = await adminApi<{ items: { successful_sessions: number; failed_sessions: number }[] }>('GET', '/api/aggregatereport/aged.example/tls?from=2025-01-01&to=2026-01-31');
    expect(tlsAfter.json.items.map((i) => [i.successful_sessions, i.failed_sessions])).toEqual(
      (tlsBefore.json as { items: { successful_sessions: number; failed_sessions: number }[] }).items.map((i) => [i.successful_sessions, i.failed_sessions]),
    );
    // Received today: the raw copies stay (90 days from arrival).
    expect(await env.RAW_REPORTS.head(await rawKeyOf(tls.inboundId))).not.toBeNull();

    const log = await env.DB.prepare('SELECT trigger, complete, counts FROM purge_runs WHERE id = ?').bind(result.run_id).first<{ trigger: string; complete: number; counts: string }>();
    expect(log).toMatchObject({ trigger: 'manual', complete: 1 });
    expect(JSON.parse(log!.counts)).toMatchObject({ aggregate_records: 2 });

    // Nothing twice: a second run finds nothing to do.
    const again = await purgeExpiredData(env, NOW);
    expect(Object.values(again.counts).every((n) => n === 0)).toBe(true);
  });

  it('deletes a raw object only when no kept inbound row needs it, and replay then says it was purged', async () => {
    // The very same message delivered twice: one R2 object, two inbound rows.
    const email = reportEmail([{ filename: 'shared.xml', contentType: 'text/xml', bytes: aggregateXml('shared-1', 'shared.example', '2026-11-10') }]);
    const first = { inboundId: (await deliverEmail(email)).inboundId };
    await settle(first.inboundId);
    const second = { inboundId: (await deliverEmail(email)).inboundId };
    expect((await settle(second.inboundId)).status).toBe('duplicate');
    const key = await rawKeyOf(first.inboundId);
    expect(await rawKeyOf(second.inboundId)).toBe(key);

    await backdate(first.inboundId);
    await purgeExpiredData(env, NOW);
    expect(await env.RAW_REPORTS.head(key)).not.toBeNull();

    await backdate(second.inboundId);
    const result = await purgeExpiredData(env, NOW);
    expect(result.counts.raw_objects).toBeGreaterThanOrEqual(1);
    expect(await env.RAW_REPORTS.head(key)).toBeNull();
    expect(await env.DB.prepare('SELECT reason, object_deleted FROM raw_purges WHERE r2_key = ?').bind(key).first()).toEqual({ reason: 'retention', object_deleted: 1 });
    // The report and its records (day 2026-11-10) stay: record retention is separate.
    expect((await recordsOf(await reportIdOf('shared.example', 'shared-1'))).records).toBe(2);

    const replay = await adminApi<{ replayed: number[]; purged: { id: number; purged_at: string }[] }>('POST', '/api/admin/replay', { ids: [first.inboundId] });
    expect(replay.status).toBe(202);
    expect(replay.json.replayed).toEqual([]);
    expect(replay.json.purged.map((p) => p.id)).toEqual([first.inboundId]);
    expect((await env.DB.prepare('SELECT status FROM inbound_messages WHERE id = ?').bind(first.inboundId).first<{ status: string }>())?.status).toBe('parsed');
  });

  it("applies a group's override, the longest of a domain's groups, and the default to unmonitored domains", async () => {
    const short = await adminApi<{ id: number }>('POST', '/api/admin/groups', { name: 'Short keepers' });
    const long = await adminApi<{ id: number }>('POST', '/api/admin/groups', { name: 'Default keepers' });
    await adminApi('POST', '/api/admin/domains', { name: 'short.example', group_ids: [short.json.id] });
    await adminApi('POST', '/api/admin/domains', { name: 'both.example', group_ids: [short.json.id, long.json.id] });
    const set = await adminApi('PUT', `/api/admin/retention/groups/${short.json.id}`, { raw_days: null, record_days: 30 });
    expect(set.status).toBe(200);
    expect(set.json).toMatchObject({ raw_days: null, record_days: 30 });
    expect((await adminApi('PUT', `/api/admin/retention/groups/${short.json.id}`, { raw_days: -1, record_days: 30 })).status).toBe(400);

    // 55 days old: past 30, within the default 400.
    for (const domain of ['short.example', 'mail.short.example', 'both.example', 'unmonitored.example']) {
      await ingestFile(`${domain}.xml`, aggregateXml(`o-${domain}`, domain, '2026-10-01'));
    }
    await purgeExpiredData(env, NOW);
    expect((await recordsOf(await reportIdOf('short.example', 'o-short.example'))).records).toBe(0);
    // A sub-domain belongs to its parent's groups.
    expect((await recordsOf(await reportIdOf('mail.short.example', 'o-mail.short.example'))).records).toBe(0);
    // Owned by a 30-day group and a default (400-day) group: the longest applies.
    expect((await recordsOf(await reportIdOf('both.example', 'o-both.example'))).records).toBe(2);
    expect((await recordsOf(await reportIdOf('unmonitored.example', 'o-unmonitored.example'))).records).toBe(2);

    const overview = await adminApi<{ defaults: unknown; groups: { id: number; record_days: number | null }[] }>('GET', '/api/admin/retention');
    expect(overview.json.defaults).toEqual({ raw_days: 90, record_days: 400 });
    expect(overview.json.groups.find((g) => g.id === short.json.id)?.record_days).toBe(30);
    const audit = await adminApi<{ items: { action: string }[] }>('GET', `/api/admin/audit?entity=group&entity_id=${short.json.id}`);
    expect(audit.json.items.map((i) => i.action)).toContain('group.retention');
  });

  it('works in bounded batches that resume where the last run stopped', async () => {
    const sources = Array.from({ length: 12 }, (_, i) => `203.0.113.${i + 1}`);
    await ingestFile('batch-a.xml', aggregateXml('batch-a', 'batches.example', '2024-06-01', sources));
    await ingestFile('batch-b.xml', aggregateXml('batch-b', 'batches.example', '2024-06-02', sources));
    const ids = [await reportIdOf('batches.example', 'batch-a'), await reportIdOf('batches.example', 'batch-b')];

    const first = await purgeExpiredData(env, NOW, { rowsPerStatement: 3, maxQueries: 8 });
    expect(first.complete).toBe(false);
    const remaining = async () => {
      let n = 0;
      for (const id of ids) n += Object.values(await recordsOf(id)).reduce((a, b) => a + b, 0);
      return n;
    };
    // 24 records, each with a DKIM and an SPF row: some went, some are left for the next run.
    const left = await remaining();
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(72);

    const runs = await purgeUntilComplete({ rowsPerStatement: 3, maxQueries: 8 });
    expect(runs).toBeGreaterThan(1);
    for (const id of ids) expect(await recordsOf(id)).toEqual({ records: 0, dkim: 0, spf: 0 });
    const logged = await env.DB.prepare("SELECT count(*) AS n FROM purge_runs WHERE complete = 0").first<{ n: number }>();
    expect(logged?.n).toBeGreaterThan(0);
  });
});

describe('deleting a domain or a group', () => {
  it('deletes the domain’s reports, records, roll-ups, TLS policies, checks and unneeded raw objects, and nothing else', async () => {
    const group = await adminApi<{ id: number }>('POST', '/api/admin/groups', { name: 'Leaving agency' });
    const gone = await adminApi<{ id: number }>('POST', '/api/admin/domains', { name: 'gone.example', group_ids: [group.json.id] });
    await adminApi('POST', '/api/admin/domains', { name: 'stay.example', group_ids: [group.json.id] });
    const goneEmail = reportEmail([{ filename: 'gone.xml', contentType: 'text/xml', bytes: aggregateXml('g-1', 'gone.example', '2026-11-20') }]);
    const goneReport = { inboundId: (await deliverEmail(goneEmail)).inboundId };
    await settle(goneReport.inboundId);
    // The same message again: a duplicate row sharing its object.
    const goneAgain = (await deliverEmail(goneEmail)).inboundId;
    expect((await settle(goneAgain)).status).toBe('duplicate');
    await ingestFile('gone-sub.xml', aggregateXml('g-2', 'sub.gone.example', '2026-11-20'));
    const stay = await ingestFile('stay.xml', aggregateXml('s-1', 'stay.example', '2026-11-20'));
    const goneOnlyTls = await ingestFile('gone-tls.json', tlsJson('gone-tls', '2026-11-20', ['gone.example']), 'application/tlsrpt+json');
    await ingestFile('both-tls.json', tlsJson('both-tls', '2026-11-20', ['gone.example', 'stay.example']), 'application/tlsrpt+json');
    await env.DB.batch([
      env.DB.prepare("INSERT INTO domain_check_results (domain, max_severity, result) VALUES ('gone.example', 'none', '{}')"),
      env.DB.prepare("INSERT INTO domain_check_state (domain, latest_result_id) VALUES ('gone.example', last_insert_rowid()) ON CONFLICT (domain) DO UPDATE SET latest_result_id = excluded.latest_result_id"),
      env.DB.prepare("INSERT INTO mx_addresses (domain, host, ip, preference) VALUES ('gone.example', 'mx.gone.example', '192.0.2.9', 10)"),
      env.DB.prepare("INSERT INTO mta_sts_hosting (domain, enabled, mode, updated_by) VALUES ('gone.example', 1, 'testing', 'test')"),
      env.DB.prepare("INSERT INTO notice_retries (group_id, domain, channel, changes, next_attempt_at) VALUES (1, 'gone.example', 'webhook', '[]', '2026-11-25T00:00:00Z')"),
      env.DB.prepare("INSERT INTO alerts (domain, kind, subject, severity, title, detail) VALUES ('gone.example', 'record_changed', 'dmarc', 'warning', 'DMARC changed', '{}')"),
      env.DB.prepare("INSERT INTO alerts (domain, kind, subject, severity, title, detail) VALUES ('stay.example', 'record_changed', 'dmarc', 'warning', 'DMARC changed', '{}')"),
    ]);
    const goneKey = await rawKeyOf(goneReport.inboundId);
    const stayKey = await rawKeyOf(stay.inboundId);
    const staySummary = await summary('stay.example', '2026-11-01', '2026-11-24');
    const stayRecords = await count('aggregate_records', "report_id IN (SELECT id FROM aggregate_reports WHERE domain = 'stay.example')");

    expect((await adminApi('DELETE', `/api/admin/domains/${gone.json.id}`)).status).toBe(204);
    expect(await count('data_deletions', "domain = 'gone.example' AND done_at IS NULL")).toBe(1);
    const result = await purgeExpiredData(env, NOW);
    expect(result.complete).toBe(true);
    expect(result.counts.domains_finished).toBe(1);

    for (const domain of ['gone.example', 'sub.gone.example']) {
      expect(await count('aggregate_reports', 'domain = ?', domain)).toBe(0);
      expect(await count('aggregate_daily', 'domain = ?', domain)).toBe(0);
      expect(await count('aggregate_daily_sources', 'domain = ?', domain)).toBe(0);
    }
    expect(await count('aggregate_records', 'report_id NOT IN (SELECT id FROM aggregate_reports)')).toBe(0);
    expect(await count('tls_report_policies', "policy_domain = 'gone.example'")).toBe(0);
    expect(await count('tls_reports', "report_id = 'gone-tls'")).toBe(0);
    expect(await count('tls_reports', "report_id = 'both-tls'")).toBe(1);
    expect(await count('tls_report_failures', "receiving_mx_hostname = 'mx.gone.example'")).toBe(0);
    for (const table of ['domain_check_results', 'domain_check_state', 'mx_addresses', 'mta_sts_hosting', 'notice_retries', 'alerts']) expect(await count(table, "domain = 'gone.example'")).toBe(0);
    expect(await count('alerts', "domain = 'stay.example'")).toBe(1);
    expect(await count('inbound_messages', 'id IN (?, ?, ?)', goneReport.inboundId, goneAgain, goneOnlyTls.inboundId)).toBe(0);
    expect(await env.RAW_REPORTS.head(goneKey)).toBeNull();

    // Nothing else.
    expect(await summary('stay.example', '2026-11-01', '2026-11-24')).toEqual(staySummary);
    expect(await count('aggregate_records', "report_id IN (SELECT id FROM aggregate_reports WHERE domain = 'stay.example')")).toBe(stayRecords);
    expect(await count('tls_report_policies', "policy_domain = 'stay.example'")).toBe(1);
    expect(await env.RAW_REPORTS.head(stayKey)).not.toBeNull();
    expect(await count('aggregate_reports', "domain = 'aged.example'")).toBe(2);

    // Idempotent: the deletion is done; running again removes nothing.
    expect(await count('data_deletions', "domain = 'gone.example' AND done_at IS NOT NULL")).toBe(1);
    const again = await purgeExpiredData(env, NOW);
    expect(Object.values(again.counts).every((n) => n === 0)).toBe(true);
  });

  it('erasing a group deletes the domains only it owned with their data, and keeps shared ones', async () => {
    const erased = await adminApi<{ id: number }>('POST', '/api/admin/groups', { name: 'Erased agency' });
    const other = await adminApi<{ id: number }>('POST', '/api/admin/groups', { name: 'Sharing agency' });
    await adminApi('POST', '/api/admin/domains', { name: 'solo.example', group_ids: [erased.json.id] });
    await adminApi('POST', '/api/admin/domains', { name: 'shared-owner.example', group_ids: [erased.json.id, other.json.id] });
    await ingestFile('solo.xml', aggregateXml('solo-1', 'solo.example', '2026-11-20'));
    await ingestFile('shared-owner.xml', aggregateXml('so-1', 'shared-owner.example', '2026-11-20'));
    await adminApi('PUT', `/api/admin/retention/groups/${erased.json.id}`, { raw_days: 10, record_days: 10 });
    // A change notice about the shared domain, kept for a retry of the group's webhook.
    await env.DB.prepare("INSERT INTO notice_retries (group_id, domain, channel, changes, next_attempt_at) VALUES (?, 'shared-owner.example', 'webhook', '[]', '2026-11-25T00:00:00Z')").bind(erased.json.id).run();

    const response = await adminApi<{ deleted_domains: string[] }>('POST', `/api/admin/groups/${erased.json.id}/erase`);
    expect(response.status).toBe(200);
    expect(response.json.deleted_domains).toEqual(['solo.example']);
    expect((await adminApi('GET', `/api/admin/groups/${erased.json.id}`)).status).toBe(404);
    expect(await count('domains', "name = 'shared-owner.example'")).toBe(1);
    expect(await count('group_retention', 'group_id = ?', erased.json.id)).toBe(0);
    expect(await count('notice_retries', 'group_id = ?', erased.json.id)).toBe(0);
    await purgeUntilComplete();
    expect(await count('aggregate_reports', "domain = 'solo.example'")).toBe(0);
    expect(await count('aggregate_reports', "domain = 'shared-owner.example'")).toBe(1);
    expect((await adminApi('POST', `/api/admin/groups/${erased.json.id}/erase`)).status).toBe(404);
  });
});
