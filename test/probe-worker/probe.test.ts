import { createExecutionContext, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import worker from '../../src/index';
import { MAX_ATTEMPTS, type LeasedJob, type ProbeDispatcher } from '../../src/monitor/probe-dispatcher';
import { migrate } from '../ingest/helpers';
import { certificate, probeResult } from '../tls/fixtures';

/**
 * The Worker side of the TLS probe against real D1 and Durable Objects: MX checks of DNS lab domains
 * (test/lab/dns/zones/checks.lab.mailcheck.test.zone) feed the ProbeDispatcher, an agent leases and
 * posts results with a probe token, and the domain's owners read grades and certificates.
 */
const ADMIN = 'test-admin-token-0123456789abcdef';
const MX_GOOD = 'mx-good.checks.lab.mailcheck.test'; // mx1.hosts, mx2.hosts, v6only.hosts
const STS = 'sts-enforce.checks.lab.mailcheck.test'; // mx1.hosts, mx2.hosts: shares servers with MX_GOOD
const MX1 = 'mx1.hosts.checks.lab.mailcheck.test';
const MX2 = 'mx2.hosts.checks.lab.mailcheck.test';

async function call<T = Record<string, unknown>>(method: string, path: string, token: string | null, body?: unknown) {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', 'CF-Connecting-IP': '192.0.2.241' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await worker.fetch(
    new Request(`https://mailcheck.test${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }),
    env,
    createExecutionContext(),
  );
  const text = await response.text();
  return { status: response.status, json: (text ? JSON.parse(text) : null) as T };
}

const tokens = { probe: '', read: '', owner: '', outsider: '' };
const dispatcher = (name = 'global') => env.PROBE_DISPATCHER.get(env.PROBE_DISPATCHER.idFromName(name));
let leased: LeasedJob[] = [];

beforeAll(async () => {
  await migrate();
  const group = (await call<{ id: number }>('POST', '/api/admin/groups', ADMIN, { name: 'Probe owners' })).json;
  const other = (await call<{ id: number }>('POST', '/api/admin/groups', ADMIN, { name: 'Probe outsiders' })).json;
  const owner = (await call<{ id: number }>('POST', '/api/admin/users', ADMIN, { email: 'owner@probe.example' })).json;
  const outsider = (await call<{ id: number }>('POST', '/api/admin/users', ADMIN, { email: 'outsider@probe.example' })).json;
  await call('PUT', `/api/admin/groups/${group.id}/members/${owner.id}`, ADMIN);
  await call('PUT', `/api/admin/groups/${other.id}/members/${outsider.id}`, ADMIN);
  for (const name of [MX_GOOD, STS]) expect((await call('POST', '/api/admin/domains', ADMIN, { name, group_ids: [group.id] })).status).toBe(201);
  const token = async (body: unknown) => (await call<{ token: string }>('POST', '/api/admin/tokens', ADMIN, body)).json.token;
  tokens.probe = await token({ name: 'agent', scopes: ['probe'] });
  tokens.read = await token({ name: 'reader', scopes: ['read'] });
  tokens.owner = await token({ name: 'owner', scopes: ['read'], user_id: owner.id });
  tokens.outsider = await token({ name: 'outsider', scopes: ['read'], user_id: outsider.id });
});

describe('MX check → ProbeDispatcher', () => {
  it('queues every MX address once, however many domains use it', async () => {
    for (const domain of [MX_GOOD, STS]) {
      const recheck = await call<{ outcome: { stored: boolean; reason: string | null } }>('POST', `/api/domainstatus/${domain}/recheck`, ADMIN);
      expect(recheck.status, JSON.stringify(recheck.json.outcome)).toBe(200);
    }
    const { jobs, counts } = await dispatcher().status();
    expect(jobs.map((j) => j.ip).sort()).toEqual(['192.0.2.101', '192.0.2.102', '2001:db8::101', '2001:db8::103']);
    expect(counts).toEqual({ queued: 4 });
    const mx1 = jobs.find((j) => j.ip === '192.0.2.101')!;
    expect(mx1).toMatchObject({ port: 25, hosts: [MX1] });
    expect(mx1.domains.sort()).toEqual([MX_GOOD, STS]);
    const rows = await env.DB.prepare('SELECT domain, host, ip FROM mx_addresses WHERE domain = ? ORDER BY ip').bind(MX_GOOD).all();
    expect(rows.results).toHaveLength(4);
  });

  it('answers pending before any server is scanned', async () => {
    const status = await call<{ mx_tls: { grade: string; pending: boolean; servers: { pending: boolean }[] } }>('GET', `/api/domainstatus/${MX_GOOD}`, tokens.owner);
    expect(status.status).toBe(200);
    expect(status.json.mx_tls).toMatchObject({ grade: 'pending', pending: true, downgrade_protection: 'none' });
    expect(status.json.mx_tls.servers.every((s) => s.pending)).toBe(true);
  });
});

describe('the agent routes', () => {
  it('lease: a probe token gets the jobs, once', async () => {
    expect((await call('POST', '/api/probe/lease', null, { agent: 'a1' })).status).toBe(401);
    expect((await call('POST', '/api/probe/lease', tokens.read, { agent: 'a1' })).status).toBe(403);
    expect((await call('POST', '/api/probe/lease', tokens.owner, { agent: 'a1' })).status).toBe(403);
    expect((await call('POST', '/api/probe/lease', tokens.probe, { agent: 'a1', max: 0 })).status).toBe(400);
    const lease = await call<{ jobs: LeasedJob[] }>('POST', '/api/probe/lease', tokens.probe, { agent: 'a1', max: 10 });
    expect(lease.status).toBe(200);
    leased = lease.json.jobs;
    expect(leased).toHaveLength(4);
    expect(leased[0]).toMatchObject({ port: 25, hosts: expect.any(Array), lease_id: expect.any(String), lease_expires_at: expect.stringMatching(/Z$/) });
    expect((await call<{ jobs: LeasedJob[] }>('POST', '/api/probe/lease', tokens.probe, { agent: 'a2' })).json.jobs).toEqual([]);
  });

  it('results: only with a probe token, a current lease and a valid result for the job\'s server', async () => {
    const job = leased.find((j) => j.ip === '192.0.2.101')!;
    const result = probeResult({ host: MX1, ip: job.ip, certificates: [certificate({ subject: `CN=${MX1}`, san_dns: [MX1], sha256: '1'.repeat(64), der: 'MIIBAAAA' })] });
    const body = { job_id: job.job_id, lease_id: job.lease_id, agent: 'a1', result };
    expect((await call('POST', '/api/probe/results', null, body)).status).toBe(401);
    expect((await call('POST', '/api/probe/results', tokens.read, body)).status).toBe(403);
    const invalid = await call<{ errors: { path: string }[] }>('POST', '/api/probe/results', tokens.probe, { ...body, result: { ...result, status: 'great', extra: 1 } });
    expect(invalid.status).toBe(400);
    expect(invalid.json.errors.map((e) => e.path)).toEqual(expect.arrayContaining(['result.status']));
    expect((await call('POST', '/api/probe/results', tokens.probe, { ...body, lease_id: 'not-the-lease' })).status).toBe(409);
    expect((await call('POST', '/api/probe/results', tokens.probe, { ...body, job_id: 999_999 })).status).toBe(409);
    expect((await call('POST', '/api/probe/results', tokens.probe, { ...body, result: { ...result, ip: '192.0.2.102' } })).status).toBe(422);

    const stored = await call<{ grade: string; completed: boolean; changed: boolean }>('POST', '/api/probe/results', tokens.probe, body);
    expect(stored.status).toBe(200);
    expect(stored.json).toMatchObject({ grade: 'good', completed: true, changed: true });
    // The lease is spent: the same post again is stale.
    expect((await call('POST', '/api/probe/results', tokens.probe, body)).status).toBe(409);
  });

  it('keeps a certificate once and history only on change', async () => {
    const mx2 = leased.find((j) => j.ip === '192.0.2.102')!;
    const sameCert = certificate({ subject: `CN=${MX2}`, san_dns: ['other.example'], sha256: '2'.repeat(64), der: 'MIICAAAA' });
    // DANE published and validated for mx2: its certificate must name it (strict), and it does not.
    const dane = { name: `_25._tcp.${MX2}`, dns_status: 'NOERROR', authenticated: true, records: [{ usage: 2, selector: 1, matching_type: 1, data: 'ab'.repeat(32) }], matched: true };
    const result = probeResult({ host: MX2, ip: mx2.ip, certificates: [sameCert], dane, protocols: { ...probeResult().protocols, 'TLSv1.0': true } });
    expect((await call('POST', '/api/probe/results', tokens.probe, { job_id: mx2.job_id, lease_id: mx2.lease_id, agent: 'a1', result })).json).toMatchObject({ grade: 'phase_out' });
    for (const job of leased.filter((j) => j.ip.includes(':'))) {
      const r = probeResult({ host: job.hosts[0]!, ip: job.ip, status: 'inconclusive', status_reason: '421 4.7.0 try later', certificates: [] });
      expect((await call('POST', '/api/probe/results', tokens.probe, { job_id: job.job_id, lease_id: job.lease_id, agent: 'a1', result: r })).status).toBe(200);
    }
    const certs = await env.DB.prepare('SELECT count(*) AS n FROM tls_certificates').first<{ n: number }>();
    expect(certs?.n).toBe(2);
    // A forced rescan with the same facts refreshes the row instead of adding history.
    await dispatcher().enqueue([{ ip: '192.0.2.101', host: MX1, domain: MX_GOOD }], { force: true });
    const [again] = (await call<{ jobs: LeasedJob[] }>('POST', '/api/probe/lease', tokens.probe, { agent: 'a1' })).json.jobs;
    const repeat = probeResult({ host: MX1, ip: '192.0.2.101', started_at: '2026-11-26T12:00:00Z', certificates: [certificate({ subject: `CN=${MX1}`, san_dns: [MX1], sha256: '1'.repeat(64), der: 'MIIBAAAA' })] });
    expect((await call('POST', '/api/probe/results', tokens.probe, { job_id: again!.job_id, lease_id: again!.lease_id, agent: 'a1', result: repeat })).json).toMatchObject({ changed: false });
    const history = await env.DB.prepare("SELECT count(*) AS n, max(scanned_at) AS last FROM tls_probe_results WHERE ip = '192.0.2.101'").first<{ n: number; last: string }>();
    expect(history).toEqual({ n: 1, last: '2026-11-26T12:00:00Z' });
  });
});

describe('what the domain owner reads', () => {
  it('domainstatus mx_tls: per server grades and the roll-up', async () => {
    const status = await call<{ mx_tls: { grade: string; pending: boolean; downgrade_protection: string; servers: { ip: string; grade: string | null; strict: boolean; certificate_findings: { id: string }[] }[] } }>('GET', `/api/domainstatus/${MX_GOOD}`, tokens.owner);
    expect(status.status).toBe(200);
    const tls = status.json.mx_tls;
    expect(tls).toMatchObject({ grade: 'phase_out', pending: false, downgrade_protection: 'none' });
    const byIp = new Map(tls.servers.map((s) => [s.ip, s]));
    expect(byIp.get('192.0.2.101')).toMatchObject({ grade: 'good', strict: false, certificate_findings: [] });
    expect(byIp.get('192.0.2.102')).toMatchObject({ grade: 'phase_out', strict: true });
    expect(byIp.get('192.0.2.102')!.certificate_findings.map((f) => f.id)).toEqual(['certificate.name-mismatch-strict']);
    expect(byIp.get('2001:db8::103')).toMatchObject({ grade: 'inconclusive' });
    expect((await call('GET', `/api/domainstatus/${MX_GOOD}`, tokens.outsider)).status).toBe(404);
  });

  it('certificates: the chain per MX host and IP, for the owning group only', async () => {
    const certs = await call<{ servers: { host: string; ip: string; pending: boolean; certificates: { sha256: string; der?: string }[]; findings: { id: string }[] }[] }>('GET', `/api/certificates/${MX_GOOD}`, tokens.owner);
    expect(certs.status).toBe(200);
    const mx1 = certs.json.servers.find((s) => s.ip === '192.0.2.101')!;
    expect(mx1).toMatchObject({ host: MX1, pending: false, findings: [] });
    expect(mx1.certificates[0]).toMatchObject({ sha256: '1'.repeat(64) });
    expect(mx1.certificates[0]!.der).toBeUndefined();
    expect((await call('GET', `/api/certificates/${MX_GOOD}`, tokens.outsider)).status).toBe(404);
    const one = await call<{ der: string; pem: string }>('GET', `/api/certificates/sha256/${'1'.repeat(64)}`, tokens.owner);
    expect(one.status).toBe(200);
    expect(one.json).toMatchObject({ der: 'MIIBAAAA', pem: expect.stringContaining('BEGIN CERTIFICATE') });
    expect((await call('GET', `/api/certificates/sha256/${'1'.repeat(64)}`, tokens.outsider)).status).toBe(404);
    expect((await call('GET', '/api/certificates/sha256/xyz', tokens.owner)).status).toBe(400);
  });
});

describe('ProbeDispatcher', () => {
  const target = (ip: string, domain: string) => ({ ip, host: `mx.${domain}`, domain });

  it('deduplicates across domains and skips servers scanned within the interval unless forced', async () => {
    const stub = dispatcher('dedupe');
    expect(await stub.enqueue([target('198.51.100.1', 'a.example'), target('198.51.100.1', 'b.example'), target('198.51.100.2', 'a.example')])).toEqual({ queued: 2, skipped: 0 });
    expect(await stub.enqueue([target('198.51.100.1', 'c.example')])).toEqual({ queued: 1, skipped: 0 });
    const jobs = await stub.lease('t', 10);
    expect(jobs.map((j) => j.ip).sort()).toEqual(['198.51.100.1', '198.51.100.2']);
    for (const job of jobs) expect((await stub.complete(job.job_id, job.lease_id)).ok).toBe(true);
    expect(await stub.enqueue([target('198.51.100.1', 'a.example')])).toEqual({ queued: 0, skipped: 1 });
    expect(await stub.enqueue([target('198.51.100.1', 'a.example')], { force: true })).toEqual({ queued: 1, skipped: 0 });
    const status = await stub.status();
    expect(status.jobs.find((j) => j.ip === '198.51.100.1')?.domains).toEqual(['a.example']);
  });

  it('returns an expired lease to the queue from its alarm, and gives up after the attempts', async () => {
    const stub = dispatcher('leases');
    await stub.enqueue([target('203.0.113.9', 'crash.example')]);
    const expire = () => runInDurableObject(stub, (_instance: ProbeDispatcher, state) => void state.storage.sql.exec('UPDATE jobs SET lease_expires_at = 0'));
    let previous: LeasedJob | undefined;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const [job] = await stub.lease('crashy', 1);
      expect(job, `attempt ${attempt}`).toBeDefined();
      if (previous) expect(job!.lease_id).not.toBe(previous.lease_id);
      previous = job;
      await expire();
      expect(await runDurableObjectAlarm(stub)).toBe(true);
    }
    expect(await stub.checkLease(previous!.job_id, previous!.lease_id)).toEqual({ ok: false, reason: 'stale lease' });
    expect(await stub.lease('crashy', 1)).toEqual([]);
    expect((await stub.status()).counts).toEqual({ failed: 1 });
    // A failed server rests for the interval, like a scanned one; a forced enqueue brings it back.
    expect(await stub.enqueue([target('203.0.113.9', 'crash.example')])).toEqual({ queued: 0, skipped: 1 });
    expect(await stub.enqueue([target('203.0.113.9', 'crash.example')], { force: true })).toEqual({ queued: 1, skipped: 0 });
  });

  it('keeps a live lease through the alarm', async () => {
    const stub = dispatcher('live');
    await stub.enqueue([target('203.0.113.10', 'live.example')]);
    const [job] = await stub.lease('steady', 1);
    await runDurableObjectAlarm(stub);
    expect(await stub.checkLease(job!.job_id, job!.lease_id)).toEqual({ ok: true, ip: '203.0.113.10', port: 25 });
  });
});

