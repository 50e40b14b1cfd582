/**
 * Peak RSS of the parse pipeline at several report sizes. For each size one fresh Node process
 * generates the gzip into a temporary file and another, also fresh, reads it and parses it
 * (bench/memory-child.ts), so neither the generator nor another size inflates the figures.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { GeneratedReport, MemoryResult } from './memory-child';

const ROOT = resolve(import.meta.dirname, '..');

/** Extra Node/V8 flags for the parsing child, e.g. `--max-semi-space-size=1` to see the young generation's share. */
export const MEMORY_NODE_FLAGS = (process.env.BENCH_MEMORY_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);

function runChild<T>(args: string[], flags: string[] = []): Promise<T> {
  return new Promise((resolveResult, reject) => {
    // The same Node, with tsx as a loader: no npx, no second tsx process between us and the child.
    const child = spawn(process.execPath, [...flags, '--import', 'tsx', 'bench/memory-child.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) {
        reject(new Error(`memory child (${args.join(' ')}) exited ${code}:\n${stderr}${stdout}`));
        return;
      }
      resolveResult(JSON.parse(line) as T);
    });
  });
}

export async function measureMemory(xmlMB: number): Promise<MemoryResult> {
  const dir = mkdtempSync(join(tmpdir(), 'mailcheck-bench-memory-'));
  try {
    const file = join(dir, `report-${xmlMB}.xml.gz`);
    const generated = await runChild<GeneratedReport>(['generate', String(xmlMB), file]);
    const parsed = await runChild<Omit<MemoryResult, keyof GeneratedReport | 'xmlMB'>>(['parse', file, String(generated.records)], MEMORY_NODE_FLAGS);
    return { xmlMB, ...generated, ...parsed };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
