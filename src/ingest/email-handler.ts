import { receiveMessage } from './receive';

export const DEFAULT_MAX_MESSAGE_BYTES = 25 * 1024 * 1024;

export function maxMessageBytes(env: Env): number {
  const configured = Number.parseInt(env.MAX_MESSAGE_BYTES ?? '', 10);
  return Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_MAX_MESSAGE_BYTES;
}

export function reportAddresses(env: Env): Set<string> {
  return new Set(
    (env.REPORT_ADDRESSES ?? '')
      .split(',')
      .map((a) => a.trim().toLowerCase())
      .filter(Boolean),
  );
}

/**
 * Email Routing entry point. Refusals here are permanent SMTP rejections the sender sees; an
 * exception instead makes Email Routing answer with a temporary failure, so the sender retries.
 */
export async function handleReportEmail(message: ForwardableEmailMessage, env: Env): Promise<void> {
  const addresses = reportAddresses(env);
  if (addresses.size > 0 && !addresses.has(message.to.toLowerCase())) {
    message.setReject(`550 5.1.1 <${message.to}> is not a DMARC report mailbox here`);
    return;
  }
  const limit = maxMessageBytes(env);
  if (message.rawSize > limit) {
    message.setReject(
      `552 5.3.4 Message of ${message.rawSize} bytes exceeds the ${limit}-byte limit for reports`,
    );
    return;
  }
  const bytes = new Uint8Array(await new Response(message.raw).arrayBuffer());
  await receiveMessage(env, {
    bytes,
    source: 'email',
    mailFrom: message.from,
    rcptTo: message.to,
  });
}
