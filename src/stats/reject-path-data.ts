/**
 * Gathers what src/stats/reject-path.ts decides on, for one domain and a window of days: totals from
 * aggregate_daily, failing sources from aggregate_daily_sources with their reverse-DNS name and
 * service (as the sources route does), the latest check's DMARC record, the policy the reports show,
 * and the receivers' forwarding override reasons from a bounded sample of failing records.
 */
import { sql } from 'drizzle-orm';
import { database } from '../db/client';
import { addDays, msToDay, type DayRange } from './date-range';
import { decideRejectPath, type FailingSourceInput, type RejectPath } from './reject-path';

export const REJECT_PATH_DAYS = 30;
/** Failing sources classified one by one; the rest are summed as unknown (docs/reject-path.md). */
export const MAX_CLASSIFIED_SOURCES = 200;
/**
 * Failing records read for override reasons. The roll-ups do not keep reasons per source, so this
 * is the one read of aggregate_records; the LIMIT bounds it whatever the domain's volume (a domain
 * with more failing records gets the reasons of the first ones, which is a sample, said in the docs).
 */
export const MAX_OVERRIDE_RECORDS = 5_000;

/** The 30 days up to and including `to` (default today, UTC). */
export function rejectPathRange(to = msToDay(Date.now())): DayRange {
  return { from: addDays(to, -(REJECT_PATH_DAYS - 1)), to };
}

