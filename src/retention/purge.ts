/**
 * The purge (docs/retention.md): deletes data past its retention, and the data of deleted domains,
 * in bounded batches. Roll-ups (aggregate_daily, aggregate_daily_sources, failure_daily) and the
 * one-row-per-report tables (aggregate_reports, tls_reports, tls_report_policies) are kept by
 * retention, so the statistics answer the same before and after; only a deleted domain loses them.
 *
 * Every step is a DELETE of at most ROWS_PER_STATEMENT rows chosen by rowid, children before
 * parents, so a run cut short anywhere leaves a consistent state that the next run finds again from
 * the data itself: nothing is kept in memory between runs, and running twice deletes nothing twice.
 *
 * Workers limits: a run stops after MAX_QUERIES D1 queries (D1 allows 1,000 per invocation on
 * Workers Paid) or MAX_WALL_MS, whichever comes first, and says so in purge_runs (`complete: false`);
 * the next daily cron carries on (or an administrator's POST /api/admin/retention/run). R2 objects
 * are deleted up to KEYS_PER_R2_DELETE per call (R2 takes 1,000), each call one subrequest.
 */
import { sql, type SQL } from 'drizzle-orm';
import { database, type Database } from '../db/client';
import { retentionDaysOf, retentionDefaults, type RetentionDefaults } from './policy';

export const ROWS_PER_STATEMENT = 5000;
export const REPORTS_PER_BATCH = 100;
export const KEYS_PER_R2_DELETE = 500;
export const MAX_QUERIES = 500;
export const MAX_WALL_MS = 60_000;

export interface PurgeCounts {
  aggregate_records: number;
  record_dkim_results: number;
  record_spf_results: number;
  record_policy_overrides: number;
  tls_report_failures: number;
  raw_objects: number;
  /** Only by domain deletions: */
  aggregate_reports: number;
  tls_reports: number;
  tls_report_policies: number;
  rollup_rows: number;
  inbound_messages: number;
  /** Check history and state, MX mapping, MTA-STS hosting and alerts of a deleted domain. */
  check_rows: number;
  domains_finished: number;
}

export interface PurgeResult {
  run_id: number;
  complete: boolean;
  counts: PurgeCounts;
}

export interface PurgeOptions {
  trigger?: 'cron' | 'manual';
  maxQueries?: number;
  /** Rows per DELETE; tests make it small to see batches resume. */
  rowsPerStatement?: number;
}

function emptyCounts(): PurgeCounts {
  return {
    aggregate_records: 0,
    record_dkim_results: 0,
    record_spf_results: 0,
    record_policy_overrides: 0,
    tls_report_failures: 0,
    raw_objects: 0,
    aggregate_reports: 0,
    tls_reports: 0,
    tls_report_policies: 0,
    rollup_rows: 0,
    inbound_messages: 0,
    check_rows: 0,
    domains_finished: 0,
  };
}

class OutOfBudget extends Error {}

/** Counts D1 queries and wall time; throws OutOfBudget before a query that would go past either. */
class Budget {
  private queries = 0;
  private readonly started = Date.now();
  constructor(private readonly maxQueries: number) {}
  spend(n = 1): void {
    if (this.queries + n > this.maxQueries || Date.now() - this.started > MAX_WALL_MS) throw new OutOfBudget();
    this.queries += n;
  }
}

interface Context {
  db: Database;
  env: Env;
  budget: Budget;
  counts: PurgeCounts;
  defaults: RetentionDefaults;
  today: string;
  now: string;
  rows: number;
}

async function run(ctx: Context, statement: SQL): Promise<number> {
  ctx.budget.spend();
  const result = await ctx.db.run(statement);
  return result.meta.changes ?? 0;
}

async function all<T>(ctx: Context, statement: SQL): Promise<T[]> {
  ctx.budget.spend();
  return ctx.db.all<T>(statement);
}

/** Repeats a rowid-bounded DELETE of `table` rows matching `where` until fewer than a batch remain. */
async function deleteAll(ctx: Context, table: string, where: SQL): Promise<number> {
  let total = 0;
  for (;;) {
    const changes = await run(ctx, sql`DELETE FROM ${sql.raw(table)} WHERE rowid IN (SELECT rowid FROM ${sql.raw(table)} WHERE ${where} LIMIT ${ctx.rows})`);
    total += changes;
    if (changes < ctx.rows) return total;
  }
}

