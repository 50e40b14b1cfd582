import { and, eq, sql } from 'drizzle-orm';
import { database, type Database } from '../db/client';
import { runBatch } from '../db/d1-batch';
import { aggregateReports, inboundMessages } from '../db/schema/index';
import { hex } from '../lib/digest';
import { domainKey } from '../lib/domain-name';
import { streamAggregateReport } from '../reports/aggregate';
import { ReportRejection, type AggregateRecord, type AggregateReportHeader } from '../reports/model';
import type { ReportPart } from '../reports/read-inbound';
import { jsonSlices } from './json-rows';
import { aggregateRollupStatements } from './rollups';
import type { WorkBudget } from './work-budget';

/**
 * Records per parser batch. Each batch becomes one D1 batch (one query, one transaction) of a few
 * statements whose rows travel as JSON parameters (json-rows.ts; ~400 KB for 2,000 records, under the
 * 600,000-character cap), so a 200,000-record report costs ~100 D1 queries, spread over invocations by WorkBudget (D1 allows 1,000 per invocation).
 */
export const RECORDS_PER_BATCH = 2000;

export type AggregateOutcome =
  /** `id` is our aggregate_reports id (GET /api/reports/:id); `report_id` is the reporter's. */
  | { status: 'stored'; id: number; report_id: string; domain: string; records: number; messages: number; warnings: string[] }
  | { status: 'duplicate'; id: number; report_id: string; domain: string }
  /** Same reporter, report id and domain as a stored report, but other content: the first is kept. */
  | { status: 'conflict'; id: number; report_id: string; domain: string; reason: string }
  /** Not finished in this invocation: `wait` (another delivery is storing it) or `continue`. */
  | { status: 'continue' | 'wait'; id: number; records_ingested: number };

/** The key reports are de-duplicated on: who reported, which report, for which domain. */
export function reporterKey(header: AggregateReportHeader): string {
  return header.org_name.trim().toLowerCase();
}

/**
 * The UTC day the report's range starts: a report is counted on one day, exactly once, and a
 * statistic "for reports whose range starts within these days" is then a plain sum of daily rows.
 */
export function reportDay(header: AggregateReportHeader): string {
  return header.begin.slice(0, 10);
}

async function readHeader(part: ReportPart): Promise<AggregateReportHeader> {
  const events = streamAggregateReport(part.text(), { batchSize: 1 });
  try {
    for await (const event of events) {
      if (event.type === 'header') return event.header;
    }
  } finally {
    await events.return(undefined);
  }
  throw new Error('aggregate report ended before its header');
}

type Claim =
  | { kind: 'ingest'; id: number; recordsIngested: number }
  | { kind: 'mine'; id: number }
  | { kind: 'stored-elsewhere'; id: number; contentSha256: string | null }
  | { kind: 'busy'; id: number; recordsIngested: number };

function reportValues(header: AggregateReportHeader, inboundId: number) {
  const p = header.policy;
  return {
    inboundId,
    reporter: reporterKey(header),
    reportId: header.report_id,
    // The same normal form as domains added by administrators, so group membership matches.
    domain: domainKey(p.domain),
    orgName: header.org_name,
    orgEmail: header.org_email,
    extraContactInfo: header.extra_contact_info,
    generator: header.generator,
    schema: header.schema,
    version: header.version,
    beginAt: header.begin,
    endAt: header.end,
    day: reportDay(header),
    p: p.p,
    sp: p.sp,
    np: p.np,
    adkim: p.adkim,
    aspf: p.aspf,
    pct: p.pct,
    fo: p.fo,
    testing: p.testing,
    discoveryMethod: p.discovery_method,
    errors: header.errors.length ? JSON.stringify(header.errors) : null,
  };
}

