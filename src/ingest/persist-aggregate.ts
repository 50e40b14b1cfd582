import { and, eq, sql } from 'drizzle-orm';
import { database, type Database } from '../db/client';
import { runBatch } from '../db/d1-batch';
import { aggregateReports, inboundMessages } from '../db/schema';
import { streamAggregateReport } from '../reports/aggregate';
import { ReportRejection, type AggregateRecord, type AggregateReportHeader } from '../reports/model';
import type { ReportPart } from '../reports/read-inbound';
import { hex } from '../lib/digest';
import { aggregateRollupStatements } from './rollups';
import type { WorkBudget } from './work-budget';

/**
 * Records per D1 batch. Rows travel as one JSON text parameter per table (json_each), not as bound
 * parameters, so D1's 100-parameter and 100 KB statement limits are never near; JSON_PARAM_MAX keeps
 * each parameter well under D1's 2 MB string limit. One batch is one D1 query, so a 200,000-record
 * report costs ~200 queries, split across invocations by WorkBudget (1,000 queries per invocation).
 */
export const RECORDS_PER_BATCH = 1000;
const JSON_PARAM_MAX = 900_000;

export type AggregateOutcome =
  /** `id` is our aggregate_reports id (GET /api/reports/:id); `report_id` is the reporter's. */
  | { status: 'stored'; id: number; report_id: string; domain: string; records: number; messages: number; warnings: string[] }
  | { status: 'duplicate'; id: number; report_id: string; domain: string }
  | { status: 'continue'; id: number; records_ingested: number };

/** The key reports are de-duplicated on: who reported, which report, for which domain. */
export function reporterKey(header: AggregateReportHeader): string {
  return header.org_name.trim().toLowerCase();
}