const RECORD_CHILDREN = ['record_policy_overrides', 'record_dkim_results', 'record_spf_results'] as const;

/** Records of the given reports: children first, records last (their presence marks work left). */
async function deleteRecordsOf(ctx: Context, reportIds: number[]): Promise<void> {
  const ids = sql`report_id IN (SELECT value FROM json_each(${JSON.stringify(reportIds)}))`;
  for (const table of RECORD_CHILDREN) ctx.counts[table] += await deleteAll(ctx, table, ids);
  ctx.counts.aggregate_records += await deleteAll(ctx, 'aggregate_records', ids);
}

/** Marks keys as purged (D1 first), deletes the objects (R2), then notes that they are gone. */
async function deleteRawObjects(ctx: Context, keys: string[], reason: 'retention' | 'deletion'): Promise<void> {
  if (keys.length === 0) return;
  const json = JSON.stringify(keys);
  await run(ctx, sql`INSERT INTO raw_purges (r2_key, reason) SELECT value, ${reason} FROM json_each(${json}) WHERE true ON CONFLICT (r2_key) DO NOTHING`);
  ctx.budget.spend();
  await ctx.env.RAW_REPORTS.delete(keys);
  await run(ctx, sql`UPDATE raw_purges SET object_deleted = 1 WHERE r2_key IN (SELECT value FROM json_each(${json}))`);
  ctx.counts.raw_objects += keys.length;
}

/** Objects marked purged by a run that stopped before R2 answered. */
async function finishInterruptedObjectDeletes(ctx: Context): Promise<void> {
  for (;;) {
    const rows = await all<{ r2_key: string }>(ctx, sql`SELECT r2_key FROM raw_purges WHERE object_deleted = 0 LIMIT ${KEYS_PER_R2_DELETE}`);
    if (rows.length === 0) return;
    const keys = rows.map((r) => r.r2_key);
    ctx.budget.spend();
    await ctx.env.RAW_REPORTS.delete(keys);
    await run(ctx, sql`UPDATE raw_purges SET object_deleted = 1 WHERE r2_key IN (SELECT value FROM json_each(${JSON.stringify(keys)}))`);
  }
}

// ---------------------------------------------------------------------------------------------
// Retention

/** Aggregate records (and DKIM/SPF/override rows) of reports whose day is past their retention. */
async function purgeExpiredRecords(ctx: Context): Promise<void> {
  const keep = retentionDaysOf(sql`r.domain`, 'record_days', ctx.defaults.recordDays);
  for (;;) {
    const rows = await all<{ id: number }>(
      ctx,
      sql`SELECT r.id FROM aggregate_reports r
        WHERE r.status = 'complete' AND r.day < date(${ctx.today}, '-' || ${keep} || ' days')
          AND (EXISTS (SELECT 1 FROM aggregate_records x WHERE x.report_id = r.id)
            OR EXISTS (SELECT 1 FROM record_dkim_results x WHERE x.report_id = r.id)
            OR EXISTS (SELECT 1 FROM record_spf_results x WHERE x.report_id = r.id)
            OR EXISTS (SELECT 1 FROM record_policy_overrides x WHERE x.report_id = r.id))
        ORDER BY r.id LIMIT ${REPORTS_PER_BATCH}`,
    );
    if (rows.length === 0) return;
    await deleteRecordsOf(
      ctx,
      rows.map((r) => r.id),
    );
  }
}

/** TLS-RPT failure details (sending MTA addresses, …) of reports past the retention of their policy domains. */
async function purgeExpiredTlsFailures(ctx: Context): Promise<void> {
  const keep = sql`coalesce((SELECT max(${retentionDaysOf(sql`p.policy_domain`, 'record_days', ctx.defaults.recordDays)})
      FROM tls_report_policies p WHERE p.tls_report_id = t.id), ${ctx.defaults.recordDays || 1_000_000})`;
  for (;;) {
    const rows = await all<{ id: number }>(
      ctx,
      sql`SELECT t.id FROM tls_reports t
        WHERE substr(t.begin_at, 1, 10) < date(${ctx.today}, '-' || ${keep} || ' days')
          AND EXISTS (SELECT 1 FROM tls_report_failures f WHERE f.tls_report_id = t.id)
        ORDER BY t.id LIMIT ${REPORTS_PER_BATCH}`,
    );
    if (rows.length === 0) return;
    ctx.counts.tls_report_failures += await deleteAll(ctx, 'tls_report_failures', sql`tls_report_id IN (SELECT value FROM json_each(${JSON.stringify(rows.map((r) => r.id))}))`);
  }
}

