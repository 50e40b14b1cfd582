import { describe, expect, it } from 'vitest';
import { openPage, screenshot, seriousViolations, ui } from './harness.ts';

describe('signing in (development sign-in, standing in for Cloudflare Access)', () => {
  it('sends a signed-out visitor to the sign-in form, and back where they were after signing in', async () => {
    const page = await openPage();
    const response = await page.goto('/');
    expect(response?.status()).toBe(401);
    await expect.poll(() => page.locator('h1').textContent()).toBe('Sign in to MailCheck Edge');
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'sign-in');
    await page.getByLabel('Email address').fill(ui().users.member);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname === '/');
    expect(await page.locator('.account').textContent()).toContain(ui().users.member);
  });

  it('says why when the email is not a user', async () => {
    const page = await openPage();
    await page.goto('/sign-in');
    await page.getByLabel('Email address').fill('stranger@nowhere.example');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('is not a user of MailCheck Edge');
  });

  it('signs out', async () => {
    const page = await openPage({ as: ui().users.member });
    await page.goto('/');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.pathname === '/sign-in');
    expect((await page.context().cookies()).map((c) => c.name)).not.toContain('mailcheck_dev_user');
  });
});
