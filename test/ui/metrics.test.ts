import { describe, expect, it } from 'vitest';
import { openPage, screenshot, seriousViolations, ui } from './harness.ts';

interface Metrics {
  snapshots_available: boolean;
  note?: string;
  items: { month: string; domains: number; checked: number; dmarc: { reject: { fraction: number } } }[];
}

/** The JSON API as a signed-in person (the dev cookie), so the figures are theirs, not the bootstrap's. */
async function metricsAs(email: string): Promise<Metrics> {
  const response = await fetch(`${ui().baseUrl}/api/metrics`, { headers: { Cookie: `mailcheck_dev_user=${email}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as Metrics;
}

const en = (n: number) => n.toLocaleString('en-GB');

describe('metrics page', () => {
  it("shows an administrator the live month's figures, as the API gives them", async () => {
    const live = (await metricsAs(ui().users.admin)).items.at(-1)!;
    const page = await openPage({ as: ui().users.admin });
    const response = await page.goto('/metrics');
    expect(response?.status()).toBe(200);
    expect(await page.locator('[data-figure="domains"]').textContent()).toBe(en(live.domains));
    expect(await page.locator('[data-figure="checked"]').textContent()).toBe(en(live.checked));
    expect(await page.getByRole('table', { name: 'DMARC policy' }).isVisible()).toBe(true);
    expect(await page.getByRole('table', { name: /^Mail-server TLS grade/ }).isVisible()).toBe(true);
    expect(await page.getByRole('table', { name: 'Figures by month' }).isVisible()).toBe(true);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'metrics');
  });

  it("shows a member their own domains' figures and why earlier months are missing", async () => {
    const metrics = await metricsAs(ui().users.member);
    expect(metrics.snapshots_available).toBe(false);
    const page = await openPage({ as: ui().users.member, mobile: true });
    await page.goto('/metrics');
    expect(await page.locator('[data-figure="domains"]').textContent()).toBe(en(metrics.items.at(-1)!.domains));
    expect(await page.getByText(metrics.note!).isVisible()).toBe(true);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'metrics-phone');
  });

  it('explains a month range the API refuses', async () => {
    const page = await openPage({ as: ui().users.admin, javaScript: false });
    const response = await page.goto('/metrics?from=2026-13&to=2020-01');
    expect(response?.status()).toBe(400);
    expect(await page.getByRole('alert').textContent()).toContain('from');
  });
});
