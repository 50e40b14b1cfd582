/**
 * Gathers what src/stats/reject-path.ts decides on, for one or several domains over a window of days:
 * totals from aggregate_daily, failing sources from aggregate_daily_sources with their reverse-DNS name
 * and service (as the sources route does), the latest check's DMARC record, the policy the reports show,
 * and the receivers' forwarding override reasons from a bounded sample of failing records.
 *
 * Seven D1 queries whatever the number of domains (they are passed as one JSON parameter and read with
 * json_each), so a weekly digest of a group's domains costs the same queries as one domain's page.
 */
import { sql } from 'drizzle-orm';
import { database } from '../db/client';
import { addDays, msToDay, type DayRange } from './date-range';
import { decideRejectPath, type FailingSourceInput, type RejectPath, type RejectPathInput } from './reject-path';
import { SOURCE_BASE_DOMAIN, SOURCE_PTR, SOURCE_SERVICE_NAME, SOURCE_SERVICE_TYPE, sourceNameJoins } from '../senders/source-name-sql';

export const REJECT_PATH_DAYS = 30;
/** Failing sources classified one by one per domain; the rest are summed as unknown (docs/reject-path.md). */
export const MAX_CLASSIFIED_SOURCES = 200;
/**
 * Failing records read for override reasons. The roll-ups do not keep reasons per source, so this is
 * the one read of aggregate_records; the LIMIT bounds it whatever the volume (beyond it, the reasons
 * of the first failing records found are a sample, as docs/reject-path.md says).
 */
export const MAX_OVERRIDE_RECORDS = 5_000;

/** The 30 days up to and including `to` (default today, UTC). */
export function rejectPathRange(to = msToDay(Date.now())): DayRange {
  return { from: addDays(to, -(REJECT_PATH_DAYS - 1)), to };
}

interface SourceRow {
  domain: string;
  source_ip: string;
  messages: number;
  dmarc_pass: number;
  dkim_pass: number;
  spf_pass: number;
  quarantined: number;
  rejected: number;
  fail_not_rejected: number;
  ptr: string | null;
  base_domain: string | null;
  service_name: string | null;
  service_type: string | null;
  lookup_status: string | null;
}

const NO_OMITTED = { sources: 0, dmarc_fail: 0, fail_not_rejected: 0, quarantined: 0 };

export async function loadRejectPath(d1: D1Database, domain: string, range: DayRange): Promise<RejectPath> {
  return (await loadRejectPaths(d1, [domain], range)).get(domain)!;
}

