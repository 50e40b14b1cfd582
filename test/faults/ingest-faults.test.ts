import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import worker from '../../src/index';
import type { IngestMessage } from '../../src/ingest/ingest-message';
import { RECORDS_PER_BATCH } from '../../src/ingest/persist-aggregate';
import { migrate, reportEmail, scalar } from '../ingest/helpers';
import { capturingQueue, envWith, faultyD1, faultyR2 } from './faulty-bindings';
import { deliver, expectStoredExactlyOnce, generatedReport, inboundStatus, receive } from './harness';

/**
 * docs/faults.md: the ingest pipeline under injected D1, R2 and queue faults, in real workerd. Each
 * scenario ends with the report stored exactly once, counted against the XML by the pure parser.
 */
beforeAll(migrate);

/** 9,000 records: five D1 record batches of up to 2,000, then the roll-up batch. */
const RECORDS = 9_000;
const RECORD_INSERT = /INSERT OR IGNORE INTO aggregate_records/;
const ROLLUP = /INSERT INTO aggregate_daily\b/;

/** What a redelivery (or a continuation) sees: the real bindings, with sends captured. */
function healthyEnv() {
  const captured = capturingQueue();
  return { env: envWith({ INGEST_QUEUE: captured.queue }), captured };
}

describe('1. D1 fails mid-report', () => {
  it('retries the message after a record batch throws, and the redelivery resumes from the checkpoint', async () => {
    const report = generatedReport('d1-mid.example', RECORDS);
    const { inboundId, queued } = await receive(report.email);
    const d1 = faultyD1(env.DB, [{ on: 'batch', match: RECORD_INSERT, nth: 3 }]);
    const captured = capturingQueue();
    const first = await deliver(queued[0]!, envWith({ DB: d1.db, INGEST_QUEUE: captured.queue }), { attempts: 1 });
    expect(d1.fired).toEqual([1]);
    // Not acked: the queue delivers it again after the backoff, and nothing was sent instead.
    expect(first.explicitAcks).toEqual([]);
    expect(first.retryMessages).toEqual([{ msgId: expect.any(String) }]);
    expect(captured.sent).toEqual([]);
    expect(await inboundStatus(inboundId)).toMatchObject({ status: 'received', attempts: 1, last_error: expect.stringMatching(/InjectedFault: injected D1 batch failure/) });
    // The two batches before the fault are committed with their checkpoint; no roll-up yet.
    expect(await scalar("SELECT records_ingested AS v FROM aggregate_reports WHERE report_id = 'fault-d1-mid.example'")).toBe(2 * RECORDS_PER_BATCH);
    expect(await scalar("SELECT count(*) AS v FROM aggregate_daily WHERE domain = 'd1-mid.example'")).toBe(0);

    const again = healthyEnv();
    const second = await deliver(queued[0]!, again.env, { attempts: 2 });
    expect(second.explicitAcks).toHaveLength(1);
    expect(second.retryMessages).toEqual([]);
    expect(await inboundStatus(inboundId)).toMatchObject({ status: 'parsed', attempts: 2, last_error: null });
    await expectStoredExactlyOnce(report.xml);
  });

  it('counts a report once when the roll-up transaction committed but its answer was lost', async () => {
    const report = generatedReport('rollup-lost.example', RECORDS);
    const { inboundId, queued } = await receive(report.email);
    const d1 = faultyD1(env.DB, [{ on: 'batch', match: ROLLUP, afterCommit: true }]);
    const first = await deliver(queued[0]!, envWith({ DB: d1.db, INGEST_QUEUE: capturingQueue().queue }));
    expect(d1.fired).toEqual([1]);
    expect(first.retryMessages).toHaveLength(1);
    // D1 did commit: the report is complete and counted, but the row still says received.
    expect(await scalar("SELECT status AS v FROM aggregate_reports WHERE report_id = 'fault-rollup-lost.example'")).toBe('complete');
    expect((await inboundStatus(inboundId)).status).toBe('received');

    // The retry finds its own complete report ("mine"): parsed, and the roll-ups are not added again.
    const second = await deliver(queued[0]!, healthyEnv().env, { attempts: 2 });
    expect(second.explicitAcks).toHaveLength(1);
    expect(await inboundStatus(inboundId)).toMatchObject({ status: 'parsed' });
    await expectStoredExactlyOnce(report.xml);
  });

  it('ends parsed, counted once, when settling the inbound row fails after the report is stored', async () => {
    const report = generatedReport('settle-fails.example', 2_500);
    const { inboundId, queued } = await receive(report.email);
    const d1 = faultyD1(env.DB, [{ on: 'statement', match: /^update "inbound_messages" set (?=.*"status" = \?)/ }]);
    const first = await deliver(queued[0]!, envWith({ DB: d1.db, INGEST_QUEUE: capturingQueue().queue }));
    expect(d1.fired).toEqual([1]);
    expect(first.retryMessages).toHaveLength(1);
    expect((await inboundStatus(inboundId)).status).toBe('received');
    await deliver(queued[0]!, healthyEnv().env, { attempts: 2 });
    expect((await inboundStatus(inboundId)).status).toBe('parsed');
    await expectStoredExactlyOnce(report.xml);
  });
});

