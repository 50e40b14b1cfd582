import { applyD1Migrations, createExecutionContext, createMessageBatch, getQueueResult, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { inject } from 'vitest';
import worker from '../../src/index';
import type { IngestMessage } from '../../src/ingest/ingest-message';

export { reportEmail, type Attachment } from '../../scripts/lib/report-email';

/** Bytes of a file under samples/reports, e.g. `extract_report/nice-input.xml.gz`. */
export function sample(name: string): Uint8Array {
  const base64 = inject('samples')[name];
  if (base64 === undefined) throw new Error(`no sample ${name}`);
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

export async function migrate(): Promise<void> {
  await applyD1Migrations(env.DB, (env as unknown as { TEST_MIGRATIONS: Parameters<typeof applyD1Migrations>[1] }).TEST_MIGRATIONS);
}

/** A ForwardableEmailMessage as Email Routing hands it to email(): the raw bytes as a stream. */
export function emailMessage(raw: Uint8Array, to = 'rua@reports.example', from = 'noreply-dmarc@receiver.example') {
  const rejections: string[] = [];
  const message = {
    from,
    to,
    raw: new Blob([raw]).stream(),
    rawSize: raw.byteLength,
    headers: new Headers(),
    setReject(reason: string) {
      rejections.push(reason);
    },
    forward: async () => ({ messageId: 'x' }),
    reply: async () => ({ messageId: 'x' }),
  } as unknown as ForwardableEmailMessage;
  return { message, rejections };
}

export interface InboundRow {
  id: number;
  status: string;
  reason: string | null;
  reason_code: string | null;
  attempts: number;
  last_error: string | null;
  summary: string | null;
  duplicate_of: number | null;
}

export async function inboundRow(id: number): Promise<InboundRow> {
  const row = await env.DB.prepare('SELECT * FROM inbound_messages WHERE id = ?').bind(id).first<InboundRow>();
  if (!row) throw new Error(`no inbound ${id}`);
  return row;
}

export async function latestInboundId(): Promise<number> {
  const row = await env.DB.prepare('SELECT max(id) AS id FROM inbound_messages').first<{ id: number }>();
  return row?.id ?? 0;
}


let messageSeq = 0;

/** Runs the ingest consumer on one message, as the queue would deliver it. */
export async function consume(inboundId: number, attempts = 1, queue = 'mailcheck-ingest') {
  const batch = createMessageBatch<IngestMessage>(queue, [{ id: `m${++messageSeq}`, timestamp: new Date(), attempts, body: { inboundId } }]);
  const ctx = createExecutionContext();
  await worker.queue(batch, env);
  return getQueueResult(batch, ctx);
}

/** Delivers until the inbound message leaves `received` (a long report takes several deliveries). */
export async function settle(inboundId: number, maxRounds = 40): Promise<InboundRow> {
  for (let round = 0; round < maxRounds; round++) {
    const row = await inboundRow(inboundId);
    if (row.status !== 'received') return row;
    await consume(inboundId);
  }
  throw new Error(`inbound ${inboundId} did not settle`);
}

/** Hands raw bytes to the Worker's email() handler as Email Routing would. */
export async function deliverEmail(raw: Uint8Array, environment: Env = env) {
  const { message, rejections } = emailMessage(raw);
  const ctx = createExecutionContext();
  await worker.email(message, environment);
  await waitOnExecutionContext(ctx);
  return { inboundId: await latestInboundId(), rejections };
}

export async function scalar<T = number>(query: string, ...params: unknown[]): Promise<T> {
  const row = await env.DB.prepare(query).bind(...params).first<{ v: T }>();
  return row?.v as T;
}

/** Calls the HTTP API with an optional bearer token. */
export async function api(path: string, init: RequestInit & { token?: string } = {}) {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('Authorization', `Bearer ${init.token}`);
  return worker.fetch(new Request(`http://mailcheck.test${path}`, { ...init, headers }), env, createExecutionContext());
}