interface SourceRow {
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

export async function loadRejectPath(d1: D1Database, domain: string, range: DayRange): Promise<RejectPath> {
  const db = database(d1);
  const inRange = sql`domain = ${domain} AND day BETWEEN ${range.from} AND ${range.to}`;
  const [totals, failing, omitted, overrides, check, latestReport] = await Promise.all([
    db.get<{ messages: number; dmarc_pass: number; report_days: number }>(
      sql`SELECT coalesce(sum(messages), 0) AS messages, coalesce(sum(dmarc_pass), 0) AS dmarc_pass, count(DISTINCT day) AS report_days
          FROM aggregate_daily WHERE ${inRange}`,
    ),
    db.all<SourceRow>(sql`
      SELECT g.*, coalesce(json_extract(rd.result, '$.confirmed[0]'), json_extract(rd.result, '$.ptr[0]')) AS ptr,
        json_extract(rd.result, '$.base_domain') AS base_domain,
        coalesce(sm.name, json_extract(rd.result, '$.service.name')) AS service_name,
        coalesce(sm.type, json_extract(rd.result, '$.service.type')) AS service_type,
        rd.status AS lookup_status
      FROM (
        SELECT source_ip, sum(messages) AS messages, sum(dmarc_pass) AS dmarc_pass, sum(dkim_pass) AS dkim_pass,
          sum(spf_pass) AS spf_pass, sum(disposition_quarantine) AS quarantined, sum(disposition_reject) AS rejected,
          sum(fail_not_rejected) AS fail_not_rejected
        FROM aggregate_daily_sources WHERE ${inRange}
        GROUP BY source_ip HAVING sum(messages) > sum(dmarc_pass)
        ORDER BY sum(messages) - sum(dmarc_pass) DESC, source_ip ASC
        LIMIT ${MAX_CLASSIFIED_SOURCES}
      ) g
      LEFT JOIN reverse_dns rd ON rd.ip = g.source_ip
      LEFT JOIN sender_map sm ON sm.base_domain = json_extract(rd.result, '$.base_domain')
      ORDER BY g.messages - g.dmarc_pass DESC, g.source_ip ASC`),
    db.get<{ sources: number; dmarc_fail: number; fail_not_rejected: number; quarantined: number }>(sql`
      SELECT count(*) AS sources, coalesce(sum(fail), 0) AS dmarc_fail, coalesce(sum(fnr), 0) AS fail_not_rejected, coalesce(sum(q), 0) AS quarantined
      FROM (
        SELECT sum(messages) - sum(dmarc_pass) AS fail, sum(fail_not_rejected) AS fnr, sum(disposition_quarantine) AS q
        FROM aggregate_daily_sources WHERE ${inRange}
        GROUP BY source_ip HAVING sum(messages) > sum(dmarc_pass)
        ORDER BY sum(messages) - sum(dmarc_pass) DESC, source_ip ASC
        LIMIT -1 OFFSET ${MAX_CLASSIFIED_SOURCES}
      )`),
    db.all<{ source_ip: string; n: number }>(sql`
      SELECT f.source_ip, sum(f.count) AS n FROM (
        SELECT r.report_id, r.ordinal, r.source_ip, r.count
        FROM aggregate_reports a JOIN aggregate_records r ON r.report_id = a.id
        WHERE a.status = 'complete' AND a.domain = ${domain} AND a.day BETWEEN ${range.from} AND ${range.to}
          AND coalesce(r.dkim, '') <> 'pass' AND coalesce(r.spf, '') <> 'pass'
        LIMIT ${MAX_OVERRIDE_RECORDS}
      ) f
      WHERE EXISTS (SELECT 1 FROM record_policy_overrides o WHERE o.report_id = f.report_id AND o.ordinal = f.ordinal
        AND o.type IN ('forwarded', 'mailing_list', 'trusted_forwarder'))
      GROUP BY f.source_ip`),
    db.get<{ record: string | null }>(sql`
      SELECT json_extract(r.result, '$.dmarc.record') AS record
      FROM domain_check_state s JOIN domain_check_results r ON r.id = s.latest_result_id WHERE s.domain = ${domain}`),
    db.get<{ p: string | null; pct: number | null }>(sql`
      SELECT p, pct FROM aggregate_reports WHERE status = 'complete' AND ${inRange} ORDER BY day DESC, id DESC LIMIT 1`),
  ]);

  const overridesByIp = new Map(overrides.map((o) => [o.source_ip, o.n]));
  const sources: FailingSourceInput[] = failing.map((r) => ({
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
    forwarding_overrides: overridesByIp.get(r.source_ip) ?? 0,
  }));

  // The current policy (p, pct) as the decision will read it, to find since when reports show it.
  const first = decideRejectPath({
    domain,
    ...range,
    messages: 0,
    dmarc_pass: 0,
    report_days: 0,
    sources: [],
    omitted: { sources: 0, dmarc_fail: 0, fail_not_rejected: 0, quarantined: 0 },
    record: check?.record ?? null,
    reported: latestReport ?? null,
    policy_since: null,
  }).current;
  const since = await policySince(d1, domain, range, first.p, first.pct);

  return decideRejectPath({
    domain,
    ...range,
    messages: totals?.messages ?? 0,
    dmarc_pass: totals?.dmarc_pass ?? 0,
    report_days: totals?.report_days ?? 0,
    sources,
    omitted: omitted ?? { sources: 0, dmarc_fail: 0, fail_not_rejected: 0, quarantined: 0 },
    record: check?.record ?? null,
    reported: latestReport ?? null,
    policy_since: since,
  });
}

/**
 * The first day of the window from which every report shows policy `p` with `pct`: the day after
 * the last report that showed anything else, or the first report day when none did; null when no
 * report shows it (the record changed after the last report).
 */
async function policySince(d1: D1Database, domain: string, range: DayRange, p: string | null, pct: number): Promise<string | null> {
  if (p === null) return null;
  const row = await database(d1).get<{ first_same: string | null; last_same: string | null; last_other: string | null }>(sql`
    SELECT min(CASE WHEN same THEN day END) AS first_same, max(CASE WHEN same THEN day END) AS last_same,
      max(CASE WHEN NOT same THEN day END) AS last_other
    FROM (SELECT day, (p = ${p} AND coalesce(pct, 100) = ${pct}) AS same FROM aggregate_reports
          WHERE status = 'complete' AND domain = ${domain} AND day BETWEEN ${range.from} AND ${range.to})`);
  if (!row?.first_same || !row.last_same) return null;
  if (!row.last_other) return row.first_same;
  // The latest reports still show another policy: the current one is newer than every report.
  if (row.last_other >= row.last_same) return null;
  return addDays(row.last_other, 1);
}
