import { and, desc, eq, lt, type SQL } from 'drizzle-orm';
import { Hono } from 'hono';
import { requireScope, type AppEnv } from '../auth/authenticate';
import { database } from '../db/client';
import { aggregateReports, inboundMessages } from '../db/schema';
import { MAX_REPLAY, replayInbound, type ReplayResult } from '../ingest/replay';
import { runBatch } from '../db/d1-batch';
import { auditValues } from './admin/audit-log';
import { pageOf, readPage } from './pagination';
import { problem } from './problem';

const STATUSES = ['received', 'parsed', 'duplicate', 'rejected', 'failed'] as const;
type Status = (typeof STATUSES)[number];

function inboundJson(r: typeof inboundMessages.$inferSelect) {
  return {
    id: r.id,
    received_at: r.receivedAt,
    updated_at: r.updatedAt,
    source: r.source,
    mail_from: r.mailFrom,
    rcpt_to: r.rcptTo,
    filename: r.filename,
    size: r.size,
    sha256: r.sha256,
    status: r.status,
    reason: r.reason,
    reason_code: r.reasonCode,
    duplicate_of: r.duplicateOf,
    attempts: r.attempts,
    last_error: r.lastError,
    processing_ms: r.processingMs,
    summary: r.summary ? (JSON.parse(r.summary) as unknown) : null,
  };
}

/**
 * Inbound messages (what arrived and what became of it) and replay. Admins only: a message is not
 * known to concern a domain until it has been parsed, so it cannot be filtered by group.
 */
export const inboundRoutes = new Hono<AppEnv>()
  .get('/inbound', requireScope('admin'), async (c) => {
    const page = readPage(c);
    if (typeof page === 'string') return problem(c, 400, 'Bad Request', page);
    const status = c.req.query('status');
    if (status && !STATUSES.includes(status as Status)) return problem(c, 400, 'Bad Request', `status is one of ${STATUSES.join(', ')}`);
    const where: SQL[] = [];
    if (status) where.push(eq(inboundMessages.status, status as Status));
    if (page.after !== null) where.push(lt(inboundMessages.id, page.after));
    const rows = await database(c.env.DB).select().from(inboundMessages).where(and(...where)).orderBy(desc(inboundMessages.id)).limit(page.limit + 1);
    const shown = pageOf(rows, page.limit, (r) => r.id);
    return c.json({ items: shown.items.map(inboundJson), next_cursor: shown.next_cursor });
  })
  .get('/inbound/:id{[0-9]+}', requireScope('admin'), async (c) => {
    const id = Number(c.req.param('id'));
    const row = await database(c.env.DB).select().from(inboundMessages).where(eq(inboundMessages.id, id)).get();
    if (!row) return problem(c, 404, 'Not Found', `No inbound message ${id}.`);
    // Progress of a long report: how many of its records are stored so far.
    const inProgress = await database(c.env.DB)
      .select({ id: aggregateReports.id, report_id: aggregateReports.reportId, records_ingested: aggregateReports.recordsIngested })
      .from(aggregateReports)
      .where(and(eq(aggregateReports.inboundId, id), eq(aggregateReports.status, 'ingesting')));
    return c.json({ ...inboundJson(row), in_progress: inProgress });
  })
  .post('/admin/replay', requireScope('admin'), async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return problem(c, 400, 'Bad Request', 'Send JSON: {"ids": [1, 2]} or {"status": "failed"}.');
    }
    const { ids, status } = (body ?? {}) as { ids?: unknown; status?: unknown };
    const audit = async (result: ReplayResult, selection: unknown) => {
      const subject = { actor: c.get('principal').actor, action: 'inbound.replay', entity: 'inbound' as const, entityId: null };
      await runBatch(c.env.DB, [auditValues(subject, null, { selection, replayed: result.replayed })]);
      return c.json(result, 202);
    };
    if (Array.isArray(ids) && ids.length > 0 && ids.length <= MAX_REPLAY && ids.every((id) => Number.isInteger(id) && id > 0)) {
      return audit(await replayInbound(c.env, { ids: ids as number[] }), { ids });
    }
    if (status === 'failed' || status === 'rejected') {
      return audit(await replayInbound(c.env, { status }), { status });
    }
    return problem(c, 400, 'Bad Request', `Send {"ids": [1, 2]} (1 to ${MAX_REPLAY} inbound ids) or {"status": "failed" | "rejected"}.`);
  });
