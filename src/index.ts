import { runDailyAlerts } from './alerts/hooks';
import { app } from './api/app';
import { handleReportEmail } from './ingest/email-handler';
import type { IngestMessage } from './ingest/ingest-message';
import { sendWeeklyDigests } from './digests/send';
import { consumeDeadLetters, consumeIngestBatch, isDeadLetterQueue } from './ingest/queue-consumer';
import { requeueStalled } from './ingest/sweep-stalled';
import { consumeMonitorBatch, DAILY_CRON, scheduleAllDomains, type MonitorMessage } from './monitor/monitor-queue';
import { retryFailedNotices } from './monitor/notice-retries';
import { consumeSenderBatch, type SenderLookupMessage } from './senders/sender-queue';
import { snapshotMetrics } from './stats/metrics';
import { purgeExpiredData } from './retention/purge';

export { DomainMonitor } from './monitor/domain-monitor';
export { ProbeDispatcher } from './monitor/probe-dispatcher';

/**
 * Worker entry: each handler only adapts the platform to a plain function. Export nothing else here
 * but Durable Object classes: workerd takes every export of the main module for a handler.
 */
export default {
  fetch: app.fetch,
  email: (message, env) => handleReportEmail(message, env),
  queue: (batch, env) => {
    if (batch.queue.endsWith('-monitor')) return consumeMonitorBatch(batch as MessageBatch<MonitorMessage>, env);
    if (batch.queue.endsWith('-senders')) return consumeSenderBatch(batch as MessageBatch<SenderLookupMessage>, env);
    const ingest = batch as MessageBatch<IngestMessage>;
    return isDeadLetterQueue(batch.queue) ? consumeDeadLetters(ingest, env) : consumeIngestBatch(ingest, env);
  },
  scheduled: async (controller, env) => {
    if (controller.cron === DAILY_CRON) {
      await scheduleAllDomains(env);
      await snapshotMetrics(env, new Date(controller.scheduledTime));
      await sendWeeklyDigests(env, new Date(controller.scheduledTime));
      await runDailyAlerts(env, new Date(controller.scheduledTime));
      await purgeExpiredData(env, new Date(controller.scheduledTime));
    } else {
      // Each step stands alone: one failing must not keep the others from running.
      await requeueStalled(env).catch((error: unknown) => console.error('requeue of stalled inbound messages:', error));
      // Drains a week's digests that the daily run could not finish (at most 25 per run).
      await sendWeeklyDigests(env, new Date(controller.scheduledTime), { mayStart: false });
      // Change notices whose delivery failed (at most 25 per run).
      await retryFailedNotices(env, new Date(controller.scheduledTime));
    }
  },
} satisfies ExportedHandler<Env, IngestMessage | MonitorMessage | SenderLookupMessage>;
