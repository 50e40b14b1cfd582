import { asc, gt } from 'drizzle-orm';
import { database } from '../db/client';
import { domains } from '../db/schema/index';

export interface MonitorMessage {
  domain: string;
  action: 'schedule' | 'stop';
}

/** The daily cron of wrangler.toml that runs scheduleAllDomains; the other sweeps stalled ingest. */
export const DAILY_CRON = '17 3 * * *';

/** Messages per sendBatch call (the Queues limit is 100). */
const SEND_BATCH = 100;

function monitorOf(env: Env, domain: string) {
  return env.DOMAIN_MONITOR.get(env.DOMAIN_MONITOR.idFromName(domain));
}

/** Starts or stops the monitors of many domains through the queue, so no request does 10,000 calls. */
export async function enqueueMonitoring(env: Env, names: string[], action: MonitorMessage['action']): Promise<void> {
  for (let i = 0; i < names.length; i += SEND_BATCH) {
    await env.MONITOR_QUEUE.sendBatch(names.slice(i, i + SEND_BATCH).map((domain) => ({ body: { domain, action } satisfies MonitorMessage })));
  }
}

/** Monitor queue consumer: one DomainMonitor call per message; a failed call is retried by the queue. */
export async function consumeMonitorBatch(batch: MessageBatch<MonitorMessage>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    const { domain, action } = message.body;
    try {
      if (action === 'stop') await monitorOf(env, domain).stop();
      else await monitorOf(env, domain).schedule(domain);
      message.ack();
    } catch (error) {
      console.error(`monitor ${action} ${domain} failed`, error);
      message.retry({ delaySeconds: 60 });
    }
  }
}

/** Daily safety net: asks every domain's monitor to be scheduled (idempotent: a set alarm stays). */
export async function scheduleAllDomains(env: Env): Promise<number> {
  const db = database(env.DB);
  let after = 0;
  let total = 0;
  for (;;) {
    const page = await db.select({ id: domains.id, name: domains.name }).from(domains).where(gt(domains.id, after)).orderBy(asc(domains.id)).limit(1000);
    if (page.length === 0) return total;
    await enqueueMonitoring(env, page.map((d) => d.name), 'schedule');
    total += page.length;
    after = page[page.length - 1]!.id;
  }
}

export { monitorOf };
