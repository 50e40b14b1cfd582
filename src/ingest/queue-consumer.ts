import { and, eq, sql } from 'drizzle-orm';
import { database } from '../db/client';
import { inboundMessages } from '../db/schema';
import type { IngestMessage } from './ingest-message';
import { processInbound } from './process-inbound';
import { WorkBudget } from './work-budget';

/** Backoff between attempts: 30 s, 1 min, 2 min, 4 min, 8 min; then the queue dead-letters it. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(30 * 2 ** Math.max(0, attempts - 1), 900);
}

export function isDeadLetterQueue(queueName: string): boolean {
  return queueName.endsWith('-dlq');
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

async function markAttempt(env: Env, inboundId: number, attempt: number) {
  await database(env.DB)
    .update(inboundMessages)
    .set({ attempts: attempt, lastError: `attempt ${attempt} started and did not finish (the invocation may have run out of memory or CPU time)` })
    .where(and(eq(inboundMessages.id, inboundId), eq(inboundMessages.status, 'received')));
}

async function addProcessingTime(env: Env, inboundId: number, ms: number) {
  await database(env.DB)
    .update(inboundMessages)
    .set({ processingMs: sql`${inboundMessages.processingMs} + ${ms}`, lastError: null })
    .where(eq(inboundMessages.id, inboundId));
}

async function recordAttemptError(env: Env, inboundId: number, attempt: number, error: unknown) {
  await database(env.DB)
    .update(inboundMessages)
    .set({ attempts: attempt, lastError: describe(error), updatedAt: sql`(strftime('%Y-%m-%dT%H:%M:%SZ','now'))` })
    .where(eq(inboundMessages.id, inboundId));
}

/**
 * Ingest queue consumer. Messages are processed one after another so that at most one raw message
 * (≤ 25 MiB) is in memory at a time. One WorkBudget is shared by the batch: once it is spent, a long
 * report checkpoints and continues in a fresh message, and messages not yet started are sent again
 * rather than retried, so that being busy never counts as a failed attempt.
 */
export async function consumeIngestBatch(batch: MessageBatch<IngestMessage>, env: Env): Promise<void> {
  const budget = new WorkBudget();
  for (const message of batch.messages) {
    const { inboundId } = message.body;
    if (budget.exhausted()) {
      await env.INGEST_QUEUE.send({ inboundId, continuation: true } satisfies IngestMessage);
      message.ack();
      continue;
    }
    const started = Date.now();
    try {
      // Written first, so that an attempt the runtime kills (memory, CPU) still leaves a reason.
      await markAttempt(env, inboundId, message.attempts);
      const result = await processInbound(env, inboundId, budget);
      await addProcessingTime(env, inboundId, Date.now() - started);
      if (result.status === 'continue') {
        await env.INGEST_QUEUE.send({ inboundId, continuation: true } satisfies IngestMessage, { delaySeconds: result.delaySeconds });
      }
      message.ack();
    } catch (error) {
      console.error(`inbound ${inboundId}: attempt ${message.attempts} failed`, error);
      await recordAttemptError(env, inboundId, message.attempts, error);
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
}

/** Dead-letter consumer: the retries are spent, so the inbound row says `failed` and why. */
export async function consumeDeadLetters(batch: MessageBatch<IngestMessage>, env: Env): Promise<void> {
  const db = database(env.DB);
  for (const message of batch.messages) {
    const { inboundId } = message.body;
    const row = await db.select({ lastError: inboundMessages.lastError, status: inboundMessages.status })
      .from(inboundMessages).where(eq(inboundMessages.id, inboundId)).get();
    if (row && row.status === 'received') {
      await db
        .update(inboundMessages)
        .set({
          status: 'failed',
          reason: `gave up after retries: ${row.lastError ?? 'unknown error'}`,
          reasonCode: 'retries-exhausted',
          updatedAt: sql`(strftime('%Y-%m-%dT%H:%M:%SZ','now'))`,
        })
        .where(and(eq(inboundMessages.id, inboundId), eq(inboundMessages.status, 'received')));
    }
    message.ack();
  }
}
