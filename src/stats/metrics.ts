import { sql } from 'drizzle-orm';
import type { Principal } from '../auth/principal';
import { visibleDomain } from '../auth/domain-access';
import { database } from '../db/client';

/**
 * High-level adoption figures over the monitored domains a principal may see (docs/metrics.md): the
 * DMARC policy mix, valid SPF, MTA-STS in enforce mode and DNSSEC, from each domain's latest complete
 * check, and the month's report volume and DMARC pass rate from the aggregate_daily roll-up.
 */

export interface Share {
  count: number;
  /** count over the checked domains (0 when none is checked yet). */
  fraction: number;
}

export interface Metrics {
  month: string;
  domains: number;
  checked: number;
  not_checked_yet: number;
  dmarc: { reject: Share; quarantine: Share; none: Share; missing: Share };
  spf_valid: Share;
  mta_sts_enforce: Share;
  dnssec_validated: Share;
  /** Mail-server TLS: each domain's roll-up grade (worst MX server), shares of all visible domains. */
  tls: TlsBands;
  reports: ReportVolume;
}

/** Snapshots written before TLS grading existed have no `tls`. */
export interface TlsBands {
  good: Share;
  sufficient: Share;
  phase_out: Share;
  insufficient: Share;
  no_tls: Share;
  /** Every scanned server of the domain was inconclusive (blocked the scan, timed out, 4xx). */
  inconclusive: Share;
  /** No MX server of the domain scanned yet (or no MX: a null MX or none). */
  not_scanned: Share;
}

const TLS_BANDS = ['good', 'sufficient', 'phase_out', 'insufficient', 'no_tls'] as const;

export interface ReportVolume {
  messages: number;
  dmarc_pass: number;
  /** dmarc_pass / messages; null when no message was reported. */
  dmarc_pass_rate: number | null;
}

/** The scope of the whole-service snapshot. */
export const ALL_SCOPE = 'all';

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

export function isMonth(text: string): boolean {
  return MONTH.test(text);
}

/** `YYYY-MM` of an instant, in UTC. */
export function monthOf(at: Date): string {
  return at.toISOString().slice(0, 7);
}

