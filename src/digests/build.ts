/**
 * A group's weekly digest (docs/digests.md): volume and pass rate of the week against the week before,
 * sources first seen this week, open findings of the latest checks, what changed in the week's checks,
 * and per domain the next step on the path to p=reject. Read from the roll-ups and check tables in a
 * fixed number of D1 queries (DIGEST_QUERIES), whatever the number of domains, so the cron can budget.
 */
import { sql } from 'drizzle-orm';
import { database } from '../db/client';
import { addDays } from '../stats/date-range';
import { loadRejectPaths } from '../stats/reject-path-data';
import type { RejectPath } from '../stats/reject-path';
import type { Week } from './week';
import { SOURCE_PTR, SOURCE_SERVICE_NAME, SOURCE_SERVICE_TYPE, sourceNameJoins } from '../senders/source-name-sql';

/** Domains shown one by one (the most mail first) with their path to reject; the rest are counted. */
export const MAX_DIGEST_DOMAINS = 20;
/** A source is new when the 90 days before the week never saw it for the domain (the roll-ups go back further, but reading all of them would be unbounded). */
export const NEW_SOURCE_LOOKBACK_DAYS = 90;
const MAX_NEW_SOURCES = 50;
const MAX_FINDINGS = 50;
const MAX_CHANGES = 100;
/** D1 queries one digest makes: group, domains, new sources (2), findings (2), changes, and the path to reject (7). */
export const DIGEST_QUERIES = 14;

interface Volume {
  messages: number;
  dmarc_pass: number;
  pass_rate: number | null;
}

export interface DigestDomain extends Volume {
  domain: string;
  previous: Volume;
  new_sources: number;
  findings: { error: number; warning: number; info: number };
  reject_path: {
    p: string | null;
    pct: number;
    next_step: { p: string; pct: number } | null;
    ready: boolean;
    record: string;
    unmet: string[];
    would_be_rejected: number;
    categories: RejectPath['categories'];
  };
}

export interface Digest {
  group: { id: number; name: string };
  week: string;
  from: string;
  to: string;
  totals: Volume & { domains: number; previous: Volume };
  domains: DigestDomain[];
  more_domains: number;
  new_sources: {
    total: number;
    items: { domain: string; source_ip: string; first_seen: string; messages: number; dmarc_pass: number; ptr: string | null; service: { name: string; type: string | null } | null }[];
  };
  findings: {
    error: number;
    warning: number;
    info: number;
    items: { domain: string; area: string; id: string; severity: string; title: string }[];
  };
  changes: {
    total: number;
    items: { domain: string; at: string; area: string; kind: string; finding_id: string | null; before: string | null; after: string | null; title: string | null }[];
  };
}

const volume = (messages: number, pass: number): Volume => ({ messages, dmarc_pass: pass, pass_rate: messages > 0 ? pass / messages : null });

