/**
 * The alert rules, each evaluated where its data lands (docs/alerts.md): after a domain check, after a
 * report is stored, after a probe result, and daily for what time alone changes (certificates expire,
 * reports stop). Each rule opens an alert for a cause it sees and resolves the open ones whose cause
 * is gone; the dedupe key makes a repeated evaluation a refresh, never a second alert.
 *
 * Every query is bounded to one domain, one server, or (daily) one pass over the monitored domains
 * through indexed look-ups; the caps are in kinds.ts.
 */
import type { CheckChange } from '../dns/diff-checks';
import { AREA_TITLES, type Area, type DomainCheck } from '../dns/domain-check';
import {
  CERTIFICATE_WARNING_DAYS,
  DAILY_OPEN_LIMIT,
  GRADE_ORDER,
  NEW_SOURCE_LOOKBACK_DAYS,
  NEW_SOURCE_MIN_HISTORY_DAYS,
  NEW_SOURCE_MIN_MESSAGES,
  NEW_SOURCE_QUIET_DAYS,
  NEW_SOURCE_WINDOW_DAYS,
  PASS_RATE_BASELINE_DAYS,
  PASS_RATE_DROP_POINTS,
  PASS_RATE_MIN_MESSAGES,
  PASS_RATE_RECOVERED_POINTS,
  RECORD_CHANGE_SETTLES_DAYS,
  REPORTS_FORGET_DAYS,
  REPORTS_LATE_DAYS,
  REPORTS_USUAL_DAYS,
  TLSRPT_BASELINE_DAYS,
  TLSRPT_JUMP_POINTS,
  TLSRPT_MIN_FAILED,
  TLSRPT_RECOVERED_POINTS,
} from './kinds';
import { activeAlerts, allActiveAlerts, iso, openAlert, resolveAlert, shiftDay, type ActiveAlert } from './store';

const DAY_MS = 86_400_000;
/** New-source alerts one report can open: a report full of never-seen IPs is one incident, not hundreds of alerts. */
const NEW_SOURCES_PER_EVALUATION = 20;

const areaName = (area: string) => AREA_TITLES[area as Area] ?? area.toUpperCase();
const points = (rate: number) => Math.round(rate * 1000) / 10;

// ---------------------------------------------------------------- after a domain check

/**
 * Records changed or removed, error findings that appeared; resolves those whose cause the latest
 * check no longer shows. Only complete checks count: a check with DNS failures may lack records
 * that are there, and the monitor reports persistent failures itself.
 */
