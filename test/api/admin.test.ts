import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_CSV_ROWS, parseDomainCsv, splitCsvLine } from '../../src/api/admin/domain-csv';
import { normaliseDomain } from '../../src/api/admin/validation';

import worker from '../../src/index';
import { migrate } from '../ingest/helpers';

const ADMIN = 'test-admin-token-0123456789abcdef';
/** One client address for this file, so its deliberate 401s never meet another file's rate limit. */
const IP = '192.0.2.201';

/** Unique names: the tests share one D1 database. */
const run = Math.random().toString(36).slice(2, 8);
let seq = 0;
const unique = (label: string) => `${label}-${run}-${++seq}`;
const email = (label = 'user') => `${unique(label)}@agency.example`;
const domainName = (label = 'd') => `${unique(label)}.example`;

interface Sent {
  token?: string | null;
  body?: unknown;
  /** A raw body (CSV), sent as is. */
  text?: string;
  headers?: Record<string, string>;
}

async function call(method: string, path: string, sent: Sent = {}) {
  const headers = new Headers(sent.headers);
  headers.set('CF-Connecting-IP', IP);
  const token = sent.token === undefined ? ADMIN : sent.token;
  if (token !== null) headers.set('Authorization', `Bearer ${token}`);
  let body: string | undefined;
  if (sent.text !== undefined) body = sent.text;
  else if (sent.body !== undefined) {
    body = JSON.stringify(sent.body);
    if (!headers.has('Content-Type')) headers.set('Content-Type', 'application/json');
  }
  const request = new Request(`https://mailcheck.test${path}`, { method, headers, body });
  const response = await worker.fetch(request, env, createExecutionContext());
  const text = await response.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: response.status, headers: response.headers, json, text };
}

const get = (path: string, sent?: Sent) => call('GET', path, sent);
const post = (path: string, body: unknown, sent: Sent = {}) => call('POST', path, { ...sent, body });
const patch = (path: string, body: unknown, sent: Sent = {}) => call('PATCH', path, { ...sent, body });
const put = (path: string, sent?: Sent) => call('PUT', path, sent);
const del = (path: string, sent?: Sent) => call('DELETE', path, sent);
const me = (token: string) => call('GET', '/api/me', { token });
const csv = (text: string, type = 'text/csv') => call('POST', '/api/admin/domains/bulk', { text, headers: { 'Content-Type': type } });

async function createUser(fields: Record<string, unknown> = {}) {
  const response = await post('/api/admin/users', { email: email(), ...fields });
  expect(response.status).toBe(201);
  return response.json as { id: number; email: string; name: string | null; role: string };
}
async function createGroup(name = unique('Group')) {
  const response = await post('/api/admin/groups', { name });
  expect(response.status).toBe(201);
  return response.json as { id: number; name: string };
}
async function createDomain(name = domainName(), groupIds?: number[]) {
  const response = await post('/api/admin/domains', { name, ...(groupIds ? { group_ids: groupIds } : {}) });
  expect(response.status).toBe(201);
  return response.json as { id: number; name: string; groups: { id: number; name: string }[] };
}
async function createToken(fields: Record<string, unknown>) {
  const response = await post('/api/admin/tokens', { name: unique('token'), ...fields });
  expect(response.status).toBe(201);
  return response.json as { id: number; token: string; prefix: string; scopes: string[]; user_id: number | null };
}

interface AuditItem {
  id: number;
  at: string;
  actor: string;
  action: string;
  entity: string;
  entity_id: string | null;
  before: any;
  after: any;
}
async function auditOf(entity: string, id: number | string): Promise<AuditItem[]> {
  const response = await get(`/api/admin/audit?entity=${entity}&entity_id=${id}`);
  expect(response.status).toBe(200);
  return response.json.items as AuditItem[];
}

function expectBadRequest(response: Awaited<ReturnType<typeof call>>, field: string) {
  expect(response.status).toBe(400);
  expect(response.headers.get('Content-Type')).toContain('application/problem+json');
  expect(response.json.detail).toContain(field);
  expect(response.json.errors.map((e: { path: string }) => e.path)).toContain(field);
}

async function scalar<T = number>(query: string, ...params: unknown[]): Promise<T> {
  const row = await env.DB.prepare(query).bind(...params).first<{ v: T }>();
  return row?.v as T;
}

beforeAll(migrate);

