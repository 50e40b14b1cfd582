import { describe, expect, it } from 'vitest';
import { api, openPage, screenshot, seriousViolations, ui, unique } from './harness.ts';

describe('the domains list', () => {
  it("shows a member their group's domains with status tags, and finds one by search", async () => {
    const run = ui();
    const page = await openPage({ as: run.users.member });
    await page.goto('/');
    const rows = page.locator('table tbody tr');
    expect(await rows.count()).toBe(run.memberDomains.length);
    for (const other of run.otherDomains) expect(await page.getByRole('link', { name: other, exact: true }).count()).toBe(0);
    // The well-run lab domain: DMARC reject, valid SPF, the words on the tags say so.
    const monitor = rows.filter({ has: page.getByRole('link', { name: 'monitor.lab.mailcheck.test', exact: true }) });
    expect(await monitor.locator('td[data-label="DMARC"]').textContent()).toBe('p=reject');
    expect(await monitor.locator('td[data-label="SPF"]').textContent()).toBe('Valid');
    expect(await page.getByRole('link', { name: 'Admin' }).count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'domains-member');

    await page.getByLabel('Search domains').fill('weak');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/q=weak/);
    expect(await rows.count()).toBe(1);
    expect(await rows.first().locator('td[data-label="DMARC"]').textContent()).toBe('p=none');
  });

  it('filters and sorts with query parameters, and pages through many domains', async () => {
    const page = await openPage({ as: ui().users.admin });
    await page.goto('/?dmarc=reject');
    const names = await page.locator('table tbody tr td:first-child a').allTextContents();
    expect(names).toContain('monitor.lab.mailcheck.test');
    expect(names).not.toContain('weak.dmarc.lab.mailcheck.test');
    expect(await page.getByLabel('DMARC').inputValue()).toBe('reject');

    await page.goto('/?sort=severity');
    const first = await page.locator('table tbody tr').first().locator('td[data-label="Findings"]').textContent();
    expect(first).toMatch(/error/);

    await page.goto('/?sort=-name&page=1');
    const descending = await page.locator('table tbody tr td:first-child a').allTextContents();
    expect(descending).toEqual([...descending].sort().reverse());

    // 30 more domains (NXDOMAIN in the lab: their checks fail quickly): 25 a page.
    const batch = unique('paging');
    const csv = Array.from({ length: 30 }, (_, i) => `p${String(i).padStart(2, '0')}.${batch}.mailcheck.test`).join('\n');
    expect((await api('POST', '/api/admin/domains/bulk', csv)).status).toBe(200);
    await page.goto(`/?q=${batch}`);
    expect(await page.getByText('30 domains match, showing 1 to 25.').count()).toBe(1);
    expect(await page.locator('table tbody tr').count()).toBe(25);
    await page.getByRole('link', { name: 'Next page' }).click();
    await page.waitForURL(/page=2/);
    expect(await page.locator('table tbody tr').count()).toBe(5);
    expect(await page.getByText('Page 2 of 2').count()).toBe(1);
    expect(await page.getByLabel('Search domains').inputValue()).toBe(batch);
  });

  it('lets an administrator add a domain and bulk-add from CSV', async () => {
    const page = await openPage({ as: ui().users.admin });
    await page.goto('/');
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'domains-admin');

    const name = `${unique('added')}.example`;
    await page.getByLabel('Domain name').fill(name);
    await page.getByLabel('Owned by group').selectOption({ label: ui().group.name });
    await page.getByRole('button', { name: 'Add domain', exact: true }).click();
    await page.waitForURL(/added=/);
    expect(await page.getByRole('status').first().textContent()).toContain(name);
    const detail = await api<{ items: { name: string; groups: { name: string }[] }[] }>('GET', `/api/admin/domains?limit=500`);
    expect(detail.body.items.find((d) => d.name === name)?.groups.map((g) => g.name)).toEqual([ui().group.name]);

    // Adding it again is an error shown beside the form, not a crash.
    await page.getByLabel('Domain name').fill(name);
    await page.getByRole('button', { name: 'Add domain', exact: true }).click();
    expect(await page.locator('.error-summary').textContent()).toContain('already monitored');

    const bulk = [unique('bulk-a'), unique('bulk-b')].map((n) => `${n}.example`);
    await page.getByLabel(/Domains, one per line/).fill(`domain,group\n${bulk[0]},${ui().group.name}\n${bulk[1]}\nnot a domain\n`);
    await page.getByRole('button', { name: 'Add domains', exact: true }).click();
    const outcome = page.locator('.notice');
    expect(await outcome.textContent()).toContain('2 domains added');
    expect(await outcome.textContent()).toContain('Line 4');
    const after = await api<{ items: { name: string }[] }>('GET', '/api/admin/domains?limit=500');
    for (const n of bulk) expect(after.body.items.map((d) => d.name)).toContain(n);
  });

  it('works with JavaScript off, and at a phone’s width', async () => {
    const page = await openPage({ as: ui().users.member, javaScript: false });
    await page.goto('/?q=lab');
    expect(await page.locator('table tbody tr').count()).toBeGreaterThan(0);
    await page.getByLabel('Worst finding').selectOption('error');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/severity=error/);
    await screenshot(page, 'domains-no-js');

    const phone = await openPage({ as: ui().users.member, mobile: true });
    await phone.goto('/');
    // Nothing wider than the screen: the table stacks into cards.
    expect(await phone.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement.scrollWidth <= (globalThis as unknown as { innerWidth: number }).innerWidth)).toBe(true);
    expect(await seriousViolations(phone)).toEqual([]);
    await screenshot(phone, 'domains-mobile');
  });

  it('refuses a cross-site form post, as the API would (CSRF)', async () => {
    const name = `${unique('csrf')}.example`;
    const response = await fetch(`${ui().baseUrl}/domains/add`, {
      method: 'POST',
      headers: { Cookie: `mailcheck_dev_user=${ui().users.admin}`, Origin: 'https://attacker.example', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `name=${name}`,
      redirect: 'manual',
    });
    expect(response.status).toBe(403);
    const after = await api<{ items: { name: string }[] }>('GET', '/api/admin/domains?limit=500');
    expect(after.body.items.map((d) => d.name)).not.toContain(name);
  });
});
