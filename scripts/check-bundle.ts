/**
 * `npm run check:bundle [-- --env staging|production]`: bundles the Worker exactly as `wrangler deploy`
 * would (`wrangler deploy --dry-run --outdir`, no Cloudflare account needed), prints its size and fails
 * when it is over the limits below. test/node/bundle.test.ts runs the same check inside `npm test`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';

const MiB = 1024 * 1024;
/**
 * Cloudflare's limit since 2026-09-04 (cloudflare-docs#33241, wrangler#14001): 64 MiB uncompressed on
 * every plan; the compressed limits were removed. The former Workers Paid limit (10 MiB gzipped) is kept
 * as a budget: it is the stricter of the two for JavaScript, and an account still on the old rules
 * accepts anything within it. Larger start-up code also costs start-up time (1 s limit, not measured here).
 */
export const LIMITS = { uncompressedBytes: 64 * MiB, gzipBytes: 10 * MiB } as const;

export interface BundleSize {
  /** Bytes wrangler would upload (every module it wrote, source maps excluded). */
  uncompressedBytes: number;
  /** The same files gzipped one by one, as wrangler's own size report does. */
  gzipBytes: number;
  files: string[];
}

/** What is wrong with a bundle of this size, or nothing. Pure, for the test. */
export function overLimits(size: Pick<BundleSize, 'uncompressedBytes' | 'gzipBytes'>, limits = LIMITS): string[] {
  const problems: string[] = [];
  if (size.uncompressedBytes > limits.uncompressedBytes) problems.push(`uncompressed ${formatBytes(size.uncompressedBytes)} is over the ${formatBytes(limits.uncompressedBytes)} Worker size limit`);
  if (size.gzipBytes > limits.gzipBytes) problems.push(`gzipped ${formatBytes(size.gzipBytes)} is over the ${formatBytes(limits.gzipBytes)} budget (the former Workers Paid limit)`);
  return problems;
}

export function formatBytes(bytes: number): string {
  return bytes >= MiB ? `${(bytes / MiB).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** The modules wrangler wrote to outdir: everything but source maps and its README. */
export function measureOutdir(outdir: string): BundleSize {
  const files = readdirSync(outdir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && !entry.name.endsWith('.map') && entry.name !== 'README.md')
    .map((entry) => join(entry.parentPath, entry.name));
  let uncompressedBytes = 0;
  let gzipBytes = 0;
  for (const file of files) {
    const bytes = readFileSync(file);
    uncompressedBytes += bytes.length;
    gzipBytes += gzipSync(bytes).length;
  }
  return { uncompressedBytes, gzipBytes, files };
}

/** Runs `wrangler deploy --dry-run` for one environment (or the top level) and measures what it wrote. */
export function bundleWorker(env?: string): BundleSize {
  const outdir = mkdtempSync(join(tmpdir(), 'mailcheck-bundle-'));
  try {
    const args = ['wrangler', 'deploy', '--dry-run', '--outdir', outdir, ...(env ? ['--env', env] : [])];
    const run = spawnSync('npx', args, { encoding: 'utf8', timeout: 180_000, env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } });
    if (run.status !== 0) throw new Error(`npx ${args.join(' ')} failed (${run.status ?? run.signal}):\n${run.stdout}\n${run.stderr}`);
    return measureOutdir(outdir);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function main(): number {
  const { values } = parseArgs({ options: { env: { type: 'string' } } });
  const size = bundleWorker(values.env);
  console.log(`Worker bundle${values.env ? ` (--env ${values.env})` : ''}: ${formatBytes(size.uncompressedBytes)}, gzip ${formatBytes(size.gzipBytes)} (limits: ${formatBytes(LIMITS.uncompressedBytes)} uncompressed, ${formatBytes(LIMITS.gzipBytes)} gzipped)`);
  const problems = overLimits(size);
  for (const problem of problems) console.error(problem);
  return problems.length ? 1 : 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = main();
