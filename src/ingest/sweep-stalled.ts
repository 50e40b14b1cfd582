import { and, eq, lt, sql } from 'drizzle-orm';
import { database } from '../db/client';
import { inboundMessages } from '../db/schema';
import type { IngestMessage } from './ingest-message';

/** A message still `received` this long after its last change has lost its queue message. */
export const STALLED_AFTER_MINUTES = 360;

/**
 * Safety net run by the cron trigger: re-queues inbound messages stuck in `received` (a queue message
 * lost, a continuation that could not be sent). Processing is idempotent, so a false alarm costs only
 * a repeated, harmless run.
 */
export async function requeueStalled(env: Env, now = new Date()): Promise<number[]> {
  const db = database(env.DB);
  const cutoff = new Date(now.getTime() - STALLED_AFTER_MINUTES * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const stalled = await db
    .select({ id: inboundMessages.id })
    .from(inboundMessages)
    .where(and(eq(inboundMessages.status, 'received'), lt(inboundMessages.updatedAt, cutoff)))
    .limit(100);
  const ids = stalled.map((r) => r.id);
  if (ids.length === 0) return ids;
  for (const id of ids) {
    await db
      .update(inboundMessages)
      .set({ updatedAt: sql`(strftime('%Y-%m-%dT%H:%M:%SZ','now'))` })
      .where(eq(inboundMessages.id, id));
  }
  await env.INGEST_QUEUE.sendBatch(ids.map((inboundId) => ({ body: { inboundId } satisfies IngestMessage })));
  return ids;
}
