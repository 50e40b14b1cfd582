import { describe, expect, it } from 'vitest';
import { openPage, screenshot, seriousViolations, ui } from './harness.ts';

describe('a domain’s page', () => {
  it('reads the findings of a weak domain, worst first, with advice', async () => {
    const page = await openPage({ as: ui().users.member });
    await page.goto('/');
    await page.getByRole('link', { name: 'weak.dmarc.lab.mailcheck.test', exact: true }).click();
    await page.waitForURL('**/domains/weak.dmarc.lab.mailcheck.test');
    expect(await page.locator('h1').textContent()).toContain('weak.dmarc.lab.mailcheck.test');
    const dmarc = page.locator('#area-dmarc');
    expect(await dmarc.locator('pre').textContent()).toBe('v=DMARC1; p=none');
    const severities = await dmarc.locator('.finding h4 .tag').allTextContents();
    expect(severities.length).toBeGreaterThan(0);
    const rank = { Error: 0, Warning: 1, Info: 2 } as Record<string, number>;
    expect(severities.map((s) => rank[s])).toEqual([...severities.map((s) => rank[s])].sort());
    expect(await dmarc.locator('.finding p').first().textContent()).toBeTruthy();
    expect(await page.getByRole('link', { name: /reports for weak\.dmarc/i }).getAttribute('href')).toBe('/domains/weak.dmarc.lab.mailcheck.test/reports');
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'domain-weak');
  });

  it('shows the mail servers’ TLS grades and certificate details', async () => {
    const page = await openPage({ as: ui().users.member });
    await page.goto(`/domains/${ui().tlsDomain}`);
    const servers = page.locator('#mail-servers');
    const grades = await servers.locator('td[data-label="TLS grade"]').allTextContents();
    expect(grades).toContain('Good');
    expect(grades.some((g) => g === 'Phase out' || g === 'Insufficient')).toBe(true);
    await servers.locator('summary').first().click();
    expect(await servers.locator('details dl').first().textContent()).toMatch(/Issuer.*Valid/s);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'domain-tls');
  });

  it('checks now and says so after the redirect', async () => {
    const page = await openPage({ as: ui().users.member });
    await page.goto('/domains/monitor.lab.mailcheck.test');
    await page.getByRole('button', { name: 'Check now' }).click();
    await page.waitForURL(/check=(done|throttled)/);
    expect(await page.getByRole('status').first().textContent()).toMatch(/Checked/);
    expect(await page.locator('#history').textContent()).toContain('History');
  });

  it('is a friendly 404 for a domain of another group, and for a made-up one', async () => {
    const page = await openPage({ as: ui().users.member });
    for (const domain of [ui().otherDomains[0]!, 'nothing-here.example']) {
      const response = await page.goto(`/domains/${domain}`);
      expect(response?.status()).toBe(404);
      expect(await page.locator('h1').textContent()).toBe('Page not found');
    }
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'not-found');
  });

  it('renders without JavaScript and at a phone’s width', async () => {
    const page = await openPage({ as: ui().users.member, javaScript: false });
    await page.goto(`/domains/${ui().tlsDomain}`);
    expect(await page.locator('#mail-servers td[data-label="TLS grade"]').count()).toBeGreaterThan(0);
    // Check now is a plain form post: it works without script too.
    await page.getByRole('button', { name: 'Check now' }).click();
    await page.waitForURL(/check=/);
    await screenshot(page, 'domain-no-js');
    const phone = await openPage({ as: ui().users.member, mobile: true });
    await phone.goto('/domains/weak.dmarc.lab.mailcheck.test');
    // Long names and records wrap: nothing wider than the screen.
    expect(await phone.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth <= (globalThis as unknown as { innerWidth: number }).innerWidth)).toBe(true);
    expect(await seriousViolations(phone)).toEqual([]);
    await screenshot(phone, 'domain-mobile');
  });
});
