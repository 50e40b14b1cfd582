import { createExecutionContext, createMessageBatch, getQueueResult, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { DomainCheck } from '../../src/dns/domain-check';
import worker from '../../src/index';
import type { MonitorMessage } from '../../src/monitor/monitor-queue';
import { latestCheck, storeCheck } from '../../src/monitor/store-check';
import { migrate } from '../ingest/helpers';

/** A domain of the DNS lab (test/lab/dns/zones/monitor.lab.mailcheck.test.zone), answered through DoH. */
const DOMAIN = 'monitor.lab.mailcheck.test';
const ADMIN = 'test-admin-token-0123456789abcdef';
const webhook = inject('webhookUrl');

async function call<T = Record<string, unknown>>(method: string, path: string, token: string, body?: unknown) {
  const response = await worker.fetch(
    new Request(`https://mailcheck.test${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'CF-Connecting-IP': '192.0.2.240' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
    env,
    createExecutionContext(),
  );
  const text = await response.text();
  return { status: response.status, json: (text ? JSON.parse(text) : null) as T };
}

const monitorOf = (domain: string) => env.DOMAIN_MONITOR.get(env.DOMAIN_MONITOR.idFromName(domain));
const monitor = () => monitorOf(DOMAIN);

/** Lets the next on-demand check run at once (they are otherwise at most one a minute). */
async function forgetLastRun(domain: string, failures?: number) {
  await runInDurableObject(monitorOf(domain), async (_instance, state) => {
    await state.storage.delete('lastRunAt');
    if (failures !== undefined) await state.storage.put('failures', failures);
  });
}
let member = '';
let outsider = '';

beforeAll(async () => {
  await migrate();
  const group = (await call<{ id: number }>('POST', '/api/admin/groups', ADMIN, { name: 'Monitored agency' })).json;
  const other = (await call<{ id: number }>('POST', '/api/admin/groups', ADMIN, { name: 'Unrelated agency' })).json;
  expect((await call('PUT', `/api/admin/groups/${group.id}/notifications`, ADMIN, { webhook: null, email: null })).status).toBe(200);
  const user = (await call<{ id: number }>('POST', '/api/admin/users', ADMIN, { email: 'owner@monitored.example' })).json;
  const stranger = (await call<{ id: number }>('POST', '/api/admin/users', ADMIN, { email: 'someone@unrelated.example' })).json;
  await call('PUT', `/api/admin/groups/${group.id}/members/${user.id}`, ADMIN);
  await call('PUT', `/api/admin/groups/${other.id}/members/${stranger.id}`, ADMIN);
  member = (await call<{ token: string }>('POST', '/api/admin/tokens', ADMIN, { name: 'owner', scopes: ['read'], user_id: user.id })).json.token;
  outsider = (await call<{ token: string }>('POST', '/api/admin/tokens', ADMIN, { name: 'stranger', scopes: ['read'], user_id: stranger.id })).json.token;
  expect((await call('POST', '/api/admin/domains', ADMIN, { name: DOMAIN, group_ids: [group.id] })).status).toBe(201);
  // Webhooks are https in production; the test's sink is plain HTTP on loopback, so set it directly.
  await env.DB.prepare('UPDATE groups SET notify_webhook = ? WHERE id = ?').bind(`${webhook}/hook`, group.id).run();
});

describe('DomainMonitor', () => {
  it('is started through the monitor queue and checks the domain from its alarm', async () => {
    const batch = createMessageBatch<MonitorMessage>('mailcheck-monitor', [{ id: 'm1', timestamp: new Date(), attempts: 1, body: { domain: DOMAIN, action: 'schedule' } }]);
    await worker.queue(batch, env);
    expect((await getQueueResult(batch, createExecutionContext())).explicitAcks).toEqual(['m1']);
    expect(await runDurableObjectAlarm(monitor())).toBe(true);

    const latest = await latestCheck(env.DB, DOMAIN);
    expect(latest?.check.complete).toBe(true);
    expect(latest?.check.dmarc.record).toBe('v=DMARC1; p=reject; rua=mailto:dmarc@monitor.lab.mailcheck.test');
    expect(latest?.check.spf.record).toBe('v=spf1 ip4:192.0.2.0/24 -all');
    expect(latest?.check.spf.dns_lookups).toBe(0);
    expect(latest?.check.dmarc.findings.map((f) => f.id)).not.toContain('dmarc.no-record');
    const state = await env.DB.prepare('SELECT next_check_at, last_error FROM domain_check_state WHERE domain = ?').bind(DOMAIN).first<{ next_check_at: string; last_error: string | null }>();
    expect(state?.last_error).toBeNull();
    // The next check is a day away (CHECK_INTERVAL_SECONDS), give or take the 10% jitter.
    const untilNext = Date.parse(state!.next_check_at) - Date.now();
    expect(untilNext).toBeGreaterThan(0.89 * 86_400_000);
    expect(untilNext).toBeLessThan(1.11 * 86_400_000);
  });

  it('serves the latest result to the owning group only, 404 to others', async () => {
    const mine = await call<DomainCheck & { pending: boolean }>('GET', `/api/domainstatus/${DOMAIN}`, member);
    expect(mine.status).toBe(200);
    expect(mine.json).toMatchObject({ domain: DOMAIN, pending: false });
    expect(mine.json.mx.findings.map((f) => f.id)).not.toContain('mx.none');
    expect((await call('GET', `/api/domainstatus/${DOMAIN}`, outsider)).status).toBe(404);
    expect((await call('GET', `/api/domainstatus/${DOMAIN}/history`, outsider)).status).toBe(404);
    expect((await call('GET', '/api/domainstatus/not-monitored.example', ADMIN)).status).toBe(404);
  });

  it('records what changed between checks and tells the group by webhook', async () => {
    // Make the stored result look as it would have a week ago, before the owner moved to p=reject.
    const latest = (await latestCheck(env.DB, DOMAIN))!;
    const before = { ...latest.check, dmarc: { ...latest.check.dmarc, record: 'v=DMARC1; p=none', findings: [...latest.check.dmarc.findings, { id: 'dmarc.policy-none', severity: 'warning' as const, title: 'p=none', advice: 'move to quarantine', reference: '' }] } };
    await env.DB.prepare('UPDATE domain_check_results SET result = ? WHERE id = ?').bind(JSON.stringify(before), latest.id).run();

    // Right after the alarm's check, an on-demand one is refused for a minute.
    expect((await call('POST', `/api/domainstatus/${DOMAIN}/recheck`, member)).status).toBe(429);
    await forgetLastRun(DOMAIN);
    const recheck = await call<{ outcome: { stored: boolean; changes: { area: string; kind: string; finding_id: string | null }[] } }>('POST', `/api/domainstatus/${DOMAIN}/recheck`, member);
    expect(recheck.status).toBe(200);
    expect(recheck.json.outcome.changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ area: 'dmarc', kind: 'record-changed' }),
        expect.objectContaining({ area: 'dmarc', kind: 'finding-cleared', finding_id: 'dmarc.policy-none' }),
      ]),
    );
    const history = await call<{ changes: { area: string; kind: string; detail: { before?: string; after?: string } }[] }>('GET', `/api/domainstatus/${DOMAIN}/history`, member);
    expect(history.json.changes.find((c) => c.kind === 'record-changed')?.detail).toEqual({ before: 'v=DMARC1; p=none', after: 'v=DMARC1; p=reject; rua=mailto:dmarc@monitor.lab.mailcheck.test' });

    const received = (await (await fetch(`${webhook}/received`)).json()) as { path: string; body: { domain: string; changes: unknown[]; text: string } }[];
    const hook = received.find((r) => r.path === '/hook' && r.body.domain === DOMAIN);
    expect(hook?.body.changes.length).toBeGreaterThanOrEqual(2);
    expect(hook?.body.text).toContain('DMARC record changed');
  });

  it('never lets a check that failed on DNS replace the last good result', async () => {
    const good = (await latestCheck(env.DB, DOMAIN))!;
    const failed: DomainCheck = {
      ...good.check,
      complete: false,
      dmarc: { record: null, findings: [{ id: 'dmarc.dns-failure', severity: 'error', title: 'DNS lookup failed (SERVFAIL)', advice: '', reference: '' }] },
      findings: [{ id: 'dmarc.dns-failure', severity: 'error', title: 'DNS lookup failed (SERVFAIL)', advice: '', reference: '', area: 'dmarc' }],
    };
    const stored = await storeCheck(env.DB, failed, new Date(Date.now() + 300_000));
    expect(stored).toMatchObject({ stored: false });
    expect((await latestCheck(env.DB, DOMAIN))?.id).toBe(good.id);
    const status = await call<{ dmarc: { record: string }; monitor: { last_error: string } }>('GET', `/api/domainstatus/${DOMAIN}`, member);
    expect(status.json.dmarc.record).toBe(good.check.dmarc.record);
    expect(status.json.monitor.last_error).toContain('SERVFAIL');
  });

  it('keeps a broken domain pending through passing failures, then stores and reports a failure that persists', async () => {
    const bogus = 'www.bogus.lab.mailcheck.test';
    expect((await call('POST', '/api/admin/domains', ADMIN, { name: bogus })).status).toBe(201);
    const before = await call<{ pending: boolean }>('GET', `/api/domainstatus/${bogus}`, ADMIN);
    expect(before.json.pending).toBe(true);
    // The bogus zone fails DNSSEC validation: SERVFAIL everywhere, so nothing is stored as "missing".
    const recheck = await call<{ outcome: { stored: boolean; reason: string } }>('POST', `/api/domainstatus/${bogus}/recheck`, ADMIN);
    expect(recheck.status).toBe(503);
    expect(recheck.json.outcome.stored).toBe(false);
    const after = await call<{ pending: boolean; monitor: { last_error: string } }>('GET', `/api/domainstatus/${bogus}`, ADMIN);
    expect(after.json).toMatchObject({ pending: true });
    expect(after.json.monitor.last_error).toBeTruthy();
    // Three failures in a row: the fourth is stored as the result, DNS failures and all.
    await forgetLastRun(bogus, 3);
    const persisted = await call<{ outcome: { stored: boolean } }>('POST', `/api/domainstatus/${bogus}/recheck`, ADMIN);
    expect(persisted.json.outcome.stored).toBe(true);
    const stored = await call<DomainCheck & { pending: boolean }>('GET', `/api/domainstatus/${bogus}`, ADMIN);
    expect(stored.json).toMatchObject({ pending: false, complete: false });
    expect(stored.json.findings.map((f) => f.id)).toEqual(expect.arrayContaining(['dmarc.dns-failure', 'dnssec.bogus']));
    expect(stored.json.findings.map((f) => f.id)).not.toContain('dmarc.no-record');
  });
});