/** The month before (`2025-01` → `2024-12`). */
export function previousMonth(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

/** The principal the cron computes the whole-service snapshot as. */
export const SERVICE_PRINCIPAL: Principal = {
  kind: 'bootstrap',
  actor: 'cron:metrics',
  userId: null,
  email: null,
  scopes: new Set(['read']),
  allDomains: true,
  ambient: false,
};

interface CheckCounts {
  domains: number;
  checked: number;
  reject: number;
  quarantine: number;
  none: number;
  spf_valid: number;
  mta_sts_enforce: number;
  dnssec_validated: number;
}

const share = (count: number, of: number): Share => ({ count, fraction: of === 0 ? 0 : count / of });

/** Messages and DMARC passes of the month over the domains (and sub-domains) the principal may see. */
export async function reportVolume(d1: D1Database, principal: Principal, month: string): Promise<ReportVolume> {
  const visible = visibleDomain(principal, sql`ad.domain`);
  const row = await database(d1).get<{ messages: number; dmarc_pass: number }>(sql`
    SELECT coalesce(sum(ad.messages), 0) AS messages, coalesce(sum(ad.dmarc_pass), 0) AS dmarc_pass
    FROM aggregate_daily ad
    WHERE ad.day BETWEEN ${`${month}-01`} AND ${`${month}-31`}${visible ? sql` AND ${visible}` : sql``}`);
  const messages = row?.messages ?? 0;
  const pass = row?.dmarc_pass ?? 0;
  return { messages, dmarc_pass: pass, dmarc_pass_rate: messages === 0 ? null : pass / messages };
}

export async function computeMetrics(d1: D1Database, principal: Principal, month: string = monthOf(new Date())): Promise<Metrics> {
  if (!isMonth(month)) throw new Error(`not a month (YYYY-MM): ${month}`);
  // The outer alias is not `d`: visibleDomain's sub-query names its own `domains d`.
  const visible = visibleDomain(principal, sql`md.name`);
  // The DMARC policy for mail from the domain: p of its own record, sp of an inherited one
  // (facts.applied_policy), falling back to p; missing when no record applies.
  const policy = sql.raw(
    `CASE WHEN json_extract(r.result, '$.dmarc.record') IS NULL THEN NULL
       ELSE coalesce(json_extract(r.result, '$.dmarc.facts.applied_policy'), json_extract(r.result, '$.dmarc.facts.p')) END`,
  );
  // The domain's TLS band, as rollUpGrades (src/tls/grading/domain.ts) rolls it up: the worst grade
  // of its MX servers, inconclusive servers ignored unless all are. One row per visible domain.
  const rank = sql.raw(`CASE s.grade ${TLS_BANDS.map((g, i) => `WHEN '${g}' THEN ${i}`).join(' ')} END`);
  const tlsQuery = database(d1).all<{ worst: number | null; scanned: number; n: number }>(sql`
    SELECT t.worst, t.scanned, count(*) AS n FROM (
      SELECT md.name, max(${rank}) AS worst, count(s.grade) AS scanned
      FROM domains md
      LEFT JOIN mx_addresses m ON m.domain = md.name
      LEFT JOIN tls_servers s ON s.ip = m.ip AND s.port = 25
      ${visible ? sql`WHERE ${visible}` : sql``}
      GROUP BY md.name) t
    GROUP BY t.worst, t.scanned > 0`);
  const [counts, reports, tlsRows] = await Promise.all([
    database(d1).get<CheckCounts>(sql`
      SELECT count(*) AS domains,
        coalesce(sum(r.id IS NOT NULL), 0) AS checked,
        coalesce(sum(r.id IS NOT NULL AND ${policy} = 'reject'), 0) AS reject,
        coalesce(sum(r.id IS NOT NULL AND ${policy} = 'quarantine'), 0) AS quarantine,
        coalesce(sum(r.id IS NOT NULL AND ${policy} = 'none'), 0) AS none,
        coalesce(sum(r.id IS NOT NULL AND json_extract(r.result, '$.spf.record') IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM json_each(r.result, '$.spf.findings') f WHERE json_extract(f.value, '$.severity') = 'error')), 0) AS spf_valid,
        coalesce(sum(json_extract(r.result, '$.mta_sts.facts.mode') = 'enforce'), 0) AS mta_sts_enforce,
        coalesce(sum(json_extract(r.result, '$.dnssec.facts.status') = 'validated'), 0) AS dnssec_validated
      FROM domains md
      LEFT JOIN domain_check_state s ON s.domain = md.name
      LEFT JOIN domain_check_results r ON r.id = s.latest_result_id
      ${visible ? sql`WHERE ${visible}` : sql``}`),
    reportVolume(d1, principal, month),
    tlsQuery,
  ]);
  const c = counts ?? { domains: 0, checked: 0, reject: 0, quarantine: 0, none: 0, spf_valid: 0, mta_sts_enforce: 0, dnssec_validated: 0 };
  const missing = c.checked - c.reject - c.quarantine - c.none;
  return {
    month,
    domains: c.domains,
    checked: c.checked,
    not_checked_yet: c.domains - c.checked,
    dmarc: {
      reject: share(c.reject, c.checked),
      quarantine: share(c.quarantine, c.checked),
      none: share(c.none, c.checked),
      missing: share(missing, c.checked),
    },
    spf_valid: share(c.spf_valid, c.checked),
    mta_sts_enforce: share(c.mta_sts_enforce, c.checked),
    dnssec_validated: share(c.dnssec_validated, c.checked),
    tls: tlsBands(tlsRows, c.domains),
    reports,
  };
}

function tlsBands(rows: { worst: number | null; scanned: number; n: number }[], domains: number): TlsBands {
  const counts = { good: 0, sufficient: 0, phase_out: 0, insufficient: 0, no_tls: 0, inconclusive: 0, not_scanned: 0 };
  for (const row of rows) {
    const band = row.worst !== null ? TLS_BANDS[row.worst]! : row.scanned > 0 ? 'inconclusive' : 'not_scanned';
    counts[band] += row.n;
  }
  return Object.fromEntries(Object.entries(counts).map(([band, n]) => [band, share(n, domains)])) as unknown as TlsBands;
}

/**
 * For the daily cron: upsert the current month's whole-service snapshot. In the first days of a month
 * it also refreshes the previous month's report figures (reports for a day arrive a day or two late);
 * the check figures of a closed month stay as its last snapshot saw them.
 */
export async function snapshotMetrics(env: { DB: D1Database }, now: Date = new Date()): Promise<Metrics> {
  const month = monthOf(now);
  const metrics = await computeMetrics(env.DB, SERVICE_PRINCIPAL, month);
  const at = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const db = database(env.DB);
  await db.run(sql`
    INSERT INTO metrics_snapshots (month, scope, computed_at, data) VALUES (${month}, ${ALL_SCOPE}, ${at}, ${JSON.stringify(metrics)})
    ON CONFLICT (month, scope) DO UPDATE SET computed_at = excluded.computed_at, data = excluded.data`);
  if (now.getUTCDate() <= 3) {
    const previous = previousMonth(month);
    const reports = await reportVolume(env.DB, SERVICE_PRINCIPAL, previous);
    await db.run(sql`
      UPDATE metrics_snapshots SET data = json_set(data, '$.reports', json(${JSON.stringify(reports)}))
      WHERE month = ${previous} AND scope = ${ALL_SCOPE}`);
  }
  return metrics;
}

export interface Snapshot {
  month: string;
  computed_at: string;
  metrics: Metrics;
}

/** The whole-service snapshots of the months from..to (inclusive), oldest first. */
export async function readSnapshots(d1: D1Database, from: string, to: string): Promise<Snapshot[]> {
  const rows = await database(d1).all<{ month: string; computed_at: string; data: string }>(sql`
    SELECT month, computed_at, data FROM metrics_snapshots
    WHERE scope = ${ALL_SCOPE} AND month BETWEEN ${from} AND ${to} ORDER BY month`);
  return rows.map((r) => ({ month: r.month, computed_at: r.computed_at, metrics: JSON.parse(r.data) as Metrics }));
}