describe('users', () => {
  it('creates a user with a lower-cased email, member by default, and audits it', async () => {
    const address = email('Ann');
    const response = await post('/api/admin/users', { email: `  ${address.toUpperCase()} `, name: 'Ann Example' });
    expect(response.status).toBe(201);
    expect(response.json).toMatchObject({ email: address.toLowerCase(), name: 'Ann Example', role: 'member', groups: [] });
    expect(response.headers.get('Location')).toBe(`/api/admin/users/${response.json.id}`);
    const [entry] = await auditOf('user', response.json.id);
    expect(entry).toMatchObject({ actor: 'bootstrap', action: 'user.create', entity: 'user', entity_id: String(response.json.id), before: null });
    expect(entry!.after).toMatchObject({ id: response.json.id, email: address.toLowerCase(), role: 'member', group_ids: [] });
  });

  it('refuses invalid input with 400 naming the field', async () => {
    expectBadRequest(await post('/api/admin/users', { name: 'No Email' }), 'email');
    expectBadRequest(await post('/api/admin/users', { email: 'not-an-email' }), 'email');
    expectBadRequest(await post('/api/admin/users', { email: email(), role: 'owner' }), 'role');
    expectBadRequest(await post('/api/admin/users', { email: email(), roles: 'admin' }), 'roles');
    expectBadRequest(await post('/api/admin/users', { email: email(), name: 42 }), 'name');
    const notJson = await call('POST', '/api/admin/users', { text: '{"email":', headers: { 'Content-Type': 'application/json' } });
    expectBadRequest(notJson, '(body)');
    expectBadRequest(await post('/api/admin/users', ['x']), '(body)');
  });

  it('answers 409 for an email that is taken, whatever its case', async () => {
    const user = await createUser();
    const again = await post('/api/admin/users', { email: user.email.toUpperCase() });
    expect(again.status).toBe(409);
    expect(again.json.detail).toContain(user.email);
  });

  it('shows a user with their groups; 404 for an unknown id', async () => {
    const user = await createUser();
    const group = await createGroup();
    expect((await put(`/api/admin/groups/${group.id}/members/${user.id}`)).status).toBe(204);
    const shown = await get(`/api/admin/users/${user.id}`);
    expect(shown.status).toBe(200);
    expect(shown.json).toMatchObject({ id: user.id, email: user.email, groups: [{ id: group.id, name: group.name }] });
    const missing = await get('/api/admin/users/999999');
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ status: 404, title: 'Not Found' });
    expect((await get('/api/admin/users/99999999999999999999')).status).toBe(404);
  });

  it('updates name and role, auditing before and after', async () => {
    const user = await createUser({ name: 'Before' });
    const response = await patch(`/api/admin/users/${user.id}`, { name: 'After', role: 'admin' });
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ id: user.id, name: 'After', role: 'admin' });
    const [entry] = await auditOf('user', user.id);
    expect(entry!.action).toBe('user.update');
    expect(entry!.before).toMatchObject({ name: 'Before', role: 'member' });
    expect(entry!.after).toMatchObject({ name: 'After', role: 'admin' });
    // Clearing the name; a PATCH that changes nothing is not audited.
    expect((await patch(`/api/admin/users/${user.id}`, { name: null })).json.name).toBeNull();
    const count = (await auditOf('user', user.id)).length;
    expect((await patch(`/api/admin/users/${user.id}`, { role: 'admin' })).status).toBe(200);
    expect((await auditOf('user', user.id)).length).toBe(count);
  });

  it('refuses a bad update with 400 and an unknown user with 404', async () => {
    const user = await createUser();
    expectBadRequest(await patch(`/api/admin/users/${user.id}`, { role: 'root' }), 'role');
    expectBadRequest(await patch(`/api/admin/users/${user.id}`, { email: 'x@y.example' }), 'email');
    expect((await patch('/api/admin/users/999999', { name: 'x' })).status).toBe(404);
  });

  it('deletes a user, their memberships, and revokes their tokens', async () => {
    const user = await createUser({ role: 'admin' });
    const group = await createGroup();
    await put(`/api/admin/groups/${group.id}/members/${user.id}`);
    const token = await createToken({ scopes: ['read'], user_id: user.id });
    expect((await me(token.token)).status).toBe(200);

    expect((await del(`/api/admin/users/${user.id}`)).status).toBe(204);
    expect((await get(`/api/admin/users/${user.id}`)).status).toBe(404);
    expect(await scalar('SELECT count(*) AS v FROM group_members WHERE user_id = ?', user.id)).toBe(0);
    expect((await get(`/api/admin/tokens/${token.id}`)).json.revoked_at).not.toBeNull();
    expect((await me(token.token)).status).toBe(401);

    const [entry] = await auditOf('user', user.id);
    expect(entry).toMatchObject({ action: 'user.delete', after: null });
    expect(entry!.before).toMatchObject({ id: user.id, email: user.email, group_ids: [group.id], active_token_ids: [token.id] });
    expect((await del(`/api/admin/users/${user.id}`)).status).toBe(404);
  });

  it('lists with search (case-insensitive) and keyset pagination', async () => {
    const marker = unique('Pager').toLowerCase();
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await createUser({ email: `${marker}-${i}@agency.example` }));
    await createUser({ name: `Named ${marker.toUpperCase()}` });
    const first = await get(`/api/admin/users?search=${marker.toUpperCase()}&limit=2`);
    expect(first.status).toBe(200);
    expect(first.json.items.map((u: { id: number }) => u.id)).toEqual([made[0]!.id, made[1]!.id]);
    expect(first.json.next_cursor).toBe(String(made[1]!.id));
    const second = await get(`/api/admin/users?search=${marker}&limit=2&cursor=${first.json.next_cursor}`);
    expect(second.json.items).toHaveLength(2);
    expect(second.json.items[0].id).toBe(made[2]!.id);
    expect(second.json.items[1].name).toBe(`Named ${marker.toUpperCase()}`);
    expect(second.json.next_cursor).toBeNull();
    // A search term longer than D1's 50-byte LIKE limit still works (instr, not LIKE).
    const long = `${'x'.repeat(60)}-${marker}`;
    await createUser({ email: `${long}@agency.example` });
    expect((await get(`/api/admin/users?search=${long}`)).json.items).toHaveLength(1);
    expect((await get('/api/admin/users?search=%25')).status).toBe(200);
    expect((await get('/api/admin/users?role=admin')).json.items.every((u: { role: string }) => u.role === 'admin')).toBe(true);
    expectBadRequest(await get('/api/admin/users?limit=0'), 'limit');
    expectBadRequest(await get('/api/admin/users?cursor=abc'), 'cursor');
    expectBadRequest(await get('/api/admin/users?role=owner'), 'role');
  });
});

