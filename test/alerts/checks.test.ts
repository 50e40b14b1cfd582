import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { alertsAfterCheck } from '../../src/alerts/hooks';
import type { CheckChange } from '../../src/dns/diff-checks';
import type { DomainCheck } from '../../src/dns/domain-check';
import { latestCheck } from '../../src/monitor/store-check';
import { migrate } from '../ingest/helpers';
import { ADMIN, alertsOf, call, owningGroup, received, type Owner } from './helpers';

/**
 * Alerts from domain checks: the real monitor path over the DNS lab (test/lab/dns/zones/
 * monitor.lab.mailcheck.test.zone) for record changes, then checks built from the real one where a
 * scenario needs a record the lab does not publish. Also: the alerts API and who sees what.
 */
const DOMAIN = 'monitor.lab.mailcheck.test';
const HOOK = '/alerts-dns';
const TEAMS = '/alerts-dns-teams';
const BIMI = 'v=BIMI1; l=https://monitor.lab.mailcheck.test/logo.svg';

/** The alerts the sink got on `path` (the change notices of docs/monitoring.md go to the same webhook). */
async function alertsReceived<T>(path: string): Promise<T[]> {
  return (await received<T & { type?: string }>(path)).filter((b) => b.type === 'mailcheck.alert');
}

const monitor = () => env.DOMAIN_MONITOR.get(env.DOMAIN_MONITOR.idFromName(DOMAIN));
async function recheck() {
  // On-demand checks are at most one a minute: forget the last one.
  await runInDurableObject(monitor(), async (_instance, state) => {
    await state.storage.delete('lastRunAt');
  });
  const result = await call<{ outcome: { stored: boolean; changes: CheckChange[] } }>('POST', `/api/domainstatus/${DOMAIN}/recheck`, ADMIN);
  expect(result.status).toBe(200);
  return result.json.outcome;
}

let owner: Owner;
let outsider: Owner;
let teamsGroup: Owner;
let base: DomainCheck;

beforeAll(async () => {
  await migrate();
  owner = await owningGroup('Monitored owners', [DOMAIN], { webhookPath: HOOK, webhookKinds: ['record_changed', 'record_removed', 'error_finding'] });
  outsider = await owningGroup('Other owners', ['elsewhere.alerts.example'], { webhookPath: '/alerts-dns-outsider', webhookKinds: ['record_changed', 'record_removed', 'error_finding'] });
  // A second group owning the same domain, through its parent, with a Teams channel for record changes only.
  teamsGroup = await owningGroup('Parent owners', ['lab.mailcheck.test'], { webhookPath: TEAMS, format: 'teams', webhookKinds: ['record_changed'] });
});

