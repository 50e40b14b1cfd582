/**
 * End to end: the real Worker (wrangler's local runtime: workerd with local D1, R2 and Queues)
 * receives the report over HTTP, and its queue consumer parses and stores it. Throughput comes from
 * the inbound row's `processing_ms`: the wall time the consumer spent on it, summed over
 * invocations. The upload→parsed wall time is reported too; it adds the queue's batching delay
 * (`max_batch_timeout` in wrangler.toml) and the polling interval.
 *
 * Isolation: the Worker is bundled once (`wrangler deploy --dry-run`, the bundle a deploy would
 * upload) into a temporary directory that also holds a copy of wrangler.toml pointing at that
 * bundle and the local state (D1, R2, Queues). So edits to src/ during a run do not rebuild and
 * reload the Worker mid-ingest, and the repository's `.wrangler/` and `.dev.vars` are not touched:
 * the tokens are passed as bindings. Nothing listens beyond 127.0.0.1.
 *
 * The Worker runs under wrangler's programmatic API (`unstable_startWorker`); if its queue consumer
 * does not run there, `wrangler dev` is spawned instead (BENCH_E2E_MODE=dev forces that).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  /** Status requests the local Worker left unanswered (abandoned after POLL_TIMEOUT_MS, asked again). */
  unansweredPolls: number;
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

export interface Tokens {
  admin: string;
  ingest: string;
}

export interface RunningWorker {
  url: string;
  stop(): Promise<void>;
}

/** The temporary world one run lives in. */
export interface Sandbox {
  dir: string;
  config: string;
  persistTo: string;
  /** wrangler.toml with `main` pointing at the prebuilt bundle; the compatibility date is filled in per start. */
  template: string;
  configuredDate: string;
}

const ROOT = resolve(import.meta.dirname, '..');
// Miniflare otherwise fetches the `Request.cf` placeholder from workers.cloudflare.com: traffic stays local.
process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false';
const POLL_MS = 100;
/** A status request not answered within this is abandoned and asked again. */
const POLL_TIMEOUT_MS = 2000;
const STARTUP_TIMEOUT_MS = 120_000;
/** A started Worker that has not answered /health by then is not going to (e.g. its compatibility date was refused). */
const HEALTH_TIMEOUT_MS = 30_000;
/** If nothing at all has happened to the inbound row by then, the local queue consumer is not running. */
const CONSUMER_START_TIMEOUT_MS = 30_000;
const TIMEOUT_MS = Number(process.env.BENCH_E2E_TIMEOUT_MS ?? 20 * 60_000);

class ConsumerNotRunning extends Error {}

function log(message: string) {
  process.stderr.write(`  e2e: ${message}\n`);
}

/** The project's own wrangler (what `npx wrangler` runs in the repository), from any directory. */
const WRANGLER = join(ROOT, 'node_modules', '.bin', 'wrangler');