/** The digest of a group for a week, or null when there is no such group. */
export async function buildDigest(d1: D1Database, groupId: number, week: Week): Promise<Digest | null> {
  const db = database(d1);
  const group = await db.get<{ id: number; name: string }>(sql`SELECT id, name FROM groups WHERE id = ${groupId}`);
  if (!group) return null;
  const ownDomains = sql`SELECT d.name FROM group_domains gd JOIN domains d ON d.id = gd.domain_id WHERE gd.group_id = ${groupId}`;
  const previousFrom = addDays(week.from, -7);
  const lookbackFrom = addDays(week.from, -NEW_SOURCE_LOOKBACK_DAYS);
  const nextDay = addDays(week.to, 1);
  // A source's first day within the look-back: new when it falls in the week.
  const firstSeen = sql`
    SELECT s.domain, s.source_ip, min(s.day) AS first_seen,
      sum(CASE WHEN s.day >= ${week.from} THEN s.messages ELSE 0 END) AS messages,
      sum(CASE WHEN s.day >= ${week.from} THEN s.dmarc_pass ELSE 0 END) AS dmarc_pass
    FROM aggregate_daily_sources s
    WHERE s.domain IN (${ownDomains}) AND s.day BETWEEN ${lookbackFrom} AND ${week.to}
    GROUP BY s.domain, s.source_ip HAVING min(s.day) >= ${week.from}`;
  const latestFindings = sql`
    SELECT st.domain, json_extract(f.value, '$.area') AS area, json_extract(f.value, '$.id') AS id,
      json_extract(f.value, '$.severity') AS severity, json_extract(f.value, '$.title') AS title
    FROM domain_check_state st JOIN domain_check_results r ON r.id = st.latest_result_id, json_each(r.result, '$.findings') f
    WHERE st.domain IN (${ownDomains})`;

  const [domains, newSources, newPerDomain, findingCounts, findings, changes] = await Promise.all([
    db.all<{ domain: string; messages: number; dmarc_pass: number; prev_messages: number; prev_pass: number }>(sql`
      SELECT d.name AS domain,
        coalesce(sum(CASE WHEN a.day >= ${week.from} THEN a.messages END), 0) AS messages,
        coalesce(sum(CASE WHEN a.day >= ${week.from} THEN a.dmarc_pass END), 0) AS dmarc_pass,
        coalesce(sum(CASE WHEN a.day < ${week.from} THEN a.messages END), 0) AS prev_messages,
        coalesce(sum(CASE WHEN a.day < ${week.from} THEN a.dmarc_pass END), 0) AS prev_pass
      FROM group_domains gd JOIN domains d ON d.id = gd.domain_id
      LEFT JOIN aggregate_daily a ON a.domain = d.name AND a.day BETWEEN ${previousFrom} AND ${week.to}
      WHERE gd.group_id = ${groupId}
      GROUP BY d.name ORDER BY messages DESC, d.name ASC`),
    db.all<Digest['new_sources']['items'][number] & { service_name: string | null; service_type: string | null; total: number }>(sql`
      SELECT n.domain, n.source_ip, n.first_seen, n.messages, n.dmarc_pass, n.total,
        ${SOURCE_PTR} AS ptr,
        ${SOURCE_SERVICE_NAME} AS service_name,
        ${SOURCE_SERVICE_TYPE} AS service_type
      FROM (SELECT *, count(*) OVER () AS total FROM (${firstSeen}) ORDER BY messages DESC, domain, source_ip LIMIT ${MAX_NEW_SOURCES}) n
      ${sourceNameJoins('n.source_ip')}
      ORDER BY n.messages DESC, n.domain, n.source_ip`),
    db.all<{ domain: string; n: number }>(sql`SELECT domain, count(*) AS n FROM (${firstSeen}) GROUP BY domain`),
    db.all<{ domain: string; severity: string; n: number }>(sql`SELECT domain, severity, count(*) AS n FROM (${latestFindings}) GROUP BY domain, severity`),
    db.all<Digest['findings']['items'][number]>(sql`
      SELECT domain, area, id, severity, title FROM (${latestFindings}) WHERE severity IN ('error', 'warning')
      ORDER BY CASE severity WHEN 'error' THEN 0 ELSE 1 END, domain, id LIMIT ${MAX_FINDINGS}`),
    db.all<{ domain: string; at: string; area: string; kind: string; finding_id: string | null; detail: string | null; total: number }>(sql`
      SELECT domain, at, area, kind, finding_id, detail, count(*) OVER () AS total FROM domain_check_changes
      WHERE domain IN (${ownDomains}) AND at >= ${week.from} AND at < ${nextDay}
      ORDER BY id DESC LIMIT ${MAX_CHANGES}`),
  ]);

  const shown = domains.slice(0, MAX_DIGEST_DOMAINS);
  // The path as of the week's end: the 30 days up to its Sunday, so a digest reads the same later.
  const paths = await loadRejectPaths(d1, shown.map((d) => d.domain), { from: addDays(week.to, -29), to: week.to });
  const newCount = new Map(newPerDomain.map((r) => [r.domain, r.n]));
  const findingCount = new Map<string, { error: number; warning: number; info: number }>();
  for (const r of findingCounts) {
    const counts = findingCount.get(r.domain) ?? { error: 0, warning: 0, info: 0 };
    if (r.severity === 'error' || r.severity === 'warning' || r.severity === 'info') counts[r.severity] += r.n;
    findingCount.set(r.domain, counts);
  }
  const sum = (key: 'messages' | 'dmarc_pass' | 'prev_messages' | 'prev_pass') => domains.reduce((n, d) => n + d[key], 0);
  const severityTotal = (s: 'error' | 'warning' | 'info') => findingCounts.filter((r) => r.severity === s).reduce((n, r) => n + r.n, 0);

  return {
    group,
    week: week.week,
    from: week.from,
    to: week.to,
    totals: { domains: domains.length, ...volume(sum('messages'), sum('dmarc_pass')), previous: volume(sum('prev_messages'), sum('prev_pass')) },
    domains: shown.map((d) => {
      const path = paths.get(d.domain)!;
      return {
        domain: d.domain,
        ...volume(d.messages, d.dmarc_pass),
        previous: volume(d.prev_messages, d.prev_pass),
        new_sources: newCount.get(d.domain) ?? 0,
        findings: findingCount.get(d.domain) ?? { error: 0, warning: 0, info: 0 },
        reject_path: {
          p: path.current.p,
          pct: path.current.pct,
          next_step: path.next_step.step,
          ready: path.next_step.ready,
          record: path.next_step.record,
          unmet: path.next_step.conditions.filter((c) => !c.met).map((c) => c.text),
          would_be_rejected: path.impact.reject.messages,
          categories: path.categories,
        },
      };
    }),
    more_domains: Math.max(0, domains.length - shown.length),
    new_sources: {
      total: newSources[0]?.total ?? 0,
      items: newSources.map(({ service_name, service_type, total: _total, ...r }) => ({
        ...r,
        service: service_name !== null ? { name: service_name, type: service_type } : null,
      })),
    },
    findings: { error: severityTotal('error'), warning: severityTotal('warning'), info: severityTotal('info'), items: findings },
    changes: {
      total: changes[0]?.total ?? 0,
      items: changes.map(({ detail, total: _total, ...c }) => {
        const d = detail ? (JSON.parse(detail) as Record<string, unknown>) : {};
        const text = (v: unknown) => (v === undefined || v === null ? null : String(v));
        return { ...c, before: text(d.before), after: text(d.after), title: text(d.title) };
      }),
    },
  };
}