/** Finds or creates the report row, and decides: ingest (fresh or resumed), already ours, a duplicate, or wait. */
async function claimReport(d1: D1Database, db: Database, header: AggregateReportHeader, inboundId: number): Promise<Claim> {
  const values = reportValues(header, inboundId);
  const inserted = await db.insert(aggregateReports).values(values).onConflictDoNothing().returning({ id: aggregateReports.id }).get();
  if (inserted) return { kind: 'ingest', id: inserted.id, recordsIngested: 0 };

  const existing = await db
    .select({
      id: aggregateReports.id,
      status: aggregateReports.status,
      inboundId: aggregateReports.inboundId,
      recordsIngested: aggregateReports.recordsIngested,
      contentSha256: aggregateReports.contentSha256,
      ownerStatus: inboundMessages.status,
    })
    .from(aggregateReports)
    .leftJoin(inboundMessages, eq(inboundMessages.id, aggregateReports.inboundId))
    .where(and(eq(aggregateReports.reporter, values.reporter), eq(aggregateReports.reportId, values.reportId), eq(aggregateReports.domain, values.domain)))
    .get();
  if (!existing) throw new Error('report row vanished between insert and select');
  // Our own earlier attempt stored it and died before saying so: it is ours, not a duplicate.
  if (existing.status === 'complete') {
    return existing.inboundId === inboundId ? { kind: 'mine', id: existing.id } : { kind: 'stored-elsewhere', id: existing.id, contentSha256: existing.contentSha256 };
  }
  if (existing.inboundId === inboundId) return { kind: 'ingest', id: existing.id, recordsIngested: existing.recordsIngested };
  if (existing.ownerStatus === 'failed' || existing.ownerStatus === 'rejected' || existing.ownerStatus === undefined || existing.ownerStatus === null) {
    // The other delivery gave up. Its records came from other bytes, so start this copy afresh. The
    // owner's state was read above, outside any transaction: a replay may have revived it since and
    // resumed the report from its checkpoint. So the takeover is one transaction that applies only
    // while the owner is still the one that gave up, and the records are discarded only if it did;
    // otherwise this delivery waits, as for any delivery in progress. (Taking over regardless let
    // the revived owner complete the report, and count its roll-ups, over records just discarded.)
    const ownerGaveUp = sql`coalesce((SELECT i.status FROM inbound_messages i WHERE i.id = ${existing.inboundId}), 'gone') IN ('failed', 'rejected', 'gone')`;
    const [takeover] = await runBatch(d1, [
      db.update(aggregateReports).set({ ...values, recordsIngested: 0 }).where(and(eq(aggregateReports.id, existing.id), eq(aggregateReports.status, 'ingesting'), eq(aggregateReports.inboundId, existing.inboundId), ownerGaveUp)),
      ...recordDeletes(existing.id, inboundId),
    ]);
    if ((takeover?.meta.changes ?? 0) > 0) return { kind: 'ingest', id: existing.id, recordsIngested: 0 };
    return { kind: 'busy', id: existing.id, recordsIngested: existing.recordsIngested };
  }
  // Another delivery is storing it right now. If that copy turns out broken it is discarded, so this
  // one must not give up as a duplicate yet: it waits and looks again.
  return { kind: 'busy', id: existing.id, recordsIngested: existing.recordsIngested };
}

function recordRows(records: AggregateRecord[], firstOrdinal: number) {
  const rows: unknown[][] = [];
  const dkim: unknown[][] = [];
  const spf: unknown[][] = [];
  const overrides: unknown[][] = [];
  records.forEach((r, i) => {
    const ordinal = firstOrdinal + i;
    rows.push([ordinal, r.source_ip, r.count, r.disposition, r.dkim, r.spf, r.header_from, r.envelope_from, r.envelope_to]);
    r.dkim_results.forEach((d, k) => dkim.push([ordinal, k, d.domain.toLowerCase(), d.selector, d.result, d.human_result]));
    r.spf_results.forEach((s, k) => spf.push([ordinal, k, s.domain, s.scope, s.result, s.human_result]));
    r.reasons.forEach((o, k) => overrides.push([ordinal, k, o.type, o.comment]));
  });
  return { rows, dkim, spf, overrides };
}

