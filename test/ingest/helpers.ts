import { applyD1Migrations } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { inject } from 'vitest';

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
