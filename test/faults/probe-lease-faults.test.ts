import { createExecutionContext, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import worker from '../../src/index';
import { probeDispatcher, type LeasedJob, type ProbeDispatcher } from '../../src/monitor/probe-dispatcher';
import { migrate, scalar } from '../ingest/helpers';
import { certificate, probeResult } from '../tls/fixtures';
import { barrier, envWith, faultyD1 } from './faulty-bindings';

/**
 * docs/faults.md, scenario 5: a probe agent dies holding a lease. The job must come back to the queue
 * once the lease has run out, a second agent completes it, and the first agent's late post is refused
 * (409) without storing anything a second time.
 */
const ADMIN = 'test-admin-token-0123456789abcdef';
const IP = '198.51.100.77';
const HOST = 'mx.crash.example';
let probeToken = '';

async function call<T = Record<string, unknown>>(path: string, body: unknown, token = probeToken, environment: Env = env) {
  const response = await worker.fetch(
    new Request(`https://mailcheck.test${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'CF-Connecting-IP': '192.0.2.242' },
      body: JSON.stringify(body),
    }),
    environment,
    createExecutionContext(),
  );
  const text = await response.text();
  return { status: response.status, json: (text ? JSON.parse(text) : null) as T };
}

beforeAll(async () => {
  await migrate();
  probeToken = (await call<{ token: string }>('/api/admin/tokens', { name: 'fault-agents', scopes: ['probe'] }, ADMIN)).json.token;
  expect(probeToken).toBeTruthy();
});

describe('5. a probe agent crashes while it holds a lease', () => {
  it('returns the job to the queue after the lease time-out; a second agent completes it; the late post is 409 and stores nothing twice', async () => {
    const dispatcher = probeDispatcher(env);
    expect(await dispatcher.enqueue([{ ip: IP, host: HOST, domain: 'crash.example' }])).toEqual({ queued: 1, skipped: 0 });

    // Agent A leases through the real route, then crashes: it never posts in time.
    const a = await call<{ jobs: LeasedJob[] }>('/api/probe/lease', { agent: 'agent-a', max: 5 });
    expect(a.status).toBe(200);
    expect(a.json.jobs).toHaveLength(1);
    const jobA = a.json.jobs[0]!;
    // While A's lease lives, nobody else gets the job.
    expect((await call<{ jobs: LeasedJob[] }>('/api/probe/lease', { agent: 'agent-b' })).json.jobs).toEqual([]);

    // The dispatcher armed its alarm for the lease's end.
    await runInDurableObject(dispatcher, async (_instance: ProbeDispatcher, state) => {
      expect(await state.storage.getAlarm()).toBe(Date.parse(jobA.lease_expires_at));
      // Time passes beyond PROBE_LEASE_SECONDS: the lease's end is moved into the past (the clock of
      // a Durable Object cannot be advanced from a test).
      state.storage.sql.exec('UPDATE jobs SET lease_expires_at = ? WHERE job_id = ?', Date.now() - 1, jobA.job_id);
    });
    expect(await runDurableObjectAlarm(dispatcher)).toBe(true);
    const afterAlarm = await dispatcher.status();
    expect(afterAlarm.counts).toEqual({ queued: 1 });
    expect(afterAlarm.jobs[0]).toMatchObject({ job_id: jobA.job_id, state: 'queued', attempts: 1 });

    // Agent B leases the same job under a new lease.
    const b = await call<{ jobs: LeasedJob[] }>('/api/probe/lease', { agent: 'agent-b' });
    expect(b.json.jobs).toHaveLength(1);
    const jobB = b.json.jobs[0]!;
    expect(jobB.job_id).toBe(jobA.job_id);
    expect(jobB.lease_id).not.toBe(jobA.lease_id);

    const result = (agent: string) => ({
      agent,
      result: probeResult({ host: HOST, ip: IP, certificates: [certificate({ subject: `CN=${HOST}`, san_dns: [HOST], sha256: '7'.repeat(64), der: 'MIIBAAAA' })] }),
    });
    // A wakes up and posts with its stale lease while B is scanning: refused, nothing stored.
    const lateWhileB = await call<{ reason: string }>('/api/probe/results', { job_id: jobA.job_id, lease_id: jobA.lease_id, ...result('agent-a') });
    expect(lateWhileB.status).toBe(409);
    expect(lateWhileB.json.reason).toBe('stale lease');
    expect(await scalar('SELECT count(*) AS v FROM tls_probe_results WHERE ip = ?', IP)).toBe(0);

    // B posts, and (a retrying HTTP client) posts the same result again at the same time. The D1
    // wrapper holds each post's write until both have read the server's latest result, the
    // interleaving that once stored the scan twice (src/monitor/tls-store.ts).
    const bothRead = barrier(2);
    const d1 = faultyD1(env.DB, [], { beforeBatch: (sqls) => (sqls.some((q) => /INSERT INTO tls_probe_results/.test(q)) ? bothRead() : undefined) });
    const postsB = await Promise.all(
      [1, 2].map(() => call<{ completed: boolean; changed: boolean }>('/api/probe/results', { job_id: jobB.job_id, lease_id: jobB.lease_id, ...result('agent-b') }, probeToken, envWith({ DB: d1.db }))),
    );
    expect(postsB.map((p) => p.status)).toEqual([200, 200]);
    // One of them stored the scan; the other found it stored.
    expect(postsB.map((p) => p.json.changed).sort()).toEqual([false, true]);
    // A's late post after the job is done: still 409.
    expect((await call('/api/probe/results', { job_id: jobA.job_id, lease_id: jobA.lease_id, ...result('agent-a') })).status).toBe(409);

    // Stored once: one result row, one server row pointing at it, the certificate once in the chain.
    expect(await scalar('SELECT count(*) AS v FROM tls_probe_results WHERE ip = ?', IP)).toBe(1);
    expect(await scalar("SELECT agent AS v FROM tls_probe_results WHERE ip = ?", IP)).toBe('agent-b');
    expect(await scalar('SELECT count(*) AS v FROM tls_servers WHERE ip = ?', IP)).toBe(1);
    expect(await scalar('SELECT count(*) AS v FROM tls_server_certificates WHERE ip = ?', IP)).toBe(1);
    const done = await dispatcher.status();
    expect(done.counts).toEqual({ done: 1 });
    expect(done.jobs[0]).toMatchObject({ job_id: jobA.job_id, state: 'done', attempts: 2 });
    // B's lease's alarm is still set (completing does not re-arm it); when it fires it finds no lease
    // and leaves the done job alone.
    await runDurableObjectAlarm(dispatcher);
    expect((await dispatcher.status()).counts).toEqual({ done: 1 });
    // And nothing comes back to the queue before the rescan interval.
    expect((await call<{ jobs: LeasedJob[] }>('/api/probe/lease', { agent: 'agent-c' })).json.jobs).toEqual([]);
  });
});
