/**
 * What UI test files use (the `ui` project; test/ui/global-setup.ts starts one Worker and one
 * Chromium for the whole run). In a test file:
 *
 *   const run = ui();                                        // base URL, tokens, seeded users/domains
 *   const page = await openPage({ as: run.users.member });   // signed in (dev cookie); { javaScript: false }, { mobile: true }
 *   await page.goto('/');                                    // relative to the Worker
 *   expect(await seriousViolations(page)).toEqual([]);       // axe-core: serious or critical only
 *   await screenshot(page, 'domains');                       // test/ui/artifacts/domains.png (gitignored)
 *   await api('POST', '/api/admin/domains', { name });       // as the bootstrap administrator
 *
 * Pages are closed with their context by `closePages()` in afterAll (registered here for every file).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, inject } from 'vitest';
import type { UiRun } from './global-setup.ts';

export const ARTIFACTS = resolve(import.meta.dirname, 'artifacts');
/** The dev sign-in cookie (src/auth/dev-sign-in.ts), which stands in for Cloudflare Access locally. */
const DEV_COOKIE = 'mailcheck_dev_user';
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export function ui(): UiRun {
  return inject('ui');
}

let browser: Promise<Browser> | null = null;
const contexts: BrowserContext[] = [];

function connected(): Promise<Browser> {
  browser ??= chromium.connect(ui().wsEndpoint);
  return browser;
}

export interface PageOptions {
  /** Sign in as this user (by the dev sign-in cookie); omit for a signed-out visitor. */
  as?: string;
  /** false: JavaScript disabled, to check pages work without it. */
  javaScript?: boolean;
  /** A phone-sized viewport (390×844, touch). */
  mobile?: boolean;
}

export async function openPage(options: PageOptions = {}): Promise<Page> {
  const context = await (await connected()).newContext({
    baseURL: ui().baseUrl,
    javaScriptEnabled: options.javaScript ?? true,
    viewport: options.mobile ? { width: 390, height: 844 } : { width: 1280, height: 900 },
    ...(options.mobile ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
    locale: 'en-GB',
  });
  contexts.push(context);
  if (options.as) await context.addCookies([{ name: DEV_COOKIE, value: options.as, url: ui().baseUrl, httpOnly: true, sameSite: 'Strict' }]);
  // Pages come from a local Worker: anything slower than this is a failure worth seeing soon.
  context.setDefaultTimeout(15_000);
  return context.newPage();
}

export async function closePages() {
  await Promise.all(contexts.splice(0).map((c) => c.close().catch(() => undefined)));
  const open = browser;
  browser = null;
  if (open) await (await open).close().catch(() => undefined);
}

afterAll(closePages);

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/**
 * axe-core's serious and critical violations on the page as it is now (WCAG 2.x A and AA rules plus
 * best practices), as readable strings so a failing assertion says what and where.
 */
export async function seriousViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, which the page's CSP (script-src 'self') does not
  // govern; a <script> tag would be refused, as it should be.
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (context: unknown, options: unknown) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run((globalThis as unknown as { document: unknown }).document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')})`);
}

/** A full-page PNG under test/ui/artifacts/ (gitignored), for people to look at; nothing compares them. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** The JSON API as the bootstrap administrator (setting things up, checking what the UI did). */
export async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const isText = typeof body === 'string';
  const response = await fetch(`${ui().baseUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${ui().adminToken}`, 'Content-Type': isText ? 'text/csv' : 'application/json' },
    body: body === undefined ? undefined : isText ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON (CSV, HTML): the text as is
  }
  return { status: response.status, body: parsed as T };
}

/** A name no other test uses, for things a test creates (domains, groups). */
export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
}
