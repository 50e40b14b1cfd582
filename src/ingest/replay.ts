import { and, eq, inArray, sql } from 'drizzle-orm';
import { database } from '../db/client';
import { inboundMessages } from '../db/schema/index';
import type { IngestMessage } from './ingest-message';

export interface ReplayResult {
  replayed: number[];
  missing: number[];
  /** Found, but their raw message was purged from R2 by retention (docs/retention.md): nothing to re-process. */
  purged: { id: number; purged_at: string }[];
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
    const rows = await db.select({ id: inboundMessages.id }).from(inboundMessages).where(and(eq(inboundMessages.status, selection.status), sql`NOT EXISTS (SELECT 1 FROM raw_purges p WHERE p.r2_key = ${inboundMessages.r2Key})`)).orderBy(inboundMessages.id).limit(MAX_REPLAY);
    found = rows.map((r) => r.id);
  }
  const missing = 'ids' in selection ? selection.ids.filter((id) => !found.includes(id)) : [];
  // A message whose raw copy retention removed cannot be re-processed: say so rather than queue it
  // to fail five times on a missing object.
  const purged: ReplayResult['purged'] = [];
  for (const chunk of chunks(found, IDS_PER_STATEMENT)) {
    const rows = await db.all<{ id: number; purged_at: string }>(
      sql`SELECT i.id, p.purged_at FROM inbound_messages i JOIN raw_purges p ON p.r2_key = i.r2_key WHERE i.id IN (SELECT value FROM json_each(${JSON.stringify(chunk)}))`,
    );
    purged.push(...rows);
  }
  const gone = new Set(purged.map((p) => p.id));
  found = found.filter((id) => !gone.has(id));
  for (const chunk of chunks(found, IDS_PER_STATEMENT)) {
    await db
      .update(inboundMessages)
      .set({ status: 'received', reason: null, reasonCode: null, attempts: 0, lastError: null, updatedAt: sql`(strftime('%Y-%m-%dT%H:%M:%SZ','now'))` })
      .where(inArray(inboundMessages.id, chunk));
    // sendBatch takes at most 100 messages.
    await env.INGEST_QUEUE.sendBatch(chunk.map((inboundId) => ({ body: { inboundId } satisfies IngestMessage })));
  }
  return { replayed: found, missing, purged };
}
