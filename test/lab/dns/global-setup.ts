import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

/**
 * vitest globalSetup: makes sure the DNS lab (docs/dns-lab.md) is up and hands its DoH URL to the
 * tests as `inject('dohUrl')`. A lab that was already running is left running; one started here is
 * stopped when the run ends. If it cannot start, `dohUrl` is '' and `dnsLabError` says why, so the
 * tests that need the lab fail with that message while the others still run.
 */
const LAB = dirname(fileURLToPath(import.meta.url));
const RUN = process.env.DNS_LAB_RUN_DIR ?? join(LAB, '.run');

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}?dns=AAABAAABAAAAAAAAA2xhYgltYWlsY2hlY2sEdGVzdAAABgAB`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

function runScript(name: string): { ok: boolean; stdout: string; stderr: string } {
  const result = spawnSync('bash', [join(LAB, name)], { encoding: 'utf8', timeout: 600_000 });
  return { ok: result.status === 0, stdout: result.stdout ?? '', stderr: `${result.stderr ?? ''}${result.error ? String(result.error) : ''}` };
}

export default async function setup(project: TestProject) {
  const urlFile = join(RUN, 'doh-url');
  const wasUp = existsSync(urlFile) && (await answers(readFileSync(urlFile, 'utf8').trim()));

  const started = Date.now();
  const start = runScript('start.sh');
  const url = start.stdout.trim().split('\n').pop() ?? '';
  if (!start.ok || !url.startsWith('http')) {
    const error = `the DNS lab did not start (bash test/lab/dns/start.sh):\n${start.stderr.trim()}`;
    process.stderr.write(`${error}\n`);
    project.provide('dohUrl', '');
    project.provide('dnsLabError', error);
    return;
  }
  if (!wasUp) process.stderr.write(`[dns-lab] up in ${((Date.now() - started) / 1000).toFixed(1)} s at ${url}\n`);
  project.provide('dohUrl', url);
  project.provide('dnsLabError', '');

  return () => {
    if (!wasUp) runScript('stop.sh');
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The DNS lab's DoH endpoint; '' when the lab could not start (see dnsLabError). */
    dohUrl: string;
    dnsLabError: string;
  }
}