describe('after a domain check', () => {
  it('raises nothing on the first check: it is the baseline', async () => {
    const first = await recheck();
    expect(first.stored).toBe(true);
    expect(await alertsOf(DOMAIN)).toEqual([]);
    base = (await latestCheck(env.DB, DOMAIN))!.check;
  });

  it('raises one alert per record that changed or disappeared, to each group in its format', async () => {
    // Make the stored result look as it did before the owner moved to p=reject and dropped BIMI.
    const latest = (await latestCheck(env.DB, DOMAIN))!;
    const before = { ...base, dmarc: { ...base.dmarc, record: 'v=DMARC1; p=none' }, bimi: { ...base.bimi, record: BIMI } };
    await env.DB.prepare('UPDATE domain_check_results SET result = ? WHERE id = ?').bind(JSON.stringify(before), latest.id).run();
    const outcome = await recheck();
    expect(outcome.changes.filter((c) => c.kind === 'record-changed').map((c) => c.area).sort()).toEqual(['bimi', 'dmarc']);

    const alerts = await alertsOf(DOMAIN);
    expect(alerts.map((a) => [a.kind, a.subject, a.state]).sort()).toEqual([
      ['record_changed', 'dmarc', 'open'],
      ['record_removed', 'bimi', 'open'],
    ]);
    expect(alerts.find((a) => a.kind === 'record_changed')!.detail).toMatchObject({ before: 'v=DMARC1; p=none', after: 'v=DMARC1; p=reject; rua=mailto:dmarc@monitor.lab.mailcheck.test' });

    const json = await alertsReceived<{ type: string; event: string; group: string; alert: { kind: string; subject: string; detail: Record<string, unknown> } }>(HOOK);
    expect(json.map((b) => `${b.event} ${b.alert.kind}`).sort()).toEqual(['opened record_changed', 'opened record_removed']);
    expect(json[0]).toMatchObject({ type: 'mailcheck.alert', group: 'Monitored owners' });

    // The same webhook also carries the change notice of docs/monitoring.md, in the Teams shape too.
    const teams = await received<{ type: string; attachments: { contentType: string; content: { type: string; version: string; body: { type: string; text?: string }[] } }[] }>(TEAMS);
    expect(teams).toHaveLength(2);
    expect(teams.every((t) => t.type === 'message' && t.attachments[0]!.contentType === 'application/vnd.microsoft.card.adaptive')).toBe(true);
    const titles = teams.map((t) => t.attachments[0]!.content.body[0]!.text);
    expect(titles.sort()).toEqual([`MailCheck: ${DOMAIN} changed`, `${DOMAIN}: DMARC record changed`]);
    expect(teams[0]!.attachments[0]!.content).toMatchObject({ type: 'AdaptiveCard', version: '1.4' });
    expect(await received('/alerts-dns-outsider')).toEqual([]);
  });

  it('does not raise them again on the next check, nor on the same changes evaluated twice', async () => {
    expect((await recheck()).changes).toEqual([]);
    const latest = (await latestCheck(env.DB, DOMAIN))!.check;
    const change: CheckChange = { area: 'dmarc', kind: 'record-changed', finding_id: null, detail: { before: 'v=DMARC1; p=none', after: latest.dmarc.record ?? null } };
    await alertsAfterCheck(env, latest, { first: false, changes: [change] });
    await alertsAfterCheck(env, latest, { first: false, changes: [change] });
    expect(await alertsOf(DOMAIN)).toHaveLength(2);
    expect(await alertsReceived(HOOK)).toHaveLength(2);
    expect(await received(TEAMS)).toHaveLength(2);
  });

  it('raises an error finding that appeared, not a warning, and resolves it when a check no longer finds it', async () => {
    const error = { id: 'spf.lab-error', severity: 'error' as const, title: 'A made-up SPF error', advice: 'Fix the record.', reference: '' };
    const warning = { id: 'spf.lab-warning', severity: 'warning' as const, title: 'A made-up SPF warning', advice: 'Look at it.', reference: '' };
    const withFindings: DomainCheck = {
      ...base,
      spf: { ...base.spf, findings: [...base.spf.findings, error, warning] },
      findings: [...base.findings, { ...error, area: 'spf' }, { ...warning, area: 'spf' }],
    };
    const appeared: CheckChange[] = [error, warning].map((f) => ({ area: 'spf', kind: 'finding-appeared', finding_id: f.id, detail: { severity: f.severity, title: f.title, advice: f.advice } }));
    await alertsAfterCheck(env, withFindings, { first: false, changes: appeared });
    await alertsAfterCheck(env, withFindings, { first: false, changes: appeared });
    const errors = (await alertsOf(DOMAIN)).filter((a) => a.kind === 'error_finding');
    expect(errors.map((a) => [a.subject, a.state, a.severity])).toEqual([['spf.lab-error', 'open', 'error']]);
    expect(errors[0]!.detail).toMatchObject({ area: 'spf', advice: 'Fix the record.' });

    await alertsAfterCheck(env, base, { first: false, changes: [{ area: 'spf', kind: 'finding-cleared', finding_id: error.id, detail: { severity: 'error', title: error.title } }] });
    expect((await alertsOf(DOMAIN)).find((a) => a.kind === 'error_finding')!.state).toBe('resolved');
  });
});

