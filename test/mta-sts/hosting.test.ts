import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseMtaStsPolicy, parseMtaStsRecord } from '../../src/dns/checks/mta-sts';
import worker from '../../src/index';
import { migrate } from '../ingest/helpers';
import { adminApi } from '../retention/helpers';

const MX = ['mx1.hosted.example', 'mx2.backup.example'];

/** A request as a sender's MTA-STS fetch makes it: to https://mta-sts.<domain>/.well-known/mta-sts.txt. */
async function fetchPolicy(host: string, path = '/.well-known/mta-sts.txt', environment: Env = env) {
  const response = await worker.fetch(new Request(`https://${host}${path}`, { headers: { Host: host, 'CF-Connecting-IP': '203.0.113.50' } }), environment, createExecutionContext());
  return { status: response.status, type: response.headers.get('Content-Type'), text: await response.text() };
}

async function asToken(token: string, method: string, path: string, body?: unknown, environment: Env = env) {
  const headers = new Headers({ Authorization: `Bearer ${token}`, 'CF-Connecting-IP': '192.0.2.200' });
  if (body !== undefined) headers.set('Content-Type', 'application/json');
  const response = await worker.fetch(new Request(`https://mailcheck.test${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }), environment, createExecutionContext());
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** Stores a complete check with these MX hosts as the domain's latest, as the monitor would. */
async function storeCheck(domain: string, hosts: string[], mtaStsId: string | null = null) {
  const check = {
    domain,
    checked_at: '2026-11-25T03:00:00Z',
    complete: true,
    // The shape checkDomain stores (src/dns/check-domain.ts): each area's facts under `facts`.
    mx: { record: null, facts: { status: 'NOERROR', authenticated: false, nullMx: false, hosts: hosts.map((host, i) => ({ host, preference: 10 * (i + 1), addresses: { v4: [], v6: [] }, cnames: [], ipLiteral: false })) }, findings: [] },
    mta_sts: { record: mtaStsId ? `v=STSv1; id=${mtaStsId}` : null, facts: { id: mtaStsId }, findings: [] },
    findings: [],
  };
  await env.DB.batch([
    env.DB.prepare("INSERT INTO domain_check_results (domain, checked_at, max_severity, result) VALUES (?, '2026-11-25T03:00:00Z', 'none', ?)").bind(domain, JSON.stringify(check)),
    env.DB.prepare('INSERT INTO domain_check_state (domain, latest_result_id) VALUES (?, last_insert_rowid()) ON CONFLICT (domain) DO UPDATE SET latest_result_id = excluded.latest_result_id').bind(domain),
  ]);
}

const tokens = { member: '', other: '' };

beforeAll(async () => {
  await migrate();
  const own = await adminApi<{ id: number }>('POST', '/api/admin/groups', { name: 'Hosting owners' });
  const other = await adminApi<{ id: number }>('POST', '/api/admin/groups', { name: 'Hosting others' });
  await adminApi('POST', '/api/admin/domains', { name: 'hosted.example', group_ids: [own.json.id] });
  await adminApi('POST', '/api/admin/domains', { name: 'not-hosted.example', group_ids: [own.json.id] });
  await adminApi('POST', '/api/admin/domains', { name: 'no-mx.example', group_ids: [own.json.id] });
  const member = await adminApi<{ id: number }>('POST', '/api/admin/users', { email: 'owner@hosted.example' });
  const outsider = await adminApi<{ id: number }>('POST', '/api/admin/users', { email: 'outsider@other.example' });
  await adminApi('PUT', `/api/admin/groups/${own.json.id}/members/${member.json.id}`);
  await adminApi('PUT', `/api/admin/groups/${other.json.id}/members/${outsider.json.id}`);
  tokens.member = (await adminApi<{ token: string }>('POST', '/api/admin/tokens', { name: 'owner', scopes: ['read'], user_id: member.json.id })).json.token;
  tokens.other = (await adminApi<{ token: string }>('POST', '/api/admin/tokens', { name: 'outsider', scopes: ['read'], user_id: outsider.json.id })).json.token;
  await storeCheck('hosted.example', MX);
  await storeCheck('not-hosted.example', ['mx.not-hosted.example']);
  await storeCheck('no-mx.example', []);
});

describe('hosted MTA-STS policy by Host header', () => {
  it('answers 404 until the owner turns hosting on, then serves a valid RFC 8461 policy', async () => {
    expect((await fetchPolicy('mta-sts.hosted.example')).status).toBe(404);

    const on = await adminApi<Record<string, unknown>>('PUT', '/api/mta-sts/hosted.example', { enabled: true, mode: 'testing' });
    expect(on.status).toBe(200);
    const served = await fetchPolicy('mta-sts.hosted.example');
    expect(served.status).toBe(200);
    expect(served.type).toMatch(/^text\/plain/);
    expect(served.text).toBe('version: STSv1\r\nmode: testing\r\nmx: mx1.hosted.example\r\nmx: mx2.backup.example\r\nmax_age: 86400\r\n');
    const policy = parseMtaStsPolicy(served.text);
    expect(policy).toEqual({ version: 'STSv1', mode: 'testing', mx: MX, maxAge: 86400, errors: [] });
    // Port and letter case in Host do not matter.
    expect((await fetchPolicy('MTA-STS.Hosted.Example:443')).text).toBe(served.text);
  });

  it('changes the policy and its id when the mode or the MX hosts change', async () => {
    const testing = await adminApi<{ policy: { id: string }; records: { name: string; value: string | null }[] }>('GET', '/api/mta-sts/hosted.example');
    const txt = testing.json.records.find((r) => r.name === '_mta-sts.hosted.example')!.value!;
    expect(parseMtaStsRecord(txt)).toEqual({ id: testing.json.policy.id, errors: [] });
    // The check found no _mta-sts record yet: the published id is not the current one.
    expect(testing.json).toMatchObject({ published_id: null, published_id_current: false });

    await adminApi('PUT', '/api/mta-sts/hosted.example', { enabled: true, mode: 'enforce' });
    const enforce = parseMtaStsPolicy((await fetchPolicy('mta-sts.hosted.example')).text);
    expect(enforce).toMatchObject({ mode: 'enforce', maxAge: 604800, errors: [] });
    const enforced = await adminApi<{ policy: { id: string } }>('GET', '/api/mta-sts/hosted.example');
    expect(enforced.json.policy.id).not.toBe(testing.json.policy.id);

    await storeCheck('hosted.example', ['mx3.hosted.example']);
    const moved = await adminApi<{ policy: { id: string; mx: string[] } }>('GET', '/api/mta-sts/hosted.example');
    expect(moved.json.policy.mx).toEqual(['mx3.hosted.example']);
    expect(moved.json.policy.id).not.toBe(enforced.json.policy.id);
    expect(parseMtaStsPolicy((await fetchPolicy('mta-sts.hosted.example')).text).mx).toEqual(['mx3.hosted.example']);
    // Once the owner publishes the new id and a check sees it, the record is current.
    await storeCheck('hosted.example', ['mx3.hosted.example'], moved.json.policy.id);
    expect((await adminApi('GET', '/api/mta-sts/hosted.example')).json).toMatchObject({ published_id: moved.json.policy.id, published_id_current: true });
  });

  it('answers 404 for unknown, not-hosted or MX-less domains and any other path, and never shows the UI or API there', async () => {
    expect((await fetchPolicy('mta-sts.unknown.example')).status).toBe(404);
    expect((await fetchPolicy('mta-sts.not-hosted.example')).status).toBe(404);
    await adminApi('PUT', '/api/mta-sts/no-mx.example', { enabled: true, mode: 'testing' });
    expect((await fetchPolicy('mta-sts.no-mx.example')).status).toBe(404);
    expect((await fetchPolicy('mta-sts.hosted.example', '/')).status).toBe(404);
    expect((await fetchPolicy('mta-sts.hosted.example', '/api/me')).status).toBe(404);
    expect((await fetchPolicy('mta-sts.hosted.example', '/.well-known/mta-sts.txt?x=1')).status).toBe(200);
  });

  it('turning hosting off stops serving the policy', async () => {
    await adminApi('PUT', '/api/mta-sts/hosted.example', { enabled: false, mode: 'enforce' });
    expect((await fetchPolicy('mta-sts.hosted.example')).status).toBe(404);
    await adminApi('PUT', '/api/mta-sts/hosted.example', { enabled: true, mode: 'enforce' });
    expect((await fetchPolicy('mta-sts.hosted.example')).status).toBe(200);
  });
});

describe('the settings routes', () => {
  it('members of the owning group read the settings and records; others get 404; only administrators change them', async () => {
    const own = await asToken(tokens.member, 'GET', '/api/mta-sts/hosted.example');
    expect(own.status).toBe(200);
    expect(own.json).toMatchObject({ domain: 'hosted.example', enabled: true, policy_url: 'https://mta-sts.hosted.example/.well-known/mta-sts.txt' });
    expect((await asToken(tokens.other, 'GET', '/api/mta-sts/hosted.example')).status).toBe(404);
    expect((await asToken(tokens.member, 'PUT', '/api/mta-sts/hosted.example', { enabled: false, mode: 'testing' })).status).toBe(403);
    expect((await asToken(tokens.member, 'GET', '/api/mta-sts/unmonitored.example')).status).toBe(404);
    expect((await adminApi('GET', '/api/mta-sts/unmonitored.example')).status).toBe(404);
    expect((await adminApi('PUT', '/api/mta-sts/hosted.example', { enabled: 'yes', mode: 'strict' })).status).toBe(400);
    const audit = await adminApi<{ items: { action: string }[] }>('GET', '/api/admin/audit?entity=domain&action=domain.mta_sts');
    expect(audit.json.items.length).toBeGreaterThan(0);
  });

  it('lists the records to publish: CNAME to the configured target and TLS-RPT to our own report address', async () => {
    const configured = { ...env, REPORT_ADDRESSES: 'dmarc@reports.example.net, tls@reports.example.net', MTA_STS_CNAME_TARGET: 'mta-sts.mailcheck.example.net' } as Env;
    const answer = await asToken('test-admin-token-0123456789abcdef', 'GET', '/api/mta-sts/hosted.example', undefined, configured);
    const records = answer.json.records as { name: string; type: string; value: string | null }[];
    expect(records.map((r) => [r.name, r.type, r.value])).toEqual([
      ['mta-sts.hosted.example', 'CNAME', 'mta-sts.mailcheck.example.net.'],
      ['_mta-sts.hosted.example', 'TXT', `v=STSv1; id=${(answer.json.policy as { id: string }).id}`],
      ['_smtp._tls.hosted.example', 'TXT', 'v=TLSRPTv1; rua=mailto:dmarc@reports.example.net'],
    ]);
    // Not configured: the values are null with a note saying why.
    const bare = await adminApi<{ records: { value: string | null; note?: string }[] }>('GET', '/api/mta-sts/hosted.example');
    expect(bare.json.records[0]).toMatchObject({ value: null, note: expect.stringContaining('MTA_STS_CNAME_TARGET') });
  });

  it('the page shows the settings, policy and records, and its form changes the mode (administrators)', async () => {
    const admin = 'test-admin-token-0123456789abcdef';
    const pageAs = async (token: string, method = 'GET', body?: string) =>
      worker.fetch(
        new Request('https://mailcheck.test/domains/hosted.example/mta-sts', {
          method,
          headers: { Authorization: `Bearer ${token}`, 'CF-Connecting-IP': '192.0.2.201', ...(body ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}) },
          body,
        }),
        env,
        createExecutionContext(),
      );
    const page = await pageAs(admin);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('_mta-sts.hosted.example');
    expect(html).toContain('_smtp._tls.hosted.example');
    expect(html).toContain('mx: mx3.hosted.example');
    expect(html).toContain('name="mode"');
    const member = await (await pageAs(tokens.member)).text();
    expect(member).toContain('Only administrators can change these settings.');
    expect(member).not.toContain('name="mode"');
    const posted = await pageAs(admin, 'POST', 'enabled=true&mode=testing');
    expect(posted.status).toBe(303);
    expect(parseMtaStsPolicy((await fetchPolicy('mta-sts.hosted.example')).text).mode).toBe('testing');
    expect((await pageAs(tokens.member, 'POST', 'enabled=true&mode=enforce')).status).toBe(403);
    expect((await pageAs(tokens.other)).status).toBe(404);
  });

  it('deleting the domain stops its policy', async () => {
    const list = await adminApi<{ items: { id: number; name: string }[] }>('GET', '/api/admin/domains?search=hosted.example');
    const domain = list.json.items.find((d) => d.name === 'hosted.example')!;
    expect((await adminApi('DELETE', `/api/admin/domains/${domain.id}`)).status).toBe(204);
    expect((await fetchPolicy('mta-sts.hosted.example')).status).toBe(404);
  });
});