export async function loadRejectPaths(d1: D1Database, domains: readonly string[], range: DayRange): Promise<Map<string, RejectPath>> {
  const db = database(d1);
  const list = JSON.stringify([...new Set(domains)]);
  const inList = sql`domain IN (SELECT value FROM json_each(${list}))`;
  const inRange = sql`${inList} AND day BETWEEN ${range.from} AND ${range.to}`;
  // Per domain and source, numbered by DMARC failures: the first MAX_CLASSIFIED_SOURCES are classified.
  const ranked = sql`
    SELECT domain, source_ip, sum(messages) AS messages, sum(dmarc_pass) AS dmarc_pass, sum(dkim_pass) AS dkim_pass,
      sum(spf_pass) AS spf_pass, sum(disposition_quarantine) AS quarantined, sum(disposition_reject) AS rejected,
      sum(fail_not_rejected) AS fail_not_rejected,
      row_number() OVER (PARTITION BY domain ORDER BY sum(messages) - sum(dmarc_pass) DESC, source_ip ASC) AS rn
    FROM aggregate_daily_sources WHERE ${inRange}
    GROUP BY domain, source_ip HAVING sum(messages) > sum(dmarc_pass)`;
  const [totals, failing, omitted, overrides, checks, reported] = await Promise.all([
    db.all<{ domain: string; messages: number; dmarc_pass: number; report_days: number }>(
      sql`SELECT domain, sum(messages) AS messages, sum(dmarc_pass) AS dmarc_pass, count(DISTINCT day) AS report_days
          FROM aggregate_daily WHERE ${inRange} GROUP BY domain`,
    ),
    db.all<SourceRow>(sql`
      SELECT g.domain, g.source_ip, g.messages, g.dmarc_pass, g.dkim_pass, g.spf_pass, g.quarantined, g.rejected, g.fail_not_rejected,
        ${SOURCE_PTR} AS ptr,
        ${SOURCE_BASE_DOMAIN} AS base_domain,
        ${SOURCE_SERVICE_NAME} AS service_name,
        ${SOURCE_SERVICE_TYPE} AS service_type,
        rd.status AS lookup_status
      FROM (${ranked}) g
      ${sourceNameJoins('g.source_ip')}
      WHERE g.rn <= ${MAX_CLASSIFIED_SOURCES}
      ORDER BY g.domain, g.rn`),
    db.all<{ domain: string; sources: number; dmarc_fail: number; fail_not_rejected: number; quarantined: number }>(sql`
      SELECT domain, count(*) AS sources, sum(messages - dmarc_pass) AS dmarc_fail, sum(fail_not_rejected) AS fail_not_rejected, sum(quarantined) AS quarantined
      FROM (${ranked}) WHERE rn > ${MAX_CLASSIFIED_SOURCES} GROUP BY domain`),
    db.all<{ domain: string; source_ip: string; n: number }>(sql`
      SELECT f.domain, f.source_ip, sum(f.count) AS n FROM (
        SELECT a.domain, r.report_id, r.ordinal, r.source_ip, r.count
        FROM aggregate_reports a JOIN aggregate_records r ON r.report_id = a.id
        WHERE a.status = 'complete' AND a.${inList} AND a.day BETWEEN ${range.from} AND ${range.to}
          AND coalesce(r.dkim, '') <> 'pass' AND coalesce(r.spf, '') <> 'pass'
        LIMIT ${MAX_OVERRIDE_RECORDS}
      ) f
      WHERE EXISTS (SELECT 1 FROM record_policy_overrides o WHERE o.report_id = f.report_id AND o.ordinal = f.ordinal
        AND o.type IN ('forwarded', 'mailing_list', 'trusted_forwarder'))
      GROUP BY f.domain, f.source_ip`),
    db.all<{ domain: string; record: string | null; policy_domain: string | null }>(sql`
      SELECT s.domain, json_extract(r.result, '$.dmarc.record') AS record, json_extract(r.result, '$.dmarc.policy_domain') AS policy_domain
      FROM domain_check_state s JOIN domain_check_results r ON r.id = s.latest_result_id WHERE s.${inList}`),
    db.all<{ domain: string; p: string | null; pct: number | null }>(sql`
      SELECT domain, p, pct FROM (
        SELECT domain, p, pct, row_number() OVER (PARTITION BY domain ORDER BY day DESC, id DESC) AS rn
        FROM aggregate_reports WHERE status = 'complete' AND ${inRange})
      WHERE rn = 1`),
  ]);

  const byDomain = <T extends { domain: string }>(rows: T[]) => new Map(rows.map((r) => [r.domain, r]));
  const totalsOf = byDomain(totals);
  const omittedOf = byDomain(omitted);
  const checkOf = byDomain(checks);
  const reportedOf = byDomain(reported);
  const overridesOf = new Map(overrides.map((o) => [`${o.domain} ${o.source_ip}`, o.n]));
  const sourcesOf = new Map<string, FailingSourceInput[]>();
  for (const r of failing) {
    const list = sourcesOf.get(r.domain) ?? [];
    list.push({
      source_ip: r.source_ip,
      messages: r.messages,
      dmarc_pass: r.dmarc_pass,
      dkim_pass: r.dkim_pass,
      spf_pass: r.spf_pass,
      quarantined: r.quarantined,
      rejected: r.rejected,
      fail_not_rejected: r.fail_not_rejected,
      ptr: r.ptr,
      base_domain: r.base_domain,
      service: r.service_name !== null ? { name: r.service_name, type: r.service_type } : null,
      lookup_status: r.lookup_status,
      forwarding_overrides: overridesOf.get(`${r.domain} ${r.source_ip}`) ?? 0,
    });
    sourcesOf.set(r.domain, list);
  }

  const inputs = new Map<string, RejectPathInput>();
  for (const domain of new Set(domains)) {
    const t = totalsOf.get(domain);
    const o = omittedOf.get(domain);
    const rep = reportedOf.get(domain);
    inputs.set(domain, {
      domain,
      ...range,
      messages: t?.messages ?? 0,
      dmarc_pass: t?.dmarc_pass ?? 0,
      report_days: t?.report_days ?? 0,
      sources: sourcesOf.get(domain) ?? [],
      omitted: o ? { sources: o.sources, dmarc_fail: o.dmarc_fail, fail_not_rejected: o.fail_not_rejected, quarantined: o.quarantined } : NO_OMITTED,
      record: checkOf.get(domain)?.record ?? null,
      policy_domain: checkOf.get(domain)?.policy_domain ?? null,
      reported: rep ? { p: rep.p, pct: rep.pct } : null,
      policy_since: null,
    });
  }
  // Since when the reports show the current policy: the current policy is what the decision reads
  // (the check's record, else the latest report), so ask it first, then one query for every domain.
  const current = [...inputs.values()].map((i) => ({ d: i.domain, ...decideRejectPath(i).current }));
  const since = await policySince(d1, current.filter((c) => c.p !== null).map((c) => ({ d: c.d, p: c.p!, pct: c.pct })), range);
  const paths = new Map<string, RejectPath>();
  for (const [domain, input] of inputs) paths.set(domain, decideRejectPath({ ...input, policy_since: since.get(domain) ?? null }));
  return paths;
}

/**
 * Per domain, the first day of the window from which every report shows policy `p` with `pct`: the
 * day after the last report that showed anything else, or the first report day when none did; absent
 * when no report shows it or the latest reports still show another (the record changed after them).
 */
async function policySince(d1: D1Database, current: { d: string; p: string; pct: number }[], range: DayRange): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  if (current.length === 0) return result;
  const rows = await database(d1).all<{ domain: string; first_same: string | null; last_same: string | null; last_other: string | null }>(sql`
    SELECT domain, min(CASE WHEN same THEN day END) AS first_same, max(CASE WHEN same THEN day END) AS last_same,
      max(CASE WHEN NOT same THEN day END) AS last_other
    FROM (
      SELECT a.domain, a.day, (a.p = json_extract(c.value, '$.p') AND coalesce(a.pct, 100) = json_extract(c.value, '$.pct')) AS same
      FROM json_each(${JSON.stringify(current)}) c
      JOIN aggregate_reports a ON a.domain = json_extract(c.value, '$.d')
      WHERE a.status = 'complete' AND a.day BETWEEN ${range.from} AND ${range.to})
    GROUP BY domain`);
  for (const row of rows) {
    if (!row.first_same || !row.last_same) continue;
    if (!row.last_other) result.set(row.domain, row.first_same);
    else if (row.last_other < row.last_same) result.set(row.domain, addDays(row.last_other, 1));
  }
  return result;
}
