import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import worker from '../../src/index';
import { migrate } from '../ingest/helpers';
import { ADMIN, adminApi } from './helpers';

async function pageAs(token: string, path: string, body?: string) {
  return worker.fetch(
    new Request(`https://mailcheck.test${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { Authorization: `Bearer ${token}`, 'CF-Connecting-IP': '192.0.2.202', ...(body === undefined ? {} : { 'Content-Type': 'application/x-www-form-urlencoded' }) },
      body,
    }),
    env,
    createExecutionContext(),
  );
}

let group = 0;
let memberToken = '';

beforeAll(async () => {
  await migrate();
  group = (await adminApi<{ id: number }>('POST', '/api/admin/groups', { name: 'Page keepers' })).json.id;
  const member = await adminApi<{ id: number }>('POST', '/api/admin/users', { email: 'member@keepers.example' });
  await adminApi('PUT', `/api/admin/groups/${group}/members/${member.json.id}`);
  memberToken = (await adminApi<{ token: string }>('POST', '/api/admin/tokens', { name: 'member', scopes: ['read'], user_id: member.json.id })).json.token;
});

describe('/admin/retention', () => {
  it('shows the defaults and groups, saves an override and runs a pass; members get the 403 page', async () => {
    const page = await pageAs(ADMIN, '/admin/retention');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<strong>90 days</strong>');
    expect(html).toContain('Page keepers');

    const saved = await pageAs(ADMIN, `/admin/retention/groups/${group}`, 'raw_days=30&record_days=');
    expect(saved.status).toBe(303);
    expect((await adminApi<{ groups: { id: number; raw_days: number | null; record_days: number | null }[] }>('GET', '/api/admin/retention')).json.groups.find((g) => g.id === group)).toMatchObject({ raw_days: 30, record_days: null });
    const refused = await pageAs(ADMIN, `/admin/retention/groups/${group}`, 'raw_days=many&record_days=');
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('There is a problem');

    const ran = await pageAs(ADMIN, '/admin/retention/run', '');
    expect(ran.status).toBe(303);
    expect(await (await pageAs(ADMIN, '/admin/retention')).text()).toContain('Administrator');
    expect((await pageAs(memberToken, '/admin/retention')).status).toBe(403);
  });
});