describe('groups and memberships', () => {
  it('creates, shows (members and domains), renames and lists groups', async () => {
    const group = await createGroup(unique('Ministry of Tests, Dept'));
    expect(group).toMatchObject({ members: [], domains: [] });
    const user = await createUser();
    const domain = await createDomain(domainName(), [group.id]);
    await put(`/api/admin/groups/${group.id}/members/${user.id}`);
    const shown = await get(`/api/admin/groups/${group.id}`);
    expect(shown.json).toMatchObject({
      id: group.id,
      name: group.name,
      members: [{ id: user.id, email: user.email, role: 'member' }],
      domains: [{ id: domain.id, name: domain.name }],
    });
    const renamed = await patch(`/api/admin/groups/${group.id}`, { name: `${group.name} (renamed)` });
    expect(renamed.status).toBe(200);
    expect(renamed.json.name).toBe(`${group.name} (renamed)`);
    const [entry] = await auditOf('group', group.id);
    expect(entry).toMatchObject({ action: 'group.update', before: { name: group.name }, after: { name: `${group.name} (renamed)` } });

    const listed = await get(`/api/admin/groups?search=${encodeURIComponent(group.name.toUpperCase())}`);
    expect(listed.json.items).toEqual([expect.objectContaining({ id: group.id, member_count: 1, domain_count: 1 })]);
  });

  it('paginates groups', async () => {
    const marker = unique('gpage');
    const made = [await createGroup(`${marker} a`), await createGroup(`${marker} b`), await createGroup(`${marker} c`)];
    const first = await get(`/api/admin/groups?search=${marker}&limit=2`);
    expect(first.json.items.map((g: { id: number }) => g.id)).toEqual([made[0]!.id, made[1]!.id]);
    const second = await get(`/api/admin/groups?search=${marker}&limit=2&cursor=${first.json.next_cursor}`);
    expect(second.json).toEqual({ items: [expect.objectContaining({ id: made[2]!.id })], next_cursor: null });
  });

  it('answers 409 for a duplicate name (ignoring case), 400 for an empty one, 404 for an unknown group', async () => {
    const group = await createGroup();
    expect((await post('/api/admin/groups', { name: group.name.toUpperCase() })).status).toBe(409);
    const other = await createGroup();
    expect((await patch(`/api/admin/groups/${other.id}`, { name: group.name })).status).toBe(409);
    expectBadRequest(await post('/api/admin/groups', { name: '   ' }), 'name');
    expectBadRequest(await post('/api/admin/groups', {}), 'name');
    expectBadRequest(await patch(`/api/admin/groups/${group.id}`, { name: 'x'.repeat(101) }), 'name');
    expect((await get('/api/admin/groups/999999')).status).toBe(404);
    expect((await patch('/api/admin/groups/999999', { name: unique('x') })).status).toBe(404);
    expect((await del('/api/admin/groups/999999')).status).toBe(404);
  });

  it('adds and removes members idempotently, auditing each real change once', async () => {
    const group = await createGroup();
    const user = await createUser();
    expect((await put(`/api/admin/groups/${group.id}/members/${user.id}`)).status).toBe(204);
    expect((await put(`/api/admin/groups/${group.id}/members/${user.id}`)).status).toBe(204);
    expect((await get(`/api/admin/users/${user.id}`)).json.groups).toEqual([{ id: group.id, name: group.name }]);
    expect((await del(`/api/admin/groups/${group.id}/members/${user.id}`)).status).toBe(204);
    expect((await del(`/api/admin/groups/${group.id}/members/${user.id}`)).status).toBe(204);
    expect((await get(`/api/admin/users/${user.id}`)).json.groups).toEqual([]);
    const entries = await auditOf('group', group.id);
    expect(entries.map((e) => e.action)).toEqual(['group.remove_member', 'group.add_member', 'group.create']);
    expect(entries[1]!.after).toEqual({ group_id: group.id, group: group.name, user_id: user.id, email: user.email });
    expect(entries[0]!.before).toEqual({ group_id: group.id, group: group.name, user_id: user.id, email: user.email });
    expect(entries[0]!.after).toBeNull();
  });

  it('answers 404 for memberships of unknown groups or users', async () => {
    const group = await createGroup();
    const user = await createUser();
    expect((await put(`/api/admin/groups/999999/members/${user.id}`)).status).toBe(404);
    const noUser = await put(`/api/admin/groups/${group.id}/members/999999`);
    expect(noUser.status).toBe(404);
    expect(noUser.json.detail).toContain('user 999999');
    expect((await del(`/api/admin/groups/${group.id}/members/999999`)).status).toBe(404);
  });

  it('deletes a group with its memberships and domain links, keeping users and domains', async () => {
    const group = await createGroup();
    const user = await createUser();
    const domain = await createDomain(domainName(), [group.id]);
    await put(`/api/admin/groups/${group.id}/members/${user.id}`);
    expect((await del(`/api/admin/groups/${group.id}`)).status).toBe(204);
    expect((await get(`/api/admin/groups/${group.id}`)).status).toBe(404);
    expect(await scalar('SELECT count(*) AS v FROM group_members WHERE group_id = ?', group.id)).toBe(0);
    expect(await scalar('SELECT count(*) AS v FROM group_domains WHERE group_id = ?', group.id)).toBe(0);
    expect((await get(`/api/admin/users/${user.id}`)).json.groups).toEqual([]);
    expect((await get(`/api/admin/domains/${domain.id}`)).json.groups).toEqual([]);
    const [entry] = await auditOf('group', group.id);
    expect(entry).toMatchObject({ action: 'group.delete', before: { name: group.name, member_ids: [user.id], domain_ids: [domain.id] }, after: null });
  });
});

