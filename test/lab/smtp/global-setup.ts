import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import type { SmtpLab } from './lab.ts';

/**
 * vitest globalSetup: makes sure the SMTP TLS lab (docs/smtp-lab.md) is up and hands its facts to the
 * tests as `inject('smtpLab')` (see lab.ts: `smtpLab()`, `labSetup(name)`). A lab that was already
 * running is left running; one started here is stopped when the run ends. If it cannot start, `smtpLab`
 * is null and `smtpLabError` says why, so the tests that need the lab fail with that message while the
 * others still run.
 */
const LAB = dirname(fileURLToPath(import.meta.url));
const RUN = process.env.SMTP_LAB_RUN_DIR ?? join(LAB, '.run');

function runScript(name: string): { ok: boolean; stdout: string; stderr: string } {
  const result = spawnSync('bash', [join(LAB, name)], { encoding: 'utf8', timeout: 600_000 });
  return { ok: result.status === 0, stdout: result.stdout ?? '', stderr: `${result.stderr ?? ''}${result.error ? String(result.error) : ''}` };
}

export default function setup(project: TestProject) {
  const wasUp = existsSync(join(RUN, 'lab.json'));
  const started = Date.now();
  const start = runScript('start.sh');
  const file = start.stdout.trim().split('\n').pop() ?? '';
  let lab: SmtpLab | null = null;
  let error = '';
  if (start.ok && file.endsWith('lab.json')) {
    try {
      lab = JSON.parse(readFileSync(file, 'utf8')) as SmtpLab;
    } catch (e) {
      error = `the SMTP lab's ${file} does not read: ${String(e)}`;
    }
  } else {
    error = `the SMTP lab did not start (bash test/lab/smtp/start.sh):\n${start.stderr.trim()}`;
  }
  if (!lab) {
    process.stderr.write(`${error}\n`);
    project.provide('smtpLab', null);
    project.provide('smtpLabError', error);
    return;
  }
  if (!wasUp) process.stderr.write(`[smtp-lab] up in ${((Date.now() - started) / 1000).toFixed(1)} s (${file})\n`);
  project.provide('smtpLab', lab);
  project.provide('smtpLabError', '');

  return () => {
    if (!wasUp) runScript('stop.sh');
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The SMTP TLS lab's facts; null when the lab could not start (see smtpLabError). */
    smtpLab: SmtpLab | null;
    smtpLabError: string;
  }
}
