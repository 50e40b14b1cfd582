import { DurableObject } from 'cloudflare:workers';
import { alertsAfterCheck } from '../alerts/hooks';
import type { CheckChange } from '../dns/diff-checks';
import { isDnsFailure, type DomainCheck } from '../dns/domain-check';
import { notifyChanges } from './notify';
import { probeDispatcher } from './probe-dispatcher';
import { runDomainCheck } from './run-check';
import { storeCheck } from './store-check';
import { recordMxAddresses } from './tls-store';

/** Default time between checks of a domain; CHECK_INTERVAL_SECONDS overrides it. */
export const DEFAULT_INTERVAL_SECONDS = 86_400;
/** First retry after a failed check; doubles per failure, never beyond the interval. */
const RETRY_AFTER_MS = 5 * 60_000;
/**
 * After this many checks in a row failed on DNS, the failure is stored as the result and the group
 * told: a zone that stays bogus or lame is the owner's problem, not a passing resolver hiccup.
 */
export const ACCEPT_FAILURE_AFTER = 3;
/** On-demand checks of one domain are at most this frequent. */
export const RECHECK_COOLDOWN_MS = 60_000;
/** New monitors start within this window, spread so a bulk add does not check everything at once. */
const FIRST_CHECK_WINDOW_MS = 5 * 60_000;

/** ±10% so ten thousand daily checks do not fall due in the same minute. */
function jittered(ms: number): number {
  return Math.round(ms * (0.9 + Math.random() * 0.2));
}

export interface MonitorOutcome {
  domain: string;
  /** An on-demand check asked for within RECHECK_COOLDOWN_MS of the last one: nothing was run. */
  throttled?: boolean;
  stored: boolean;
  reason: string | null;
  changes: CheckChange[];
  next_check_at: string;
}

function intervalMs(env: Env, stored: number | undefined): number {
  const configured = Number(env.CHECK_INTERVAL_SECONDS);
  const seconds = stored ?? (Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_INTERVAL_SECONDS);
  return seconds * 1000;
}

/**
 * One per monitored domain (named by the domain). Its alarm re-checks the domain on a schedule;
 * a check that fails on DNS is retried with backoff and never replaces the last good result.
 */
export class DomainMonitor extends DurableObject<Env> {
  /** Starts (or re-tunes) monitoring; the first check runs within a minute, spread to avoid bursts. */
  async schedule(domain: string, intervalSeconds?: number): Promise<{ domain: string; next_check_at: string }> {
    await this.ctx.storage.put('domain', domain);
    if (intervalSeconds !== undefined) await this.ctx.storage.put('intervalSeconds', intervalSeconds);
    let alarm = await this.ctx.storage.getAlarm();
    if (alarm === null) {
      alarm = Date.now() + Math.floor(Math.random() * FIRST_CHECK_WINDOW_MS);
      await this.ctx.storage.setAlarm(alarm);
    }
    return { domain, next_check_at: new Date(alarm).toISOString() };
  }

  /** Checks now (POST /api/domainstatus/:domain/recheck) and moves the next scheduled check on. */
  async recheck(domain: string): Promise<MonitorOutcome> {
    if (!(await this.ctx.storage.get<string>('domain'))) await this.ctx.storage.put('domain', domain);
    const lastRun = (await this.ctx.storage.get<number>('lastRunAt')) ?? 0;
    if (Date.now() - lastRun < RECHECK_COOLDOWN_MS) {
      const alarm = await this.ctx.storage.getAlarm();
      return { domain, throttled: true, stored: false, reason: 'checked less than a minute ago', changes: [], next_check_at: new Date(alarm ?? Date.now()).toISOString() };
    }
    return this.checkAndReschedule();
  }

  async stop(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  override async alarm(): Promise<void> {
    await this.checkAndReschedule();
  }

  /**
   * Records the MX hosts' addresses this check saw and asks the ProbeDispatcher to scan them (it
   * skips servers scanned recently, so a daily check costs nothing when nothing is due). A failure
   * here is logged, not retried: the check is stored, and the next one queues the servers again.
   */
  private async queueProbes(domain: string, check: DomainCheck): Promise<void> {
    // A partial MX answer would drop the hosts it missed from the map: keep the last complete one.
    if (check.mx.findings.some(isDnsFailure)) return;
    try {
      const targets = await recordMxAddresses(this.env.DB, check);
      if (targets.length) await probeDispatcher(this.env).enqueue(targets);
    } catch (error) {
      console.error(`queueing TLS probes for ${domain} failed`, error);
    }
  }

  private async checkAndReschedule(): Promise<MonitorOutcome> {
    const domain = await this.ctx.storage.get<string>('domain');
    if (!domain) throw new Error('DomainMonitor has no domain: call schedule() first');
    await this.ctx.storage.put('lastRunAt', Date.now());
    const interval = intervalMs(this.env, await this.ctx.storage.get<number>('intervalSeconds'));
    const failures = (await this.ctx.storage.get<number>('failures')) ?? 0;
    const retryAt = () => new Date(Date.now() + jittered(Math.min(interval, RETRY_AFTER_MS * 2 ** failures)));
    let outcome: MonitorOutcome;
    try {
      const check = await runDomainCheck(this.env, domain);
      const accept = failures >= ACCEPT_FAILURE_AFTER;
      const next = check.complete || accept ? new Date(Date.now() + jittered(interval)) : retryAt();
      const stored = await storeCheck(this.env.DB, check, next, { acceptIncomplete: accept });
      if (stored.stored) {
        await this.ctx.storage.put('failures', check.complete ? 0 : failures + 1);
        await this.queueProbes(domain, check);
        // The first result of a domain is its baseline, not news.
        if (!stored.first && stored.changes.length > 0) {
          const notified = await notifyChanges(this.env, domain, stored.changes);
          for (const error of notified.errors) console.error(`notify ${domain}: ${error}`);
        }
        await alertsAfterCheck(this.env, check, stored);
        outcome = { domain, stored: true, reason: check.complete ? null : 'stored although DNS failures persist', changes: stored.changes, next_check_at: next.toISOString() };
      } else {
        await this.ctx.storage.put('failures', failures + 1);
        outcome = { domain, stored: false, reason: stored.reason, changes: [], next_check_at: next.toISOString() };
      }
    } catch (error) {
      // A bug or an outage: try again later rather than lose the schedule.
      await this.ctx.storage.put('failures', failures + 1);
      console.error(`check of ${domain} failed`, error);
      outcome = { domain, stored: false, reason: String(error), changes: [], next_check_at: retryAt().toISOString() };
    }
    // stop() may have run while the check was in flight: a deleted domain gets no new alarm.
    if (await this.ctx.storage.get<string>('domain')) await this.ctx.storage.setAlarm(Date.parse(outcome.next_check_at));
    return outcome;
  }
}
