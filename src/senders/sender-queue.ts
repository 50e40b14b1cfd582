/**
 * Background sender identification: ingest enqueues the source IPs of a stored aggregate report; the
 * consumer looks up those not cached. Nothing in a request path waits on these lookups.
 *
 * Wiring (not done here): a `SENDER_QUEUE` producer and consumer in wrangler.toml, the consumer's
 * batch routed to consumeSenderBatch in src/index.ts, and enqueueSenderLookups called after a report is stored.
 */
import { canonicalIp } from './identify';
import { cachedLookups, lookupAndCache, senderResolver, QUERIES_PER_LOOKUP } from './store';

export interface SenderLookupMessage {
  ips: string[];
}

/** Addresses per message: one consumer invocation looks these up (each at most QUERIES_PER_LOOKUP queries). */
export const IPS_PER_MESSAGE = 25;
/** Messages per sendBatch call (the Queues limit is 100). */
const SEND_BATCH = 100;

/**
 * Enqueues the addresses that have no fresh cached result (invalid ones are skipped).
 * Returns how many were enqueued.
 */
export async function enqueueSenderLookups(env: Pick<Env, 'DB'>, queue: Queue<SenderLookupMessage>, ips: Iterable<string>): Promise<number> {
  const unique = [...new Set([...ips].flatMap((ip) => canonicalIp(ip) ?? []))];
  const cached = await cachedLookups(env.DB, unique);
  const missing = unique.filter((ip) => !cached.has(ip));
  const messages: { body: SenderLookupMessage }[] = [];
  for (let i = 0; i < missing.length; i += IPS_PER_MESSAGE) messages.push({ body: { ips: missing.slice(i, i + IPS_PER_MESSAGE) } });
  for (let i = 0; i < messages.length; i += SEND_BATCH) await queue.sendBatch(messages.slice(i, i + SEND_BATCH));
  return missing.length;
}

/** Queue consumer: looks each address up (cache first); a message whose D1 writes fail is retried. */
export async function consumeSenderBatch(batch: MessageBatch<SenderLookupMessage>, env: Pick<Env, 'DB' | 'DOH_URL'> & { REVERSE_DNS_SUFFIXES?: string }): Promise<void> {
  for (const message of batch.messages) {
    try {
      for (const ip of message.body.ips) {
        if (canonicalIp(ip) === null) continue;
        await lookupAndCache(env, ip, { resolver: senderResolver(env, QUERIES_PER_LOOKUP) });
      }
      message.ack();
    } catch (error) {
      console.error('sender lookup failed', error);
      message.retry({ delaySeconds: 60 });
    }
  }
}
