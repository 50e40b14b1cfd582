/**
 * vitest globalSetup of the `ui` project: ONE local Worker and ONE Chromium for the whole UI test run.
 *
 * The Worker is the real bundle under wrangler's local runtime (bench/e2e.ts: a temporary directory,
 * fresh D1 with migrations), with ENVIRONMENT=development (the dev sign-in) and the DNS lab's DoH, so
 * domain checks run for real. test/ui/seed.ts fills it through its public interfaces: the sample
 * reports uploaded, users, a group and lab domains through the admin API, and one probe-agent pass
 * over the SMTP lab for mail-server TLS. Chromium (Debian's /usr/bin/chromium) runs as a playwright
 * browser server; test files connect to it (test/ui/harness.ts). What the tests need is provided as
 * `inject('ui')`.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { chromium, type BrowserServer } from 'playwright-core';
import type { TestProject } from 'vitest/node';
import { healthy, makeSandbox, startProgrammatic, type RunningWorker, type Sandbox, type Tokens } from '../../bench/e2e.ts';
import { seed, type Seeded } from './seed.ts';

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

export interface UiRun extends Seeded {
  /** The local Worker, e.g. http://127.0.0.1:41234 (no trailing slash). */
  baseUrl: string;
  /** BOOTSTRAP_ADMIN_TOKEN of that Worker, for setting things up through the API. */
  adminToken: string;
  ingestToken: string;
  /** playwright's `chromium.connect(wsEndpoint)`. */
  wsEndpoint: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    ui: UiRun;
  }
}

export default async function setup(project: TestProject) {
  const provided = project.getProvidedContext();
  if (!provided.dohUrl) throw new Error(`the UI tests need the DNS lab: ${provided.dnsLabError}`);
  if (!provided.smtpLab) throw new Error(`the UI tests need the SMTP lab: ${provided.smtpLabError}`);
  const tokens: Tokens = { admin: randomBytes(32).toString('base64url'), ingest: randomBytes(32).toString('base64url') };
  let box: Sandbox | null = null;
  let worker: RunningWorker | null = null;
  let browser: BrowserServer | null = null;
  const teardown = async () => {
    await browser?.close().catch(() => undefined);
    await worker?.stop().catch(() => undefined);
    if (box) rmSync(box.dir, { recursive: true, force: true });
  };
  try {
    box = makeSandbox();
    worker = await startProgrammatic(box, tokens, { DOH_URL: provided.dohUrl, ENVIRONMENT: 'development' });
    if (!(await healthy(worker.url, 60_000))) throw new Error('the UI tests’ Worker did not answer /health');
    const seeded = await seed({ baseUrl: worker.url, tokens, dohUrl: provided.dohUrl, lab: provided.smtpLab });
    browser = await chromium.launchServer({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
    project.provide('ui', { ...seeded, baseUrl: worker.url, adminToken: tokens.admin, ingestToken: tokens.ingest, wsEndpoint: browser.wsEndpoint() });
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}