describe('domains', () => {
  it('normalises names: trimmed, lower-case, one trailing dot dropped, IDN as A-labels', () => {
    expect(normaliseDomain('  Example.ORG. ')).toEqual({ name: 'example.org' });
    expect(normaliseDomain('bücher.example')).toEqual({ name: 'xn--bcher-kva.example' });
    expect(normaliseDomain('mail-1.sub.example.co.uk')).toEqual({ name: 'mail-1.sub.example.co.uk' });
    for (const bad of ['', 'localhost', 'a..b', '.example.org', '-a.example', 'a-.example', 'ex_ample.org', 'example.org..', '1.2.3.4', 'evil.example/ü.de', 'a b.example', `${'a'.repeat(64)}.example`, `${'a.'.repeat(127)}ab`]) {
      expect(normaliseDomain(bad), bad).toHaveProperty('error');
    }
    expect(normaliseDomain(`${'a'.repeat(63)}.example`)).toHaveProperty('name');
  });

  it('adds a domain, optionally to groups; 409 for a duplicate; 400 for a bad name; 404 for unknown groups', async () => {
    const group = await createGroup();
    const base = unique('Add').toLowerCase();
    const response = await post('/api/admin/domains', { name: ` ${base.toUpperCase()}.Example. `, group_ids: [group.id] });
    expect(response.status).toBe(201);
    expect(response.json).toMatchObject({ name: `${base}.example`, groups: [{ id: group.id, name: group.name }] });
    const [entry] = await auditOf('domain', response.json.id);
    expect(entry).toMatchObject({ action: 'domain.create', before: null, after: { name: `${base}.example`, group_ids: [group.id] } });

    expect((await post('/api/admin/domains', { name: `${base}.example` })).status).toBe(409);
    const bad = await post('/api/admin/domains', { name: 'not a domain' });
    expectBadRequest(bad, 'name');
    expectBadRequest(await post('/api/admin/domains', { name: 'localhost' }), 'name');
    expectBadRequest(await post('/api/admin/domains', { name: domainName(), group_ids: 'x' }), 'group_ids');
    expectBadRequest(await post('/api/admin/domains', { name: domainName(), group_ids: [1, 'x'] }), 'group_ids.1');
    const unknownGroup = await post('/api/admin/domains', { name: domainName(), group_ids: [group.id, 999999] });
    expect(unknownGroup.status).toBe(404);
    expect(unknownGroup.json.detail).toContain('group_ids.1');
  });

  it('shows a domain with its groups, lists with search, group filter and pagination, deletes with its links', async () => {
    const group = await createGroup();
    const marker = unique('dlist').toLowerCase();
    const a = await createDomain(`a.${marker}.example`, [group.id]);
    const b = await createDomain(`b.${marker}.example`);
    const c = await createDomain(`c.${marker}.example`, [group.id]);
    expect((await get(`/api/admin/domains/${a.id}`)).json).toMatchObject({ id: a.id, name: a.name, groups: [{ id: group.id, name: group.name }] });
    const first = await get(`/api/admin/domains?search=${marker.toUpperCase()}&limit=2`);
    expect(first.json.items.map((d: { name: string }) => d.name)).toEqual([a.name, b.name]);
    expect(first.json.items[0].groups).toEqual([{ id: group.id, name: group.name }]);
    const second = await get(`/api/admin/domains?search=${marker}&limit=2&cursor=${first.json.next_cursor}`);
    expect(second.json).toEqual({ items: [expect.objectContaining({ id: c.id })], next_cursor: null });
    expect((await get(`/api/admin/domains?group_id=${group.id}`)).json.items.map((d: { id: number }) => d.id)).toEqual([a.id, c.id]);
    expectBadRequest(await get('/api/admin/domains?group_id=x'), 'group_id');

    expect((await del(`/api/admin/domains/${a.id}`)).status).toBe(204);
    expect((await get(`/api/admin/domains/${a.id}`)).status).toBe(404);
    expect(await scalar('SELECT count(*) AS v FROM group_domains WHERE domain_id = ?', a.id)).toBe(0);
    const [entry] = await auditOf('domain', a.id);
    expect(entry).toMatchObject({ action: 'domain.delete', before: { name: a.name, group_ids: [group.id] }, after: null });
    expect((await del(`/api/admin/domains/${a.id}`)).status).toBe(404);
    expect((await get('/api/admin/domains/999999')).status).toBe(404);
  });

  it('links and unlinks groups and domains idempotently; 404 for unknown ids', async () => {
    const group = await createGroup();
    const domain = await createDomain();
    expect((await put(`/api/admin/groups/${group.id}/domains/${domain.id}`)).status).toBe(204);
    expect((await put(`/api/admin/groups/${group.id}/domains/${domain.id}`)).status).toBe(204);
    expect((await get(`/api/admin/domains/${domain.id}`)).json.groups).toEqual([{ id: group.id, name: group.name }]);
    expect((await del(`/api/admin/groups/${group.id}/domains/${domain.id}`)).status).toBe(204);
    expect((await del(`/api/admin/groups/${group.id}/domains/${domain.id}`)).status).toBe(204);
    expect((await get(`/api/admin/domains/${domain.id}`)).json.groups).toEqual([]);
    const entries = await auditOf('group', group.id);
    expect(entries.map((e) => e.action)).toEqual(['group.unlink_domain', 'group.link_domain', 'group.create']);
    expect(entries[1]!.after).toEqual({ group_id: group.id, group: group.name, domain_id: domain.id, domain: domain.name });
    expect((await put(`/api/admin/groups/999999/domains/${domain.id}`)).status).toBe(404);
    expect((await put(`/api/admin/groups/${group.id}/domains/999999`)).status).toBe(404);
    expect((await del(`/api/admin/groups/${group.id}/domains/999999`)).status).toBe(404);
  });
});