export async function evaluateCheck(d1: D1Database, check: DomainCheck, changes: CheckChange[], now: Date): Promise<string[]> {
  if (!check.complete) return [];
  const domain = check.domain;
  const active = await activeAlerts(d1, domain, ['record_changed', 'record_removed', 'error_finding']);
  const opened: string[] = [];
  for (const change of changes) {
    if (change.kind === 'record-changed') {
      const before = change.detail.before ?? null;
      const after = change.detail.after ?? null;
      if (after === null && before !== null) {
        if (await openAlert(d1, { domain, kind: 'record_removed', subject: change.area, severity: 'error', title: `${areaName(change.area)} record disappeared`, message: `The ${areaName(change.area)} record of ${domain} is gone. It was: ${before}`, facts: { area: change.area, before } }, now)) opened.push(`record_removed:${change.area}`);
      } else if (after !== null && before !== null) {
        // Several changes while the alert is open: keep the first "before", so a revert is recognised.
        const existing = active.find((a) => a.kind === 'record_changed' && a.subject === change.area);
        const original = typeof existing?.detail.before === 'string' ? existing.detail.before : before;
        if (await openAlert(d1, { domain, kind: 'record_changed', subject: change.area, severity: 'warning', title: `${areaName(change.area)} record changed`, message: `The ${areaName(change.area)} record of ${domain} changed from "${original}" to "${after}".`, facts: { area: change.area, before: original, after } }, now)) opened.push(`record_changed:${change.area}`);
      }
    } else if (change.kind === 'finding-appeared' && change.detail.severity === 'error' && change.finding_id) {
      const advice = change.detail.advice ? ` What to do: ${change.detail.advice}` : '';
      if (await openAlert(d1, { domain, kind: 'error_finding', subject: change.finding_id, severity: 'error', title: String(change.detail.title ?? change.finding_id), message: `${domain}: ${String(change.detail.title)} (${change.finding_id}).${advice}`, facts: { area: change.area, finding_id: change.finding_id, advice: change.detail.advice ?? null } }, now)) opened.push(`error_finding:${change.finding_id}`);
    }
  }
  const findingIds = new Set(check.findings.map((f) => f.id));
  for (const alert of active) {
    const record = (check as unknown as Record<string, { record?: string | null } | undefined>)[alert.subject]?.record ?? null;
    if (alert.kind === 'record_removed' && record !== null) await resolveAlert(d1, alert.id, now, 'The record is published again.');
    if (alert.kind === 'record_changed') {
      if (record === alert.detail.before) await resolveAlert(d1, alert.id, now, 'The record is back to what it was.');
      else if (record === alert.detail.after && now.getTime() - Date.parse(alert.last_seen_at) >= RECORD_CHANGE_SETTLES_DAYS * DAY_MS && !changes.some((c) => c.area === alert.subject && c.kind === 'record-changed')) {
        await resolveAlert(d1, alert.id, now, `The new record has stood for ${RECORD_CHANGE_SETTLES_DAYS} days.`);
      }
    }
    if (alert.kind === 'error_finding' && !findingIds.has(alert.subject)) await resolveAlert(d1, alert.id, now, 'The latest check no longer finds it.');
  }
  return opened;
}

// ---------------------------------------------------------------- after an aggregate report

async function newestDay(d1: D1Database, table: 'aggregate_daily' | 'aggregate_daily_sources', domain: string): Promise<string | null> {
  const row = await d1.prepare(`SELECT max(day) AS day FROM ${table} WHERE domain = ?1`).bind(domain).first<{ day: string | null }>();
  return row?.day ?? null;
}

