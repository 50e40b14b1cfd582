/**
 * Alerts (docs/alerts.md): conditions worth telling a domain's owners about, kept with a state so each
 * fires once and clears by itself; what each group wants to hear of; and each delivery of an alert to
 * a group's webhook or address, with its attempts, so a failed one is retried rather than lost.
 */
import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

const now = sql`(strftime('%Y-%m-%dT%H:%M:%SZ','now'))`;

export const alerts = sqliteTable(
  'alerts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** Lower-case; visibility follows the domain rule (src/auth/domain-access.ts). */
    domain: text('domain').notNull(),
    /** src/alerts/kinds.ts: record_changed, new_source, certificate_expiring, ... */
    kind: text('kind').notNull(),
    /** What within the domain: the DNS area, finding id, source IP, certificate hash, server; '' for the domain as a whole. */
    subject: text('subject').notNull(),
    state: text('state', { enum: ['open', 'acknowledged', 'resolved'] }).notNull().default('open'),
    severity: text('severity', { enum: ['error', 'warning', 'info'] }).notNull(),
    title: text('title').notNull(),
    /** JSON: the facts behind the alert (before/after, counts, rates, dates), refreshed while it is open. */
    detail: text('detail').notNull(),
    openedAt: text('opened_at').notNull().default(now),
    lastSeenAt: text('last_seen_at').notNull().default(now),
    acknowledgedAt: text('acknowledged_at'),
    acknowledgedBy: text('acknowledged_by'),
    resolvedAt: text('resolved_at'),
  },
  (t) => [
    // The dedupe key: at most one unresolved alert per domain, kind and subject. Once resolved, the
    // same cause coming back is a new alert.
    uniqueIndex('alerts_active_key').on(t.domain, t.kind, t.subject).where(sql`state <> 'resolved'`),
    index('alerts_domain').on(t.domain, t.id),
    index('alerts_state').on(t.state, t.id),
  ],
);

/**
 * Which alert kinds a group wants on which channel; the channels themselves are the group's
 * notification settings (groups.notify_webhook, groups.notify_email). No row: alerts are kept and
 * shown, but not sent.
 */
export const groupAlertSettings = sqliteTable('group_alert_settings', {
  groupId: integer('group_id').primaryKey(),
  /** json (our own shape), slack (incoming webhook) or teams (Workflows webhook, Adaptive Card). */
  webhookFormat: text('webhook_format', { enum: ['json', 'slack', 'teams'] }).notNull().default('json'),
  /** Comma-separated alert kinds sent to the webhook / by email. */
  webhookKinds: text('webhook_kinds').notNull().default(''),
  emailKinds: text('email_kinds').notNull().default(''),
  updatedAt: text('updated_at').notNull().default(now),
});

/** One message about one alert to one group on one channel: opened, then resolved. */
export const alertDeliveries = sqliteTable(
  'alert_deliveries',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    alertId: integer('alert_id').notNull(),
    groupId: integer('group_id').notNull(),
    channel: text('channel', { enum: ['webhook', 'email'] }).notNull(),
    event: text('event', { enum: ['opened', 'resolved'] }).notNull(),
    /** pending (to send or retry), sent, failed (gave up after the attempts) or skipped (channel gone). */
    state: text('state', { enum: ['pending', 'sent', 'failed', 'skipped'] }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    createdAt: text('created_at').notNull().default(now),
    /** Not retried before this (backoff); null: at the next evaluation. */
    nextAttemptAt: text('next_attempt_at'),
    sentAt: text('sent_at'),
  },
  (t) => [
    uniqueIndex('alert_deliveries_key').on(t.alertId, t.groupId, t.channel, t.event),
    index('alert_deliveries_pending').on(t.state, t.id),
  ],
);
