import { and, eq, sql } from 'drizzle-orm';
import { database, type Database } from '../db/client';
import { inboundMessages } from '../db/schema';
import { ReportRejection } from '../reports/model';
import { readInbound, type ReportPart } from '../reports/read-inbound';
import { parseSmtpTlsReport } from '../reports/tlsrpt';
import { ingestAggregatePart, type AggregateOutcome } from './persist-aggregate';
import { countFailureReport, type FailureOutcome } from './persist-failure';
import { storeTlsReport, type TlsOutcome } from './persist-tls';
import { alertsAfterIngest } from '../alerts/hooks';
import { enqueueSenderLookups } from '../senders/sender-queue';
import { WorkBudget } from './work-budget';

/**
 * TLS reports are small JSON documents (Google's: a few KB). The cap keeps the text, its parse and
 * the JSON parameters for D1 a few MB next to the raw message, well inside 128 MB.
 */
const MAX_TLS_JSON_CHARS = 4 * 1024 * 1024;

/** How long a delivery waits while another delivery of the same report is storing it. */
export const WAIT_FOR_OTHER_DELIVERY_SECONDS = 60;

export interface InboundSummary {
  aggregate: AggregateOutcome[];
  smtp_tls: TlsOutcome[];
  failure: FailureOutcome[];
  warnings: string[];
}

export type ProcessResult =
  | { status: 'parsed' | 'duplicate' | 'rejected'; summary: InboundSummary | null; reason: string | null }
  | { status: 'continue'; delaySeconds: number }
  | { status: 'skipped'; reason: string };

/** Thrown for failures worth retrying (R2 object missing, D1 busy, ...): the queue retries with backoff. */
export class RetryableIngestError extends Error {
  override name = 'RetryableIngestError';
}

/**
 * Queues the report's source addresses for reverse DNS and sender identification, in the background
 * (src/senders/). Best effort: a failure here must not fail the ingest, which is already stored.
 */
async function identifySendersLater(env: Env, reportId: number): Promise<void> {
  try {
    const rows = await database(env.DB).all<{ ip: string }>(sql`SELECT DISTINCT source_ip AS ip FROM aggregate_records WHERE report_id = ${reportId}`);
    await enqueueSenderLookups(env, env.SENDER_QUEUE, rows.map((r) => r.ip));
  } catch (error) {
    console.error(`report ${reportId}: sender lookups not queued`, error);
  }
}

async function collectText(part: ReportPart, warnings: string[]): Promise<string> {
  let text = '';
  for await (const chunk of part.text((w) => warnings.push(w))) {
    text += chunk;
    if (text.length > MAX_TLS_JSON_CHARS) {
      throw new ReportRejection('too-large', `SMTP TLS report over ${MAX_TLS_JSON_CHARS} characters`);
    }
  }
  return text;
}

/** Settles the row, but only from `received`: a concurrent run that settled it first wins. */
async function finish(
  db: Database,
  inboundId: number,
  status: 'parsed' | 'duplicate' | 'rejected',
  reason: string | null,
  reasonCode: string | null,
  summary: InboundSummary | null,
) {
  await db
    .update(inboundMessages)
    .set({
      status,
      reason,
      reasonCode,
      summary: summary ? JSON.stringify(summary) : null,
      lastError: null,
      updatedAt: sql`(strftime('%Y-%m-%dT%H:%M:%SZ','now'))`,
    })
    .where(and(eq(inboundMessages.id, inboundId), eq(inboundMessages.status, 'received')));
}

/**
 * Turns one inbound message into stored reports: raw bytes from R2 → the pure reader → per-part
 * persistence. Idempotent: running it again (a retry, a replay, a continuation) stores nothing twice.
 */
export async function processInbound(env: Env, inboundId: number, budget = new WorkBudget()): Promise<ProcessResult> {
  const db = database(env.DB);
  const inbound = await db.select().from(inboundMessages).where(eq(inboundMessages.id, inboundId)).get();
  if (!inbound) return { status: 'skipped', reason: `no inbound message ${inboundId}` };
  if (inbound.status !== 'received') return { status: 'skipped', reason: `inbound message is ${inbound.status}` };

  const object = await env.RAW_REPORTS.get(inbound.r2Key);
  if (!object) throw new RetryableIngestError(`raw message ${inbound.r2Key} is missing from R2`);
  const raw = new Uint8Array(await object.arrayBuffer());

  const content = await readInbound(raw, {
    ...(inbound.filename ? { filename: inbound.filename } : {}),
    ...(inbound.contentType ? { contentType: inbound.contentType } : {}),
  });
  if (!content.ok) {
    await finish(db, inboundId, 'rejected', content.reason, content.code, null);
    return { status: 'rejected', summary: null, reason: content.reason };
  }

  const summary: InboundSummary = { aggregate: [], smtp_tls: [], failure: [], warnings: [...content.warnings] };
  const rejections: ReportRejection[] = [];
  for (const [index, part] of content.parts.entries()) {
    try {
      if (part.kind === 'aggregate') {
        const outcome = await ingestAggregatePart(env.DB, part, inboundId, budget);
        if (outcome.status === 'continue') return { status: 'continue', delaySeconds: 0 };
        if (outcome.status === 'stored') await identifySendersLater(env, outcome.id);
        if (outcome.status === 'wait') return { status: 'continue', delaySeconds: WAIT_FOR_OTHER_DELIVERY_SECONDS };
        summary.aggregate.push(outcome);
      } else {
        const streamWarnings: string[] = [];
        const json = await collectText(part, streamWarnings);
        const report = parseSmtpTlsReport(json);
        report.warnings.push(...streamWarnings);
        summary.smtp_tls.push(await storeTlsReport(env.DB, report, json, inboundId));
      }
    } catch (error) {
      if (!(error instanceof ReportRejection)) throw error;
      rejections.push(error);
      summary.warnings.push(`part ${index + 1}${part.name ? ` (${part.name})` : ''} is not a report: ${error.message}`);
    }
  }
  const receivedDay = inbound.receivedAt.slice(0, 10);
  for (const [index, facts] of content.failures.entries()) {
    summary.failure.push(await countFailureReport(env.DB, facts, `${inbound.sha256}:${index}`, receivedDay));
  }

  // A failure report that names no domain cannot be counted: it stored nothing.
  const outcomes = [...summary.aggregate, ...summary.smtp_tls, ...summary.failure].filter((o) => o.status !== 'uncountable');
  const uncountable = summary.failure.find((o) => o.status === 'uncountable');
  const first = rejections[0];
  if (outcomes.length === 0 && (first || uncountable)) {
    const reason = first?.message ?? (uncountable && 'reason' in uncountable ? uncountable.reason : 'nothing in it could be stored');
    await finish(db, inboundId, 'rejected', reason, first?.code ?? 'uncountable-failure-report', summary);
    return { status: 'rejected', summary, reason };
  }
  if (outcomes.length > 0 && outcomes.every((o) => o.status === 'duplicate' || o.status === 'conflict')) {
    const conflict = summary.aggregate.find((o) => o.status === 'conflict');
    const reason = conflict && 'reason' in conflict ? conflict.reason : 'every report in it was stored before';
    await finish(db, inboundId, 'duplicate', reason, conflict ? 'conflicting-duplicate' : 'duplicate-report', summary);
    return { status: 'duplicate', summary, reason };
  }
  await finish(db, inboundId, 'parsed', null, null, summary);
  await alertsAfterIngest(env, summary);
  return { status: 'parsed', summary, reason: null };
}