export function wrangler(args: string[], cwd = ROOT): string {
  const result = spawnSync(WRANGLER, args, { cwd, env: { ...process.env, CI: 'true' }, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`wrangler ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/**
 * The compatibility date the miniflare inside wrangler calls safe (its workerd's release date).
 * workerd itself accepts a few days more, so this is only the fallback when the configured date
 * is refused.
 */
function supportedCompatibilityDate(): string | undefined {
  try {
    const fromWrangler = createRequire(createRequire(import.meta.url).resolve('wrangler'));
    return (fromWrangler('miniflare') as { supportedCompatibilityDate?: string }).supportedCompatibilityDate;
  } catch {
    return undefined; // a differently packaged wrangler
  }
}

function wranglerVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('wrangler/package.json') as { version: string }).version;
}

export function makeSandbox(): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'mailcheck-bench-'));
  try {
    const toml = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8');
    const configuredDate = /^compatibility_date\s*=\s*"([0-9-]+)"/m.exec(toml)?.[1];
    if (!configuredDate || !/^main\s*=.*$/m.test(toml)) throw new Error('wrangler.toml has no main or compatibility_date');
    wrangler(['deploy', '--dry-run', '--outdir', join(dir, 'dist'), '--config', join(ROOT, 'wrangler.toml')]);
    const template = toml
      .replace(/^main\s*=.*$/m, 'main = "dist/index.js"\nno_bundle = true')
      .replace(/^migrations_dir\s*=\s*"([^"]*)"/m, (_, d: string) => `migrations_dir = ${JSON.stringify(resolve(ROOT, d))}`);
    const box: Sandbox = { dir, config: join(dir, 'wrangler.toml'), persistTo: join(dir, 'state'), template, configuredDate };
    useCompatibilityDate(box, configuredDate);
    wrangler(['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', box.persistTo, '--config', box.config], dir);
    return box;
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function useCompatibilityDate(box: Sandbox, date: string) {
  writeFileSync(box.config, box.template.replace(/^compatibility_date\s*=.*$/m, `compatibility_date = "${date}"`));
}

/** True once GET /health answers 200; false if it has not within `ms` (workerd refused the Worker, say). */
export async function healthy(url: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).ok) return true;
    } catch {
      // not listening yet, or not answering
    }
    await sleep(300);
  }
  return false;
}

/** `vars` adds or overrides plain-text bindings (e.g. DOH_URL for a test's DNS lab). */
export async function startProgrammatic(box: Sandbox, tokens: Tokens, vars: Record<string, string> = {}): Promise<RunningWorker> {
  const { unstable_startWorker } = await import('wrangler');
  const worker = await unstable_startWorker({
    config: box.config,
    build: { bundle: false },
    bindings: {
      ENVIRONMENT: { type: 'plain_text', value: 'bench' },
      BOOTSTRAP_ADMIN_TOKEN: { type: 'secret_text', value: tokens.admin },
      INGEST_TOKEN: { type: 'secret_text', value: tokens.ingest },
      ...Object.fromEntries(Object.entries(vars).map(([name, value]) => [name, { type: 'plain_text' as const, value }])),
    },
    dev: {
      persist: box.persistTo,
      server: { hostname: '127.0.0.1', port: await freePort() },
      inspector: false,
      watch: false,
      liveReload: false,
      logLevel: 'error',
      remote: false,
      enableContainers: false,
    },
  });
  // A Worker that fails to load leaves `ready` pending: do not wait for ever.
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

async function startWranglerDev(box: Sandbox, tokens: Tokens): Promise<RunningWorker> {
  const port = await freePort();
  const args = ['dev', '--config', box.config, '--no-bundle', '--ip', '127.0.0.1', '--port', String(port),
    '--persist-to', box.persistTo, '--inspector-ip', '127.0.0.1', '--inspector-port', String(await freePort()),
    '--log-level', 'error', '--show-interactive-dev-session=false',
    '--var', 'ENVIRONMENT:bench', '--var', `BOOTSTRAP_ADMIN_TOKEN:${tokens.admin}`, '--var', `INGEST_TOKEN:${tokens.ingest}`];
  // Its own process group, so stopping it stops wrangler and workerd together (and nothing else).
  const child: ChildProcess = spawn(WRANGLER, args, {
    cwd: box.dir,
    env: { ...process.env, CI: 'true' },
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.pid === undefined) return;
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(-child.pid, 'SIGTERM');
    await Promise.race([exited, sleep(5000)]);
    if (child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
  };
  // The caller checks /health; here only that wrangler did not die at once.
  await sleep(1000);
  if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${stderr}`);
  return { url, stop };
}

async function ingestOnce(worker: RunningWorker, gz: Uint8Array, tokens: Tokens) {
  const started = performance.now();
  const upload = await fetch(`${worker.url}/api/reports?filename=bench-report.xml.gz`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${tokens.ingest}`, 'Content-Type': 'application/gzip' },
    body: gz,
  });
  const uploadMs = performance.now() - started;
  const receipt = (await upload.json()) as { inbound_id?: number; status?: string; detail?: string };
  if (upload.status !== 202 || !receipt.inbound_id) throw new Error(`upload refused: ${upload.status} ${receipt.detail ?? JSON.stringify(receipt)}`);
  if (receipt.status !== 'received') throw new Error(`upload is ${receipt.status}, not received`);

  const headers = { Authorization: `Bearer ${tokens.admin}` };
  let unanswered = 0;
  let lastLogged = performance.now();
  for (;;) {
    if (performance.now() - started > TIMEOUT_MS) throw new Error(`inbound ${receipt.inbound_id} still received after ${TIMEOUT_MS / 1000} s`);
    let response: Response;
    try {
      response = await fetch(`${worker.url}/api/inbound/${receipt.inbound_id}`, { headers, signal: AbortSignal.timeout(POLL_TIMEOUT_MS) });
    } catch (error) {
      // Locally, a request that reaches the Worker while its queue consumer is busy can go
      // unanswered for good (seen with wrangler 4.86); ask again rather than wait for it.
      if (!(error instanceof Error && error.name === 'TimeoutError')) throw error;
      unanswered++;
      continue;
    }
    if (!response.ok) throw new Error(`GET /api/inbound/${receipt.inbound_id}: ${response.status} ${await response.text()}`);
    const inbound = (await response.json()) as Inbound;
    const elapsed = performance.now() - started;
    if (inbound.status !== 'received') {
      const records = (inbound.summary?.aggregate ?? []).reduce((n, a) => n + (a.records ?? 0), 0);
      return { status: inbound.status, reason: inbound.reason, records, processingMs: inbound.processing_ms, wallMs: elapsed, uploadMs, unansweredPolls: unanswered };
    }
    const progress = inbound.in_progress?.[0]?.records_ingested ?? -1;
    const touched = progress >= 0 || inbound.attempts > 0 || inbound.processing_ms > 0;
    if (!touched && elapsed > CONSUMER_START_TIMEOUT_MS) {
      throw new ConsumerNotRunning(`the queue consumer did not pick up inbound ${receipt.inbound_id} within ${CONSUMER_START_TIMEOUT_MS / 1000} s`);
    }
    if (performance.now() - lastLogged > 10_000) {
      const error = inbound.last_error ? `; attempts ${inbound.attempts}, last_error: ${inbound.last_error}` : '';
      log(`${progress >= 0 ? progress.toLocaleString('en-US') : 'no'} records stored after ${(elapsed / 1000).toFixed(0)} s${error}`);
      lastLogged = performance.now();
    }
    await sleep(POLL_MS);
  }
}

async function run(box: Sandbox, mode: EndToEndResult['mode'], gz: Uint8Array): Promise<EndToEndResult> {
  // Secrets under 32 characters admit nobody (docs/auth.md).
  const tokens: Tokens = { admin: randomBytes(32).toString('base64url'), ingest: randomBytes(32).toString('base64url') };
  const start = mode === 'wrangler dev' ? startWranglerDev : startProgrammatic;
  const fallback = supportedCompatibilityDate();
  const dates = fallback && fallback < box.configuredDate ? [box.configuredDate, fallback] : [box.configuredDate];
  let worker: RunningWorker | null = null;
  let date = box.configuredDate;
  const failures: string[] = [];
  for (const candidate of dates) {
    date = candidate;
    useCompatibilityDate(box, date);
    log(`starting the Worker (${mode}, compatibility date ${date}) in ${box.dir}`);
    let failure: string;
    try {
      const started = await start(box, tokens);
      if (await healthy(started.url, HEALTH_TIMEOUT_MS)) {
        worker = started;
        break;
      }
      await started.stop();
      failure = `it did not answer /health within ${HEALTH_TIMEOUT_MS / 1000} s`;
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
    log(`the Worker did not start: ${failure}`);
    failures.push(`${date}: ${failure}`);
  }
  if (!worker) throw new Error(`the Worker did not start (${failures.join('; ')})`);
  const compatibilityNote =
    date === box.configuredDate
      ? null
      : `wrangler.toml asks for ${box.configuredDate}, which the workerd of wrangler ${wranglerVersion()} refused to load`;
  // Ctrl+C in the middle: stop the Worker and remove the sandbox before going.
  const running = worker;
  const onSignal = (signal: NodeJS.Signals) => {
    const exit = () => {
      rmSync(box.dir, { recursive: true, force: true });
      process.exit(signal === 'SIGINT' ? 130 : 143);
    };
    setTimeout(exit, 5000).unref();
    void running.stop().then(exit, exit);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const result = await ingestOnce(worker, gz, tokens);
    return { mode, compatibilityDate: date, compatibilityNote, ...result };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await worker.stop();
  }
}

export async function endToEnd(gz: Uint8Array): Promise<EndToEndResult> {
  if (process.env.BENCH_E2E_MODE !== 'dev') {
    const box = makeSandbox();
    try {
      return await run(box, 'unstable_startWorker', gz);
    } catch (error) {
      if (!(error instanceof ConsumerNotRunning)) throw error;
      log(`${error.message}; falling back to wrangler dev`);
    } finally {
      rmSync(box.dir, { recursive: true, force: true });
    }
  }
  const box = makeSandbox();
  try {
    return await run(box, 'wrangler dev', gz);
  } finally {
    rmSync(box.dir, { recursive: true, force: true });
  }
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
