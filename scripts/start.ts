/**
 * `npm start`: the whole system locally. Creates `.dev.vars` (development secrets) if missing,
 * applies the D1 migrations to the local database, starts `wrangler dev` (local D1, R2, Queues),
 * ingests the sample reports through the real pipeline on first run (emails through the email()
 * handler, bare files through POST /api/reports), then prints the URL and the token to sign in with.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { reportEmail } from './lib/report-email';

const PORT = Number(process.env.PORT ?? 8787);
const BASE = `http://127.0.0.1:${PORT}`;
const DEV_VARS = '.dev.vars';

function readDevVars(): Record<string, string> {
  if (!existsSync(DEV_VARS)) {
    const token = () => randomBytes(24).toString('base64url');
    writeFileSync(
      DEV_VARS,
      [
        '# Local development secrets, made by `npm start`; never commit this file.',
        'ENVIRONMENT=development',
        `BOOTSTRAP_ADMIN_TOKEN=${token()}`,
        `INGEST_TOKEN=${token()}`,
        '',
      ].join('\n'),
    );
    console.log(`created ${DEV_VARS} with fresh development tokens`);
  }
  const vars: Record<string, string> = {};
  for (const line of readFileSync(DEV_VARS, 'utf8').split('\n')) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match?.[1]) vars[match[1]] = match[2] ?? '';
  }
  return vars;
}

function wrangler(args: string[]) {
  const result = spawnSync('npx', ['wrangler', ...args], { stdio: 'inherit', env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' } });
  if (result.status !== 0) throw new Error(`wrangler ${args.join(' ')} failed`);
}

async function waitForHealth(timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${BASE}/health`, { signal: AbortSignal.timeout(5000) })).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`wrangler dev did not answer on ${BASE} within ${timeoutMs / 1000} s`);
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/**
 * fetch against the local Worker with a time-out, asked again when it runs out: wrangler's local
 * runtime can hold a request for minutes while its one thread is busy (seen: 275 s while the sender
 * look-ups of the large sample failed on a machine without a network). Only for requests that are safe
 * to repeat (reads, and admin creations that answer 409 the second time).
 */
async function local(path: string, init: RequestInit = {}, timeoutMs = 10_000, attempts = 30): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(`${BASE}${path}`, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      if (attempt >= attempts || !(error instanceof Error && error.name === 'TimeoutError')) throw error;
    }
  }
}

const MAIL_URL = `${BASE}/cdn-cgi/handler/email?from=${encodeURIComponent('reports@receiver.example')}&to=${encodeURIComponent('rua@localhost')}`;

async function upload(name: string, bytes: Uint8Array, ingestToken: string): Promise<string> {
  // Not repeated on a time-out: a second upload of the same bytes would be a second inbound row.
  const response = await local(`/api/reports?filename=${encodeURIComponent(name)}`, { method: 'POST', headers: { Authorization: `Bearer ${ingestToken}` }, body: bytes }, 120_000, 1);
  const body = (await response.json()) as { detail?: string };
  return `${response.status}${body.detail ? ` ${body.detail}` : ''}`;
}

/**
 * Sends every sample through the pipeline: emails through the email() handler (compressed reports
 * wrapped in one, as receivers send them), bare XML and JSON through the upload API. Files the local
 * email endpoint will not take (mbox exports starting with a `From ` line) are uploaded instead,
 * which is how such a backlog would be backfilled.
 */
async function ingestSamples(adminToken: string, ingestToken: string): Promise<void> {
  for (const path of files('samples/reports').sort()) {
    const bytes = new Uint8Array(readFileSync(path));
    const name = basename(path);
    if (name.endsWith('.eml') || name.endsWith('.gz') || name.endsWith('.zip')) {
      const raw = name.endsWith('.eml') ? bytes : reportEmail([{ filename: name, contentType: 'application/octet-stream', bytes }]);
      const response = await fetch(MAIL_URL, { method: 'POST', body: raw, signal: AbortSignal.timeout(120_000) });
      if (response.ok) {
        console.log(`  mail   ${name}: ${response.status}`);
        continue;
      }
      console.log(`  mail   ${name}: refused by the local email endpoint (${response.status}), uploading instead`);
    }
    console.log(`  upload ${name}: ${await upload(name, bytes, ingestToken)}`);
  }
  // Wait for the queue consumer to settle every inbound message.
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const response = await local('/api/inbound?status=received&limit=1', { headers: { Authorization: `Bearer ${adminToken}` } }, 10_000, 1).catch(() => null);
    if (response) {
      const body = (await response.json()) as { items: unknown[] };
      if (body.items.length === 0) return;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  console.log('  some sample messages are still being processed; they appear in the UI as they finish');
}

const DEV_ADMIN = 'admin@dev.mailcheck.example';

/** The administrator to sign in as locally; created through the admin API with the bootstrap token. */
async function ensureDevAdmin(adminToken: string) {
  const response = await local('/api/admin/users', {
    method: 'POST',
    headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: DEV_ADMIN, name: 'Local administrator', role: 'admin' }),
  });
  if (!response.ok && response.status !== 409) throw new Error(`could not create ${DEV_ADMIN}: ${response.status} ${await response.text()}`);
}

