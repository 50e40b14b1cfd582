import { eq, inArray, sql } from 'drizzle-orm';
import { database } from '../db/client';
import { inboundMessages } from '../db/schema';
import type { IngestMessage } from './ingest-message';

export interface ReplayResult {
  replayed: number[];
  missing: number[];
}

/** Queue messages sent per sendBatch call (the Queues limit is 100). */
const SEND_BATCH = 100;

/**
 * Re-processes inbound messages from their raw copy in R2: for a failed one after a fix, or a
 * rejected one after the parser learnt a new quirk. Processing is idempotent, so replaying a parsed
 * message stores nothing twice (it ends as `duplicate`).
 */
export async function replayInbound(env: Env, selection: { ids: number[] } | { status: 'failed' | 'rejected' }): Promise<ReplayResult> {
  const db = database(env.DB);
  const rows =
    'ids' in selection
      ? await db.select({ id: inboundMessages.id }).from(inboundMessages).where(inArray(inboundMessages.id, selection.ids.slice(0, 1000)))
      : await db.select({ id: inboundMessages.id }).from(inboundMessages).where(eq(inboundMessages.status, selection.status)).limit(1000);
  const found = rows.map((r) => r.id);
  const missing = 'ids' in selection ? selection.ids.filter((id) => !found.includes(id)) : [];
  for (let i = 0; i < found.length; i += SEND_BATCH) {
    const chunk = found.slice(i, i + SEND_BATCH);
    await db
      .update(inboundMessages)
      .set({ status: 'received', reason: null, reasonCode: null, attempts: 0, lastError: null, updatedAt: sql`(strftime('%Y-%m-%dT%H:%M:%SZ','now'))` })
      .where(inArray(inboundMessages.id, chunk));
    await env.INGEST_QUEUE.sendBatch(chunk.map((inboundId) => ({ body: { inboundId } satisfies IngestMessage })));
  }
  return { replayed: found, missing };
}
