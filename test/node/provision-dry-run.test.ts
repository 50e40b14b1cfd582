import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `npm run provision -- --dry-run` end to end: it must print the whole plan for an environment and
 * touch nothing. Cloudflare is not reachable from tests, so an `npx` placed first on PATH records any
 * attempt to run wrangler.
 */
const trap = mkdtempSync(join(tmpdir(), 'provision-trap-'));
const marker = join(trap, 'npx-was-called');
writeFileSync(join(trap, 'npx'), `#!/bin/sh\necho "$@" >> '${marker}'\nexit 1\n`);
chmodSync(join(trap, 'npx'), 0o755);
afterAll(() => rmSync(trap, { recursive: true, force: true }));

function provision(...args: string[]) {
  const result = spawnSync(join('node_modules', '.bin', 'tsx'), ['scripts/provision.ts', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, PATH: `${trap}:${process.env.PATH}`, BOOTSTRAP_ADMIN_TOKEN: '', INGEST_TOKEN: '' },
  });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

describe('npm run provision -- --dry-run', () => {
  it.each(['staging', 'production'])('prints every step for --env %s and runs nothing', (env) => {
    const before = readFileSync('wrangler.toml', 'utf8');
    const domains = join(trap, 'domains.txt');
    writeFileSync(domains, 'example.org\n');
    const { status, out } = provision('--env', env, '--dry-run', '--domains-file', domains);
    expect(status, out).toBe(0);
    const database = env === 'production' ? 'mailcheck' : 'mailcheck-staging';
    const queue = env === 'production' ? 'mailcheck' : 'mailcheck-staging';
    for (const line of [
      'would list: npx wrangler d1 list --json',
      `would run: npx wrangler d1 create ${database}`,
      `would write: database_id of [[env.${env}.d1_databases]] in wrangler.toml`,
      `would run: npx wrangler r2 bucket create ${env === 'production' ? 'mailcheck-raw-reports' : 'mailcheck-staging-raw-reports'}`,
      `would run: npx wrangler queues create ${queue}-ingest\n`,
      `would run: npx wrangler queues create ${queue}-ingest-dlq`,
      `would run: npx wrangler queues create ${queue}-monitor`,
      `would run: npx wrangler queues create ${queue}-senders`,
      `would run: npx wrangler d1 migrations apply DB --remote --env ${env}`,
      `would run: npx wrangler secret put BOOTSTRAP_ADMIN_TOKEN --env ${env}   (value on stdin: generated)`,
      `would run: npx wrangler secret put INGEST_TOKEN --env ${env}   (value on stdin: generated)`,
      `Next: commit wrangler.toml, then ${env === 'production' ? 'npm run deploy' : 'npx wrangler deploy --env staging'}`,
    ]) {
      expect(out).toContain(line);
    }
    // No value is generated or shown in a dry run, and nothing was run or written.
    expect(out).not.toMatch(/Generated secrets|TOKEN=/);
    expect(existsSync(marker), existsSync(marker) ? readFileSync(marker, 'utf8') : '').toBe(false);
    expect(readFileSync('wrangler.toml', 'utf8')).toBe(before);
  }, 120_000);

  it('names a given secret by its variable, never by its value', () => {
    const value = 'given-secret-value-0123456789abcdefghij';
    const result = spawnSync(join('node_modules', '.bin', 'tsx'), ['scripts/provision.ts', '--env', 'staging', '--dry-run'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, PATH: `${trap}:${process.env.PATH}`, INGEST_TOKEN: value, BOOTSTRAP_ADMIN_TOKEN: '' },
    });
    const out = `${result.stdout}${result.stderr}`;
    expect(result.status, out).toBe(0);
    expect(out).toContain('secret put INGEST_TOKEN --env staging   (value on stdin: $INGEST_TOKEN)');
    expect(out).not.toContain(value);
  }, 120_000);

  it('refuses a missing or unknown environment and a short given secret', () => {
    expect(provision('--dry-run').status).toBe(2);
    expect(provision('--env', 'preview', '--dry-run').status).toBe(2);
    const short = spawnSync(join('node_modules', '.bin', 'tsx'), ['scripts/provision.ts', '--env', 'staging', '--dry-run'], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${trap}:${process.env.PATH}`, INGEST_TOKEN: 'short' },
    });
    expect(short.status).toBe(1);
    expect(short.stderr).toMatch(/INGEST_TOKEN from the environment must be at least 32 characters/);
  });

  it('stops before any change when the domains file is missing (a real run would not have set a secret yet)', () => {
    // Not a dry run: the missing file must stop it before wrangler is first called.
    const { status, out } = provision('--env', 'staging', '--domains-file', join(trap, 'no-such-file.txt'));
    expect(status, out).toBe(1);
    expect(out).toMatch(/no-such-file\.txt/);
    expect(out).not.toContain('$ npx wrangler');
    expect(existsSync(marker), existsSync(marker) ? readFileSync(marker, 'utf8') : '').toBe(false);
  }, 60_000);
});
