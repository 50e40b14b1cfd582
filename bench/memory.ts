/**
 * Peak RSS of the parse pipeline at several report sizes, each in a fresh Node process
 * (bench/memory-child.ts) so that one size's heap does not inflate the next.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { MemoryResult } from './memory-child';

const ROOT = resolve(import.meta.dirname, '..');

/** Extra Node/V8 flags for the children, e.g. `--max-semi-space-size=1` to see the young generation's share. */
export const MEMORY_NODE_FLAGS = (process.env.BENCH_MEMORY_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);

export function measureMemory(xmlMB: number): Promise<MemoryResult> {
  return new Promise((resolveResult, reject) => {
    // The same Node, with tsx as a loader: no npx, no second tsx process between us and the child.
    const child = spawn(process.execPath, [...MEMORY_NODE_FLAGS, '--import', 'tsx', 'bench/memory-child.ts', String(xmlMB)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) {
        reject(new Error(`memory child for ${xmlMB} MB exited ${code}:\n${stderr}${stdout}`));
        return;
      }
      resolveResult(JSON.parse(line) as MemoryResult);
    });
  });
}