describe('bulk domains from CSV', () => {
  it('splits CSV lines with quotes', () => {
    expect(splitCsvLine('a.example, "Ministry of X, Y"')).toEqual(['a.example', 'Ministry of X, Y']);
    expect(splitCsvLine('"say ""hi""",b')).toEqual(['say "hi"', 'b']);
    expect(splitCsvLine('"open')).toBeNull();
    expect(parseDomainCsv('domain,group\n\n# c\nA.example.\n', 10)).toEqual({ rows: [{ line: 4, domain: 'a.example', group: null, value: 'A.example.' }], invalid: [] });
  });

  it('adds good rows, reports existing, invalid and unknown-group rows, links groups, and audits one summary', async () => {
    const group = await createGroup(unique('Ministry, of CSV'));
    const known = await createDomain();
    const marker = unique('bulk').toLowerCase();
    const text = [
      'Domain,Group',
      '# a comment',
      '',
      `one.${marker}.example`,
      `Two.${marker}.example.,"${group.name.toUpperCase()}"`,
      `${known.name},"${group.name}"`,
      'not a domain',
      `three.${marker}.example,No Such Group ${marker}`,
      `one.${marker}.example,"${group.name}"`,
      `four.${marker}.example,,`,
      'x.example,a,b',
      '   ',
    ].join('\r\n');
    const response = await csv(text);
    expect(response.status).toBe(200);
    expect(response.json).toEqual({
      added: [`one.${marker}.example`, `two.${marker}.example`, `four.${marker}.example`],
      existing: [known.name],
      linked: 3,
      invalid: [
        { line: 7, value: 'not a domain', reason: expect.stringContaining('domain') },
        { line: 8, value: `three.${marker}.example,No Such Group ${marker}`, reason: `no group named "No Such Group ${marker}"` },
        { line: 11, value: 'x.example,a,b', reason: expect.stringContaining('columns') },
      ],
    });
    const shown = await get(`/api/admin/groups/${group.id}`);
    expect(shown.json.domains.map((d: { name: string }) => d.name).sort()).toEqual([known.name, `one.${marker}.example`, `two.${marker}.example`].sort());
    expect((await get(`/api/admin/domains?search=three.${marker}`)).json.items).toEqual([]);

    const [entry] = (await get('/api/admin/audit?entity=domain&action=domain.bulk_add&limit=1')).json.items as AuditItem[];
    expect(entry).toMatchObject({ actor: 'bootstrap', entity: 'domain', entity_id: null, before: null });
    expect(entry!.after).toEqual({
      rows: 8,
      domains: 4,
      added: 3,
      existing: 1,
      linked: 3,
      invalid: 3,
      added_domains: [`one.${marker}.example`, `two.${marker}.example`, `four.${marker}.example`],
    });

    // The same file again adds nothing and links nothing.
    const again = await csv(text);
    expect(again.json).toMatchObject({ added: [], linked: 0 });
    expect(again.json.existing).toHaveLength(4);
  });

  it('handles thousands of rows in chunked statements within D1 limits', async () => {
    const group = await createGroup();
    const marker = unique('many').toLowerCase();
    const lines = Array.from({ length: 2500 }, (_, i) => `h${i}.${marker}.example,${group.name}`);
    const response = await csv(lines.join('\n'), 'text/plain; charset=utf-8');
    expect(response.status).toBe(200);
    expect(response.json.added).toHaveLength(2500);
    expect(response.json.linked).toBe(2500);
    expect(await scalar('SELECT count(*) AS v FROM group_domains WHERE group_id = ?', group.id)).toBe(2500);
  });

  it(`refuses more than ${MAX_CSV_ROWS} rows, a non-CSV body and an empty file`, async () => {
    const tooMany = await csv(Array.from({ length: MAX_CSV_ROWS + 1 }, (_, i) => `t${i}.example`).join('\n'));
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.detail).toContain(String(MAX_CSV_ROWS));
    expect(await scalar("SELECT count(*) AS v FROM domains WHERE name = 't0.example'")).toBe(0);
    expect((await csv('a.example', 'application/json')).status).toBe(415);
    expect((await csv('# nothing\n')).json).toEqual({ added: [], existing: [], linked: 0, invalid: [] });
  });
});

