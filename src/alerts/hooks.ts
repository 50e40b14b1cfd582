/**
 * Where the platform calls the alert rules: one function per place data lands. Each evaluates only
 * the domains that data concerns, then sends (at most DELIVERIES_PER_EVENT) pending deliveries of those
 * domains. None throws: the data is stored already, and an alert not raised now is raised by the next
 * evaluation (the rules look at stored data, not at the event).
 */
import type { DomainCheck } from '../dns/domain-check';
import type { CheckChange } from '../dns/diff-checks';
import type { AggregateOutcome } from '../ingest/persist-aggregate';
import type { TlsOutcome } from '../ingest/persist-tls';
import { dispatchDeliveries } from './deliver';
import { evaluateCertificates, evaluateCheck, evaluateGrade, evaluateNewSources, evaluatePassRate, evaluateReportsStopped, evaluateTlsRpt, resolveReportsStopped, settleOverTime } from './evaluate';
import { DELIVERIES_PER_DAILY_RUN, DELIVERIES_PER_EVENT } from './kinds';

async function guarded(what: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    console.error(`alerts ${what} failed`, error);
  }
}

/** After DomainMonitor stored a check (not the first: it is the baseline). */
export async function alertsAfterCheck(env: Env, check: DomainCheck, stored: { first: boolean; changes: CheckChange[] }, now = new Date()): Promise<void> {
  if (stored.first) return;
  await guarded(`after the check of ${check.domain}`, async () => {
    await evaluateCheck(env.DB, check, stored.changes, now);
    await dispatchDeliveries(env, { limit: DELIVERIES_PER_EVENT, domains: [check.domain], now });
  });
}

/** After an inbound message's reports are stored: the aggregate and TLS-RPT rules for their domains. */
export async function alertsAfterIngest(env: Env, summary: { aggregate: AggregateOutcome[]; smtp_tls: TlsOutcome[] }, now = new Date()): Promise<void> {
  await guarded('after ingest', async () => {
    const aggregateDomains = new Set(summary.aggregate.flatMap((o) => (o.status === 'stored' ? [o.domain] : [])));
    const tlsIds = summary.smtp_tls.flatMap((o) => (o.status === 'stored' ? [o.id] : []));
    const tlsDomains = new Set<string>();
    if (tlsIds.length) {
      const { results } = await env.DB.prepare(`SELECT DISTINCT policy_domain AS domain FROM tls_report_policies WHERE tls_report_id IN (SELECT value FROM json_each(?1)) LIMIT 20`)
        .bind(JSON.stringify(tlsIds))
        .all<{ domain: string }>();
      for (const r of results) tlsDomains.add(r.domain);
    }
    for (const domain of aggregateDomains) {
      await evaluateNewSources(env.DB, domain, now);
      await evaluatePassRate(env.DB, domain, now);
      await resolveReportsStopped(env.DB, domain, now);
    }
    for (const domain of tlsDomains) await evaluateTlsRpt(env.DB, domain, now);
    const domains = [...aggregateDomains, ...tlsDomains];
    if (domains.length) await dispatchDeliveries(env, { limit: DELIVERIES_PER_EVENT, domains, now });
  });
}

/** After a probe result for one server: its grade and certificate, for every domain using it. */
export async function alertsAfterProbe(env: Env, ip: string, port: number, now = new Date()): Promise<void> {
  await guarded(`after the probe of ${ip}`, async () => {
    const { domains } = await evaluateGrade(env.DB, ip, port, now);
    if (domains.length === 0) return;
    await evaluateCertificates(env.DB, domains, now);
    await dispatchDeliveries(env, { limit: DELIVERIES_PER_EVENT, domains, now });
  });
}

/** Daily (the DAILY_CRON): what time alone changes, then retries and sends what is pending for any domain. */
export async function runDailyAlerts(env: Env, now = new Date()): Promise<void> {
  await guarded('daily: certificates', () => evaluateCertificates(env.DB, null, now).then(() => undefined));
  await guarded('daily: reports stopped', () => evaluateReportsStopped(env.DB, now).then(() => undefined));
  await guarded('daily: settling', () => settleOverTime(env.DB, now));
  await guarded('daily: deliveries', () => dispatchDeliveries(env, { limit: DELIVERIES_PER_DAILY_RUN, now }).then(() => undefined));
}