/** Sources in the domain's latest report days with enough mail that its reports did not show in the 30 days before. */
export async function evaluateNewSources(d1: D1Database, domain: string, now: Date): Promise<string[]> {
  const last = await newestDay(d1, 'aggregate_daily_sources', domain);
  if (!last) return [];
  const windowStart = shiftDay(last, NEW_SOURCE_WINDOW_DAYS - 1);
  const historyStart = shiftDay(windowStart, NEW_SOURCE_LOOKBACK_DAYS);
  const historyEnd = shiftDay(windowStart, 1);
  const history = await d1
    .prepare(`SELECT count(DISTINCT day) AS days FROM aggregate_daily_sources WHERE domain = ?1 AND day BETWEEN ?2 AND ?3`)
    .bind(domain, historyStart, historyEnd)
    .first<{ days: number }>();
  const opened: string[] = [];
  if ((history?.days ?? 0) >= NEW_SOURCE_MIN_HISTORY_DAYS) {
    const { results } = await d1
      .prepare(
        `SELECT s.source_ip AS ip, sum(s.messages) AS messages, sum(s.dmarc_pass) AS pass, min(s.day) AS first_day, json_extract(r.result, '$.name') AS name
         FROM aggregate_daily_sources s LEFT JOIN reverse_dns r ON r.ip = s.source_ip
         WHERE s.domain = ?1 AND s.day BETWEEN ?2 AND ?3
           AND NOT EXISTS (SELECT 1 FROM aggregate_daily_sources h WHERE h.domain = ?1 AND h.source_ip = s.source_ip AND h.day BETWEEN ?4 AND ?5)
         GROUP BY s.source_ip HAVING sum(s.messages) >= ?6
         ORDER BY messages DESC, ip LIMIT ?7`,
      )
      .bind(domain, windowStart, last, historyStart, historyEnd, NEW_SOURCE_MIN_MESSAGES, NEW_SOURCES_PER_EVALUATION)
      .all<{ ip: string; messages: number; pass: number; first_day: string; name: string | null }>();
    for (const s of results) {
      const who = s.name ? ` (${s.name})` : '';
      const message = `${s.ip}${who} sent ${s.messages} messages as ${domain} since ${s.first_day}, ${s.pass} of them passing DMARC; it was not in the domain's reports in the ${NEW_SOURCE_LOOKBACK_DAYS} days before. If it is a service you use, authorise it (SPF, DKIM); if not, it may be spoofing.`;
      if (await openAlert(d1, { domain, kind: 'new_source', subject: s.ip, severity: s.pass >= s.messages ? 'info' : 'warning', title: `New sending source ${s.ip}${who}`, message, facts: { ip: s.ip, name: s.name, messages: s.messages, dmarc_pass: s.pass, first_day: s.first_day } }, now)) opened.push(`new_source:${s.ip}`);
    }
  }
  for (const alert of await activeAlerts(d1, domain, ['new_source'])) {
    const seen = await d1.prepare(`SELECT max(day) AS day FROM aggregate_daily_sources WHERE domain = ?1 AND source_ip = ?2`).bind(domain, alert.subject).first<{ day: string | null }>();
    if (!seen?.day || seen.day < shiftDay(last, NEW_SOURCE_QUIET_DAYS)) await resolveAlert(d1, alert.id, now, `The source has not sent for ${NEW_SOURCE_QUIET_DAYS} report days.`);
  }
  return opened;
}

/** The pass rate of the domain's latest report day against the 7 report days before it. */
export async function evaluatePassRate(d1: D1Database, domain: string, now: Date): Promise<string[]> {
  const last = await newestDay(d1, 'aggregate_daily', domain);
  if (!last) return [];
  const row = await d1
    .prepare(
      `SELECT sum(CASE WHEN day = ?2 THEN messages ELSE 0 END) AS day_messages, sum(CASE WHEN day = ?2 THEN dmarc_pass ELSE 0 END) AS day_pass,
              sum(CASE WHEN day < ?2 THEN messages ELSE 0 END) AS base_messages, sum(CASE WHEN day < ?2 THEN dmarc_pass ELSE 0 END) AS base_pass
       FROM aggregate_daily WHERE domain = ?1 AND day BETWEEN ?3 AND ?2`,
    )
    .bind(domain, last, shiftDay(last, PASS_RATE_BASELINE_DAYS))
    .first<{ day_messages: number; day_pass: number; base_messages: number; base_pass: number }>();
  if (!row) return [];
  const [active] = await activeAlerts(d1, domain, ['pass_rate_drop']);
  const enough = row.day_messages >= PASS_RATE_MIN_MESSAGES && row.base_messages >= PASS_RATE_MIN_MESSAGES;
  if (!enough) return [];
  const rate = row.day_pass / row.day_messages;
  const baseline = row.base_pass / row.base_messages;
  const drop = points(baseline - rate);
  if (drop >= PASS_RATE_DROP_POINTS) {
    const message = `On ${last}, ${points(rate)}% of ${row.day_messages} messages from ${domain} passed DMARC, against ${points(baseline)}% over the ${PASS_RATE_BASELINE_DAYS} report days before (${row.base_messages} messages): ${drop} points lower. A sender may have lost DKIM or SPF, or someone is spoofing the domain.`;
    return (await openAlert(d1, { domain, kind: 'pass_rate_drop', subject: '', severity: 'warning', title: `DMARC pass rate fell to ${points(rate)}%`, message, facts: { day: last, rate: points(rate), baseline: points(baseline), drop_points: drop, messages: row.day_messages, baseline_messages: row.base_messages } }, now)) ? ['pass_rate_drop'] : [];
  }
  if (active && drop < PASS_RATE_RECOVERED_POINTS) await resolveAlert(d1, active.id, now, `On ${last} the pass rate was ${points(rate)}%, within ${PASS_RATE_RECOVERED_POINTS} points of its baseline.`);
  return [];
}

