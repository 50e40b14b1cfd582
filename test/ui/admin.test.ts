import { describe, expect, it } from 'vitest';
import { api, openPage, screenshot, seriousViolations, ui, unique } from './harness.ts';

interface Group {
  id: number;
  name: string;
  members: { id: number; email: string }[];
}

describe('admin pages', () => {
  it('creates a group and adds a member to it', async () => {
    const page = await openPage({ as: ui().users.admin });
    await page.goto('/admin/groups');
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'admin-groups');
    const name = unique('Ministry of UI Tests');
    await page.getByLabel('Group name').fill(name);
    await page.getByRole('button', { name: 'Create group' }).click();
    await page.waitForURL((url) => /^\/admin\/groups\/\d+$/.test(url.pathname));
    expect(await page.getByRole('status').textContent()).toContain('Group created.');
    expect(await page.locator('h1').textContent()).toContain(name);
    const id = Number(new URL(page.url()).pathname.split('/').pop());

    await page.getByLabel('Email address of the user').fill(ui().users.member);
    await page.getByRole('button', { name: 'Add member' }).click();
    await page.waitForURL((url) => url.searchParams.get('notice') === 'member-added');
    expect(await page.getByRole('table', { name: `Members of ${name}` }).textContent()).toContain(ui().users.member);
    const group = await api<Group>('GET', `/api/admin/groups/${id}`);
    expect(group.body.members.map((m) => m.email)).toEqual([ui().users.member]);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'admin-group');

    // A refused change is shown with the API's reason, and nothing is added.
    await page.getByLabel('Email address of the user').fill('nobody@ui.mailcheck.test');
    await page.getByRole('button', { name: 'Add member' }).click();
    expect(await page.getByRole('alert').textContent()).toContain('no user has the email nobody@ui.mailcheck.test');
  });

  it('creates an API token, shows it once, and revokes it', async () => {
    const page = await openPage({ as: ui().users.admin });
    await page.goto('/admin/tokens');
    expect(await seriousViolations(page)).toEqual([]);
    const name = unique('ui export');
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.getByLabel(/^read:/).check();
    await page.getByRole('button', { name: 'Create token' }).click();
    // The answer to the POST itself shows the token: it never travels in a redirect's URL.
    await expect.poll(() => page.locator('h1').textContent()).toBe('Token created');
    const token = (await page.locator('[data-token]').textContent())?.trim() ?? '';
    expect(token).toMatch(/^mce_/);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'admin-token-created');

    // The token works, and is never shown again.
    const me = await fetch(`${ui().baseUrl}/api/me`, { headers: { Authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    await page.goto('/admin/tokens');
    expect(await page.content()).not.toContain(token);
    const row = page.locator('#tokens-table tbody tr', { hasText: name });
    expect(await row.getByText('Active').count()).toBe(1);

    // Revoke (the page asks to confirm first when JavaScript is on).
    page.once('dialog', (dialog) => void dialog.accept());
    await row.getByRole('button', { name: `Revoke the token ${name}` }).click();
    await page.waitForURL((url) => url.searchParams.get('notice') === 'token-revoked');
    expect(await page.getByRole('status').textContent()).toContain('Token revoked');
    expect(await page.locator('#tokens-table tbody tr', { hasText: name }).getByText('Revoked').count()).toBe(1);
    const after = await fetch(`${ui().baseUrl}/api/me`, { headers: { Authorization: `Bearer ${token}` } });
    expect(after.status).toBe(401);
    await screenshot(page, 'admin-tokens');
  });

  it('adds a user and changes their role', async () => {
    const page = await openPage({ as: ui().users.admin });
    await page.goto('/admin/users');
    const email = `${unique('person')}@ui.mailcheck.test`.toLowerCase();
    await page.getByLabel('Email address').fill(email);
    await page.getByLabel('Name (optional)').fill('Test Person');
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.waitForURL((url) => /^\/admin\/users\/\d+$/.test(url.pathname));
    expect(await page.getByRole('status').textContent()).toContain('User added.');
    await page.getByLabel('Role', { exact: true }).selectOption('admin');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForURL((url) => url.searchParams.get('notice') === 'user-updated');
    const id = new URL(page.url()).pathname.split('/').pop();
    expect((await api<{ role: string }>('GET', `/api/admin/users/${id}`)).body.role).toBe('admin');
    expect(await seriousViolations(page)).toEqual([]);

    // Adding the same email again is refused with the API's reason.
    await page.goto('/admin/users');
    await page.getByLabel('Email address').fill(email);
    await page.getByRole('button', { name: 'Add user' }).click();
    expect(await page.getByRole('alert').isVisible()).toBe(true);
  });

  it('lists domains and the audit log, and works without JavaScript', async () => {
    const page = await openPage({ as: ui().users.admin, javaScript: false });
    await page.goto('/admin/domains');
    expect(await page.getByRole('table', { name: 'Domains' }).textContent()).toContain(ui().otherDomains[0]);
    const name = unique('nojs-group');
    await page.goto('/admin/groups');
    await page.getByLabel('Group name').fill(name);
    await page.getByRole('button', { name: 'Create group' }).click();
    await page.waitForURL((url) => /^\/admin\/groups\/\d+$/.test(url.pathname));
    await page.getByLabel('Domain', { exact: true }).fill(ui().otherDomains[0]!);
    await page.getByRole('button', { name: 'Add domain to group' }).click();
    await page.waitForURL((url) => url.searchParams.get('notice') === 'domain-linked');
    expect(await page.getByRole('table', { name: `Domains ${name} owns` }).textContent()).toContain(ui().otherDomains[0]);
    await page.goto('/admin/audit?entity=group');
    expect(await page.getByRole('table', { name: 'Changes' }).textContent()).toContain('group.link_domain');
  });

  it('every admin page passes axe, on a desktop and on a phone', async () => {
    for (const mobile of [false, true]) {
      const page = await openPage({ as: ui().users.admin, mobile });
      for (const path of ['/admin', '/admin/users', '/admin/domains', '/admin/audit']) {
        const response = await page.goto(path);
        expect(response?.status()).toBe(200);
        expect(await seriousViolations(page)).toEqual([]);
        await screenshot(page, `admin${path.replace(/\//g, '-').replace(/^-admin/, '') || ''}${mobile ? '-phone' : ''}`);
      }
    }
  });

  it('turns away members with a friendly 403 page', async () => {
    const page = await openPage({ as: ui().users.member });
    for (const path of ['/admin', '/admin/users', '/admin/tokens']) {
      const response = await page.goto(path);
      expect(response?.status()).toBe(403);
      expect(await page.locator('h1').textContent()).toBe('You do not have permission to see this page');
    }
    expect(await seriousViolations(page)).toEqual([]);
  });
});