/**
 * Raw messages past their retention. One object may serve several inbound rows (the same bytes
 * delivered twice): it goes only when every row that uses it is past its date and none is still
 * being processed. A row's retention is the longest of the domains of the reports it produced.
 */
async function purgeExpiredRaw(ctx: Context): Promise<void> {
  const def = ctx.defaults.rawDays || 1_000_000;
  const aggregate = sql`(SELECT max(${retentionDaysOf(sql`r.domain`, 'raw_days', ctx.defaults.rawDays)}) FROM aggregate_reports r WHERE r.inbound_id = i.id)`;
  const tls = sql`(SELECT max(${retentionDaysOf(sql`p.policy_domain`, 'raw_days', ctx.defaults.rawDays)})
      FROM tls_reports t JOIN tls_report_policies p ON p.tls_report_id = t.id WHERE t.inbound_id = i.id)`;
  const keep = sql`coalesce(max(${aggregate}, ${tls}), ${aggregate}, ${tls}, ${def})`;
  const youngest = await shortestRawDays(ctx, def);
  for (;;) {
    const rows = await all<{ r2_key: string }>(
      ctx,
      sql`SELECT DISTINCT o.r2_key FROM inbound_messages o
        WHERE julianday(o.received_at) < julianday(${ctx.now}) - ${youngest}
          AND NOT EXISTS (SELECT 1 FROM raw_purges p WHERE p.r2_key = o.r2_key)
          AND NOT EXISTS (SELECT 1 FROM inbound_messages i WHERE i.sha256 = o.sha256
            AND (i.status = 'received' OR julianday(i.received_at) + ${keep} >= julianday(${ctx.now})))
        LIMIT ${KEYS_PER_R2_DELETE}`,
    );
    if (rows.length === 0) return;
    await deleteRawObjects(
      ctx,
      rows.map((r) => r.r2_key),
      'retention',
    );
  }
}

/** The shortest raw retention any group asks for: rows younger than that need not be looked at. */
async function shortestRawDays(ctx: Context, fallback: number): Promise<number> {
  const rows = await all<{ d: number | null }>(ctx, sql`SELECT min(raw_days) AS d FROM group_retention WHERE raw_days > 0`);
  return Math.min(fallback, rows[0]?.d ?? fallback);
}

// ---------------------------------------------------------------------------------------------
// Deleted domains

/** The names a deletion of `domain` covers: it and its sub-domains, unless a monitored domain still covers them. */
function deletedNames(column: SQL, domain: string): SQL {
  return sql`(${column} = ${domain} OR substr(${column}, -length(${domain}) - 1) = ${'.' + domain})
    AND NOT EXISTS (SELECT 1 FROM domains d WHERE ${column} = d.name OR substr(${column}, -length(d.name) - 1) = '.' || d.name)`;
}