/** UTC day of the midpoint of the report's range: a report is counted on one day, exactly once. */
export function reportDay(header: AggregateReportHeader): string {
  const mid = (Date.parse(header.begin) + Date.parse(header.end)) / 2;
  return new Date(Number.isFinite(mid) ? mid : Date.parse(header.begin)).toISOString().slice(0, 10);
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

/** Finds or creates the report row; decides between a fresh ingest, a resume and a duplicate. */
async function claimReport(
  db: Database,
  header: AggregateReportHeader,
  inboundId: number,
): Promise<{ id: number; recordsIngested: number } | { duplicateOf: number }> {
  const reporter = reporterKey(header);
  const domain = header.policy.domain.toLowerCase();
  const p = header.policy;
  const inserted = await db
    .insert(aggregateReports)
    .values({
      inboundId,
      reporter,
      reportId: header.report_id,
      domain,
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
    })
    .onConflictDoNothing()
    .returning({ id: aggregateReports.id })
    .get();
  if (inserted) return { id: inserted.id, recordsIngested: 0 };

  const existing = await db
    .select({
      id: aggregateReports.id,
      status: aggregateReports.status,
      inboundId: aggregateReports.inboundId,
      recordsIngested: aggregateReports.recordsIngested,
      ownerStatus: inboundMessages.status,
    })
    .from(aggregateReports)
    .leftJoin(inboundMessages, eq(inboundMessages.id, aggregateReports.inboundId))
    .where(
      and(
        eq(aggregateReports.reporter, reporter),
        eq(aggregateReports.reportId, header.report_id),
        eq(aggregateReports.domain, domain),
      ),
    )
    .get();
  if (!existing) throw new Error('report row vanished between insert and select');
  if (existing.status === 'complete') return { duplicateOf: existing.id };
  if (existing.inboundId === inboundId) return { id: existing.id, recordsIngested: existing.recordsIngested };
  // Half-ingested by another delivery: that one resumes it, unless it has given up for good.
  if (existing.ownerStatus === 'failed' || existing.ownerStatus === 'rejected') {
    await db.update(aggregateReports).set({ inboundId }).where(eq(aggregateReports.id, existing.id));
    return { id: existing.id, recordsIngested: existing.recordsIngested };
  }
  return { duplicateOf: existing.id };
}

function recordRows(records: AggregateRecord[], firstOrdinal: number) {
  const rows: unknown[][] = [];
  const dkim: unknown[][] = [];
  const spf: unknown[][] = [];
  const overrides: unknown[][] = [];
  records.forEach((r, i) => {
    const ordinal = firstOrdinal + i;
    rows.push([ordinal, r.source_ip, r.count, r.disposition, r.dkim, r.spf, r.header_from, r.envelope_from, r.envelope_to]);
    r.dkim_results.forEach((d, k) => dkim.push([ordinal, k, d.domain, d.selector, d.result, d.human_result]));
    r.spf_results.forEach((s, k) => spf.push([ordinal, k, s.domain, s.scope, s.result, s.human_result]));
    r.reasons.forEach((o, k) => overrides.push([ordinal, k, o.type, o.comment]));
  });
  return { rows, dkim, spf, overrides };
}

function insertRecordStatements(reportId: number, records: AggregateRecord[], firstOrdinal: number) {
  const { rows, dkim, spf, overrides } = recordRows(records, firstOrdinal);
  const j = (n: number) => sql.raw(`json_extract(value, '$[${n}]')`);
  // INSERT OR IGNORE: a batch replayed after a crash between D1's commit and our ack adds nothing.
  const statements = [
    sql`INSERT OR IGNORE INTO aggregate_records
      (report_id, ordinal, source_ip, count, disposition, dkim, spf, header_from, envelope_from, envelope_to)
      SELECT ${reportId}, ${j(0)}, ${j(1)}, ${j(2)}, ${j(3)}, ${j(4)}, ${j(5)}, ${j(6)}, ${j(7)}, ${j(8)}
      FROM json_each(${JSON.stringify(rows)})`,
  ];
  if (dkim.length)
    statements.push(
      sql`INSERT OR IGNORE INTO record_dkim_results (report_id, ordinal, idx, domain, selector, result, human_result)
        SELECT ${reportId}, ${j(0)}, ${j(1)}, ${j(2)}, ${j(3)}, ${j(4)}, ${j(5)} FROM json_each(${JSON.stringify(dkim)})`,
    );
  if (spf.length)
    statements.push(
      sql`INSERT OR IGNORE INTO record_spf_results (report_id, ordinal, idx, domain, scope, result, human_result)
        SELECT ${reportId}, ${j(0)}, ${j(1)}, ${j(2)}, ${j(3)}, ${j(4)}, ${j(5)} FROM json_each(${JSON.stringify(spf)})`,
    );
  if (overrides.length)
    statements.push(
      sql`INSERT OR IGNORE INTO record_policy_overrides (report_id, ordinal, idx, type, comment)
        SELECT ${reportId}, ${j(0)}, ${j(1)}, ${j(2)}, ${j(3)} FROM json_each(${JSON.stringify(overrides)})`,
    );
  return statements;
}

/** Splits a parser batch so that no JSON parameter approaches D1's 2 MB string limit. */
function* sizedSlices(records: AggregateRecord[]): Generator<[number, AggregateRecord[]]> {
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < records.length; i++) {
    const size = JSON.stringify(records[i]).length;
    if (i > start && bytes + size > JSON_PARAM_MAX) {
      yield [start, records.slice(start, i)];
      start = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (start < records.length) yield [start, records.slice(start)];
}

/** Tees the text through SHA-256 so the report's content hash is kept without a second read. */
async function* hashing(text: AsyncIterable<string>, digest: DigestStream): AsyncIterable<string> {
  const writer = digest.getWriter();
  const encoder = new TextEncoder();
  for await (const chunk of text) {
    await writer.write(encoder.encode(chunk));
    yield chunk;
  }
  await writer.close();
}

/**
 * Streams one aggregate report into D1 in bounded memory: the parser cuts the XML at `<record>`
 * boundaries, each batch of records lands together with the checkpoint in one D1 transaction, and
 * the roll-ups land together with `status = complete`, so a crash anywhere leaves a state that a
 * retry resumes from without loss or double counting.
 */
export async function ingestAggregatePart(
  d1: D1Database,
  part: ReportPart,
  inboundId: number,
  budget: WorkBudget,
): Promise<AggregateOutcome> {
  const db = database(d1);
  const header = await readHeader(part);
  const claim = await claimReport(db, header, inboundId);
  if ('duplicateOf' in claim) {
    return { status: 'duplicate', id: claim.duplicateOf, report_id: header.report_id, domain: header.policy.domain };
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
    return await storeEvents();
  } catch (error) {
    // Not a report after all (truncated, bomb, broken XML): keep no half of it.
    if (error instanceof ReportRejection) await discardPartialReport(d1, reportId);
    throw error;
  }

  async function storeEvents(): Promise<AggregateOutcome> {
  for await (const event of events) {
    if (event.type === 'records') {
      if (budget.exhausted()) {
        await events.return(undefined);
        return { status: 'continue', id: reportId, records_ingested: ingested };
      }
      for (const [offset, slice] of sizedSlices(event.records)) {
        const statements = insertRecordStatements(reportId, slice, event.index + offset);
        ingested = event.index + offset + slice.length;
        const checkpoint = db
          .update(aggregateReports)
          .set({ recordsIngested: ingested })
          .where(eq(aggregateReports.id, reportId));
        await runBatch(d1, [checkpoint, ...statements]);
        budget.spendQuery();
      }
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
      return {
        status: 'stored',
        id: reportId,
        report_id: header.report_id,
        domain: header.policy.domain,
        records: event.recordCount,
        messages: event.messageCount,
        warnings,
      };
    }
  }
  throw new Error('aggregate report stream ended without an end event');
  }
}

/** Removes a half-stored report whose later part proved not to be a report (e.g. truncated gzip). */
export async function discardPartialReport(d1: D1Database, reportId: number): Promise<void> {
  await runBatch(d1, [
    sql`DELETE FROM aggregate_records WHERE report_id = ${reportId}`,
    sql`DELETE FROM record_dkim_results WHERE report_id = ${reportId}`,
    sql`DELETE FROM record_spf_results WHERE report_id = ${reportId}`,
    sql`DELETE FROM record_policy_overrides WHERE report_id = ${reportId}`,
    sql`DELETE FROM aggregate_reports WHERE id = ${reportId} AND status = 'ingesting'`,
  ]);
}
