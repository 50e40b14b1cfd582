import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CheckChange } from '../../src/dns/diff-checks';
import { NOTICE_MAX_ATTEMPTS, retryNotices } from '../../src/monitor/notice-retries';
import { notifyChanges } from '../../src/monitor/notify';
import { owningGroup, received, webhookBase } from '../alerts/helpers';
import { migrate } from '../ingest/helpers';

/**
 * docs/monitoring.md: a change notice whose webhook fails is kept and sent again by the half-hourly
 * cron, to the group's webhook as it is then; it is given up after NOTICE_MAX_ATTEMPTS, and dropped when
 * the group no longer has the channel. Against the real D1 and a real HTTP sink on loopback.
 */
const DOWN = 'http://127.0.0.1:9/hook'; // nothing listens on port 9 of loopback
const change: CheckChange = { area: 'dmarc', kind: 'record-changed', finding_id: null, detail: { before: 'v=DMARC1; p=none', after: 'v=DMARC1; p=reject' } };
const rows = async (domain: string) =>
  (await env.DB.prepare('SELECT state, attempts, channel, last_error, next_attempt_at FROM notice_retries WHERE domain = ? ORDER BY id').bind(domain).all<{ state: string; attempts: number; channel: string; last_error: string; next_attempt_at: string }>()).results;
const hours = (n: number) => new Date(Date.now() + n * 3_600_000);

beforeAll(migrate);

describe('change notice retries', () => {
  it('keeps a notice whose webhook failed and delivers it once the webhook works', async () => {
    const domain = 'retry-fixed.notices.example';
    const { groupId } = await owningGroup('Notice retry fixed', [domain], { webhook: DOWN });
    const outcome = await notifyChanges(env, domain, [change]);
    expect(outcome).toMatchObject({ webhooks: 0, errors: [expect.stringContaining('webhook of Notice retry fixed')] });
    const [kept] = await rows(domain);
    expect(kept).toMatchObject({ state: 'pending', attempts: 1, channel: 'webhook', last_error: expect.any(String) });
    expect(Date.parse(kept!.next_attempt_at)).toBeGreaterThan(Date.now());

    // Not due yet: nothing is sent.
    expect(await retryNotices(env)).toEqual({ sent: 0, failed: 0, gaveUp: 0, dropped: 0 });
    // The administrator fixes the webhook; the next run after the backoff delivers the notice there.
    await env.DB.prepare('UPDATE groups SET notify_webhook = ? WHERE id = ?').bind(`${webhookBase}/notice-fixed`, groupId).run();
    expect(await retryNotices(env, hours(1))).toEqual({ sent: 1, failed: 0, gaveUp: 0, dropped: 0 });
    const got = await received<{ domain: string; changes: CheckChange[]; text: string }>('/notice-fixed');
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ domain, changes: [change] });
    expect(got[0]!.text).toContain('p=reject');
    expect(await rows(domain)).toEqual([]);
    expect(await retryNotices(env, hours(2))).toMatchObject({ sent: 0 });
  });

  it(`gives up after ${NOTICE_MAX_ATTEMPTS} attempts with the backoff growing, and keeps the failure visible`, async () => {
    const domain = 'retry-down.notices.example';
    await owningGroup('Notice retry down', [domain], { webhook: DOWN });
    await notifyChanges(env, domain, [change]);
    let at = Date.now();
    const waits: number[] = [];
    for (let attempt = 2; attempt <= NOTICE_MAX_ATTEMPTS; attempt++) {
      const due = Date.parse((await rows(domain))[0]!.next_attempt_at);
      waits.push(Math.round((due - at) / 60_000));
      at = due + 1000;
      const run = await retryNotices(env, new Date(at));
      expect(run).toMatchObject(attempt < NOTICE_MAX_ATTEMPTS ? { failed: 1, gaveUp: 0 } : { failed: 0, gaveUp: 1 });
    }
    expect(waits).toEqual([30, 60, 120, 240]);
    expect(await rows(domain)).toMatchObject([{ state: 'failed', attempts: NOTICE_MAX_ATTEMPTS }]);
    // A failed notice is not tried again.
    expect(await retryNotices(env, new Date(at + 86_400_000))).toMatchObject({ sent: 0, failed: 0, gaveUp: 0 });
  });

  it('drops a kept notice when the group no longer has a webhook, or no longer owns the domain', async () => {
    const domain = 'retry-removed.notices.example';
    const { groupId } = await owningGroup('Notice retry removed', [domain], { webhook: DOWN });
    await notifyChanges(env, domain, [change]);
    await env.DB.prepare('UPDATE groups SET notify_webhook = NULL WHERE id = ?').bind(groupId).run();
    expect(await retryNotices(env, hours(1))).toMatchObject({ dropped: 1, sent: 0 });
    expect(await rows(domain)).toEqual([]);

    const moved = 'retry-moved.notices.example';
    const owner = await owningGroup('Notice retry moved', [moved], { webhook: DOWN });
    await notifyChanges(env, moved, [change]);
    // The domain moves to another group; the old group's (now working) webhook must not hear of it.
    await env.DB.prepare('UPDATE groups SET notify_webhook = ? WHERE id = ?').bind(`${webhookBase}/notice-moved`, owner.groupId).run();
    await env.DB.prepare('DELETE FROM group_domains WHERE group_id = ?').bind(owner.groupId).run();
    expect(await retryNotices(env, hours(1))).toMatchObject({ dropped: 1, sent: 0 });
    expect(await received('/notice-moved')).toEqual([]);
  });
});
