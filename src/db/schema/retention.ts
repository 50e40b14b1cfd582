/**
 * Retention (docs/retention.md): per-group overrides of the deployment's defaults
 * (RAW_RETENTION_DAYS, RECORD_RETENTION_DAYS), the raw objects already purged from R2 (so replay can
 * say why a message cannot be re-processed, and so the purge never looks at them again), the data
 * deletions queued when a domain or group is deleted, and a log of each purge run.
 */
import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

const now = sql`(strftime('%Y-%m-%dT%H:%M:%SZ','now'))`;

/** A group's retention; a null column keeps the deployment default for that kind of data. */
export const groupRetention = sqliteTable('group_retention', {
  groupId: integer('group_id').primaryKey(),
  /** Days raw messages stay in R2 after they arrived. */
  rawDays: integer('raw_days'),
  /** Days aggregate records (with DKIM/SPF/override rows) and TLS failure details stay after the report's day. */
  recordDays: integer('record_days'),
  updatedAt: text('updated_at').notNull().default(now),
});

/** R2 keys deleted by retention or a data deletion: content-addressed, so one row per object. */
export const rawPurges = sqliteTable('raw_purges', {
  r2Key: text('r2_key').primaryKey(),
  purgedAt: text('purged_at').notNull().default(now),
  /** `retention` or `deletion`. */
  reason: text('reason').notNull(),
  /**
   * The row is written (in D1) before the object is deleted (in R2), so a run that dies between the
   * two leaves a row the next run finishes, never an object nobody knows about.
   */
  objectDeleted: integer('object_deleted', { mode: 'boolean' }).notNull().default(false),
});

/**
 * Data of a deleted domain still to remove, worked through in batches by the purge. Its sub-domains'
 * data goes too, except names a still-monitored domain covers (their owners still see them).
 */
export const dataDeletions = sqliteTable(
  'data_deletions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    domain: text('domain').notNull(),
    requestedAt: text('requested_at').notNull().default(now),
    requestedBy: text('requested_by').notNull(),
    /** null while rows remain; set when nothing of the domain is left (or it was added again). */
    doneAt: text('done_at'),
    /** JSON counts of what was removed so far. */
    counts: text('counts').notNull().default('{}'),
  },
  (t) => [index('data_deletions_pending').on(t.doneAt, t.id)],
);

/** One row per purge run: what it removed, and whether it finished everything that was due. */
export const purgeRuns = sqliteTable('purge_runs', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  startedAt: text('started_at').notNull().default(now),
  finishedAt: text('finished_at'),
  /** `cron` or `manual` (POST /api/admin/retention/run, actor in the audit log). */
  trigger: text('trigger').notNull(),
  /** false: the budget ran out; the next run (the next day, or a manual one) carries on. */
  complete: integer('complete', { mode: 'boolean' }).notNull().default(false),
  counts: text('counts').notNull().default('{}'),
});
