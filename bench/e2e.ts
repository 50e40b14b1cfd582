/**
 * End to end: the real Worker (wrangler's local runtime: workerd with local D1, R2 and Queues,
 * persisted in a temporary directory) receives the report over HTTP, and its queue consumer parses
 * and stores it. Throughput comes from the inbound row's `processing_ms`: the wall time the consumer
 * spent on it, summed over invocations. The upload→parsed wall time is printed too; it adds the
 * queue's batching delay (`max_batch_timeout` in wrangler.toml) and the polling interval.
 *
 * The Worker is started with wrangler's programmatic API (`unstable_startWorker`); if its queue
 * consumer does not run there, `wrangler dev` is spawned instead. Nothing listens beyond 127.0.0.1,
 * and the repository's `.dev.vars` and `.wrangler/` are left alone: tokens are passed as bindings.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface EndToEndResult {
  mode: 'unstable_startWorker' | 'wrangler dev';
  /** The compatibility date the Worker ran with, and why when it is not wrangler.toml's. */
  compatibilityDate: string;
  compatibilityNote: string | null;
  status: string;
  reason: string | null;
  records: number;
  processingMs: number;
  /** POST sent → inbound row no longer `received`, as seen by polling. */
  wallMs: number;
  uploadMs: number;
}

interface Inbound {
  status: string;
  reason: string | null;
  attempts: number;
  last_error: string | null;
  processing_ms: number;
  summary: { aggregate?: { status: string; records?: number }[] } | null;
  in_progress?: { records_ingested: number }[];
}

const ROOT = resolve(import.meta.dirname, '..');
const POLL_MS = 100;
/** If nothing at all has happened to the inbound row by then, the local queue consumer is not running. */
const CONSUMER_START_TIMEOUT_MS = 30_000;
const STARTUP_TIMEOUT_MS = 120_000;
const TIMEOUT_MS = Number(process.env.BENCH_E2E_TIMEOUT_MS ?? 20 * 60_000);

/**
 * wrangler.toml may name a compatibility date newer than the workerd bundled with the installed
 * wrangler supports (workerd then refuses to start the Worker). Run with the newest date that
 * workerd supports instead, and say so: read from the miniflare wrangler itself loads.
 */
function compatibilityDate(): { date: string; note: string | null } {
  const configured = /^compatibility_date\s*=\s*"([0-9-]+)"/m.exec(readFileSync(join(ROOT, 'wrangler.toml'), 'utf8'))?.[1];
  let supported: string | undefined;
  try {
    const fromWrangler = createRequire(createRequire(import.meta.url).resolve('wrangler'));
    supported = (fromWrangler('miniflare') as { supportedCompatibilityDate?: string }).supportedCompatibilityDate;
  } catch {
    // an older or differently packaged wrangler: use the configured date
  }
  if (!configured) throw new Error('no compatibility_date in wrangler.toml');
  if (!supported || configured <= supported) return { date: configured, note: null };
  return {
    date: supported,
    note: `wrangler.toml asks for ${configured}; the workerd bundled with this wrangler supports up to ${supported}`,
  };
}

interface RunningWorker {
  url: string;
  stop(): Promise<void>;
}

function log(message: string) {
  process.stderr.write(`  e2e: ${message}\n`);
}