const j = (n: number) => sql.raw(`json_extract(value, '$[${n}]')`);

/** INSERT OR IGNORE: a batch replayed after a crash between D1's commit and our ack adds nothing. */
function insertRecordStatements(reportId: number, records: AggregateRecord[], firstOrdinal: number) {
  const { rows, dkim, spf, overrides } = recordRows(records, firstOrdinal);
  const statements = [];
  for (const { json } of jsonSlices(rows)) {
    statements.push(sql`INSERT OR IGNORE INTO aggregate_records
      (report_id, ordinal, source_ip, count, disposition, dkim, spf, header_from, envelope_from, envelope_to)
      SELECT ${reportId}, ${j(0)}, ${j(1)}, ${j(2)}, ${j(3)}, ${j(4)}, ${j(5)}, ${j(6)}, ${j(7)}, ${j(8)} FROM json_each(${json})`);
  }
  for (const { json } of jsonSlices(dkim)) {
    statements.push(sql`INSERT OR IGNORE INTO record_dkim_results (report_id, ordinal, idx, domain, selector, result, human_result)
      SELECT ${reportId}, ${j(0)}, ${j(1)}, ${j(2)}, ${j(3)}, ${j(4)}, ${j(5)} FROM json_each(${json})`);
  }
  for (const { json } of jsonSlices(spf)) {
    statements.push(sql`INSERT OR IGNORE INTO record_spf_results (report_id, ordinal, idx, domain, scope, result, human_result)
      SELECT ${reportId}, ${j(0)}, ${j(1)}, ${j(2)}, ${j(3)}, ${j(4)}, ${j(5)} FROM json_each(${json})`);
  }
  for (const { json } of jsonSlices(overrides)) {
    statements.push(sql`INSERT OR IGNORE INTO record_policy_overrides (report_id, ordinal, idx, type, comment)
      SELECT ${reportId}, ${j(0)}, ${j(1)}, ${j(2)}, ${j(3)} FROM json_each(${json})`);
  }
  return statements;
}

/** Tees text through SHA-256, so the report's content hash is kept without a second read. */
async function* hashing(text: AsyncIterable<string>, digest: DigestStream): AsyncIterable<string> {
  const writer = digest.getWriter();
  const encoder = new TextEncoder();
  for await (const chunk of text) {
    await writer.write(encoder.encode(chunk));
    yield chunk;
  }
  await writer.close();
}

async function contentHash(part: ReportPart): Promise<string> {
  const digest = new crypto.DigestStream('SHA-256');
  for await (const _ of hashing(part.text(), digest)) {
    // hashing only
  }
  return hex(await digest.digest);
}

/**
 * Streams one aggregate report into D1 in bounded memory: the parser cuts the XML at `<record>`
 * boundaries, each batch of records lands together with the checkpoint in one D1 transaction, and
 * the roll-ups land together with `status = complete`, so a crash anywhere leaves a state that a
 * retry resumes from without loss or double counting.
 */
