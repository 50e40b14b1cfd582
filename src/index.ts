import { app } from './api/app';
import { handleReportEmail } from './ingest/email-handler';
import type { IngestMessage } from './ingest/ingest-message';
import { consumeDeadLetters, consumeIngestBatch, isDeadLetterQueue } from './ingest/queue-consumer';
import { requeueStalled } from './ingest/sweep-stalled';

/** Worker entry: each handler only adapts the platform to a plain function. */
export default {
  fetch: app.fetch,
  email: (message, env) => handleReportEmail(message, env),
  queue: (batch, env) =>
    isDeadLetterQueue(batch.queue) ? consumeDeadLetters(batch, env) : consumeIngestBatch(batch, env),
  scheduled: async (_controller, env) => {
    await requeueStalled(env);
  },
} satisfies ExportedHandler<Env, IngestMessage>;