/**
 * Monitors the domains the sample reports are about, so the web UI's domain list, domain pages and
 * reports have something to show. Their first checks run within a minute over the configured DoH
 * resolver (DOH_URL; Cloudflare's by default). A domain already there answers 409: fine.
 */
async function monitorSampleDomains(adminToken: string) {
  const headers = { Authorization: `Bearer ${adminToken}` };
  const reports = (await (await local('/api/reports?limit=500', { headers })).json()) as { items: { domain: string }[] };
  for (const name of new Set(reports.items.map((r) => r.domain))) {
    const response = await local('/api/admin/domains', {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name }),
    });
    if (!response.ok && response.status !== 409) console.log(`could not monitor ${name}: ${response.status} ${await response.text()}`);
  }
}

async function summary(adminToken: string) {
  const headers = { Authorization: `Bearer ${adminToken}` };
  const inbound = (await (await local('/api/inbound?limit=500', { headers })).json()) as { items: { status: string }[] };
  const counts = new Map<string, number>();
  for (const item of inbound.items) counts.set(item.status, (counts.get(item.status) ?? 0) + 1);
  const reports = (await (await local('/api/reports?limit=500', { headers })).json()) as { items: unknown[] };
  console.log(`  inbound messages: ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}`);
  console.log(`  aggregate reports stored: ${reports.items.length}`);
}

async function main() {
  const vars = readDevVars();
  const adminToken = vars.BOOTSTRAP_ADMIN_TOKEN ?? '';
  const ingestToken = vars.INGEST_TOKEN ?? '';
  console.log('applying D1 migrations to the local database…');
  wrangler(['d1', 'migrations', 'apply', 'DB', '--local']);

  const dev = spawn('npx', ['wrangler', 'dev', '--ip', '127.0.0.1', '--port', String(PORT)], {
    stdio: ['inherit', 'pipe', 'pipe'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
  });
  dev.stdout.pipe(process.stdout);
  dev.stderr.pipe(process.stderr);
  const stop = () => dev.kill('SIGINT');
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  dev.on('exit', (code) => process.exit(code ?? 0));

  await waitForHealth(90_000);
  const headers = { Authorization: `Bearer ${adminToken}` };
  const existing = (await (await local('/api/inbound?limit=1', { headers })).json()) as { items: unknown[] };
  if (existing.items.length === 0) {
    console.log('ingesting the sample reports through the pipeline…');
    await ingestSamples(adminToken, ingestToken);
  }
  await ensureDevAdmin(adminToken);
  await monitorSampleDomains(adminToken);
  await summary(adminToken);
  console.log(`
MailCheck Edge is running at ${BASE}

  Sign in (development only) as ${DEV_ADMIN}: ${BASE}/auth/dev-sign-in?email=${DEV_ADMIN}
  then open the web UI at ${BASE}/ (domains, reports, metrics, administration);
  the JSON API is under ${BASE}/api/ (spec: ${BASE}/api/openapi.json).

  Or use the bootstrap admin token from ${DEV_VARS}:
    export MAILCHECK_TOKEN=${adminToken}
    curl -H "Authorization: Bearer $MAILCHECK_TOKEN" ${BASE}/api/reports
    curl -H "Authorization: Bearer $MAILCHECK_TOKEN" ${BASE}/api/inbound
  Upload a report:   curl -H "Authorization: Bearer ${ingestToken}" --data-binary @report.xml.gz ${BASE}/api/reports
  Send a report email: curl --data-binary @report.eml '${BASE}/cdn-cgi/handler/email?from=a@receiver.example&to=rua@localhost'

Press Ctrl+C to stop.`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