describe('2. R2 fails when the consumer reads the raw message', () => {
  it('retries after one failed read and then stores the report', async () => {
    const report = generatedReport('r2-once.example', 1_200);
    const { inboundId, queued } = await receive(report.email);
    const r2 = faultyR2(env.RAW_REPORTS, 1);
    const first = await deliver(queued[0]!, envWith({ RAW_REPORTS: r2.bucket, INGEST_QUEUE: capturingQueue().queue }));
    expect(r2.fired()).toBe(1);
    expect(first.retryMessages).toEqual([{ msgId: expect.any(String) }]);
    expect(await inboundStatus(inboundId)).toMatchObject({ status: 'received', last_error: expect.stringMatching(/injected R2 get failure/) });
    const second = await deliver(queued[0]!, envWith({ RAW_REPORTS: r2.bucket, INGEST_QUEUE: capturingQueue().queue }), { attempts: 2 });
    expect(second.explicitAcks).toHaveLength(1);
    expect((await inboundStatus(inboundId)).status).toBe('parsed');
    await expectStoredExactlyOnce(report.xml);
  });

  it('ends failed with the reason after the retries and the dead-letter queue, and a replay stores it exactly once', async () => {
    const report = generatedReport('r2-down.example', 3_000);
    const { inboundId, queued } = await receive(report.email);
    const r2 = faultyR2(env.RAW_REPORTS, Infinity);
    const down = envWith({ RAW_REPORTS: r2.bucket, INGEST_QUEUE: capturingQueue().queue });
    // wrangler.toml: max_retries = 5, so the queue delivers 6 times (attempts 1..6), then dead-letters.
    for (let attempt = 1; attempt <= 6; attempt++) {
      const result = await deliver(queued[0]!, down, { attempts: attempt });
      expect(result.explicitAcks).toEqual([]);
      expect(result.retryMessages).toEqual([{ msgId: expect.any(String) }]);
      expect(await inboundStatus(inboundId)).toMatchObject({ status: 'received', attempts: attempt });
    }
    expect(r2.fired()).toBe(6);
    // Nothing of the report was stored: the fault hit before parsing.
    expect(await scalar("SELECT count(*) AS v FROM aggregate_reports WHERE report_id = 'fault-r2-down.example'")).toBe(0);

    const dead = await deliver(queued[0]!, down, { queue: 'mailcheck-ingest-dlq' });
    expect(dead.explicitAcks).toHaveLength(1);
    expect(await inboundStatus(inboundId)).toMatchObject({
      status: 'failed',
      reason_code: 'retries-exhausted',
      reason: expect.stringMatching(/^gave up after retries: InjectedFault: injected R2 get failure #6/),
    });
    // The raw copy is still in R2 (only reads failed): the message can be replayed.
    const sha = await scalar<string>('SELECT sha256 AS v FROM inbound_messages WHERE id = ?', inboundId);
    expect(await env.RAW_REPORTS.head(`raw/${sha.slice(0, 2)}/${sha}`)).not.toBeNull();

    // R2 recovers; an administrator replays the failed messages through the API.
    const replayQueue = capturingQueue();
    const response = await worker.fetch(
      new Request('http://mailcheck.test/api/admin/replay', {
        method: 'POST',
        headers: { Authorization: 'Bearer test-admin-token-0123456789abcdef', 'Content-Type': 'application/json' },
        body: JSON.stringify({ ids: [inboundId] }),
      }),
      envWith({ INGEST_QUEUE: replayQueue.queue }),
      createExecutionContext(),
    );
    expect(response.status).toBe(202);
    expect(replayQueue.sent).toEqual([{ inboundId }]);
    expect(await inboundStatus(inboundId)).toMatchObject({ status: 'received', attempts: 0 });
    const replayed = await deliver(replayQueue.sent[0]!, healthyEnv().env);
    expect(replayed.explicitAcks).toHaveLength(1);
    expect((await inboundStatus(inboundId)).status).toBe('parsed');
    await expectStoredExactlyOnce(report.xml);
  });
});

describe('3. the queue delivers the same message again', () => {
  it('stores once when the identical message comes twice, one after the other and in one batch', async () => {
    const report = generatedReport('redeliver.example', 4_100);
    const { inboundId, queued } = await receive(report.email);
    await deliver(queued[0]!, healthyEnv().env);
    expect((await inboundStatus(inboundId)).status).toBe('parsed');
    const again = await deliver(queued[0]!, healthyEnv().env);
    expect(again.explicitAcks).toHaveLength(1);
    // At-least-once delivery may also put the same message twice in one batch.
    const batch = createMessageBatch<IngestMessage>('mailcheck-ingest', [
      { id: 'twice-1', timestamp: new Date(), attempts: 1, body: queued[0]! },
      { id: 'twice-2', timestamp: new Date(), attempts: 1, body: queued[0]! },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, healthyEnv().env);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(['twice-1', 'twice-2']);
    expect((await inboundStatus(inboundId)).status).toBe('parsed');
    await expectStoredExactlyOnce(report.xml);
  });

  it('stores once when two deliveries of the same message run at the same time', async () => {
    const report = generatedReport('concurrent.example', RECORDS);
    const { inboundId, queued } = await receive(report.email);
    // Plain wrappers (no faults) only to see what each delivery did.
    const [da, db] = [faultyD1(env.DB, []), faultyD1(env.DB, [])];
    const [a, b] = await Promise.all([
      deliver(queued[0]!, envWith({ DB: da.db, INGEST_QUEUE: capturingQueue().queue })),
      deliver(queued[0]!, envWith({ DB: db.db, INGEST_QUEUE: capturingQueue().queue })),
    ]);
    // They really overlapped: each wrote record batches (INSERT OR IGNORE made the repeats harmless).
    expect(da.calls.filter((c) => RECORD_INSERT.test(c)).length).toBeGreaterThan(0);
    expect(db.calls.filter((c) => RECORD_INSERT.test(c)).length).toBeGreaterThan(0);
    // Both end acked (the row is settled once, by whichever finished first); neither retries.
    expect([...a.explicitAcks, ...b.explicitAcks]).toHaveLength(2);
    expect([...a.retryMessages, ...b.retryMessages]).toEqual([]);
    expect((await inboundStatus(inboundId)).status).toBe('parsed');
    await expectStoredExactlyOnce(report.xml);
  });

  it('stores once when a copy is redelivered while the first delivery is retrying after a fault', async () => {
    const report = generatedReport('redeliver-mid.example', RECORDS);
    const { inboundId, queued } = await receive(report.email);
    const d1 = faultyD1(env.DB, [{ on: 'batch', match: RECORD_INSERT, nth: 2 }]);
    const [faulty, clean] = await Promise.all([
      deliver(queued[0]!, envWith({ DB: d1.db, INGEST_QUEUE: capturingQueue().queue })),
      deliver(queued[0]!, healthyEnv().env),
    ]);
    expect(d1.fired).toEqual([1]);
    expect(faulty.retryMessages).toHaveLength(1);
    expect(clean.explicitAcks).toHaveLength(1);
    // The faulty delivery's retry comes later and finds the work done.
    await deliver(queued[0]!, healthyEnv().env, { attempts: 2 });
    expect((await inboundStatus(inboundId)).status).toBe('parsed');
    await expectStoredExactlyOnce(report.xml);
  });
});

describe('4. a consumer ends mid-report', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('checkpoints and continues in a fresh message when the WorkBudget runs out, resuming where it stopped', async () => {
    const big = generatedReport('budget.example', RECORDS);
    const small = generatedReport('budget-next.example', 300);
    const bigIn = await receive(big.email);
    const smallIn = await receive(small.email);
    // The clock is the fault: after the second record batch, 121 s have passed (WorkBudget stops at 120 s).
    vi.useFakeTimers({ toFake: ['Date'] });
    const d1 = faultyD1(env.DB, [], {
      afterBatch: (n) => {
        if (n === 2) vi.setSystemTime(Date.now() + 121_000);
      },
    });
    const captured = capturingQueue();
    const batchEnv = envWith({ DB: d1.db, INGEST_QUEUE: captured.queue });
    const batch = createMessageBatch<IngestMessage>('mailcheck-ingest', [
      { id: 'budget-1', timestamp: new Date(), attempts: 1, body: bigIn.queued[0]! },
      { id: 'budget-2', timestamp: new Date(), attempts: 1, body: smallIn.queued[0]! },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, batchEnv);
    const result = await getQueueResult(batch, ctx);
    vi.useRealTimers();
    // Being out of budget is not a failure: both acked, none retried; the big report continues in a
    // fresh message and the one not started is sent again.
    expect(result.explicitAcks).toEqual(['budget-1', 'budget-2']);
    expect(result.retryMessages).toEqual([]);
    expect(captured.sent).toEqual([
      { inboundId: bigIn.inboundId, continuation: true },
      { inboundId: smallIn.inboundId, continuation: true },
    ]);
    expect(await scalar("SELECT records_ingested AS v FROM aggregate_reports WHERE report_id = 'fault-budget.example'")).toBe(2 * RECORDS_PER_BATCH);
    expect(await scalar("SELECT status AS v FROM aggregate_reports WHERE report_id = 'fault-budget.example'")).toBe('ingesting');
    expect(await scalar("SELECT count(*) AS v FROM aggregate_daily WHERE domain = 'budget.example'")).toBe(0);
    expect((await inboundStatus(bigIn.inboundId)).status).toBe('received');

    // The continuation is delivered twice (at-least-once): the second finds it done.
    const next = healthyEnv();
    for (const message of [...captured.sent, captured.sent[0]!]) {
      const r = await deliver(message, next.env);
      expect(r.explicitAcks).toHaveLength(1);
    }
    expect(next.captured.sent).toEqual([]);
    expect((await inboundStatus(bigIn.inboundId)).status).toBe('parsed');
    expect((await inboundStatus(smallIn.inboundId)).status).toBe('parsed');
    await expectStoredExactlyOnce(big.xml);
    await expectStoredExactlyOnce(small.xml);
  });

  it('leaves a reason when the invocation dies after some batches, and the next delivery resumes from the checkpoint', async () => {
    const report = generatedReport('killed.example', RECORDS);
    const { inboundId, queued } = await receive(report.email);
    // The invocation is killed on its fourth record batch: D1 goes away for the rest of it, so even
    // the consumer's own error bookkeeping fails and queue() itself rejects (the runtime then retries
    // every message of the batch it did not ack).
    const d1 = faultyD1(env.DB, [
      { on: 'batch', match: RECORD_INSERT, nth: 4 },
      { on: 'statement', match: /^update "inbound_messages" set (?=.*"attempts" = \?)(?=.*"updated_at")/ },
    ]);
    await expect(deliver(queued[0]!, envWith({ DB: d1.db, INGEST_QUEUE: capturingQueue().queue }))).rejects.toThrow(/injected D1/);
    expect(d1.fired).toEqual([1, 1]);
    // markAttempt wrote its note before the work began: the row says what happened.
    expect(await inboundStatus(inboundId)).toMatchObject({ status: 'received', attempts: 1, last_error: expect.stringMatching(/attempt 1 started and did not finish/) });
    expect(await scalar("SELECT records_ingested AS v FROM aggregate_reports WHERE report_id = 'fault-killed.example'")).toBe(3 * RECORDS_PER_BATCH);

    const second = await deliver(queued[0]!, healthyEnv().env, { attempts: 2 });
    expect(second.explicitAcks).toHaveLength(1);
    expect((await inboundStatus(inboundId)).status).toBe('parsed');
    await expectStoredExactlyOnce(report.xml);
  });
});

describe('an outage mid-report, then another copy and a replay', () => {
  it('lets a second copy take over a report whose first delivery failed half-stored, and the replay of the first ends duplicate', async () => {
    const report = generatedReport('takeover.example', RECORDS);
    const gzipCopy = await receive(report.email);
    // D1 refuses every record batch from the third on, for good: each retry resumes at the checkpoint
    // and fails again, until the queue gives up.
    const d1 = faultyD1(env.DB, [{ on: 'batch', match: RECORD_INSERT, nth: 3, times: Infinity }]);
    const outage = envWith({ DB: d1.db, INGEST_QUEUE: capturingQueue().queue });
    for (let attempt = 1; attempt <= 6; attempt++) {
      expect((await deliver(gzipCopy.queued[0]!, outage, { attempts: attempt })).retryMessages).toHaveLength(1);
    }
    expect(d1.fired).toEqual([6]);
    await deliver(gzipCopy.queued[0]!, outage, { queue: 'mailcheck-ingest-dlq' });
    expect(await inboundStatus(gzipCopy.inboundId)).toMatchObject({ status: 'failed', reason: expect.stringMatching(/injected D1 batch failure #6/) });
    // Half of it is in D1, still `ingesting`, counted nowhere.
    expect(await scalar("SELECT records_ingested AS v FROM aggregate_reports WHERE report_id = 'fault-takeover.example'")).toBe(2 * RECORDS_PER_BATCH);
    expect(await scalar("SELECT count(*) AS v FROM aggregate_daily WHERE domain = 'takeover.example'")).toBe(0);

    // The reporter sends the same report again, as plain XML this time (other bytes, another message).
    const xmlCopy = await receive(reportEmail([{ filename: 'takeover.xml', contentType: 'text/xml', bytes: new TextEncoder().encode(report.xml) }]));
    expect(xmlCopy.inboundId).not.toBe(gzipCopy.inboundId);
    await deliver(xmlCopy.queued[0]!, healthyEnv().env);
    expect((await inboundStatus(xmlCopy.inboundId)).status).toBe('parsed');
    const id = await expectStoredExactlyOnce(report.xml);
    expect(await scalar('SELECT inbound_id AS v FROM aggregate_reports WHERE id = ?', id)).toBe(xmlCopy.inboundId);

    // D1 is back; the failed message is replayed: the report is already stored, from the other copy.
    const replay = capturingQueue();
    const response = await worker.fetch(
      new Request('http://mailcheck.test/api/admin/replay', {
        method: 'POST',
        headers: { Authorization: 'Bearer test-admin-token-0123456789abcdef', 'Content-Type': 'application/json' },
        body: JSON.stringify({ status: 'failed' }),
      }),
      envWith({ INGEST_QUEUE: replay.queue }),
      createExecutionContext(),
    );
    expect(response.status).toBe(202);
    expect(replay.sent).toContainEqual({ inboundId: gzipCopy.inboundId });
    for (const message of replay.sent) await deliver(message, healthyEnv().env);
    expect(await inboundStatus(gzipCopy.inboundId)).toMatchObject({ status: 'duplicate', reason_code: 'duplicate-report' });
    await expectStoredExactlyOnce(report.xml);
  });
});

/** A one-shot signal for ordering two deliveries' D1 calls. */
function signal() {
  let fire!: () => void;
  const fired = new Promise<void>((resolve) => (fire = resolve));
  return { fire, fired };
}

describe('a takeover racing a replay', () => {
  it('counts the report once when the failed first copy is replayed while a second copy is taking it over', async () => {
    const report = generatedReport('takeover-race.example', RECORDS);
    const gzipCopy = await receive(report.email);
    const d1 = faultyD1(env.DB, [{ on: 'batch', match: RECORD_INSERT, nth: 3, times: Infinity }]);
    const outage = envWith({ DB: d1.db, INGEST_QUEUE: capturingQueue().queue });
    for (let attempt = 1; attempt <= 6; attempt++) await deliver(gzipCopy.queued[0]!, outage, { attempts: attempt });
    await deliver(gzipCopy.queued[0]!, outage, { queue: 'mailcheck-ingest-dlq' });
    expect((await inboundStatus(gzipCopy.inboundId)).status).toBe('failed');
    const xmlCopy = await receive(reportEmail([{ filename: 'race.xml', contentType: 'text/xml', bytes: new TextEncoder().encode(report.xml) }]));

    // The interleaving, forced by holding D1 calls at the binding:
    //  1. the XML copy (B) reads the report row: its owner (the gzip copy, A) has failed, so B will take over;
    //  2. an administrator replays A, whose delivery resumes the report from its checkpoint;
    //  3. B discards the records and makes the report its own;
    //  4. A writes the rest and completes the report (roll-ups), then B writes its records.
    const bAtDiscard = signal();
    const aClaimed = signal();
    const bTookOver = signal();
    const aDone = signal();
    let bInserts = 0;
    let aInserts = 0;
    const takeoverBatch = (sqls: string[]) => sqls.some((q) => /DELETE FROM aggregate_records/.test(q));
    const dB = faultyD1(env.DB, [], {
      beforeBatch: async (sqls) => {
        if (takeoverBatch(sqls)) {
          bAtDiscard.fire();
          await aClaimed.fired;
        }
        if (sqls.some((q) => RECORD_INSERT.test(q)) && bInserts++ === 0) await aDone.fired;
      },
      afterBatch: (_n, sqls) => {
        if (takeoverBatch(sqls)) bTookOver.fire();
      },
    });
    const dA = faultyD1(env.DB, [], {
      beforeBatch: async (sqls) => {
        if (sqls.some((q) => RECORD_INSERT.test(q)) && aInserts++ === 0) {
          aClaimed.fire();
          await bTookOver.fired;
        }
      },
      afterBatch: (_n, sqls) => {
        if (sqls.some((q) => ROLLUP.test(q))) aDone.fire();
      },
    });
    const bQueue = capturingQueue();
    const b = deliver(xmlCopy.queued[0]!, envWith({ DB: dB.db, INGEST_QUEUE: bQueue.queue }));
    await bAtDiscard.fired;
    const replay = capturingQueue();
    const response = await worker.fetch(
      new Request('http://mailcheck.test/api/admin/replay', {
        method: 'POST',
        headers: { Authorization: 'Bearer test-admin-token-0123456789abcdef', 'Content-Type': 'application/json' },
        body: JSON.stringify({ ids: [gzipCopy.inboundId] }),
      }),
      envWith({ INGEST_QUEUE: replay.queue }),
      createExecutionContext(),
    );
    expect(response.status).toBe(202);
    await deliver(replay.sent[0]!, envWith({ DB: dA.db, INGEST_QUEUE: capturingQueue().queue }));
    await b;
    // The roll-ups count every record once (before the fix they missed the records B had discarded).
    await expectStoredExactlyOnce(report.xml);
    // The revived first copy kept its report and completed it; the second copy found the owner
    // alive again and waits (a continuation), then sees the report stored by the other: duplicate.
    expect((await inboundStatus(gzipCopy.inboundId)).status).toBe('parsed');
    expect(bQueue.sent).toEqual([{ inboundId: xmlCopy.inboundId, continuation: true }]);
    await deliver(bQueue.sent[0]!, healthyEnv().env);
    expect((await inboundStatus(xmlCopy.inboundId)).status).toBe('duplicate');
    await expectStoredExactlyOnce(report.xml);
  });
});