describe('the alerts API', () => {
  it('lists a group its own alerts, filtered and paged; other groups see none of them (404 when asked)', async () => {
    const mine = await call<{ items: { id: number; kind: string; domain: string; message: string }[]; next_cursor: string | null }>('GET', `/api/alerts?domain=${DOMAIN}&state=open`, owner.token);
    expect(mine.status).toBe(200);
    expect(mine.json.items.map((a) => a.kind).sort()).toEqual(['record_changed', 'record_removed']);
    expect(mine.json.items[0]!.message).toContain(DOMAIN);
    const kind = await call<{ items: { kind: string }[] }>('GET', '/api/alerts?kind=record_removed', owner.token);
    expect(kind.json.items.map((a) => a.kind)).toEqual(['record_removed']);
    const first = await call<{ items: unknown[]; next_cursor: string | null }>('GET', '/api/alerts?limit=1', owner.token);
    expect(first.json.items).toHaveLength(1);
    const second = await call<{ items: unknown[] }>('GET', `/api/alerts?limit=1&cursor=${first.json.next_cursor}`, owner.token);
    expect(second.json.items).toHaveLength(1);
    expect(second.json.items[0]).not.toEqual(first.json.items[0]);

    expect((await call<{ items: unknown[] }>('GET', '/api/alerts', outsider.token)).json.items).toEqual([]);
    expect((await call('GET', `/api/alerts?domain=${DOMAIN}`, outsider.token)).status).toBe(404);
    const id = mine.json.items[0]!.id;
    expect((await call('GET', `/api/alerts/${id}`, outsider.token)).status).toBe(404);
    expect((await call('POST', `/api/alerts/${id}/acknowledge`, outsider.token)).status).toBe(404);
    expect((await call('GET', '/api/alerts?state=closed', owner.token)).status).toBe(400);
  });

  it('shows each group only its own deliveries; administrators all of them', async () => {
    const changed = (await alertsOf(DOMAIN)).find((a) => a.kind === 'record_changed')!;
    type One = { deliveries: { group_id: number; channel: string; event: string; state: string; attempts: number }[] };
    const mine = await call<One>('GET', `/api/alerts/${changed.id}`, owner.token);
    expect(mine.json.deliveries).toEqual([expect.objectContaining({ group_id: owner.groupId, channel: 'webhook', event: 'opened', state: 'sent', attempts: 1 })]);
    const all = await call<One>('GET', `/api/alerts/${changed.id}`, ADMIN);
    expect(all.json.deliveries.map((d) => d.group_id).sort()).toEqual([owner.groupId, teamsGroup.groupId].sort());
  });

  it('acknowledges: no second notification, and it still resolves by itself when the cause goes', async () => {
    const changed = (await alertsOf(DOMAIN)).find((a) => a.kind === 'record_changed')!;
    const ack = await call<{ state: string; acknowledged_by: string }>('POST', `/api/alerts/${changed.id}/acknowledge`, owner.token);
    expect(ack.status).toBe(200);
    expect(ack.json).toMatchObject({ state: 'acknowledged', acknowledged_by: expect.stringMatching(/^token:/) });
    expect((await call<{ state: string }>('POST', `/api/alerts/${changed.id}/acknowledge`, ADMIN)).json.state).toBe('acknowledged');

    // The owner puts p=none back, and BIMI returns: both alerts resolve.
    const reverted: DomainCheck = { ...base, dmarc: { ...base.dmarc, record: 'v=DMARC1; p=none' }, bimi: { ...base.bimi, record: BIMI } };
    await alertsAfterCheck(env, reverted, {
      first: false,
      changes: [
        { area: 'dmarc', kind: 'record-changed', finding_id: null, detail: { before: base.dmarc.record ?? null, after: 'v=DMARC1; p=none' } },
        { area: 'bimi', kind: 'record-changed', finding_id: null, detail: { before: null, after: BIMI } },
      ],
    });
    const states = (await alertsOf(DOMAIN)).filter((a) => a.kind !== 'error_finding').map((a) => [a.kind, a.state, a.detail.resolved_because]);
    expect(states.sort()).toEqual([
      ['record_changed', 'resolved', 'The record is back to what it was.'],
      ['record_removed', 'resolved', 'The record is published again.'],
    ]);
    expect((await call('POST', `/api/alerts/${changed.id}/acknowledge`, owner.token)).status).toBe(409);
    const json = await alertsReceived<{ event: string; alert: { kind: string } }>(HOOK);
    expect(json.map((b) => `${b.event} ${b.alert.kind}`).sort()).toEqual([
      'opened error_finding',
      'opened record_changed',
      'opened record_removed',
      'resolved error_finding',
      'resolved record_changed',
      'resolved record_removed',
    ]);
    expect((await received(TEAMS)).length).toBe(3);
  });

  it('keeps group alert preferences with the notification settings', async () => {
    const settings = await call<{ webhook_format: string; alerts: { webhook: string[]; email: string[] } }>('GET', `/api/admin/groups/${teamsGroup.groupId}/notifications`, ADMIN);
    expect(settings.json).toMatchObject({ webhook_format: 'teams', alerts: { webhook: ['record_changed'], email: [] } });
    // The old body (webhook and email only) leaves the alert preferences as they are.
    expect((await call('PUT', `/api/admin/groups/${teamsGroup.groupId}/notifications`, ADMIN, { webhook: 'https://hooks.parent.example/x', email: null })).status).toBe(200);
    const after = await call<{ webhook: string; webhook_format: string; alerts: { webhook: string[] } }>('GET', `/api/admin/groups/${teamsGroup.groupId}/notifications`, ADMIN);
    expect(after.json).toMatchObject({ webhook: 'https://hooks.parent.example/x', webhook_format: 'teams', alerts: { webhook: ['record_changed'] } });
    const refused = await call<{ errors: { path: string }[] }>('PUT', `/api/admin/groups/${teamsGroup.groupId}/notifications`, ADMIN, { webhook: null, email: null, alerts: { webhook: ['everything'], email: [] } });
    expect(refused.status).toBe(400);
    expect(refused.json.errors.map((e) => e.path)).toEqual(['alerts.webhook.0']);
    expect((await call('GET', `/api/admin/groups/${teamsGroup.groupId}/notifications`, owner.token)).status).toBe(403);
  });
});
