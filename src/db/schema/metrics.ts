/**
 * Monthly metrics snapshots (docs/metrics.md): the adoption figures of one month, written by the daily
 * cron for the whole service (scope `all`), so earlier months can be shown after the checks move on.
 */
import { sql } from 'drizzle-orm';
import { primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const metricsSnapshots = sqliteTable(
  'metrics_snapshots',
  {
    /** `YYYY-MM`. */
    month: text('month').notNull(),
    /** `all`: every monitored domain. */
    scope: text('scope').notNull(),
    computedAt: text('computed_at').notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%SZ','now'))`),
    /** The Metrics JSON (src/stats/metrics.ts). */
    data: text('data').notNull(),
  },
  (t) => [primaryKey({ columns: [t.month, t.scope] })],
);
