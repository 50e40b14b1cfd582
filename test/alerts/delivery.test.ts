import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { dispatchDeliveries } from '../../src/alerts/deliver';
import { DELIVERIES_PER_EVENT } from '../../src/alerts/kinds';
import { openAlert } from '../../src/alerts/store';
import { migrate } from '../ingest/helpers';
import { owningGroup, received, webhookBase } from './helpers';

/** Delivery bounds and failures, on alerts opened directly (the rules are tested with real data elsewhere). */
const DOMAIN = 'delivery.alerts.example';
const HOOK = '/alerts-delivery';

const draft = (subject: string) => ({ domain: DOMAIN, kind: 'new_source' as const, subject, severity: 'warning' as const, title: `New sending source ${subject}`, message: `${subject} sends as ${DOMAIN}.`, facts: { ip: subject } });
const states = async () => (await env.DB.prepare("SELECT d.state, count(*) AS n FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id WHERE a.domain = ? GROUP BY d.state ORDER BY d.state").bind(DOMAIN).all()).results;

let groupId = 0;

beforeAll(async () => {
  await migrate();
  // Nothing listens on port 9 of loopback: every POST fails.
  groupId = (await owningGroup('Delivery agency', [DOMAIN], { webhook: 'http://127.0.0.1:9/hook', webhookKinds: ['new_source'] })).groupId;
});

describe('deliveries', () => {
  it('records a failed webhook on the delivery and keeps it for a later evaluation', async () => {
    expect(await openAlert(env.DB, draft('192.0.2.1'), new Date())).toBe(true);
    expect(await dispatchDeliveries(env, { limit: DELIVERIES_PER_EVENT, domains: [DOMAIN] })).toEqual({ sent: 0, failed: 1 });
    const row = await env.DB.prepare('SELECT state, attempts, last_error, next_attempt_at FROM alert_deliveries').first<{ state: string; attempts: number; last_error: string; next_attempt_at: string }>();
    expect(row).toMatchObject({ state: 'pending', attempts: 1, last_error: expect.any(String) });
    expect(Date.parse(row!.next_attempt_at)).toBeGreaterThan(Date.now());
    // The webhook is fixed; after the backoff the same delivery goes out.
    await env.DB.prepare('UPDATE groups SET notify_webhook = ? WHERE id = ?').bind(`${webhookBase}${HOOK}`, groupId).run();
    expect(await dispatchDeliveries(env, { limit: DELIVERIES_PER_EVENT, domains: [DOMAIN], now: new Date(Date.now() + 3_600_000) })).toEqual({ sent: 1, failed: 0 });
    expect(await received(HOOK)).toHaveLength(1);
  });

  it('sends at most the bound per evaluation; the rest wait for the next', async () => {
    for (let i = 2; i <= 13; i++) await openAlert(env.DB, draft(`192.0.2.${i}`), new Date());
    expect(await dispatchDeliveries(env, { limit: DELIVERIES_PER_EVENT, domains: [DOMAIN] })).toEqual({ sent: 10, failed: 0 });
    expect(await states()).toEqual([{ state: 'pending', n: 2 }, { state: 'sent', n: 11 }]);
    expect(await dispatchDeliveries(env, { limit: DELIVERIES_PER_EVENT, domains: [DOMAIN] })).toEqual({ sent: 2, failed: 0 });
    expect(await received(HOOK)).toHaveLength(13);
  });

  it('skips deliveries whose channel was removed, and does not queue new ones', async () => {
    await openAlert(env.DB, draft('192.0.2.14'), new Date());
    await env.DB.prepare('UPDATE groups SET notify_webhook = NULL WHERE id = ?').bind(groupId).run();
    await dispatchDeliveries(env, { limit: DELIVERIES_PER_EVENT, domains: [DOMAIN] });
    const last = await env.DB.prepare('SELECT state, last_error FROM alert_deliveries ORDER BY id DESC LIMIT 1').first();
    expect(last).toEqual({ state: 'skipped', last_error: 'the group has no webhook any more' });
    await openAlert(env.DB, draft('192.0.2.15'), new Date());
    expect(await env.DB.prepare("SELECT count(*) AS n FROM alert_deliveries WHERE state = 'pending'").first('n')).toBe(0);
  });
});
