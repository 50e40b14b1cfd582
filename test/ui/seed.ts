/**
 * Fills the UI tests' Worker through its public interfaces only, as people and agents would: the
 * sample reports uploaded (as `npm start` does), users, a group and domains through the admin API,
 * first domain checks against the DNS lab, and one probe-agent pass over the SMTP lab.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Tokens } from '../../bench/e2e.ts';
import { runCommand } from '../../probe-agent/src/run/command.ts';
import type { SmtpLab } from '../lab/smtp/lab.ts';

export interface Seeded {
  users: { admin: string; member: string; outsider: string };
  group: { id: number; name: string };
  /** Domains the member's group owns (checked in the DNS lab, except example.com). */
  memberDomains: string[];
  /** Domains only administrators see. */
  otherDomains: string[];
  /** A domain with MX servers scanned by the probe agent (a good and a weak one). */
  tlsDomain: string;
}

const SAMPLES = resolve(import.meta.dirname, '../../samples/reports');

export const USERS = { admin: 'admin@ui.mailcheck.test', member: 'member@ui.mailcheck.test', outsider: 'outsider@ui.mailcheck.test' };
const MEMBER_DOMAINS = ['monitor.lab.mailcheck.test', 'weak.dmarc.lab.mailcheck.test', 'multi.tls.lab.mailcheck.test', 'example.com'];
const OTHER_DOMAINS = ['strong.dmarc.lab.mailcheck.test', 'broken.dmarc.lab.mailcheck.test', 'modern.tls.lab.mailcheck.test'];

interface Context {
  baseUrl: string;
  tokens: Tokens;
  dohUrl: string;
  lab: SmtpLab;
}

async function call<T>(ctx: Context, method: string, path: string, body?: unknown, token = ctx.tokens.admin): Promise<{ status: number; body: T }> {
  const response = await fetch(`${ctx.baseUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
}

async function must<T>(ctx: Context, method: string, path: string, body?: unknown): Promise<T> {
  const result = await call<T>(ctx, method, path, body);
  if (result.status >= 300) throw new Error(`${method} ${path}: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
}

async function until<T>(what: string, probe: () => Promise<T | null>, ms = 90_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Every sample through POST /api/reports (a raw email or a bare file: the content decides), then settled. */
async function uploadSamples(ctx: Context) {
  for (const path of files(SAMPLES).sort()) {
    const response = await fetch(`${ctx.baseUrl}/api/reports?filename=${encodeURIComponent(basename(path))}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ctx.tokens.ingest}` },
      body: readFileSync(path),
    });
    await response.arrayBuffer();
  }
  await until('the sample reports to be processed', async () => {
    const inbound = await call<{ items: unknown[] }>(ctx, 'GET', '/api/inbound?status=received&limit=1');
    return inbound.body.items.length === 0 ? true : null;
  });
}

/** The first check of a lab domain, asked for now rather than waiting for its alarm (429: it already ran). */
async function firstCheck(ctx: Context, domain: string) {
  await until(`the first check of ${domain}`, async () => {
    const status = await call<{ pending?: boolean }>(ctx, 'GET', `/api/domainstatus/${domain}`);
    if (status.status === 200 && status.body.pending === false) return true;
    const recheck = await call(ctx, 'POST', `/api/domainstatus/${domain}/recheck`);
    if (recheck.status === 200) return true;
    if (recheck.status !== 429) throw new Error(`recheck of ${domain}: ${recheck.status} ${JSON.stringify(recheck.body)}`);
    return null;
  });
}

/** One pass of the real probe agent: leases the MX jobs the checks queued and scans the lab's Postfix servers. */
async function scanMailServers(ctx: Context) {
  const { token } = await must<{ token: string }>(ctx, 'POST', '/api/admin/tokens', { name: 'ui tests probe agent', scopes: ['probe'] });
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write; // the agent logs JSON lines
  try {
    const code = await runCommand(['--api', ctx.baseUrl, '--token', token, '--agent', 'ui-tests', '--once', '--allow-targets', '127.0.0.0/8', '--ca-file', ctx.lab.ca_file, '--doh', ctx.dohUrl, '--timeout', '5000']);
    if (code !== 0) throw new Error(`the probe agent exited with ${code}`);
  } finally {
    process.stdout.write = write;
  }
}

export async function seed(args: Context): Promise<Seeded> {
  const ctx = args;
  await uploadSamples(ctx);
  const group = await must<{ id: number; name: string }>(ctx, 'POST', '/api/admin/groups', { name: 'Lab agency' });
  await must(ctx, 'POST', '/api/admin/users', { email: USERS.admin, name: 'UI administrator', role: 'admin' });
  const member = await must<{ id: number }>(ctx, 'POST', '/api/admin/users', { email: USERS.member, name: 'UI member', role: 'member' });
  await must(ctx, 'POST', '/api/admin/users', { email: USERS.outsider, name: 'Nobody’s member', role: 'member' });
  await must(ctx, 'PUT', `/api/admin/groups/${group.id}/members/${member.id}`);
  for (const name of MEMBER_DOMAINS) await must(ctx, 'POST', '/api/admin/domains', { name, group_ids: [group.id] });
  for (const name of OTHER_DOMAINS) await must(ctx, 'POST', '/api/admin/domains', { name });
  for (const name of [...MEMBER_DOMAINS, ...OTHER_DOMAINS].filter((d) => d.endsWith('.lab.mailcheck.test'))) await firstCheck(ctx, name);
  await scanMailServers(ctx);
  return { users: USERS, group, memberDomains: MEMBER_DOMAINS, otherDomains: OTHER_DOMAINS, tlsDomain: 'multi.tls.lab.mailcheck.test' };
}
