import { createRoute } from '@hono/zod-openapi';
import { and, desc, eq, lt, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { database } from '../db/client';
import { aggregateReports, inboundMessages } from '../db/schema';
import { MAX_REPLAY, replayInbound, type ReplayResult } from '../ingest/replay';
import { runBatch } from '../db/d1-batch';
import { auditValues } from './admin/audit-log';
import { ApiRouter, pathId } from './openapi/api-router';
import { json, jsonRequest, pageOf as pageSchema, problems } from './openapi/responses';
import { access } from './openapi/security';
import { blankAsAbsent, pageFrom, pageOf, pageQuery } from './pagination';
import { problem } from './problem';

const STATUSES = ['received', 'parsed', 'duplicate', 'rejected', 'failed'] as const;

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

const inboundSchema = z
  .object({
    id: z.int(),
    received_at: z.string(),
    updated_at: z.string(),
    source: z.enum(['email', 'upload']),
    mail_from: z.string().nullable(),
    rcpt_to: z.string().nullable(),
    filename: z.string().nullable(),
    size: z.int(),
    sha256: z.string(),
    status: z.enum(STATUSES),
    reason: z.string().nullable(),
    reason_code: z.string().nullable(),
    duplicate_of: z.int().nullable(),
    attempts: z.int(),
    last_error: z.string().nullable(),
    processing_ms: z.int(),
    summary: z.unknown().meta({ description: 'What the message held (reports, records, warnings), once parsed; else null.' }),
  })
  .meta({ id: 'InboundMessage' });

const admin = { tags: ['inbound'], ...access('admin') };

const listInbound = createRoute({
  method: 'get',
  path: '/inbound',
  summary: 'Every message received and what became of it, newest first',
  ...admin,
  request: { query: pageQuery.extend({ status: z.preprocess(blankAsAbsent, z.enum(STATUSES, `must be one of ${STATUSES.join(', ')}`).optional()) }) },
  responses: { 200: json(pageSchema(inboundSchema), 'Inbound messages.'), ...problems(400, 401, 403) },
});

const getInbound = createRoute({
  method: 'get',
  path: '/inbound/{id{[0-9]+}}',
  summary: 'One inbound message, with the progress of reports still being stored',
  ...admin,
  request: { params: z.object({ id: pathId }) },
  responses: {
    200: json(
      inboundSchema.extend({ in_progress: z.array(z.object({ id: z.int(), report_id: z.string(), records_ingested: z.int() })) }),
      'The message.',
    ),
    ...problems(401, 403, 404),
  },
});

const replayBody = z.union(
  [
    z.object({ ids: z.array(z.int().positive()).min(1).max(MAX_REPLAY) }),
    z.object({ status: z.enum(['failed', 'rejected']) }),
  ],
  { error: `send {"ids": [1, 2]} (1 to ${MAX_REPLAY} inbound ids) or {"status": "failed" | "rejected"}` },
);

const replay = createRoute({
  method: 'post',
  path: '/admin/replay',
  summary: 'Re-process inbound messages from their raw copy in R2',
  ...admin,
  request: { body: jsonRequest(replayBody) },
  responses: {
    202: json(
      z.object({
        replayed: z.array(z.int()),
        missing: z.array(z.int()).meta({ description: 'Requested ids that are not inbound messages.' }),
        purged: z
          .array(z.object({ id: z.int(), purged_at: z.string() }))
          .meta({ description: 'Inbound messages whose raw copy retention removed from R2 (docs/retention.md): not replayed.' }),
      }),
      'Queued again.',
    ),
    ...problems(400, 401, 403),
  },
});

/**
 * Inbound messages (what arrived and what became of it) and replay. Admins only: a message is not
 * known to concern a domain until it has been parsed, so it cannot be filtered by group.
 */
export const inboundRoutes = new ApiRouter()
  .declare(listInbound, async (c) => {
    const query = c.req.valid('query');
    const page = pageFrom(query);
    const { status } = query;
    const where: SQL[] = [];
    if (status) where.push(eq(inboundMessages.status, status));
    if (page.after !== null) where.push(lt(inboundMessages.id, page.after));
    const rows = await database(c.env.DB).select().from(inboundMessages).where(and(...where)).orderBy(desc(inboundMessages.id)).limit(page.limit + 1);
    const shown = pageOf(rows, page.limit, (r) => r.id);
    return c.json({ items: shown.items.map(inboundJson), next_cursor: shown.next_cursor });
  })
  .declare(getInbound, async (c) => {
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
  .declare(replay, async (c) => {
    const body = c.req.valid('json');
    const audit = async (result: ReplayResult, selection: unknown) => {
      const subject = { actor: c.get('principal').actor, action: 'inbound.replay', entity: 'inbound' as const, entityId: null };
      await runBatch(c.env.DB, [auditValues(subject, null, { selection, replayed: result.replayed })]);
      return c.json(result, 202);
    };
    if ('ids' in body) return audit(await replayInbound(c.env, { ids: body.ids }), { ids: body.ids });
    return audit(await replayInbound(c.env, { status: body.status }), { status: body.status });
  });
