import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DomainMonitor } from '../../src/monitor/domain-monitor';
import { latestCheck } from '../../src/monitor/store-check';
import { migrate, scalar } from '../ingest/helpers';
import { envWith, faultyD1 } from './faulty-bindings';

/**
 * docs/faults.md, scenario 6: a DomainMonitor's alarm meets a failing D1 (storeCheck throws) or a
 * failing resolver. The alarm must be set again (the schedule is never lost), the last good result
 * must stay the domain's result, and the next alarm, with the fault gone, must succeed.
 */
const DOMAIN = 'monitor.lab.mailcheck.test'; // a DNS lab domain (test/lab/dns/zones/)
const monitor = () => env.DOMAIN_MONITOR.get(env.DOMAIN_MONITOR.idFromName(DOMAIN));
const MINUTE = 60_000;

/**
 * The monitor reads its bindings from `this.env`; the running instance gets the faulty ones (and
 * later the real ones back), so its own alarm() meets the fault.
 */
async function bindings(environment: Env) {
  await runInDurableObject(monitor(), (instance: DomainMonitor) => {
    (instance as unknown as { env: Env }).env = environment;
  });
}

async function monitorState() {
  return runInDurableObject(monitor(), async (_instance: DomainMonitor, state) => ({
    alarm: await state.storage.getAlarm(),
    failures: (await state.storage.get<number>('failures')) ?? 0,
  }));
}

async function results() {
  return scalar('SELECT count(*) AS v FROM domain_check_results WHERE domain = ?', DOMAIN);
}

beforeAll(migrate);

describe('6. a DomainMonitor alarm that fails', () => {
  it('reschedules, keeps the last good result, and succeeds on the next alarm', async () => {
    await monitor().schedule(DOMAIN);
    expect(await runDurableObjectAlarm(monitor())).toBe(true);
    const good = (await latestCheck(env.DB, DOMAIN))!;
    expect(good.check.complete).toBe(true);
    expect(await results()).toBe(1);
    expect((await monitorState()).failures).toBe(0);

    // D1 fails every write of the check's result (storeCheck's transaction).
    const d1 = faultyD1(env.DB, [{ on: 'batch', match: /domain_check_(results|state)/, times: Infinity }]);
    await bindings(envWith({ DB: d1.db }));
    let before = Date.now();
    expect(await runDurableObjectAlarm(monitor())).toBe(true);
    expect(d1.fired[0]).toBeGreaterThanOrEqual(1);
    let state = await monitorState();
    expect(state.failures).toBe(1);
    // Set again for the first retry: 5 minutes, ±10% jitter (not the daily interval).
    expect(state.alarm).not.toBeNull();
    expect(state.alarm! - before).toBeGreaterThanOrEqual(4.5 * MINUTE - 1000);
    expect(state.alarm! - before).toBeLessThanOrEqual(5.5 * MINUTE + 1000);
    // The last good result is untouched.
    expect(await latestCheck(env.DB, DOMAIN)).toEqual(good);
    expect(await results()).toBe(1);

    // Then the resolver fails (the DoH server answers every query with an HTTP error) while D1 is fine again.
    await bindings(envWith({ DOH_URL: 'http://127.0.0.1:18053/not-the-dns-query-path' }));
    before = Date.now();
    expect(await runDurableObjectAlarm(monitor())).toBe(true);
    state = await monitorState();
    expect(state.failures).toBe(2);
    // Backoff doubles: 10 minutes ±10%.
    expect(state.alarm! - before).toBeGreaterThanOrEqual(9 * MINUTE - 1000);
    expect(state.alarm! - before).toBeLessThanOrEqual(11 * MINUTE + 1000);
    // A check that failed on DNS never replaces the last good result; the attempt's error is kept.
    expect(await latestCheck(env.DB, DOMAIN)).toEqual(good);
    expect(await results()).toBe(1);
    const failed = await env.DB.prepare('SELECT last_error, consecutive_failures FROM domain_check_state WHERE domain = ?').bind(DOMAIN).first<{ last_error: string | null; consecutive_failures: number }>();
    expect(failed?.last_error).toBeTruthy();

    // The faults end: the next alarm stores the check and goes back to the daily interval.
    await bindings(env);
    before = Date.now();
    expect(await runDurableObjectAlarm(monitor())).toBe(true);
    state = await monitorState();
    expect(state.failures).toBe(0);
    expect(state.alarm! - before).toBeGreaterThan(0.89 * 86_400_000);
    const latest = (await latestCheck(env.DB, DOMAIN))!;
    // Nothing changed in DNS, so the good result is refreshed in place, not duplicated.
    expect(latest.id).toBe(good.id);
    expect(latest.checkedAt >= good.checkedAt).toBe(true);
    expect(await results()).toBe(1);
    const healed = await env.DB.prepare('SELECT last_error, consecutive_failures FROM domain_check_state WHERE domain = ?').bind(DOMAIN).first<{ last_error: string | null; consecutive_failures: number }>();
    expect(healed).toEqual({ last_error: null, consecutive_failures: 0 });
  });

  it('stores a check once when its transaction committed but the answer was lost', async () => {
    const before = (await latestCheck(env.DB, DOMAIN))!;
    const d1 = faultyD1(env.DB, [{ on: 'batch', match: /domain_check_(results|state)/, afterCommit: true }]);
    await bindings(envWith({ DB: d1.db }));
    expect(await runDurableObjectAlarm(monitor())).toBe(true);
    expect(d1.fired).toEqual([1]);
    // The monitor saw an error: it retries soon rather than waiting a day.
    const state = await monitorState();
    expect(state.failures).toBe(1);
    expect(state.alarm! - Date.now()).toBeLessThan(6 * MINUTE);
    await bindings(env);
    expect(await runDurableObjectAlarm(monitor())).toBe(true);
    expect((await monitorState()).failures).toBe(0);
    expect((await latestCheck(env.DB, DOMAIN))!.id).toBe(before.id);
    expect(await results()).toBe(1);
  });
});