function applyMigrations(persistTo: string) {
  const result = spawnSync('npx', ['wrangler', 'd1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persistTo], {
    cwd: ROOT,
    env: { ...process.env, CI: 'true' },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`wrangler d1 migrations apply failed:\n${result.stdout}\n${result.stderr}`);
}

async function startProgrammatic(persistTo: string, tokens: Tokens): Promise<RunningWorker> {
  const { unstable_startWorker } = await import('wrangler');
  const worker = await unstable_startWorker({
    config: join(ROOT, 'wrangler.toml'),
    compatibilityDate: compatibilityDate().date,
    bindings: {
      ENVIRONMENT: { type: 'plain_text', value: 'bench' },
      BOOTSTRAP_ADMIN_TOKEN: { type: 'secret_text', value: tokens.admin },
      INGEST_TOKEN: { type: 'secret_text', value: tokens.ingest },
    },
    dev: {
      persist: persistTo,
      server: { hostname: '127.0.0.1', port: await freePort() },
      inspector: false,
      watch: false,
      liveReload: false,
      logLevel: 'error',
      remote: false,
      enableContainers: false,
    },
  });
  // A Worker that fails to build or start leaves `ready` pending: do not wait for ever.
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the Worker did not start within ${STARTUP_TIMEOUT_MS / 1000} s`)), STARTUP_TIMEOUT_MS);
  });
  try {
    await Promise.race([worker.ready, timeout]);
    const url = (await Promise.race([worker.url, timeout])).toString().replace(/\/$/, '');
    return { url, stop: () => worker.dispose() };
  } catch (error) {
    await worker.dispose().catch(() => undefined);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

async function startWranglerDev(persistTo: string, tokens: Tokens): Promise<RunningWorker> {
  const port = await freePort();
  const args = ['wrangler', 'dev', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', persistTo,
    '--inspector-ip', '127.0.0.1', '--inspector-port', String(await freePort()), '--log-level', 'error',
    '--compatibility-date', compatibilityDate().date, '--show-interactive-dev-session=false',
    '--var', 'ENVIRONMENT:bench', '--var', `BOOTSTRAP_ADMIN_TOKEN:${tokens.admin}`, '--var', `INGEST_TOKEN:${tokens.ingest}`];
  // Own process group, so that stopping it stops npx, wrangler and workerd together (and nothing else).
  const child: ChildProcess = spawn('npx', args, { cwd: ROOT, env: { ...process.env, CI: 'true' }, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.pid === undefined) return;
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(-child.pid, 'SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
  };
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${stderr}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return { url, stop };
    } catch {
      // not listening yet
    }
    await sleep(300);
  }
  await stop();
  throw new Error(`wrangler dev did not answer on ${url}:\n${stderr}`);
}

interface Tokens {
  admin: string;
  ingest: string;
}

class ConsumerNotRunning extends Error {}

async function ingestOnce(worker: RunningWorker, gz: Uint8Array, tokens: Tokens, mode: EndToEndResult['mode']): Promise<EndToEndResult> {
  const started = performance.now();
  const upload = await fetch(`${worker.url}/api/reports?filename=bench-report.xml.gz`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${tokens.ingest}`, 'Content-Type': 'application/gzip' },
    body: gz,
  });
  const uploadMs = performance.now() - started;
  const receipt = (await upload.json()) as { inbound_id?: number; status?: string; detail?: string };
  if (upload.status !== 202 || !receipt.inbound_id) throw new Error(`upload refused: ${upload.status} ${receipt.detail ?? JSON.stringify(receipt)}`);
  if (receipt.status !== 'received') throw new Error(`upload is ${receipt.status}, not received (a stale database?)`);

  const headers = { Authorization: `Bearer ${tokens.admin}` };
  let lastProgress = -1;
  let lastLogged = performance.now();
  for (;;) {
    const response = await fetch(`${worker.url}/api/inbound/${receipt.inbound_id}`, { headers });
    if (!response.ok) throw new Error(`GET /api/inbound/${receipt.inbound_id}: ${response.status} ${await response.text()}`);
    const inbound = (await response.json()) as Inbound;
    const elapsed = performance.now() - started;
    if (inbound.status !== 'received') {
      const records = (inbound.summary?.aggregate ?? []).reduce((n, a) => n + (a.records ?? 0), 0);
      const compat = compatibilityDate();
      return { mode, compatibilityDate: compat.date, compatibilityNote: compat.note, status: inbound.status, reason: inbound.reason, records, processingMs: inbound.processing_ms, wallMs: elapsed, uploadMs };
    }
    const progress = inbound.in_progress?.[0]?.records_ingested ?? -1;
    const touched = progress >= 0 || inbound.attempts > 0 || inbound.processing_ms > 0;
    if (!touched && elapsed > CONSUMER_START_TIMEOUT_MS) throw new ConsumerNotRunning(`queue consumer did not pick up inbound ${receipt.inbound_id} in ${CONSUMER_START_TIMEOUT_MS / 1000} s`);
    if (inbound.last_error) log(`attempt ${inbound.attempts} failed: ${inbound.last_error}`);
    if (elapsed > TIMEOUT_MS) throw new Error(`inbound ${receipt.inbound_id} still received after ${TIMEOUT_MS / 1000} s (${progress} records stored)`);
    if (progress !== lastProgress && performance.now() - lastLogged > 5000) {
      log(`${progress >= 0 ? progress.toLocaleString('en-US') : 'no'} records stored after ${(elapsed / 1000).toFixed(0)} s`);
      lastProgress = progress;
      lastLogged = performance.now();
    }
    await sleep(POLL_MS);
  }
}

async function withWorker(
  start: (persistTo: string, tokens: Tokens) => Promise<RunningWorker>,
  mode: EndToEndResult['mode'],
  gz: Uint8Array,
): Promise<EndToEndResult> {
  const persistTo = mkdtempSync(join(tmpdir(), 'mailcheck-bench-'));
  const tokens: Tokens = { admin: randomBytes(18).toString('base64url'), ingest: randomBytes(18).toString('base64url') };
  try {
    applyMigrations(persistTo);
    log(`starting the Worker (${mode}), state in ${persistTo}`);
    const worker = await start(persistTo, tokens);
    try {
      return await ingestOnce(worker, gz, tokens, mode);
    } finally {
      await worker.stop();
    }
  } finally {
    rmSync(persistTo, { recursive: true, force: true });
  }
}

export async function endToEnd(gz: Uint8Array): Promise<EndToEndResult> {
  if (process.env.BENCH_E2E_MODE !== 'dev') {
    try {
      return await withWorker(startProgrammatic, 'unstable_startWorker', gz);
    } catch (error) {
      if (!(error instanceof ConsumerNotRunning)) throw error;
      log(`${error.message}; falling back to wrangler dev`);
    }
  }
  return withWorker(startWranglerDev, 'wrangler dev', gz);
}

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}