/** An open "reports stopped" alert resolves as soon as a report covers one of the last few days. */
export async function resolveReportsStopped(d1: D1Database, domain: string, now: Date): Promise<void> {
  const alerts = await activeAlerts(d1, domain, ['reports_stopped']);
  if (alerts.length === 0) return;
  const last = await newestDay(d1, 'aggregate_daily', domain);
  const today = iso(now).slice(0, 10);
  if (last && last >= shiftDay(today, REPORTS_LATE_DAYS)) for (const a of alerts) await resolveAlert(d1, a.id, now, `Reports arrive again (latest day covered: ${last}).`);
}

// ---------------------------------------------------------------- after a TLS report

/** Failed sessions on the domain's latest TLS-RPT day against the 7 report days before. */
export async function evaluateTlsRpt(d1: D1Database, domain: string, now: Date): Promise<string[]> {
  const { results } = await d1
    .prepare(
      `SELECT substr(r.begin_at, 1, 10) AS day, sum(p.successful_sessions) AS ok, sum(p.failed_sessions) AS failed
       FROM tls_report_policies p JOIN tls_reports r ON r.id = p.tls_report_id
       WHERE p.policy_domain = ?1 GROUP BY day ORDER BY day DESC LIMIT ?2`,
    )
    .bind(domain, TLSRPT_BASELINE_DAYS + 1)
    .all<{ day: string; ok: number; failed: number }>();
  const [latest, ...before] = results;
  if (!latest) return [];
  const since = shiftDay(latest.day, TLSRPT_BASELINE_DAYS);
  const base = before.filter((d) => d.day >= since);
  const baseTotal = base.reduce((n, d) => n + d.ok + d.failed, 0);
  const baseFailed = base.reduce((n, d) => n + d.failed, 0);
  const total = latest.ok + latest.failed;
  const rate = total > 0 ? latest.failed / total : 0;
  const baseline = baseTotal > 0 ? baseFailed / baseTotal : 0;
  const jump = points(rate - baseline);
  const [active] = await activeAlerts(d1, domain, ['tlsrpt_failures']);
  if (latest.failed >= TLSRPT_MIN_FAILED && jump >= TLSRPT_JUMP_POINTS) {
    const message = `On ${latest.day}, senders reported ${latest.failed} failed TLS sessions to ${domain}'s mail servers out of ${total} (${points(rate)}%), against ${points(baseline)}% over the ${TLSRPT_BASELINE_DAYS} report days before. Look at the failure types in the TLS reports and at the MX certificates and MTA-STS policy.`;
    return (await openAlert(d1, { domain, kind: 'tlsrpt_failures', subject: '', severity: 'warning', title: `TLS failures jumped to ${points(rate)}% of sessions`, message, facts: { day: latest.day, failed: latest.failed, sessions: total, rate: points(rate), baseline: points(baseline), jump_points: jump } }, now)) ? ['tlsrpt_failures'] : [];
  }
  if (active && jump < TLSRPT_RECOVERED_POINTS) await resolveAlert(d1, active.id, now, `On ${latest.day} ${points(rate)}% of sessions failed, back near the baseline.`);
  return [];
}

// ---------------------------------------------------------------- after a probe result, and daily

const rank = (grade: string | null | undefined) => (grade ? (GRADE_ORDER as readonly string[]).indexOf(grade) : -1);

