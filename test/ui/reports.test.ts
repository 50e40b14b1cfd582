import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { api, openPage, screenshot, seriousViolations, ui } from './harness.ts';

/** example.com has sample aggregate reports on 2024-06-13 (two) and 2024-03-31 (one), among others. */
const DOMAIN = 'example.com';
const JUNE = { from: '2024-06-01', to: '2024-06-30' };
const SPRING = { from: '2024-03-01', to: '2024-06-30' };

interface Summary {
  messages: number;
  dmarc_fail: number;
  would_be_blocked_at_reject: number;
  reports: number;
}

const en = (n: number) => n.toLocaleString('en-GB');

async function summary(range: { from: string; to: string }): Promise<Summary> {
  const { status, body } = await api<Summary>('GET', `/api/aggregatereport/${DOMAIN}/summary?from=${range.from}&to=${range.to}`);
  expect(status).toBe(200);
  return body;
}

const reportsUrl = (range: { from: string; to: string }) => `/domains/${DOMAIN}/reports?from=${range.from}&to=${range.to}`;

describe('reports page', () => {
  it('shows the figures of the range, and other figures after the range is changed', async () => {
    const june = await summary(JUNE);
    const spring = await summary(SPRING);
    expect(june.messages).toBeGreaterThan(0);
    expect(spring.messages).toBeGreaterThan(june.messages);

    const page = await openPage({ as: ui().users.member });
    const response = await page.goto(reportsUrl(JUNE));
    expect(response?.status()).toBe(200);
    const figure = (name: string) => page.locator(`[data-figure="${name}"]`).textContent();
    expect(await figure('messages')).toBe(en(june.messages));
    expect(await figure('would_be_blocked_at_reject')).toBe(en(june.would_be_blocked_at_reject));

    // The date-range form: type other days and submit (a GET form).
    await page.getByLabel('From').fill(SPRING.from);
    await page.getByLabel('To', { exact: true }).fill(SPRING.to);
    await page.getByRole('button', { name: 'Show reports' }).click();
    await page.waitForURL((url) => url.searchParams.get('from') === SPRING.from);
    expect(await figure('messages')).toBe(en(spring.messages));
    expect(await figure('dmarc_fail')).toBe(en(spring.dmarc_fail));
    expect(await page.locator('#summary-table tr[data-measure="reports"] td').first().textContent()).toBe(en(spring.reports));
    // Every view below is over the same range: the sources add up to the summary.
    const sources = await api<{ items: { messages: number }[] }>('GET', `/api/aggregatereport/${DOMAIN}/sources?from=${SPRING.from}&to=${SPRING.to}&limit=500`);
    expect(await page.locator('#sources-table tbody tr').count()).toBe(Math.min(25, sources.body.items.length));
  });

  it('offers presets and, for an empty range, the days of the latest report', async () => {
    const page = await openPage({ as: ui().users.member });
    await page.goto(`/domains/${DOMAIN}/reports`);
    const presets = page.getByRole('navigation', { name: 'Preset date ranges' });
    expect(await presets.getByRole('link', { name: 'Last 7 days' }).count()).toBe(1);
    // The samples are old, so today's 30 days are empty and the page points at the latest report.
    // The latest report is the newest sample's (2024-06-13) unless another UI test file has since
    // stored a newer one on the shared Worker, so the link's own target is what is followed.
    const latest = page.getByRole('link', { name: 'Show the 30 days up to the latest report' });
    const to = new URL((await latest.getAttribute('href'))!, 'http://ui.test').searchParams.get('to');
    expect(to! >= '2024-06-13').toBe(true);
    await latest.click();
    await page.waitForURL((url) => url.searchParams.get('to') === to, { timeout: 60_000 });
    expect(await page.locator('[data-figure="messages"]').textContent()).not.toBe('0');
  });

  it('downloads the CSV of a table', async () => {
    const page = await openPage({ as: ui().users.member });
    await page.goto(reportsUrl(JUNE));
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download CSV of the summary figures' }).click()]);
    expect(download.suggestedFilename()).toBe(`${DOMAIN}-summary.csv`);
    const path = join(tmpdir(), `mailcheck-ui-${process.pid}-summary.csv`);
    await download.saveAs(path);
    const [header, row] = (await readFile(path, 'utf8')).trim().split('\r\n');
    const columns = header!.split(',');
    const messages = row!.split(',')[columns.indexOf('messages')];
    expect(Number(messages)).toBe((await summary(JUNE)).messages);
  });

  it('draws the charts with JavaScript on', async () => {
    const page = await openPage({ as: ui().users.member });
    await page.goto(reportsUrl(SPRING));
    await expect.poll(() => page.locator('#volume-chart canvas').count()).toBeGreaterThan(0);
    await expect.poll(() => page.locator('#rate-chart canvas').count()).toBeGreaterThan(0);
    const box = await page.locator('#volume-chart canvas').first().boundingBox();
    expect(box?.width).toBeGreaterThan(200);
    // The table is still there, folded under the chart.
    expect(await page.locator('#volume-chart ~ details[data-chart-table]').getAttribute('open')).toBeNull();
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'reports');
  });

  it('shows the data as tables with JavaScript off', async () => {
    const page = await openPage({ as: ui().users.member, javaScript: false });
    await page.goto(reportsUrl(SPRING));
    expect(await page.locator('canvas').count()).toBe(0);
    const table = page.getByRole('table', { name: /^Messages and pass rates per (day|week)$/ });
    expect(await table.isVisible()).toBe(true);
    expect(await page.getByRole('table', { name: 'Messages by sending service' }).isVisible()).toBe(true);
  });

  it('fits a phone', async () => {
    const page = await openPage({ as: ui().users.member, mobile: true });
    await page.goto(reportsUrl(SPRING));
    await expect.poll(() => page.locator('#volume-chart canvas').count()).toBeGreaterThan(0);
    // Nothing but the tables' own scrolling boxes is wider than the screen.
    const overflow = await page.evaluate(() => {
      const root = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
      return root.scrollWidth - root.clientWidth;
    });
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'reports-phone');
  });

  it('says so when a date is wrong, and answers 404 for a domain the member may not see', async () => {
    const page = await openPage({ as: ui().users.member });
    const bad = await page.goto(`/domains/${DOMAIN}/reports?from=2024-06-30&to=2024-06-01`);
    expect(bad?.status()).toBe(400);
    expect(await page.getByRole('alert').textContent()).toContain('from must not be after to');
    const other = await page.goto(`/domains/${ui().otherDomains[0]}/reports`);
    expect(other?.status()).toBe(404);
    expect(await page.locator('h1').textContent()).toBe('Page not found');
  });

  it("leads from a source to the receivers' records about it", async () => {
    const top = await api<{ items: { source_ip: string; messages: number }[] }>('GET', `/api/aggregatereport/${DOMAIN}/sources?from=${SPRING.from}&to=${SPRING.to}&limit=1`);
    const source = top.body.items[0]!;
    const page = await openPage({ as: ui().users.member });
    await page.goto(reportsUrl(SPRING));
    await page.locator('#sources-table').getByRole('link', { name: source.source_ip }).click();
    await page.waitForURL((url) => url.pathname.endsWith('/reports/records') && url.searchParams.get('source_ip') === source.source_ip);
    const counts = await page.locator('#records-table tbody td[data-label="Messages"]').allTextContents();
    expect(counts.reduce((sum, text) => sum + Number(text.replace(/,/g, '')), 0)).toBe(source.messages);
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('lists the reports received and opens one with its records', async () => {
    const list = await api<{ items: { id: number; org_name: string; record_count: number }[] }>('GET', `/api/reports?domain=${DOMAIN}&since=${JUNE.from}&until=${JUNE.to}`);
    const first = list.body.items[0]!;
    const page = await openPage({ as: ui().users.member });
    await page.goto(reportsUrl(JUNE));
    expect(await page.locator('#received-table tbody tr').count()).toBe(list.body.items.length);
    await page.locator('#received-table').getByRole('link', { name: first.org_name }).first().click();
    await page.waitForURL((url) => url.pathname === `/reports/${first.id}`);
    expect(await page.locator('#report-records-table tbody tr').count()).toBe(Math.min(100, first.record_count));
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('lists the domains to choose from', async () => {
    const page = await openPage({ as: ui().users.member });
    await page.goto('/reports');
    await page.getByRole('link', { name: DOMAIN, exact: true }).click();
    await page.waitForURL((url) => url.pathname === `/domains/${DOMAIN}/reports`);
    expect(await seriousViolations(page)).toEqual([]);
  });
});

describe('chart assets', () => {
  it('are generated from the pinned uPlot and the current chart script', async () => {
    const { buildChartAssets } = await import('../../scripts/build-chart-assets.ts');
    const generated = await readFile(join(import.meta.dirname, '../../src/ui/assets/charts.generated.ts'), 'utf8');
    // Stale means someone edited charts-client.js or charts.css, or moved uplot, without regenerating.
    expect(generated).toBe(buildChartAssets());
    const pinned = JSON.parse(await readFile(join(import.meta.dirname, '../../package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(generated).toContain(`export const UPLOT_VERSION = "${pinned.dependencies.uplot}";`);
  });
});
