/**
 * `mailcheck-probe run --api URL --token T [options]`: the daemon (docs/probe-agent.md). The token
 * may come from MAILCHECK_PROBE_TOKEN instead of the command line, where `ps` would show it; the API
 * from MAILCHECK_API. Exit status: 0 stopped by a signal (or --once done), 1 a fatal error (bad
 * token, unreachable API with --once), 2 usage error.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { createDohResolver, DEFAULT_DOH_URL } from '../../../src/dns/doh-client.ts';
import { parsePemBundle } from '../certificates/chain.ts';
import { createScanCache, scanTarget } from '../scan/scan-target.ts';
import { AgentUnauthorized, createProbeApi } from './api-client.ts';
import { runDaemon } from './daemon.ts';
import { createLogger, type Level } from './log.ts';
import { UsageError } from '../../../src/cli/usage-error.ts';

export const RUN_USAGE = `Usage: mailcheck-probe run --api <url> --token <token> [options]

Leases mail-server IPs from the MailCheck Edge Worker, scans each over STARTTLS on
port 25, and posts the results back. Runs until SIGTERM or SIGINT.
  --api <url>               the Worker's base URL (or MAILCHECK_API)
  --token <token>           an API token with the "probe" scope (or MAILCHECK_PROBE_TOKEN)
  --agent <name>            this agent's name in leases and logs (default: host name)
  --concurrency <n>         IPs scanned at once (default 8; one connection at a time per IP)
  --poll-interval <s>       wait between leases when the queue is empty (default 30)
  --once                    stop when the queue is empty (for tests and cron)
  --cache-ttl <s>           reuse an IP's scan for this long across jobs (default 3600)
  --doh <url>               DNS-over-HTTPS resolver for DANE (TLSA) lookups (default Cloudflare's)
  --allow-targets <cidr>    scan private/loopback/reserved addresses in this range (repeatable)
  --ca-file <pem>           extra trust anchors for chain verification
  --ehlo <name>             the EHLO name (default: host name)
  --timeout <ms>            per wait on a server (default 10000)
  --max-connections <n>     TCP connections per IP (default 40)
  --log-level <level>       debug, info (default), warn or error
Logs are JSON lines on stdout.`;

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${name} must be a positive number, not "${text}"`);
  return n;
}

export async function runCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${RUN_USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${RUN_USAGE}\n`);
    return 0;
  }
  try {
    const api = values.api ?? env.MAILCHECK_API;
    const token = values.token ?? env.MAILCHECK_PROBE_TOKEN;
    if (!api) throw new UsageError('--api (or MAILCHECK_API) is required');
    if (!/^https?:\/\//.test(api)) throw new UsageError(`--api must be an http(s) URL, not "${api}"`);
    if (!token) throw new UsageError('--token (or MAILCHECK_PROBE_TOKEN) is required');
    const level = (values['log-level'] ?? 'info') as Level;
    if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError(`--log-level must be debug, info, warn or error`);
    const agent = values.agent ?? hostname();
    const log = createLogger({ level, base: { agent } });
    const extraTrustAnchors = values['ca-file'] ? parsePemBundle(readFileSync(values['ca-file'], 'utf8')) : [];
    const dohUrl = values.doh ?? DEFAULT_DOH_URL;
    const cache = createScanCache({ ttlMs: positive('--cache-ttl', values['cache-ttl'], 3600) * 1000 });
    const scanOptions = {
      allowTargets: values['allow-targets'] ?? [],
      extraTrustAnchors,
      ehloName: values.ehlo ?? hostname(),
      timeoutMs: positive('--timeout', values.timeout, 10_000),
      maxConnections: positive('--max-connections', values['max-connections'], 40),
      cache,
    };
    const controller = new AbortController();
    const stop = (signal: NodeJS.Signals) => {
      log.info('signal received; stopping after the scans in flight', { signal });
      controller.abort();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    try {
      await runDaemon({
        api: createProbeApi({
          api,
          token,
          agent,
          onRetry: (what, attempt, delayMs, why) => log.warn('retrying', { what, attempt, delay_ms: delayMs, why }),
        }),
        // A fresh resolver per job: its cache lives as long as the resolver, and TLSA records change.
        scan: (job) =>
          scanTarget({ host: job.hosts[0] ?? job.ip, ip: job.ip, port: job.port }, { ...scanOptions, daneResolver: createDohResolver({ url: dohUrl }) }),
        log,
        concurrency: Math.floor(positive('--concurrency', values.concurrency, 8)),
        pollIntervalMs: positive('--poll-interval', values['poll-interval'], 30) * 1000,
        once: values.once ?? false,
        signal: controller.signal,
        shutdownGraceMs: 60_000,
      });
    } finally {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
    }
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n${RUN_USAGE}\n`);
      return 2;
    }
    const message = error instanceof AgentUnauthorized ? `not authorised: ${error.message}` : error instanceof Error ? error.message : String(error);
    process.stderr.write(`mailcheck-probe run: ${message}\n`);
    return 1;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: false,
    options: {
      api: { type: 'string' },
      token: { type: 'string' },
      agent: { type: 'string' },
      concurrency: { type: 'string' },
      'poll-interval': { type: 'string' },
      once: { type: 'boolean' },
      'cache-ttl': { type: 'string' },
      doh: { type: 'string' },
      'allow-targets': { type: 'string', multiple: true },
      'ca-file': { type: 'string' },
      ehlo: { type: 'string' },
      timeout: { type: 'string' },
      'max-connections': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