/** Inbound rows that produced reports no longer stored, and whose bytes no other row needs; then their raw objects. */
async function deleteOrphanInbound(ctx: Context, inboundIds: number[]): Promise<void> {
  if (inboundIds.length === 0) return;
  const orphans = await all<{ id: number; sha256: string; r2_key: string }>(
    ctx,
    sql`SELECT i.id, i.sha256, i.r2_key FROM inbound_messages i
      WHERE i.id IN (SELECT value FROM json_each(${JSON.stringify([...new Set(inboundIds)])}))
        AND i.status <> 'received'
        AND NOT EXISTS (SELECT 1 FROM aggregate_reports r WHERE r.inbound_id = i.id)
        AND NOT EXISTS (SELECT 1 FROM tls_reports t WHERE t.inbound_id = i.id)`,
  );
  if (orphans.length === 0) return;
  // Their duplicates (the same bytes, or the same reports in other bytes) produced nothing of their
  // own: they go with them, and so do their objects when nothing else uses them.
  const deleted = await all<{ r2_key: string }>(
    ctx,
    sql`DELETE FROM inbound_messages WHERE id IN (SELECT value FROM json_each(${JSON.stringify(orphans.map((o) => o.id))}))
      OR (duplicate_of IN (SELECT value FROM json_each(${JSON.stringify(orphans.map((o) => o.id))})) AND status = 'duplicate') RETURNING r2_key`,
  );
  ctx.counts.inbound_messages += deleted.length;
  const keys = await all<{ r2_key: string }>(
    ctx,
    sql`SELECT DISTINCT value AS r2_key FROM json_each(${JSON.stringify([...new Set(deleted.map((o) => o.r2_key))])}) k
      WHERE NOT EXISTS (SELECT 1 FROM inbound_messages i WHERE i.r2_key = k.value)`,
  );
  await deleteRawObjects(
    ctx,
    keys.map((k) => k.r2_key),
    'deletion',
  );
}

async function purgeDeletedDomain(ctx: Context, deletion: { id: number; domain: string }): Promise<void> {
  const { domain } = deletion;
  const before = { ...ctx.counts };
  const monitoredAgain = await all<{ n: number }>(ctx, sql`SELECT count(*) AS n FROM domains WHERE name = ${domain}`);
  if ((monitoredAgain[0]?.n ?? 0) === 0) {
    // Aggregate reports: records first, then the report rows and the inbound rows nothing else needs.
    for (;;) {
      const reports = await all<{ id: number; inbound_id: number }>(
        ctx,
        sql`SELECT id, inbound_id FROM aggregate_reports r WHERE ${deletedNames(sql`r.domain`, domain)} ORDER BY id LIMIT ${REPORTS_PER_BATCH}`,
      );
      if (reports.length === 0) break;
      await deleteRecordsOf(
        ctx,
        reports.map((r) => r.id),
      );
      ctx.counts.aggregate_reports += await run(ctx, sql`DELETE FROM aggregate_reports WHERE id IN (SELECT value FROM json_each(${JSON.stringify(reports.map((r) => r.id))}))`);
      await deleteOrphanInbound(
        ctx,
        reports.map((r) => r.inbound_id),
      );
    }
    // TLS reports: the domain's policies (with their failures); a report left with no policy goes.
    for (;;) {
      const policies = await all<{ tls_report_id: number; idx: number }>(
        ctx,
        sql`SELECT tls_report_id, idx FROM tls_report_policies p WHERE ${deletedNames(sql`p.policy_domain`, domain)} LIMIT ${REPORTS_PER_BATCH}`,
      );
      if (policies.length === 0) break;
      const pairs = JSON.stringify(policies.map((p) => [p.tls_report_id, p.idx]));
      const inPairs = (report: string, idx: string) =>
        sql`EXISTS (SELECT 1 FROM json_each(${pairs}) j WHERE json_extract(j.value, '$[0]') = ${sql.raw(report)} AND json_extract(j.value, '$[1]') = ${sql.raw(idx)})`;
      ctx.counts.tls_report_failures += await deleteAll(ctx, 'tls_report_failures', inPairs('tls_report_id', 'policy_idx'));
      ctx.counts.tls_report_policies += await deleteAll(ctx, 'tls_report_policies', inPairs('tls_report_id', 'idx'));
      const reportIds = JSON.stringify([...new Set(policies.map((p) => p.tls_report_id))]);
      const emptied = await all<{ id: number; inbound_id: number }>(
        ctx,
        sql`DELETE FROM tls_reports WHERE id IN (SELECT value FROM json_each(${reportIds}))
          AND NOT EXISTS (SELECT 1 FROM tls_report_policies p WHERE p.tls_report_id = tls_reports.id) RETURNING id, inbound_id`,
      );
      if (emptied.length > 0) {
        await deleteAll(ctx, 'tls_report_failures', sql`tls_report_id IN (SELECT value FROM json_each(${JSON.stringify(emptied.map((e) => e.id))}))`);
        ctx.counts.tls_reports += emptied.length;
        await deleteOrphanInbound(
          ctx,
          emptied.map((e) => e.inbound_id),
        );
      }
    }
    for (const table of ['aggregate_daily', 'aggregate_daily_sources', 'failure_daily', 'failure_report_receipts']) {
      ctx.counts.rollup_rows += await deleteAll(ctx, table, deletedNames(sql`domain`, domain));
    }
    for (const table of ['domain_check_changes', 'domain_check_results', 'domain_check_state', 'mx_addresses', 'mta_sts_hosting', 'notice_retries']) {
      ctx.counts.check_rows += await deleteAll(ctx, table, sql`domain = ${domain}`);
    }
    // Its alerts (docs/alerts.md), deliveries first.
    ctx.counts.check_rows += await deleteAll(ctx, 'alert_deliveries', sql`alert_id IN (SELECT id FROM alerts WHERE domain = ${domain})`);
    ctx.counts.check_rows += await deleteAll(ctx, 'alerts', sql`domain = ${domain}`);
  }
  const delta = Object.fromEntries(Object.entries(ctx.counts).map(([k, v]) => [k, v - before[k as keyof PurgeCounts]]).filter(([, v]) => v !== 0));
  await run(
    ctx,
    sql`UPDATE data_deletions SET done_at = ${ctx.now},
      counts = json_patch(counts, ${JSON.stringify({ ...delta, ...((monitoredAgain[0]?.n ?? 0) > 0 ? { cancelled: 'the domain was added again' } : {}) })})
      WHERE id = ${deletion.id}`,
  );
  ctx.counts.domains_finished += 1;
}

