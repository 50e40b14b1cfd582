/**
 * Change notices (docs/monitoring.md) whose first delivery failed, kept to be sent again by the
 * half-hourly cron (src/monitor/notice-retries.ts). A row is deleted once its notice is sent; one that
 * kept failing stays `failed` for 30 days so an administrator can see what was not delivered.
 */
import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

const now = sql`(strftime('%Y-%m-%dT%H:%M:%SZ','now'))`;

export const noticeRetries = sqliteTable(
  'notice_retries',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    groupId: integer('group_id').notNull(),
    domain: text('domain').notNull(),
    channel: text('channel', { enum: ['webhook', 'email'] }).notNull(),
    /** The changes (CheckChange[] as JSON): the notice is rebuilt from them for the group's address and format at the time of sending. */
    changes: text('changes').notNull(),
    state: text('state', { enum: ['pending', 'failed'] }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(1),
    nextAttemptAt: text('next_attempt_at').notNull(),
    lastError: text('last_error'),
    createdAt: text('created_at').notNull().default(now),
  },
  (t) => [index('notice_retries_due').on(t.state, t.nextAttemptAt)],
);