describe('tokens', () => {
  it('creates a token shown once, which then authenticates; lists never show the token or its hash', async () => {
    const created = await post('/api/admin/tokens', { name: 'ci script', scopes: ['read', 'read', 'ingest'], expires_in_days: 30 });
    expect(created.status).toBe(201);
    expect(created.headers.get('Cache-Control')).toBe('no-store');
    const token = created.json.token as string;
    expect(token).toMatch(/^mce_[A-Za-z0-9_-]{43}$/);
    expect(created.json).toMatchObject({ name: 'ci script', prefix: token.slice(0, 10), scopes: ['read', 'ingest'], user_id: null, created_by: 'bootstrap', revoked_at: null });
    expect(Date.parse(created.json.expires_at) - Date.now()).toBeGreaterThan(29 * 86_400_000);

    const whoami = await me(token);
    expect(whoami.status).toBe(200);
    expect(whoami.json).toMatchObject({ kind: 'token', user_id: null, scopes: ['read', 'ingest'], all_domains: true });

    const hash = await scalar<string>('SELECT token_hash AS v FROM api_tokens WHERE id = ?', created.json.id);
    const listed = await get('/api/admin/tokens?search=ci script');
    expect(listed.json.items.map((t: { id: number }) => t.id)).toContain(created.json.id);
    const shown = await get(`/api/admin/tokens/${created.json.id}`);
    const [entry] = await auditOf('token', created.json.id);
    expect(entry).toMatchObject({ action: 'token.create', after: { name: 'ci script', scopes: ['read', 'ingest'], prefix: token.slice(0, 10) } });
    for (const text of [listed.text, shown.text, JSON.stringify(entry)]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(hash);
      expect(text).not.toContain('token_hash');
    }
    expect(shown.json.last_used_at).not.toBeNull();
  });

  it('a token for a user acts as that user', async () => {
    const group = await createGroup();
    const user = await createUser();
    const domain = await createDomain(domainName(), [group.id]);
    await createDomain();
    await put(`/api/admin/groups/${group.id}/members/${user.id}`);
    const token = await createToken({ scopes: ['read'], user_id: user.id });
    const whoami = await me(token.token);
    expect(whoami.json).toEqual({
      kind: 'token',
      email: user.email,
      user_id: user.id,
      role: 'member',
      scopes: ['read'],
      all_domains: false,
      groups: [{ id: group.id, name: group.name }],
      domains: [domain.name],
    });
    expect((await get('/api/admin/users', { token: token.token })).status).toBe(403);
    // A member's token cannot be given more than the member may do.
    expectBadRequest(await post('/api/admin/tokens', { name: 'x', scopes: ['admin'], user_id: user.id }), 'scopes');
    expect((await get(`/api/admin/tokens?user_id=${user.id}`)).json.items.map((t: { id: number }) => t.id)).toEqual([token.id]);
  });

  it('a token without the admin scope cannot use any admin route (403)', async () => {
    const token = await createToken({ scopes: ['read', 'ingest', 'probe'] });
    const routes: [string, string][] = [
      ['GET', '/api/admin/users'],
      ['POST', '/api/admin/users'],
      ['GET', '/api/admin/users/1'],
      ['PATCH', '/api/admin/users/1'],
      ['DELETE', '/api/admin/users/1'],
      ['GET', '/api/admin/groups'],
      ['POST', '/api/admin/groups'],
      ['GET', '/api/admin/groups/1'],
      ['PATCH', '/api/admin/groups/1'],
      ['DELETE', '/api/admin/groups/1'],
      ['PUT', '/api/admin/groups/1/members/1'],
      ['DELETE', '/api/admin/groups/1/members/1'],
      ['PUT', '/api/admin/groups/1/domains/1'],
      ['DELETE', '/api/admin/groups/1/domains/1'],
      ['GET', '/api/admin/domains'],
      ['POST', '/api/admin/domains'],
      ['POST', '/api/admin/domains/bulk'],
      ['GET', '/api/admin/domains/1'],
      ['DELETE', '/api/admin/domains/1'],
      ['GET', '/api/admin/tokens'],
      ['POST', '/api/admin/tokens'],
      ['GET', '/api/admin/tokens/1'],
      ['DELETE', '/api/admin/tokens/1'],
      ['GET', '/api/admin/audit'],
    ];
    for (const [method, path] of routes) {
      const response = await call(method, path, { token: token.token, ...(method === 'GET' ? {} : { body: {} }) });
      expect(response.status, `${method} ${path}`).toBe(403);
    }
    const admin = await createToken({ scopes: ['admin'] });
    expect((await get('/api/admin/users', { token: admin.token })).status).toBe(200);
    const made = await post('/api/admin/groups', { name: unique('by token') }, { token: admin.token });
    expect((await auditOf('group', made.json.id))[0]!.actor).toBe(`token:${admin.id}`);
    expect((await get('/api/admin/users', { token: null })).status).toBe(401);
  });

  it('revokes a token (idempotently): it then gets 401', async () => {
    const token = await createToken({ scopes: ['read'] });
    expect((await me(token.token)).status).toBe(200);
    expect((await del(`/api/admin/tokens/${token.id}`)).status).toBe(204);
    expect((await del(`/api/admin/tokens/${token.id}`)).status).toBe(204);
    const revoked = await me(token.token);
    expect(revoked.status).toBe(401);
    expect(revoked.json.title).toBe('Unauthorized');
    expect((await get(`/api/admin/tokens/${token.id}`)).json.revoked_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    const entries = await auditOf('token', token.id);
    expect(entries.map((e) => e.action)).toEqual(['token.revoke', 'token.create']);
    expect(entries[0]!.before.revoked_at).toBeNull();
    expect(entries[0]!.after.revoked_at).not.toBeNull();
    expect((await del('/api/admin/tokens/999999')).status).toBe(404);
  });

  it('an expired token gets 401', async () => {
    const token = await createToken({ scopes: ['read'], expires_in_days: 1 });
    expect((await me(token.token)).status).toBe(200);
    await env.DB.prepare("UPDATE api_tokens SET expires_at = '2020-01-01T00:00:00Z' WHERE id = ?").bind(token.id).run();
    const expired = await me(token.token);
    expect(expired.status).toBe(401);
    expect(expired.json.detail).toContain('expired');
  });

  it('refuses invalid token requests with 400 naming the field, unknown users with 404', async () => {
    expectBadRequest(await post('/api/admin/tokens', { scopes: ['read'] }), 'name');
    expectBadRequest(await post('/api/admin/tokens', { name: 'x', scopes: [] }), 'scopes');
    expectBadRequest(await post('/api/admin/tokens', { name: 'x' }), 'scopes');
    expectBadRequest(await post('/api/admin/tokens', { name: 'x', scopes: ['root'] }), 'scopes.0');
    expectBadRequest(await post('/api/admin/tokens', { name: 'x', scopes: ['read'], expires_in_days: 0 }), 'expires_in_days');
    expectBadRequest(await post('/api/admin/tokens', { name: 'x', scopes: ['read'], expires_in_days: 3651 }), 'expires_in_days');
    expectBadRequest(await post('/api/admin/tokens', { name: 'x', scopes: ['read'], expires_in_days: 1.5 }), 'expires_in_days');
    expectBadRequest(await post('/api/admin/tokens', { name: 'x', scopes: ['read'], user_id: 'me' }), 'user_id');
    const unknown = await post('/api/admin/tokens', { name: 'x', scopes: ['read'], user_id: 999999 });
    expect(unknown.status).toBe(404);
    expect(unknown.json.detail).toContain('user_id');
    expect((await get('/api/admin/tokens/999999')).status).toBe(404);
  });
});

describe('audit log', () => {
  it('lists newest first, filtered by entity, paginated', async () => {
    const user = await createUser();
    await patch(`/api/admin/users/${user.id}`, { name: 'one' });
    await patch(`/api/admin/users/${user.id}`, { name: 'two' });
    const first = await get(`/api/admin/audit?entity=user&entity_id=${user.id}&limit=2`);
    expect(first.json.items.map((e: AuditItem) => e.after.name)).toEqual(['two', 'one']);
    expect(first.json.items[0].at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    const second = await get(`/api/admin/audit?entity=user&entity_id=${user.id}&limit=2&cursor=${first.json.next_cursor}`);
    expect(second.json.items.map((e: AuditItem) => e.action)).toEqual(['user.create']);
    expect(second.json.next_cursor).toBeNull();
    expectBadRequest(await get('/api/admin/audit?entity=planet'), 'entity');
    expectBadRequest(await get('/api/admin/audit?entity_id=3'), 'entity_id');
  });

  it('writes nothing when a change fails', async () => {
    const before = await scalar('SELECT count(*) AS v FROM audit_log');
    const user = await createUser();
    expect((await post('/api/admin/users', { email: user.email })).status).toBe(409);
    expect((await post('/api/admin/domains', { name: domainName(), group_ids: [999999] })).status).toBe(404);
    expect(await scalar('SELECT count(*) AS v FROM audit_log')).toBe(before + 1);
  });
});

describe('GET /api/me', () => {
  it('describes the bootstrap principal', async () => {
    const domain = await createDomain();
    const response = await me(ADMIN);
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ kind: 'bootstrap', email: null, user_id: null, scopes: ['read', 'ingest', 'probe', 'admin'], all_domains: true, groups: [] });
    expect(response.json).not.toHaveProperty('role');
    expect(response.json.domains).toContain(domain.name);
  });
});

describe('group names in the database', () => {
  it('are unique ignoring case even for writes that bypass the API', async () => {
    await env.DB.prepare("INSERT INTO groups (name) VALUES ('Case Agency')").run();
    await expect(env.DB.prepare("INSERT INTO groups (name) VALUES ('CASE AGENCY')").run()).rejects.toThrow(/UNIQUE/);
  });
});
