/**
 * Domain checks: every result kept (history), the state of each domain's monitor, and the changes
 * between consecutive good results (record text changed, findings appeared or cleared).
 */
import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

const now = sql`(strftime('%Y-%m-%dT%H:%M:%SZ','now'))`;

export const domainCheckResults = sqliteTable(
  'domain_check_results',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    domain: text('domain').notNull(),
    checkedAt: text('checked_at').notNull().default(now),
    /** `error`, `warning`, `info` or `none`: the worst finding, for lists at a glance. */
    maxSeverity: text('max_severity').notNull(),
    /** The whole DomainCheck as JSON (the same shape `mailcheck-edge check --format json` prints). */
    result: text('result').notNull(),
  },
  (t) => [index('domain_check_results_domain').on(t.domain, t.id)],
);

export const domainCheckState = sqliteTable('domain_check_state', {
  domain: text('domain').primaryKey(),
  /** The last complete result; a check that failed on DNS never replaces it. */
  latestResultId: integer('latest_result_id'),
  lastAttemptAt: text('last_attempt_at'),
  /** Why the last attempt could not complete (DNS failures), null after a good one. */
  lastError: text('last_error'),
  consecutiveFailures: integer('consecutive_failures').notNull().default(0),
  nextCheckAt: text('next_check_at'),
});

export const domainCheckChanges = sqliteTable(
  'domain_check_changes',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    domain: text('domain').notNull(),
    at: text('at').notNull().default(now),
    resultId: integer('result_id').notNull(),
    area: text('area').notNull(),
    /** `record-changed`, `finding-appeared`, `finding-cleared`. */
    kind: text('kind').notNull(),
    findingId: text('finding_id'),
    /** JSON: the record before and after, or the finding. */
    detail: text('detail'),
  },
  (t) => [index('domain_check_changes_domain').on(t.domain, t.id)],
);