/** The server's latest result against its previous graded one, for every domain whose MX uses it. */
export async function evaluateGrade(d1: D1Database, ip: string, port: number, now: Date): Promise<{ domains: string[]; opened: string[] }> {
  // History rows are distinct results; an inconclusive scan between two graded ones is skipped over.
  const { results: rows } = await d1.prepare(`SELECT grade, host FROM tls_probe_results WHERE ip = ?1 AND port = ?2 ORDER BY id DESC LIMIT 10`).bind(ip, port).all<{ grade: string; host: string }>();
  const { results: mapped } = await d1.prepare(`SELECT DISTINCT domain FROM mx_addresses WHERE ip = ?1 ORDER BY domain LIMIT 100`).bind(ip).all<{ domain: string }>();
  const domains = mapped.map((m) => m.domain);
  const [latest, ...older] = rows;
  const previous = older.find((r) => rank(r.grade) >= 0);
  const opened: string[] = [];
  // Inconclusive is a scan that could not finish, not a grade: it neither raises nor clears.
  if (!latest || rank(latest.grade) < 0) return { domains, opened };
  const subject = `${ip}:${port}`;
  for (const domain of domains) {
    if (previous && rank(previous.grade) >= 0 && rank(latest.grade) > rank(previous.grade)) {
      const message = `The mail server ${latest.host} (${ip}) of ${domain} is now graded ${latest.grade}, down from ${previous.grade}. See the domain's mail-server TLS findings for what changed.`;
      if (await openAlert(d1, { domain, kind: 'tls_grade_fell', subject, severity: latest.grade === 'insufficient' || latest.grade === 'no_tls' ? 'error' : 'warning', title: `TLS grade of ${latest.host} fell to ${latest.grade}`, message, facts: { host: latest.host, ip, port, from: previous.grade, to: latest.grade } }, now)) opened.push(`tls_grade_fell:${domain}`);
      continue;
    }
    for (const alert of await activeAlerts(d1, domain, ['tls_grade_fell'])) {
      if (alert.subject === subject && rank(latest.grade) <= rank(String(alert.detail.from))) await resolveAlert(d1, alert.id, now, `The server is graded ${latest.grade} again.`);
    }
  }
  return { domains, opened };
}

/**
 * MX certificates (the leaf each server presents) expiring within 14 days, for some domains or all;
 * resolves the alerts of certificates no longer presented (renewed).
 */
export async function evaluateCertificates(d1: D1Database, domains: string[] | null, now: Date, limit = DAILY_OPEN_LIMIT): Promise<string[]> {
  const horizon = iso(new Date(now.getTime() + CERTIFICATE_WARNING_DAYS * DAY_MS));
  const scope = domains ? JSON.stringify(domains) : null;
  const { results } = await d1
    .prepare(
      `SELECT m.domain, c.sha256, c.not_after, c.subject, group_concat(DISTINCT m.host) AS hosts
       FROM mx_addresses m
       JOIN tls_server_certificates sc ON sc.ip = m.ip AND sc.port = 25 AND sc.position = 0
       JOIN tls_certificates c ON c.sha256 = sc.sha256
       WHERE c.not_after < ?1 AND (?2 IS NULL OR m.domain IN (SELECT value FROM json_each(?2)))
       GROUP BY m.domain, c.sha256 ORDER BY c.not_after LIMIT ?3`,
    )
    .bind(horizon, scope, limit)
    .all<{ domain: string; sha256: string; not_after: string; subject: string; hosts: string }>();
  const opened: string[] = [];
  const current = new Set<string>();
  for (const c of results) {
    current.add(`${c.domain} ${c.sha256}`);
    const expired = c.not_after <= iso(now);
    const days = Math.max(0, Math.floor((Date.parse(c.not_after) - now.getTime()) / DAY_MS));
    const message = expired
      ? `The certificate of ${c.hosts} (${c.subject}) expired on ${c.not_after}: senders that check certificates (MTA-STS enforce, DANE) cannot deliver to ${c.domain}. Renew it.`
      : `The certificate of ${c.hosts} (${c.subject}) expires on ${c.not_after}, in ${days} days. Renew it before senders that check certificates (MTA-STS enforce, DANE) stop delivering to ${c.domain}.`;
    if (await openAlert(d1, { domain: c.domain, kind: 'certificate_expiring', subject: c.sha256, severity: expired || days < 3 ? 'error' : 'warning', title: expired ? `MX certificate of ${c.hosts} expired` : `MX certificate of ${c.hosts} expires in ${days} days`, message, facts: { hosts: c.hosts.split(','), sha256: c.sha256, subject: c.subject, not_after: c.not_after } }, now)) opened.push(`certificate_expiring:${c.domain}`);
  }
  // A partial answer (the limit reached) cannot tell a renewed certificate from one not listed.
  if (results.length < limit) {
    const active: ActiveAlert[] = domains ? (await Promise.all(domains.map((d) => activeAlerts(d1, d, ['certificate_expiring'])))).flat() : await allActiveAlerts(d1, ['certificate_expiring']);
    for (const alert of active) if (!current.has(`${alert.domain} ${alert.subject}`)) await resolveAlert(d1, alert.id, now, 'The mail servers present another certificate.');
  }
  return opened;
}