async function purgeDeletedDomains(ctx: Context): Promise<void> {
  for (;;) {
    const pending = await all<{ id: number; domain: string }>(ctx, sql`SELECT id, domain FROM data_deletions WHERE done_at IS NULL ORDER BY id LIMIT 10`);
    if (pending.length === 0) return;
    for (const deletion of pending) await purgeDeletedDomain(ctx, deletion);
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * One purge run: deleted domains first (people asked for those), then records, TLS failure details
 * and raw objects past their retention. Writes a purge_runs row with what it removed.
 */
export async function purgeExpiredData(env: Env, now = new Date(), options: PurgeOptions = {}): Promise<PurgeResult> {
  const db = database(env.DB);
  const iso = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const started = await db.all<{ id: number }>(sql`INSERT INTO purge_runs (trigger, started_at) VALUES (${options.trigger ?? 'cron'}, ${iso}) RETURNING id`);
  const runId = started[0]!.id;
  const ctx: Context = {
    db,
    env,
    budget: new Budget(options.maxQueries ?? MAX_QUERIES),
    counts: emptyCounts(),
    defaults: retentionDefaults(env),
    today: iso.slice(0, 10),
    now: iso,
    rows: options.rowsPerStatement ?? ROWS_PER_STATEMENT,
  };
  let complete = true;
  try {
    await finishInterruptedObjectDeletes(ctx);
    await purgeDeletedDomains(ctx);
    await purgeExpiredRecords(ctx);
    await purgeExpiredTlsFailures(ctx);
    await purgeExpiredRaw(ctx);
  } catch (error) {
    if (!(error instanceof OutOfBudget)) {
      await db.run(sql`UPDATE purge_runs SET finished_at = ${new Date().toISOString()}, counts = ${JSON.stringify({ ...ctx.counts, error: String(error) })} WHERE id = ${runId}`);
      throw error;
    }
    complete = false;
  }
  await db.run(sql`UPDATE purge_runs SET finished_at = ${new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')}, complete = ${complete ? 1 : 0}, counts = ${JSON.stringify(ctx.counts)} WHERE id = ${runId}`);
  if (!complete) console.log(`purge run ${runId} stopped at its budget; the next run carries on`, ctx.counts);
  return { run_id: runId, complete, counts: ctx.counts };
}

/** A statement to put in the batch that deletes a domain: its data is queued for the purge. */
export function queueDataDeletion(domain: string, actor: string): SQL {
  return sql`INSERT INTO data_deletions (domain, requested_by) SELECT ${domain}, ${actor}
    WHERE NOT EXISTS (SELECT 1 FROM domains WHERE name = ${domain})
      AND NOT EXISTS (SELECT 1 FROM data_deletions WHERE domain = ${domain} AND done_at IS NULL)`;
}
