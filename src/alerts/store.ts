/**
 * Alerts in D1: opening (or refreshing) one by its dedupe key, resolving, and queueing the deliveries
 * each owning group asked for. Each step is one D1 batch (one transaction), so an alert never exists
 * without the deliveries it should have, and a retry or a second evaluation adds nothing twice: the
 * partial unique index on (domain, kind, subject) of unresolved alerts and the unique key of deliveries
 * make every statement idempotent.
 */
import type { AlertKind, AlertSeverity, AlertState } from './kinds';

export interface AlertDraft {
  domain: string;
  kind: AlertKind;
  /** Within the domain: DNS area, finding id, source IP, certificate hash, ip:port; '' for the domain. */
  subject: string;
  severity: AlertSeverity;
  /** Short: "DMARC record changed". */
  title: string;
  /** One or two sentences for people, with the numbers (notifications and the UI show it). */
  message: string;
  /** The facts, for scripts and for resolving (before/after, rates, dates). */
  facts: Record<string, unknown>;
}

export interface ActiveAlert {
  id: number;
  domain: string;
  kind: AlertKind;
  subject: string;
  state: AlertState;
  detail: Record<string, unknown>;
  opened_at: string;
  last_seen_at: string;
}

export function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The day `days` before (negative: after) an ISO day, as YYYY-MM-DD. */
export function shiftDay(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);
}

/**
 * The deliveries an open alert should have: one per owning group (of the domain or a parent domain,
 * the visibility rule) and channel it chose for this kind, where the channel is set. INSERT OR IGNORE:
 * an alert already told to a group is not told again; a group that opts in later hears of alerts still
 * open.
 */
function queueOpened(d1: D1Database, domain: string, kind: string, subject: string): D1PreparedStatement {
  return d1
    .prepare(
      `INSERT OR IGNORE INTO alert_deliveries (alert_id, group_id, channel, event)
       SELECT a.id, g.id, ch.channel, 'opened'
       FROM alerts a
       JOIN domains d ON a.domain = d.name OR substr(a.domain, -length(d.name) - 1) = '.' || d.name
       JOIN group_domains gd ON gd.domain_id = d.id
       JOIN groups g ON g.id = gd.group_id
       JOIN group_alert_settings s ON s.group_id = g.id
       JOIN (SELECT 'webhook' AS channel UNION ALL SELECT 'email') ch
       WHERE a.domain = ?1 AND a.kind = ?2 AND a.subject = ?3 AND a.state = 'open'
         AND ((ch.channel = 'webhook' AND g.notify_webhook IS NOT NULL AND instr(',' || s.webhook_kinds || ',', ',' || a.kind || ',') > 0)
           OR (ch.channel = 'email' AND g.notify_email IS NOT NULL AND instr(',' || s.email_kinds || ',', ',' || a.kind || ',') > 0))`,
    )
    .bind(domain, kind, subject);
}

/**
 * Opens the alert, or refreshes the unresolved one with the same key (its facts and last_seen_at; an
 * acknowledged alert stays acknowledged). Returns whether it is new.
 */
export async function openAlert(d1: D1Database, draft: AlertDraft, now: Date): Promise<boolean> {
  const at = iso(now);
  const detail = JSON.stringify({ message: draft.message, ...draft.facts });
  const [inserted] = await d1.batch([
    d1
      .prepare(
        `INSERT OR IGNORE INTO alerts (domain, kind, subject, severity, title, detail, opened_at, last_seen_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)`,
      )
      .bind(draft.domain, draft.kind, draft.subject, draft.severity, draft.title, detail, at),
    // changes() is the INSERT's, just before in the same transaction: 0 when an unresolved alert had the key.
    d1
      .prepare(
        `UPDATE alerts SET severity = ?4, title = ?5, detail = ?6, last_seen_at = ?7
         WHERE domain = ?1 AND kind = ?2 AND subject = ?3 AND state <> 'resolved' AND changes() = 0`,
      )
      .bind(draft.domain, draft.kind, draft.subject, draft.severity, draft.title, detail, at),
    queueOpened(d1, draft.domain, draft.kind, draft.subject),
  ]);
  return (inserted?.meta.changes ?? 0) > 0;
}

/**
 * Resolves an alert. Groups that were told it opened are told it resolved; an opening not yet sent
 * is dropped (skipped), since it is no longer true.
 */
export async function resolveAlert(d1: D1Database, id: number, now: Date, reason: string): Promise<void> {
  const at = iso(now);
  await d1.batch([
    d1
      .prepare(
        `INSERT OR IGNORE INTO alert_deliveries (alert_id, group_id, channel, event)
         SELECT alert_id, group_id, channel, 'resolved' FROM alert_deliveries
         WHERE alert_id = ?1 AND event = 'opened' AND state = 'sent'
           AND EXISTS (SELECT 1 FROM alerts WHERE id = ?1 AND state <> 'resolved')`,
      )
      .bind(id),
    d1
      .prepare(`UPDATE alert_deliveries SET state = 'skipped', last_error = 'resolved before it was sent' WHERE alert_id = ?1 AND event = 'opened' AND state = 'pending'`)
      .bind(id),
    d1
      .prepare(`UPDATE alerts SET state = 'resolved', resolved_at = ?2, detail = json_set(detail, '$.resolved_because', ?3) WHERE id = ?1 AND state <> 'resolved'`)
      .bind(id, at, reason),
  ]);
}

/** Unresolved alerts of a domain (of some kinds). */
export async function activeAlerts(d1: D1Database, domain: string, kinds: readonly AlertKind[]): Promise<ActiveAlert[]> {
  const { results } = await d1
    .prepare(
      `SELECT id, domain, kind, subject, state, detail, opened_at, last_seen_at FROM alerts
       WHERE domain = ?1 AND state <> 'resolved' AND kind IN (SELECT value FROM json_each(?2))`,
    )
    .bind(domain, JSON.stringify(kinds))
    .all<Omit<ActiveAlert, 'detail'> & { detail: string }>();
  return results.map((r) => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> }));
}

/** Unresolved alerts of some kinds across all domains (the daily run). */
export async function allActiveAlerts(d1: D1Database, kinds: readonly AlertKind[]): Promise<ActiveAlert[]> {
  const { results } = await d1
    .prepare(
      `SELECT id, domain, kind, subject, state, detail, opened_at, last_seen_at FROM alerts
       WHERE state <> 'resolved' AND kind IN (SELECT value FROM json_each(?1)) ORDER BY id`,
    )
    .bind(JSON.stringify(kinds))
    .all<Omit<ActiveAlert, 'detail'> & { detail: string }>();
  return results.map((r) => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> }));
}
