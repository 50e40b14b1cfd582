/**
 * Weekly digests (docs/digests.md): one row per group and ISO week, claimed before the email goes out,
 * so a re-run of the daily cron never sends a group's digest twice.
 */
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

const now = sql`(strftime('%Y-%m-%dT%H:%M:%SZ','now'))`;

export const digestDeliveries = sqliteTable(
  'digest_deliveries',
  {
    groupId: integer('group_id').notNull(),
    /** ISO week the digest covers, `2026-W47`. */
    week: text('week').notNull(),
    /**
     * `sending` once claimed (a crash between claim and send leaves it: never retried, since the
     * email may have gone), `sent`, `failed` (the binding threw: retried on a later run, up to
     * MAX_ATTEMPTS) or `skipped` (no address to send to).
     */
    status: text('status', { enum: ['sending', 'sent', 'failed', 'skipped'] }).notNull(),
    recipient: text('recipient'),
    attempts: integer('attempts').notNull().default(1),
    error: text('error'),
    claimedAt: text('claimed_at').notNull().default(now),
    sentAt: text('sent_at'),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.week] }), index('digest_deliveries_week').on(t.week, t.status)],
);
