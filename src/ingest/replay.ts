import { eq, inArray, sql } from 'drizzle-orm';
import { database } from '../db/client';
import { inboundMessages } from '../db/schema/index';
import type { IngestMessage } from './ingest-message';

export interface ReplayResult {
  replayed: number[];
  missing: number[];
}

/** Ids per statement: D1 allows 100 bound parameters, and an update binds a few besides the ids. */
const IDS_PER_STATEMENT = 90;
/** At most this many per call; `npm run replay` calls again until none are left. */
export const MAX_REPLAY = 1000;

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Re-processes inbound messages from their raw copy in R2: for a failed one after a fix, or a
 * rejected one after the parser learnt a new quirk. Processing is idempotent, so replaying a parsed
 * message stores nothing twice.
 */
export async function replayInbound(env: Env, selection: { ids: number[] } | { status: 'failed' | 'rejected' }): Promise<ReplayResult> {
  const db = database(env.DB);
  let found: number[] = [];
  if ('ids' in selection) {
    for (const chunk of chunks([...new Set(selection.ids)].slice(0, MAX_REPLAY), IDS_PER_STATEMENT)) {
      const rows = await db.select({ id: inboundMessages.id }).from(inboundMessages).where(inArray(inboundMessages.id, chunk));
      found.push(...rows.map((r) => r.id));
    }
  } else {
    const rows = await db.select({ id: inboundMessages.id }).from(inboundMessages).where(eq(inboundMessages.status, selection.status)).orderBy(inboundMessages.id).limit(MAX_REPLAY);
    found = rows.map((r) => r.id);
  }
  const missing = 'ids' in selection ? selection.ids.filter((id) => !found.includes(id)) : [];
  for (const chunk of chunks(found, IDS_PER_STATEMENT)) {
    await db
      .update(inboundMessages)
      .set({ status: 'received', reason: null, reasonCode: null, attempts: 0, lastError: null, updatedAt: sql`(strftime('%Y-%m-%dT%H:%M:%SZ','now'))` })
      .where(inArray(inboundMessages.id, chunk));
    // sendBatch takes at most 100 messages.
    await env.INGEST_QUEUE.sendBatch(chunk.map((inboundId) => ({ body: { inboundId } satisfies IngestMessage })));
  }
  return { replayed: found, missing };
}
