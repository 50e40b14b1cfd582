import { describe, expect, it } from 'vitest';
import { openPage, screenshot, seriousViolations, ui } from './harness.ts';

describe('hosted MTA-STS and retention pages', () => {
  it('an administrator turns hosting on for a domain and sees the policy and the records to publish', async () => {
    const page = await openPage({ as: ui().users.admin });
    await page.goto(`/domains/${ui().tlsDomain}`);
    await page.getByRole('link', { name: /MTA-STS hosting for/ }).click();
    await page.waitForURL(`**/domains/${ui().tlsDomain}/mta-sts`);
    await page.getByLabel(/Serve the MTA-STS policy/).check();
    await page.getByLabel('Mode').selectOption('testing');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL('**/mta-sts?notice=saved');
    expect(await page.locator('pre').textContent()).toMatch(/^version: STSv1\nmode: testing\n(mx: .+\n)+max_age: 86400\n$/);
    expect(await page.getByRole('table').textContent()).toContain(`_smtp._tls.${ui().tlsDomain}`);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'mta-sts');
  });

  it('a member sees the settings without the form', async () => {
    const page = await openPage({ as: ui().users.member, mobile: true });
    await page.goto(`/domains/${ui().memberDomains[0]}/mta-sts`);
    expect(await page.getByText('Only administrators can change these settings.').count()).toBe(1);
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('an administrator sets a group’s retention on /admin/retention', async () => {
    const page = await openPage({ as: ui().users.admin });
    await page.goto('/admin');
    await page.getByRole('link', { name: 'Retention' }).click();
    await page.waitForURL('**/admin/retention');
    const group = ui().group;
    await page.getByLabel(`Record days for ${group.name}`).fill('365');
    await page.getByRole('button', { name: `Save ${group.name}` }).click();
    await page.waitForURL('**/admin/retention?notice=saved');
    expect(await page.getByRole('row', { name: new RegExp(group.name) }).textContent()).toContain('365 days');
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'admin-retention');
  });
});
