import { and, eq, ne } from 'drizzle-orm';
import { database } from '../db/client';
import { inboundMessages } from '../db/schema';
import type { IngestMessage } from './ingest-message';
import { storeRaw } from './raw-store';

export interface IncomingMessage {
  bytes: Uint8Array;
  source: 'email' | 'upload';
  mailFrom?: string | null;
  rcptTo?: string | null;
  filename?: string | null;
  contentType?: string | null;
}

export interface Receipt {
  inboundId: number;
  status: 'received' | 'duplicate';
  duplicateOf: number | null;
  sha256: string;
}

/**
 * The one path by which anything enters the pipeline (email and HTTP upload alike): raw bytes to R2
 * first, then an inbound row, then the queue. The same bytes received again are recorded as a
 * duplicate of the earlier row and not processed twice.
 */
export async function receiveMessage(env: Env, message: IncomingMessage): Promise<Receipt> {
  const stored = await storeRaw(env.RAW_REPORTS, message.bytes, {
    source: message.source,
    ...(message.mailFrom ? { mailFrom: message.mailFrom } : {}),
    ...(message.rcptTo ? { rcptTo: message.rcptTo } : {}),
    ...(message.filename ? { filename: message.filename } : {}),
  });
  const db = database(env.DB);
  // A failed earlier attempt is not a reason to drop this delivery: only a live earlier row counts.
  const earlier = await db
    .select({ id: inboundMessages.id })
    .from(inboundMessages)
    .where(and(eq(inboundMessages.sha256, stored.sha256), ne(inboundMessages.status, 'failed')))
    .orderBy(inboundMessages.id)
    .limit(1)
    .get();
  const [row] = await db
    .insert(inboundMessages)
    .values({
      source: message.source,
      mailFrom: message.mailFrom ?? null,
      rcptTo: message.rcptTo ?? null,
      filename: message.filename ?? null,
      contentType: message.contentType ?? null,
      sha256: stored.sha256,
      r2Key: stored.key,
      size: stored.size,
      status: earlier ? 'duplicate' : 'received',
      reason: earlier ? `same bytes as inbound message ${earlier.id}` : null,
      reasonCode: earlier ? 'redelivery' : null,
      duplicateOf: earlier?.id ?? null,
    })
    .returning({ id: inboundMessages.id });
  if (!row) throw new Error('inbound row was not created');
  if (!earlier) {
    try {
      await env.INGEST_QUEUE.send({ inboundId: row.id } satisfies IngestMessage);
    } catch (error) {
      // Not queued: mark it failed so that the sender's retry (or a replay) is processed afresh.
      await db
        .update(inboundMessages)
        .set({ status: 'failed', reason: `could not be queued: ${String(error)}`, reasonCode: 'enqueue-failed' })
        .where(eq(inboundMessages.id, row.id));
      throw error;
    }
  }
  return {
    inboundId: row.id,
    status: earlier ? 'duplicate' : 'received',
    duplicateOf: earlier?.id ?? null,
    sha256: stored.sha256,
  };
}
