import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { api, openPage, screenshot, seriousViolations, ui, unique } from './harness.ts';

interface Inbound {
  id: number;
  status: string;
  reason: string | null;
  attempts: number;
  filename: string | null;
}

interface Lookup {
  ip: string;
  ptr: string[];
  confirmed: string[];
  base_domain: string | null;
  status: string;
}

/** Accessibility and screenshots of the page as it is, on a desktop and on a phone. */
async function checkPage(page: Page, path: string, name: string, as: string) {
  expect(await seriousViolations(page)).toEqual([]);
  await screenshot(page, name);
  const phone = await openPage({ as, mobile: true });
  await phone.goto(path);
  expect(await seriousViolations(phone)).toEqual([]);
  await screenshot(phone, `${name}-phone`);
}

describe('inbound messages (administrators)', () => {
  it('lists what the API lists, shows one message, and filters by status', async () => {
    const list = await api<{ items: Inbound[] }>('GET', '/api/inbound?limit=50');
    expect(list.status).toBe(200);
    const page = await openPage({ as: ui().users.admin });
    await page.goto('/admin/inbound');
    const rows = page.locator('#inbound-table tbody tr');
    expect(await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-inbound-id'))))).toEqual(list.body.items.map((m) => m.id));
    await checkPage(page, '/admin/inbound', 'inbound', ui().users.admin);

    // The filter works without JavaScript too.
    const noJs = await openPage({ as: ui().users.admin, javaScript: false });
    await noJs.goto('/admin/inbound');
    await noJs.getByLabel('Status').selectOption('parsed');
    await noJs.getByRole('button', { name: 'Filter' }).click();
    await noJs.waitForURL((url) => url.searchParams.get('status') === 'parsed');
    const parsed = await api<{ items: Inbound[] }>('GET', '/api/inbound?status=parsed&limit=50');
    expect(await noJs.locator('#inbound-table tbody tr').count()).toBe(parsed.body.items.length);

    // One message: the API's status, attempts and reason.
    const first = list.body.items[0]!;
    const detail = await api<Inbound>('GET', `/api/inbound/${first.id}`);
    await page.getByRole('link', { name: `Message ${first.id}`, exact: true }).click();
    await page.waitForURL(`**/admin/inbound/${first.id}`);
    const summary = (await page.locator('#inbound-detail').textContent()) ?? '';
    expect(summary).toContain(String(detail.body.attempts));
    if (detail.body.reason) expect(summary).toContain(detail.body.reason);
    await checkPage(page, `/admin/inbound/${first.id}`, 'inbound-message', ui().users.admin);
  });

  it('replays a failed or rejected message (else a parsed one) and shows what the API answered', async () => {
    // The samples all parse (or are duplicates): something that is not a report is rejected.
    const junk = await api<{ inbound_id: number }>('POST', `/api/reports?filename=${unique('not-a-report')}.txt`, `not a report ${unique('junk')}`);
    expect(junk.status).toBe(202);
    await expect.poll(async () => (await api<Inbound>('GET', `/api/inbound/${junk.body.inbound_id}`)).body.status, { timeout: 60_000, interval: 500 }).not.toBe('received');
    const failed = await api<{ items: Inbound[] }>('GET', '/api/inbound?status=failed&limit=1');
    const rejected = await api<{ items: Inbound[] }>('GET', '/api/inbound?status=rejected&limit=1');
    const page = await openPage({ as: ui().users.admin, javaScript: false });
    const target = failed.body.items[0] ?? rejected.body.items[0];
    if (target) {
      await page.goto(`/admin/inbound?status=${target.status}`);
      await page.getByRole('button', { name: `Replay message ${target.id}`, exact: true }).click();
    } else {
      const parsed = await api<{ items: Inbound[] }>('GET', '/api/inbound?status=parsed&limit=1');
      const one = parsed.body.items[0]!;
      await page.goto(`/admin/inbound/${one.id}`);
      await page.getByRole('button', { name: 'Replay this message' }).click();
    }
    await page.waitForURL((url) => url.searchParams.get('notice') === 'replayed');
    const notice = (await page.getByRole('status').textContent()) ?? '';
    expect(notice).toContain('1 message was queued again');
    const replayedId = new URL(page.url()).searchParams.get('replayed');
    expect(replayedId).toMatch(/^[0-9]+$/);
    // The audit log records the replay, as the API's did.
    const audit = await api<{ items: { action: string }[] }>('GET', '/api/admin/audit?limit=20');
    expect(audit.body.items.map((a) => a.action)).toContain('inbound.replay');
    await screenshot(page, 'inbound-replayed');

    // Every rejected message at once: the notice counts what the API replayed.
    await page.goto('/admin/inbound');
    await page.getByRole('button', { name: 'Replay all rejected messages' }).click();
    await page.waitForURL((url) => url.searchParams.get('notice') === 'replayed');
    expect(await page.getByRole('status').textContent()).toMatch(/queued again|No message was queued again/);
  });

  it('gives members the friendly 403 page', async () => {
    const page = await openPage({ as: ui().users.member });
    const response = await page.goto('/admin/inbound');
    expect(response?.status()).toBe(403);
    expect(await page.locator('h1').textContent()).toBe('You do not have permission to see this page');
  });
});

describe('senders and reverse DNS', () => {
  it('looks up one address and many, as the API answers', async () => {
    const page = await openPage({ as: ui().users.member });
    await page.goto('/senders');
    expect(await page.getByRole('heading', { name: 'Set the service of a base domain' }).count()).toBe(0);
    await page.getByLabel('IPv4 or IPv6 address').fill('127.0.0.1');
    await page.getByRole('button', { name: 'Look up', exact: true }).click();
    await page.waitForURL((url) => url.searchParams.get('ip') === '127.0.0.1');
    const one = await api<Lookup>('GET', '/api/reverse-dns/127.0.0.1');
    const answer = (await page.locator('#lookup-answer').textContent()) ?? '';
    for (const name of one.body.ptr) expect(answer).toContain(name);
    for (const name of one.body.confirmed) expect(answer).toContain(name);
    if (one.body.base_domain) expect(answer).toContain(one.body.base_domain);
    await checkPage(page, '/senders?ip=127.0.0.1', 'senders', ui().users.member);

    await page.getByRole('textbox', { name: 'Addresses' }).fill('127.0.0.1\n192.0.2.1');
    await page.getByRole('button', { name: 'Look up all' }).click();
    const batch = await api<{ items: Lookup[] }>('POST', '/api/reverse-dns', { ips: ['127.0.0.1', '192.0.2.1'] });
    const rows = page.locator('#batch-answer tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await rows.locator('th').allTextContents()).toEqual(batch.body.items.map((i) => i.ip));
    expect(await seriousViolations(page)).toEqual([]);

    // What is not an address is the API's 400, shown on the page.
    await page.getByRole('textbox', { name: 'Addresses' }).fill('192.0.2.1\nnot-an-address');
    await page.getByRole('button', { name: 'Look up all' }).click();
    expect(await page.getByRole('alert').textContent()).toContain('not-an-address');
  });

  it('shows a base domain\'s service, and administrators replace it', async () => {
    const base = `${unique('ui-sender')}.example`.toLowerCase();
    // axe runs in the page: JavaScript on (the forms need none; the inbound tests run without it).
    const page = await openPage({ as: ui().users.admin });
    await page.goto('/senders?base_domain=mcsv.net');
    const entry = await api<{ service: { name: string } | null }>('GET', '/api/reverse-dns/map/mcsv.net');
    if (entry.body.service) expect(await page.locator('#map-answer').textContent()).toContain(entry.body.service.name);
    await page.getByLabel('Base domain of the sender').fill(base);
    await page.getByLabel('Service name').fill('UI Test Mail');
    await page.getByLabel('Service type').fill('Email Service Provider');
    await page.getByRole('button', { name: 'Save to the sender map' }).click();
    await page.waitForURL((url) => url.searchParams.get('notice') === 'map-created');
    expect(await page.getByRole('status').textContent()).toContain('Added to the sender map.');
    const saved = await api<{ service: { name: string; type: string }; source: string }>('GET', `/api/reverse-dns/map/${base}`);
    expect(saved.body).toMatchObject({ service: { name: 'UI Test Mail', type: 'Email Service Provider' }, source: 'admin' });
    expect(await page.locator('#map-answer').textContent()).toContain('Set by an administrator');
    await checkPage(page, `/senders?base_domain=${base}`, 'senders-map', ui().users.admin);

    // A refused change: the API's reason, next to the field.
    // Spaces pass the browser's `required` check; the API trims them and refuses the empty name.
    await page.getByLabel('Service name').fill('   ');
    await page.getByRole('button', { name: 'Save to the sender map' }).click();
    expect(await page.getByRole('alert').first().textContent()).toContain('name');
  });
});

describe('TLS reports, upload, account and the API page', () => {
  it('lists the TLS reports the API gives the person', async () => {
    const page = await openPage({ as: ui().users.admin });
    await page.goto('/reports');
    await page.getByRole('link', { name: 'SMTP TLS reports of all your domains' }).click();
    await page.waitForURL('**/tls-reports');
    const list = await api<{ items: { report_id: string; policies: { policy_domain: string }[] }[] }>('GET', '/api/tls-reports?limit=50');
    expect(list.body.items.length).toBeGreaterThan(0);
    const shown = await page.locator('#tls-reports-table tbody tr').evaluateAll((trs) => [...new Set(trs.map((tr) => tr.getAttribute('data-report-id')))]);
    expect(shown).toEqual(list.body.items.map((r) => r.report_id));
    const text = (await page.locator('#tls-reports-table').textContent()) ?? '';
    for (const p of list.body.items.flatMap((r) => r.policies)) expect(text).toContain(p.policy_domain);
    await checkPage(page, '/tls-reports', 'tls-reports', ui().users.admin);

    const member = await openPage({ as: ui().users.member });
    expect((await member.goto('/tls-reports'))?.status()).toBe(200);
  });

  it('uploads a report file as an administrator, and tells members why they cannot', async () => {
    const id = unique('ui-upload');
    const dir = mkdtempSync(join(tmpdir(), 'ui-upload-'));
    const file = join(dir, `${id}.xml`);
    writeFileSync(
      file,
      `<feedback><report_metadata><org_name>UI Upload</org_name><email>r@upload.example</email><report_id>${id}</report_id><date_range><begin>1735689600</begin><end>1735775999</end></date_range></report_metadata><policy_published><domain>example.com</domain><p>none</p></policy_published><record><row><source_ip>192.0.2.1</source_ip><count>1</count><policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row><identifiers><header_from>example.com</header_from></identifiers></record></feedback>`,
    );
    const page = await openPage({ as: ui().users.admin });
    await page.goto('/upload');
    expect(await page.locator('#cannot-upload').count()).toBe(0);
    await page.getByLabel('Report file').setInputFiles(file);
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.waitForURL((url) => url.searchParams.get('notice') === 'uploaded');
    const inboundId = new URL(page.url()).searchParams.get('inbound');
    expect(await page.getByRole('status').textContent()).toContain(`It is message ${inboundId}`);
    const inbound = await api<Inbound>('GET', `/api/inbound/${inboundId}`);
    expect(inbound.status).toBe(200);
    expect(inbound.body.filename).toBe(`${id}.xml`);
    await checkPage(page, page.url().replace(ui().baseUrl, ''), 'upload', ui().users.admin);

    // The same content again, with JavaScript off, is the API's duplicate.
    const noJs = await openPage({ as: ui().users.admin, javaScript: false });
    await noJs.goto('/upload');
    await noJs.getByLabel('Report file').setInputFiles(file);
    await noJs.getByRole('button', { name: 'Upload' }).click();
    await noJs.waitForURL((url) => url.searchParams.get('status') === 'duplicate');
    expect(await noJs.getByRole('status').textContent()).toContain('a duplicate');

    const member = await openPage({ as: ui().users.member });
    await member.goto('/upload');
    expect(await member.locator('#cannot-upload').textContent()).toContain('Your account cannot upload reports');
    expect(await member.locator('#upload-curl').textContent()).toContain('/api/reports');
    await member.getByLabel('Or paste the report').fill('<feedback/>');
    await member.getByRole('button', { name: 'Upload' }).click();
    await expect.poll(() => member.getByRole('alert').count()).toBe(1);
    expect(await member.getByRole('alert').textContent()).toContain('There is a problem');
    expect(await seriousViolations(member)).toEqual([]);
    await screenshot(member, 'upload-member');
  });

  it('shows the person\'s account as GET /api/me says', async () => {
    const page = await openPage({ as: ui().users.member });
    await page.goto('/');
    await page.getByRole('link', { name: ui().users.member }).click();
    await page.waitForURL('**/account');
    const me = (await (await page.request.get('/api/me')).json()) as { groups: { name: string }[]; domains: string[]; scopes: string[] };
    const text = (await page.locator('main').textContent()) ?? '';
    for (const g of me.groups) expect(text).toContain(g.name);
    for (const d of me.domains) expect(text).toContain(d);
    expect(await page.locator('#account-scopes li').count()).toBe(me.scopes.length);
    await checkPage(page, '/account', 'account', ui().users.member);
  });

  it('links the OpenAPI spec and token creation, and lists every operation', async () => {
    const page = await openPage({ as: ui().users.admin });
    await page.goto('/api-docs');
    expect(await page.getByRole('link', { name: '/api/openapi.json' }).getAttribute('href')).toBe('/api/openapi.json');
    expect(await page.getByRole('link', { name: 'API tokens' }).first().getAttribute('href')).toBe('/admin/tokens');
    const spec = await api<{ paths: Record<string, Record<string, unknown>> }>('GET', '/api/openapi.json');
    const operations = Object.values(spec.body.paths).flatMap((item) => Object.keys(item).filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m)));
    expect(await page.locator('table[id^="operations-"] tbody tr').count()).toBe(operations.length);
    await checkPage(page, '/api-docs', 'api-docs', ui().users.admin);
  });
});