export async function ingestAggregatePart(d1: D1Database, part: ReportPart, inboundId: number, budget: WorkBudget): Promise<AggregateOutcome> {
  const db = database(d1);
  const header = await readHeader(part);
  const claim = await claimReport(d1, db, header, inboundId);
  const ids = { report_id: header.report_id, domain: header.policy.domain };
  switch (claim.kind) {
    case 'busy':
      return { status: 'wait', id: claim.id, records_ingested: claim.recordsIngested };
    case 'mine': {
      const row = await db.select().from(aggregateReports).where(eq(aggregateReports.id, claim.id)).get();
      const warnings = row?.warnings ? (JSON.parse(row.warnings) as string[]) : [];
      return { status: 'stored', id: claim.id, ...ids, records: row?.recordCount ?? 0, messages: row?.messageCount ?? 0, warnings };
    }
    case 'stored-elsewhere': {
      // The key is the reporter's word; a copy with other content must not vanish silently.
      const hash = await contentHash(part);
      if (claim.contentSha256 && hash !== claim.contentSha256) {
        const reason = `report ${header.report_id} from ${header.org_name} for ${header.policy.domain} was stored before with other content (report ${claim.id}); the first copy is kept and this one stays in R2`;
        return { status: 'conflict', id: claim.id, ...ids, reason };
      }
      return { status: 'duplicate', id: claim.id, ...ids };
    }
    case 'ingest':
      break;
  }

  const reportId = claim.id;
  const digest = new crypto.DigestStream('SHA-256');
  // Decoding warnings (invalid UTF-8, bytes after the gzip data) arrive here, not in the end event.
  const streamWarnings: string[] = [];
  const events = streamAggregateReport(hashing(part.text((w) => streamWarnings.push(w)), digest), {
    batchSize: RECORDS_PER_BATCH,
    skipRecords: claim.recordsIngested,
  });
  let ingested = claim.recordsIngested;
  try {
    for await (const event of events) {
      if (event.type === 'records') {
        if (budget.exhausted()) {
          await events.return(undefined);
          return { status: 'continue', id: reportId, records_ingested: ingested };
        }
        ingested = event.index + event.records.length;
        const checkpoint = db.update(aggregateReports).set({ recordsIngested: ingested }).where(eq(aggregateReports.id, reportId));
        await runBatch(d1, [checkpoint, ...insertRecordStatements(reportId, event.records, event.index)]);
        budget.spendQuery();
        budget.spendRecords(event.records.length);
      } else if (event.type === 'end') {
        const contentSha256 = hex(await digest.digest);
        const warnings = [...new Set([...streamWarnings, ...event.warnings])];
        const complete = db
          .update(aggregateReports)
          .set({
            status: 'complete',
            recordCount: event.recordCount,
            messageCount: event.messageCount,
            recordsIngested: event.recordCount,
            warnings: warnings.length ? JSON.stringify(warnings) : null,
            contentSha256,
          })
          .where(eq(aggregateReports.id, reportId));
        // Roll-ups first: they only count a report whose status is still `ingesting`.
        await runBatch(d1, [...aggregateRollupStatements(reportId), complete]);
        budget.spendQuery();
        return { status: 'stored', id: reportId, ...ids, records: event.recordCount, messages: event.messageCount, warnings };
      }
    }
  } catch (error) {
    // Not a report after all (truncated, bomb, broken XML): keep no half of it.
    if (error instanceof ReportRejection) await discardPartialReport(d1, reportId);
    throw error;
  }
  throw new Error('aggregate report stream ended without an end event');
}

/** Deletes a report's records; with `ownedBy`, only while that inbound message owns the report. */
function recordDeletes(reportId: number, ownedBy?: number) {
  const guard = ownedBy === undefined ? sql`` : sql` AND (SELECT inbound_id FROM aggregate_reports WHERE id = ${reportId}) = ${ownedBy}`;
  return [
    sql`DELETE FROM aggregate_records WHERE report_id = ${reportId}${guard}`,
    sql`DELETE FROM record_dkim_results WHERE report_id = ${reportId}${guard}`,
    sql`DELETE FROM record_spf_results WHERE report_id = ${reportId}${guard}`,
    sql`DELETE FROM record_policy_overrides WHERE report_id = ${reportId}${guard}`,
  ];
}

/** Removes a half-stored report whose later part proved not to be a report (e.g. truncated gzip). */
export async function discardPartialReport(d1: D1Database, reportId: number): Promise<void> {
  await runBatch(d1, [...recordDeletes(reportId), sql`DELETE FROM aggregate_reports WHERE id = ${reportId} AND status = 'ingesting'`]);
}
