import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { runDailyAlerts } from '../../src/alerts/hooks';
import type { LeasedJob } from '../../src/monitor/probe-dispatcher';
import type { ProbeTargetResult } from '../../src/tls/probe-result';
import { migrate } from '../ingest/helpers';
import { certificate, probeResult } from '../tls/fixtures';
import { ADMIN, alertsOf, call, owningGroup, received } from './helpers';

/**
 * Alerts from mail-server TLS: results go through the real probe routes (lease, then post) as an agent
 * sends them; the MX map of the domain is inserted as its last check would have left it.
 */
const DOMAIN = 'probe-alerts.example';
const HOST = 'mx.probe-alerts.example';
const IP = '192.0.2.77';
const HOOK = '/alerts-tls';
const DAY_MS = 86_400_000;

const isoIn = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString().replace(/\.\d{3}Z$/, 'Z');
const dispatcher = () => env.PROBE_DISPATCHER.get(env.PROBE_DISPATCHER.idFromName('global'));
let probeToken = '';

/** Queues the server (forced: it was scanned), leases it and posts the result, as an agent would. */
async function probe(result: ProbeTargetResult) {
  await dispatcher().enqueue([{ ip: IP, host: HOST, domain: DOMAIN }], { force: true });
  const lease = await call<{ jobs: LeasedJob[] }>('POST', '/api/probe/lease', probeToken, { agent: 'alerts-test', max: 10 });
  const job = lease.json.jobs.find((j) => j.ip === IP)!;
  const posted = await call<{ grade: string }>('POST', '/api/probe/results', probeToken, { job_id: job.job_id, lease_id: job.lease_id, agent: 'alerts-test', result });
  expect(posted.status).toBe(200);
  return posted.json.grade;
}

const cert = (sha: string, notAfter: string) => certificate({ subject: `CN=${HOST}`, san_dns: [HOST], sha256: sha.repeat(64), der: 'MIIBAAAA', not_after: notAfter });
const TLS10 = { ...probeResult().protocols, 'TLSv1.0': true };

beforeAll(async () => {
  await migrate();
  await owningGroup('TLS owners', [DOMAIN], { webhookPath: HOOK, webhookKinds: ['tls_grade_fell', 'certificate_expiring'] });
  probeToken = (await call<{ token: string }>('POST', '/api/admin/tokens', ADMIN, { name: 'agent', scopes: ['probe'] })).json.token;
  await env.DB.prepare('INSERT INTO mx_addresses (domain, host, ip, preference) VALUES (?, ?, ?, 10)').bind(DOMAIN, HOST, IP).run();
});

describe('after a probe result', () => {
  it('raises nothing for a good server with a certificate valid for two months, nor for an inconclusive scan', async () => {
    expect(await probe(probeResult({ host: HOST, ip: IP, certificates: [cert('1', isoIn(60))] }))).toBe('good');
    expect(await probe(probeResult({ host: HOST, ip: IP, status: 'inconclusive', status_reason: '421 try later', certificates: [] }))).toBe('inconclusive');
    expect(await alertsOf(DOMAIN)).toEqual([]);
  });

  it('raises a grade that fell and a certificate that expires within 14 days, once each', async () => {
    const worse = probeResult({ host: HOST, ip: IP, protocols: TLS10, certificates: [cert('2', isoIn(10))] });
    expect(await probe(worse)).toBe('phase_out');
    expect(await probe({ ...worse, started_at: isoIn(0) })).toBe('phase_out');
    const alerts = await alertsOf(DOMAIN);
    expect(alerts.map((a) => [a.kind, a.subject, a.state]).sort()).toEqual([
      ['certificate_expiring', '2'.repeat(64), 'open'],
      ['tls_grade_fell', `${IP}:25`, 'open'],
    ]);
    expect(alerts.find((a) => a.kind === 'tls_grade_fell')!.detail).toMatchObject({ host: HOST, from: 'good', to: 'phase_out' });
    expect(alerts.find((a) => a.kind === 'certificate_expiring')!.title).toMatch(/^MX certificate of mx\.probe-alerts\.example expires in (9|10) days$/);
    const sent = await received<{ event: string; alert: { kind: string } }>(HOOK);
    expect(sent.map((s) => `${s.event} ${s.alert.kind}`).sort()).toEqual(['opened certificate_expiring', 'opened tls_grade_fell']);
  });

  it('resolves both when the server is good again with a renewed certificate', async () => {
    expect(await probe(probeResult({ host: HOST, ip: IP, certificates: [cert('3', isoIn(90))] }))).toBe('good');
    expect((await alertsOf(DOMAIN)).map((a) => a.state)).toEqual(['resolved', 'resolved']);
    expect((await received<{ event: string }>(HOOK)).filter((s) => s.event === 'resolved')).toHaveLength(2);
  });
});

describe('daily', () => {
  it('raises a certificate that time alone brought within 14 days, with no new scan', async () => {
    await runDailyAlerts(env);
    expect((await alertsOf(DOMAIN)).filter((a) => a.state !== 'resolved')).toEqual([]);
    await runDailyAlerts(env, new Date(Date.now() + 80 * DAY_MS));
    const open = (await alertsOf(DOMAIN)).filter((a) => a.state === 'open');
    expect(open.map((a) => [a.kind, a.subject])).toEqual([['certificate_expiring', '3'.repeat(64)]]);
  });
});
