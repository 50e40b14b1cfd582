import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import worker from '../../src/index';
import { DAILY_CRON } from '../../src/monitor/monitor-queue';
import { sendDueDigests } from '../../src/digests/send';
import { parseWeek, previousWeek } from '../../src/digests/week';
import type { AggregateReport } from '../../src/reports/model';
import { api, migrate, sample } from '../ingest/helpers';
import { ADMIN, ingestXml, reverseDnsRow, storeCheck, syntheticReport } from './helpers';

/**
 * Weekly digests from real ingested sample data: the email sent through the send_email binding
 * (captured), once per group and week whatever the number of cron runs, and the same digest from the
 * API, for the group's members and administrators only.
 */

interface Sent {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

const sent: Sent[] = [];
let failNext = 0;
const binding = {
  send: async (message: Sent) => {
    if (failNext > 0) {
      failNext--;
      throw new Error('send_email refused');
    }
    sent.push(message);
    return { messageId: `m${sent.length}` };
  },
} as unknown as SendEmail;
const mailEnv = { ...env, NOTIFY_EMAIL: binding, NOTIFY_FROM: 'digest@mailcheck.example' } as Env;

/** Monday after ISO week 2024-W24 (10–16 June 2024), at the daily cron's time. */
const MONDAY = new Date('2024-06-17T03:17:00Z');
const week24: AggregateReport[] = [];
const ids = { own: 0, other: 0, silent: 0, memberToken: '', otherToken: '' };

async function admin<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await api(path, { method, token: ADMIN, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (response.status === 204 ? null : await response.json()) as T;
}

beforeAll(async () => {
  await migrate();
  // The week before: one source that is therefore not new in W24.
  await ingestXml(syntheticReport('w23', 'example.com', '2024-06-05', [{ ip: '209.85.220.41', count: 10, disposition: 'none', dkim: 'pass', spf: 'pass' }]));
  // W24: the real sample (13 June) and failing mail from a new source (14 June).
  week24.push(await ingestXml(new TextDecoder().decode(sample('extract_report/nice-input.xml'))));
  week24.push(await ingestXml(syntheticReport('w24', 'example.com', '2024-06-14', [{ ip: '203.0.113.66', count: 40, disposition: 'none', dkim: 'fail', spf: 'fail' }])));
  await ingestXml(syntheticReport('w24-other', 'other.example', '2024-06-12', [{ ip: '192.0.2.9', count: 3, disposition: 'none', dkim: 'pass', spf: 'pass' }]));
  await env.DB.batch([reverseDnsRow('203.0.113.66', 'no-ptr', null, null)]);
  await storeCheck('example.com', 'v=DMARC1; p=none; rua=mailto:dmarc@example.com', [
    { area: 'spf', id: 'spf.too-many-lookups', severity: 'error', title: 'SPF needs more than 10 DNS lookups' },
    { area: 'dmarc', id: 'dmarc.policy-none', severity: 'warning', title: 'The DMARC policy is none' },
    { area: 'bimi', id: 'bimi.missing', severity: 'info', title: 'No BIMI record' },
  ]);
  await env.DB.prepare(
    "INSERT INTO domain_check_changes (domain, at, result_id, area, kind, finding_id, detail) VALUES ('example.com', '2024-06-12T08:00:00Z', 1, 'dmarc', 'record-changed', NULL, ?), ('example.com', '2024-06-01T08:00:00Z', 1, 'spf', 'record-changed', NULL, '{}')",
  )
    .bind(JSON.stringify({ before: 'v=DMARC1; p=none', after: 'v=DMARC1; p=none; rua=mailto:dmarc@example.com' }))
    .run();

  type Created = { id: number };
  // Created "before" the week: groups of the past need a creation time before the week's end.
  const own = await admin<Created>('POST', '/api/admin/groups', { name: 'Digest <Own> & Co' });
  const other = await admin<Created>('POST', '/api/admin/groups', { name: 'Other digest group' });
  const silent = await admin<Created>('POST', '/api/admin/groups', { name: 'No address group' });
  await env.DB.prepare("UPDATE groups SET created_at = '2024-01-01T00:00:00Z'").run();
  await admin('POST', '/api/admin/domains', { name: 'example.com', group_ids: [own.id] });
  await admin('POST', '/api/admin/domains', { name: 'other.example', group_ids: [other.id, silent.id] });
  await admin('PUT', `/api/admin/groups/${own.id}/notifications`, { webhook: null, email: 'owner@own.example' });
  await admin('PUT', `/api/admin/groups/${other.id}/notifications`, { webhook: null, email: 'owner@other.example' });
  const member = await admin<Created>('POST', '/api/admin/users', { email: 'member@own.example' });
  const otherMember = await admin<Created>('POST', '/api/admin/users', { email: 'member@other.example' });
  await admin('PUT', `/api/admin/groups/${own.id}/members/${member.id}`);
  await admin('PUT', `/api/admin/groups/${other.id}/members/${otherMember.id}`);
  ids.memberToken = (await admin<{ token: string }>('POST', '/api/admin/tokens', { name: 'm', scopes: ['read'], user_id: member.id })).token;
  ids.otherToken = (await admin<{ token: string }>('POST', '/api/admin/tokens', { name: 'o', scopes: ['read'], user_id: otherMember.id })).token;
  Object.assign(ids, { own: own.id, other: other.id, silent: silent.id });
});

function totals(reports: AggregateReport[]) {
  let messages = 0;
  let pass = 0;
  for (const report of reports)
    for (const r of report.records) {
      messages += r.count;
      if (r.dkim === 'pass' || r.spf === 'pass') pass += r.count;
    }
  return { messages, pass };
}

const percentText = (x: number) => `${(Math.floor(x * 1000) / 10).toFixed(1)}%`;

describe('weeks', () => {
  it('reads ISO week labels and finds the week a Monday digest covers', () => {
    expect(parseWeek('2024-W24')).toEqual({ week: '2024-W24', from: '2024-06-10', to: '2024-06-16' });
    expect(parseWeek('2020-W53')).toEqual({ week: '2020-W53', from: '2020-12-28', to: '2021-01-03' });
    expect(parseWeek('2021-W53')).toBeNull();
    expect(parseWeek('2024-24')).toBeNull();
    expect(previousWeek(MONDAY).week).toBe('2024-W24');
    expect(previousWeek(new Date('2024-06-16T23:59:00Z')).week).toBe('2024-W23');
  });
});

describe('the weekly digest email', () => {
  it('is sent on Monday to each group with an address and domains, with the week\'s figures', async () => {
    const run = await sendDueDigests(mailEnv, MONDAY);
    expect(run).toEqual({ week: '2024-W24', sent: 2, failed: 0, remaining: 0 });
    expect(sent.map((m) => m.to).sort()).toEqual(['owner@other.example', 'owner@own.example']);
    const mail = sent.find((m) => m.to === 'owner@own.example')!;
    expect(mail.from).toBe('digest@mailcheck.example');
    expect(mail.subject).toBe('MailCheck weekly digest 2024-W24: Digest <Own> & Co');
    const { messages, pass } = totals(week24);
    const figures = `${messages.toLocaleString('en-GB')} messages across 1 domains, ${percentText(pass / messages)} passing DMARC`;
    expect(mail.text).toContain(figures);
    expect(mail.text).toContain('The week before: 10 messages, 100.0% passing');
    // New this week: every source of W24 but the one already seen in W23.
    const newSources = new Set(week24.flatMap((r) => r.records.map((x) => x.source_ip)));
    newSources.delete('209.85.220.41');
    expect(mail.text).toContain(`NEW SOURCES (first seen this week): ${newSources.size}`);
    expect(mail.text).toContain('OPEN FINDINGS (latest checks): 1 errors, 1 warnings, 1 notes');
    expect(mail.text).toContain('[error] example.com: SPF needs more than 10 DNS lookups');
    // Only the change inside the week.
    expect(mail.text).toContain('WHAT CHANGED THIS WEEK: 1 changes');
    expect(mail.text).toContain('2024-06-12 example.com: DMARC record changed from v=DMARC1; p=none to v=DMARC1; p=none; rua=mailto:dmarc@example.com');
    expect(mail.text).toContain('path to reject: not yet ready for p=quarantine pct=25');
    expect(mail.text).toContain('record to publish once ready: v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com; pct=25');
    // HTML: the same content, escaped.
    expect(mail.html).toContain('Weekly digest for Digest &lt;Own&gt; &amp; Co');
    expect(mail.html).not.toContain('<Own>');
    expect(mail.html).toContain(`<strong>${messages.toLocaleString('en-GB')}</strong> messages`);
    expect(mail.html).toContain('<code>v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com; pct=25</code>');
  });

  it('is not sent twice when the cron runs again, nor by the days after', async () => {
    expect(await sendDueDigests(mailEnv, MONDAY)).toMatchObject({ sent: 0, failed: 0 });
    expect(await sendDueDigests(mailEnv, new Date('2024-06-18T03:17:00Z'))).toMatchObject({ sent: 0 });
    expect(sent).toHaveLength(2);
    const rows = await env.DB.prepare("SELECT group_id, status FROM digest_deliveries WHERE week = '2024-W24' ORDER BY group_id").all<{ group_id: number; status: string }>();
    expect(rows.results).toEqual([
      { group_id: ids.own, status: 'sent' },
      { group_id: ids.other, status: 'sent' },
    ]);
  });

  it('starts a week only on Monday, retries a failed send on a later run, and sends it once', async () => {
    // Wednesday of W26: W25 was never started by a Monday run.
    expect(await sendDueDigests(mailEnv, new Date('2024-06-26T03:17:00Z'))).toMatchObject({ week: '2024-W25', sent: 0 });
    failNext = 1;
    const monday = await sendDueDigests(mailEnv, new Date('2024-06-24T03:17:00Z'));
    expect(monday).toMatchObject({ week: '2024-W25', sent: 1, failed: 1 });
    // Half an hour later (the half-hourly cron) the failed send waits: an outage must not use up its attempts.
    expect(await sendDueDigests(mailEnv, new Date('2024-06-24T03:47:00Z'), { mayStart: false })).toMatchObject({ sent: 0, failed: 0 });
    // Tuesday continues the week Monday began: the failed one goes out, nothing else.
    expect(await sendDueDigests(mailEnv, new Date('2024-06-25T03:17:00Z'))).toMatchObject({ sent: 1, failed: 0 });
    expect(await sendDueDigests(mailEnv, new Date('2024-06-25T03:17:00Z'))).toMatchObject({ sent: 0, failed: 0 });
    expect(sent.filter((m) => m.subject.includes('2024-W25'))).toHaveLength(2);
  });
});

describe('the daily cron', () => {
  it('sends the week\'s digests on a Monday, and not again when it runs twice', async () => {
    const controller = { cron: DAILY_CRON, scheduledTime: Date.parse('2024-07-01T03:17:00Z'), noRetry: () => {} } as ScheduledController;
    for (let run = 0; run < 2; run++) await worker.scheduled(controller, mailEnv);
    const digests = sent.filter((m) => m.subject.startsWith('MailCheck weekly digest 2024-W26'));
    expect(digests.map((m) => m.to).sort()).toEqual(['owner@other.example', 'owner@own.example']);
  });
});

describe('the digest in the API', () => {
  it('gives the group\'s members the same figures as the email', async () => {
    const response = await api(`/api/digests/${ids.own}?week=2024-W24`, { token: ids.memberToken });
    expect(response.status).toBe(200);
    const digest = (await response.json()) as { totals: { messages: number; dmarc_pass: number }; domains: { domain: string; reject_path: { next_step: unknown } }[] };
    const { messages, pass } = totals(week24);
    expect(digest.totals).toMatchObject({ messages, dmarc_pass: pass });
    expect(digest.domains.map((d) => d.domain)).toEqual(['example.com']);
    expect(digest.domains[0]!.reject_path.next_step).toEqual({ p: 'quarantine', pct: 25 });
  });

  it('lists the groups the caller may read, with the week\'s delivery', async () => {
    const mine = (await (await api('/api/digests?week=2024-W24', { token: ids.memberToken })).json()) as { items: { group_id: number; delivery: { status: string } | null }[] };
    expect(mine.items.map((i) => i.group_id)).toEqual([ids.own]);
    expect(mine.items[0]!.delivery?.status).toBe('sent');
    const all = (await (await api('/api/digests?week=2024-W24', { token: ADMIN })).json()) as { items: { group_id: number }[] };
    expect(all.items.map((i) => i.group_id).sort()).toEqual([ids.own, ids.other, ids.silent].sort());
  });

  it('answers 404 to members of other groups and 400 to a bad week', async () => {
    expect((await api(`/api/digests/${ids.own}?week=2024-W24`, { token: ids.otherToken })).status).toBe(404);
    expect((await api(`/api/digests/${ids.own}?week=2024-W24`, { token: ADMIN })).status).toBe(200);
    expect((await api('/api/digests/999999', { token: ADMIN })).status).toBe(404);
    expect((await api(`/api/digests/${ids.own}?week=2024-W99`, { token: ADMIN })).status).toBe(400);
  });
});

describe('the pages', () => {
  async function html(path: string, token: string) {
    const response = await api(path, { token });
    return { status: response.status, text: await response.text() };
  }

  it('shows the digest with the same figures, and the path to reject of a domain', async () => {
    const { messages } = totals(week24);
    const digest = await html(`/digests/${ids.own}?week=2024-W24`, ids.memberToken);
    expect(digest.status).toBe(200);
    expect(digest.text).toContain('Digest &lt;Own&gt; &amp; Co');
    expect(digest.text).toContain(`<dd data-figure="messages">${messages.toLocaleString('en-GB')}</dd>`);
    expect(digest.text).toContain('SPF needs more than 10 DNS lookups');
    expect(digest.text).toContain('href="/domains/example.com/reject-path?to=2024-06-16"');
    const path = await html('/domains/example.com/reject-path?to=2024-06-16', ids.memberToken);
    expect(path.status).toBe(200);
    expect(path.text).toContain('<pre data-record="true">v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com; pct=25</pre>');
    expect(path.text).toContain('Spoofing or unknown');
    const list = await html('/digests', ids.memberToken);
    expect(list.text).toContain(`href="/digests/${ids.own}"`);
    expect(list.text).not.toContain('Other digest group');
  });

  it('refuses other groups and re-shows a bad week with the reason', async () => {
    expect((await html(`/digests/${ids.own}?week=2024-W24`, ids.otherToken)).status).toBe(404);
    expect((await html('/domains/example.com/reject-path', ids.otherToken)).status).toBe(404);
    const bad = await html(`/digests/${ids.own}?week=2024-W99`, ids.memberToken);
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('must be an ISO week');
  });
});