// ---------------------------------------------------------------- daily

/**
 * Reports stopped: over the monitored domains, each through index look-ups on aggregate_daily's
 * (domain, day) key, never a scan of the roll-ups.
 */
export async function evaluateReportsStopped(d1: D1Database, now: Date): Promise<string[]> {
  const today = iso(now).slice(0, 10);
  const late = shiftDay(today, REPORTS_LATE_DAYS);
  const { results } = await d1
    .prepare(
      `WITH latest AS (SELECT d.name AS domain, (SELECT max(a.day) FROM aggregate_daily a WHERE a.domain = d.name) AS last_day FROM domains d)
       SELECT domain, last_day,
              (SELECT count(DISTINCT a.day) FROM aggregate_daily a WHERE a.domain = latest.domain AND a.day BETWEEN date(latest.last_day, '-13 days') AND latest.last_day) AS days
       FROM latest WHERE last_day IS NOT NULL AND last_day < ?1 AND last_day >= ?2 ORDER BY domain LIMIT ?3`,
    )
    .bind(late, shiftDay(today, REPORTS_FORGET_DAYS), DAILY_OPEN_LIMIT)
    .all<{ domain: string; last_day: string; days: number }>();
  const opened: string[] = [];
  for (const r of results) {
    if (r.days < REPORTS_USUAL_DAYS) continue;
    const message = `${r.domain} had aggregate reports for ${r.days} of the 14 days up to ${r.last_day}, and none since. Check that the DMARC record still has its rua= address and that mail to it reaches MailCheck.`;
    if (await openAlert(d1, { domain: r.domain, kind: 'reports_stopped', subject: '', severity: 'warning', title: `No aggregate reports since ${r.last_day}`, message, facts: { last_day: r.last_day, days_in_previous_14: r.days } }, now)) opened.push(`reports_stopped:${r.domain}`);
  }
  for (const alert of await allActiveAlerts(d1, ['reports_stopped'])) await resolveReportsStopped(d1, alert.domain, now);
  return opened;
}

/** What only time changes: record changes settling, quiet new sources. */
export async function settleOverTime(d1: D1Database, now: Date): Promise<void> {
  for (const alert of await allActiveAlerts(d1, ['record_changed'])) {
    if (now.getTime() - Date.parse(alert.last_seen_at) >= RECORD_CHANGE_SETTLES_DAYS * DAY_MS) await resolveAlert(d1, alert.id, now, `The new record has stood for ${RECORD_CHANGE_SETTLES_DAYS} days.`);
  }
  const quietDomains = new Set((await allActiveAlerts(d1, ['new_source'])).map((a) => a.domain));
  for (const domain of quietDomains) await evaluateNewSources(d1, domain, now);
}
