/**
 * The whole probe path with real parts: the Worker (wrangler's local runtime: workerd with local
 * D1, Queues and Durable Objects) checks lab domains over the DNS lab's DoH, its MX check feeds
 * the ProbeDispatcher, `mailcheck-probe run --once` leases the jobs, scans the lab's Postfix
 * servers and posts the facts back, and the grade and certificates appear in the API.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { healthy, makeSandbox, startProgrammatic, type RunningWorker, type Sandbox, type Tokens } from '../../bench/e2e.ts';
import { runCommand } from '../../probe-agent/src/run/command.ts';
import { labSetup, smtpLab } from '../lab/smtp/lab.ts';

const tokens: Tokens = { admin: randomBytes(32).toString('base64url'), ingest: randomBytes(32).toString('base64url') };
let box: Sandbox | null = null;
let worker: RunningWorker | null = null;

async function api<T>(method: string, path: string, body?: unknown, token = tokens.admin): Promise<{ status: number; body: T }> {
  const response = await fetch(`${worker!.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
}

async function until<T>(what: string, probe: () => Promise<T | null>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Runs the agent in this process, as the CLI would, capturing its JSON log lines. */
async function runAgentOnce(probeToken: string): Promise<{ code: number; logs: Record<string, unknown>[] }> {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    const code = await runCommand([
      '--api', worker!.url,
      '--token', probeToken,
      '--agent', 'e2e-agent',
      '--once',
      '--allow-targets', '127.0.0.0/8',
      '--ca-file', smtpLab().ca_file,
      '--doh', inject('dohUrl'),
      '--timeout', '5000',
    ]);
    return { code, logs: lines.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
  } finally {
    process.stdout.write = write;
  }
}

beforeAll(async () => {
  smtpLab(); // fails here, with the lab's own error, when it is not running
  box = makeSandbox();
  worker = await startProgrammatic(box, tokens, { DOH_URL: inject('dohUrl'), ENVIRONMENT: 'test' });
  if (!(await healthy(worker.url, 60_000))) throw new Error('the Worker did not answer /health');
}, 240_000);

afterAll(async () => {
  await worker?.stop();
  if (box) rmSync(box.dir, { recursive: true, force: true });
});

describe('MX found by the domain check → agent scan → grade and certificate in the API', () => {
  it('scans the modern and legacy servers of a domain with two MX hosts, once per IP', async () => {
    const modern = labSetup('modern');
    const legacy = labSetup('legacy');
    const domains = ['multi.tls.lab.mailcheck.test', 'shared.tls.lab.mailcheck.test'];
    for (const name of domains) expect((await api('POST', '/api/admin/domains', { name })).status).toBe(201);

    // The admin API schedules a first check within a minute; ask for it now instead (a check the
    // alarm already ran answers 429, and then its result is there).
    for (const name of domains) {
      await until(`the first check of ${name}`, async () => {
        const status = await api<{ mx?: unknown }>('GET', `/api/domainstatus/${name}`);
        if (status.status === 200 && status.body?.mx) return true;
        const recheck = await api<{ outcome?: { reason: string | null } }>('POST', `/api/domainstatus/${name}/recheck`);
        if (recheck.status === 200) return true;
        if (recheck.status !== 429) throw new Error(`recheck of ${name}: ${recheck.status} ${JSON.stringify(recheck.body)}`);
        return null;
      });
    }

    const created = await api<{ token: string }>('POST', '/api/admin/tokens', { name: 'e2e agent', scopes: ['probe'] });
    expect(created.status).toBe(201);
    const read = await api<{ token: string }>('POST', '/api/admin/tokens', { name: 'e2e reader', scopes: ['read'] });

    // A token without the probe scope may not lease.
    const refused = await fetch(`${worker!.url}/api/probe/lease`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${read.body.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ agent: 'intruder' }),
    });
    expect(refused.status).toBe(403);

    const run = await runAgentOnce(created.body.token);
    expect(run.code).toBe(0);
    const stored = run.logs.filter((l) => l.msg === 'result stored');
    // Two domains share mx.modern: the dispatcher deduplicates, so two IPs, two scans.
    expect(stored.map((l) => l.ip).sort()).toEqual([modern.ip, legacy.ip].sort());
    for (const l of stored) expect(l.connections as number).toBeLessThanOrEqual(40);

    const status = await api<{ mx_tls: Record<string, unknown> }>('GET', '/api/domainstatus/multi.tls.lab.mailcheck.test');
    expect(status.status).toBe(200);
    const mxTls = status.body.mx_tls as { servers: { host: string; ip: string; grade: string }[]; grade: string };
    const byIp = new Map(mxTls.servers.map((s) => [s.ip, s]));
    expect(byIp.get(modern.ip)?.grade).toBe('good');
    expect(['phase_out', 'insufficient']).toContain(byIp.get(legacy.ip)?.grade);
    // The domain is as weak as its weakest MX.
    expect(mxTls.grade).toBe(byIp.get(legacy.ip)?.grade);

    const shared = await api<{ mx_tls: { servers: { ip: string; grade: string }[] } }>('GET', '/api/domainstatus/shared.tls.lab.mailcheck.test');
    expect(shared.body.mx_tls.servers.map((s) => [s.ip, s.grade])).toEqual([[modern.ip, 'good']]);

    const certificates = await api<{ servers: { ip: string; host: string; certificates: { subject: string; sha256: string }[] }[] }>(
      'GET',
      '/api/certificates/shared.tls.lab.mailcheck.test',
    );
    expect(certificates.status).toBe(200);
    const chain = certificates.body.servers.find((s) => s.ip === modern.ip)!.certificates;
    expect(chain.length).toBe(modern.certificate!.chain_length);
    expect(chain[0]!.subject).toContain(modern.certificate!.subject_cn);
  }, 240_000);

  it('stops with exit status 1 on a token the Worker refuses, and leases nothing', async () => {
    const run = await runAgentOnce('not-a-valid-token-0123456789abcdef');
    expect(run.code).toBe(1);
    expect(run.logs.some((l) => l.msg === 'job leased')).toBe(false);
  });
});
