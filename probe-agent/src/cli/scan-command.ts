/**
 * `mailcheck-probe scan <host[:port]...>`: resolve, guard, scan, print. Exit codes:
 *   0 every target scanned (status ok or no_starttls)
 *   1 a host name could not be resolved (the others are still scanned and printed)
 *   2 bad arguments (nothing scanned)
 *   3 some target was refused by the SSRF guard or inconclusive
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createDohResolver, DEFAULT_DOH_URL } from '../../../src/dns/doh-client.ts';
import type { ProbeTargetResult } from '../../../src/tls/probe-result.ts';
import { parsePemBundle } from '../certificates/chain.ts';
import { parseTargetSpec, resolveTargets, type TargetSpec } from '../scan/resolve-targets.ts';
import { createScanCache, scanTargets, type ScanTarget } from '../scan/scan-target.ts';
import { parseAllowList } from '../scan/target-guard.ts';
import { formatText } from './text-format.ts';
import { UsageError } from '../../../src/cli/usage-error.ts';

export const SCAN_USAGE = `usage: mailcheck-probe scan <host[:port]...> [options]

Scans the STARTTLS of each mail server (every IPv4 and IPv6 address of a host name).
  --format json|text        output (default text); json is an array of results, one per IP
  --allow-targets CIDR      scan addresses in this range even if private/loopback/reserved (repeatable)
  --ca-file PEM             extra trust anchors for chain verification
  --doh URL                 resolve names and TLSA records over this DNS-over-HTTPS endpoint
                            (default: Node's resolver for addresses, ${DEFAULT_DOH_URL} for TLSA)
  --ehlo NAME               name sent in EHLO (default: this machine's host name)
  --timeout MS              wait per server answer (default 10000)
  --max-connections N       TCP connections per IP (default 40)
  --concurrency N           IPs scanned at once (default 8)
`;

export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`--${name} needs a positive whole number, not "${value}"`);
  return Number(value);
}

export async function scanCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  let values;
  let specs: TargetSpec[];
  try {
    const parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        format: { type: 'string', default: 'text' },
        'allow-targets': { type: 'string', multiple: true, default: [] },
        'ca-file': { type: 'string' },
        doh: { type: 'string' },
        ehlo: { type: 'string' },
        timeout: { type: 'string' },
        'max-connections': { type: 'string' },
        concurrency: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    values = parsed.values;
    if (values.help) {
      io.stdout(SCAN_USAGE);
      return 0;
    }
    if (values.format !== 'json' && values.format !== 'text') throw new UsageError(`--format is json or text, not "${values.format}"`);
    if (!parsed.positionals.length) throw new UsageError('name at least one host or IP to scan');
    specs = parsed.positionals.map((p) => {
      try {
        return parseTargetSpec(p);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    });
    try {
      parseAllowList(values['allow-targets'] ?? []);
    } catch (e) {
      throw new UsageError(`--allow-targets: ${(e as Error).message}`);
    }
    if (values.doh && !/^https?:\/\//.test(values.doh)) throw new UsageError(`--doh needs an http(s) URL, not "${values.doh}"`);
  } catch (e) {
    io.stderr(`mailcheck-probe scan: ${(e as Error).message}\n\n${SCAN_USAGE}`);
    return 2;
  }

  let extraTrustAnchors;
  if (values['ca-file']) {
    try {
      extraTrustAnchors = parsePemBundle(readFileSync(values['ca-file'], 'utf8'));
    } catch (e) {
      io.stderr(`mailcheck-probe scan: cannot read --ca-file ${values['ca-file']}: ${(e as Error).message}\n`);
      return 2;
    }
    if (!extraTrustAnchors.length) {
      io.stderr(`mailcheck-probe scan: --ca-file ${values['ca-file']} holds no PEM certificate\n`);
      return 2;
    }
  }
  let timeoutMs: number, maxConnections: number, concurrency: number;
  try {
    timeoutMs = positiveInt('timeout', values.timeout, 10_000);
    maxConnections = positiveInt('max-connections', values['max-connections'], 40);
    concurrency = positiveInt('concurrency', values.concurrency, 8);
  } catch (e) {
    io.stderr(`mailcheck-probe scan: ${(e as Error).message}\n`);
    return 2;
  }

  const doh = values.doh ? createDohResolver({ url: values.doh }) : null;
  const daneResolver = doh ?? createDohResolver({ url: DEFAULT_DOH_URL });
  let exit = 0;
  const targets: ScanTarget[] = [];
  for (const spec of specs) {
    const resolved = await resolveTargets(spec, doh);
    if ('error' in resolved) {
      io.stderr(`mailcheck-probe scan: ${resolved.error}\n`);
      exit = 1;
    } else targets.push(...resolved);
  }
  const results: ProbeTargetResult[] = await scanTargets(targets, {
    allowTargets: values['allow-targets'] ?? [],
    ...(extraTrustAnchors ? { extraTrustAnchors } : {}),
    daneResolver,
    ...(values.ehlo ? { ehloName: values.ehlo } : {}),
    timeoutMs,
    maxConnections,
    concurrency,
    cache: createScanCache({ ttlMs: 60_000 }),
  });
  io.stdout(values.format === 'json' ? `${JSON.stringify(results, null, 2)}\n` : formatText(results));
  if (exit === 0 && results.some((r) => r.status === 'refused' || r.status === 'inconclusive')) exit = 3;
  return exit;
}
