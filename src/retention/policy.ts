/**
 * Which retention applies to a piece of data (docs/retention.md).
 *
 * A report's domain may be owned by several groups (directly or as a sub-domain of their domain).
 * The LONGEST of their retentions applies: the reports are the same data for every owner, and a
 * shorter override of one group must not take away what another owner keeps and still sees. A
 * deployment that must hold everything to a legal maximum sets the default (and no longer overrides).
 * Data of domains no group owns (unmonitored) follows the deployment default.
 */
import { sql, type SQL } from 'drizzle-orm';

/** "Keep forever" (0) as a number of days that never comes: about 2,700 years. */
export const FOREVER_DAYS = 1_000_000;

export interface RetentionDefaults {
  rawDays: number;
  recordDays: number;
}

function days(value: string | undefined, fallback: number): number {
  const text = (value ?? '').trim();
  if (!/^\d{1,7}$/.test(text)) return fallback;
  return Number(text);
}

/** The deployment defaults from wrangler.toml; a missing or malformed value falls back to 90 / 400 days. */
export function retentionDefaults(env: Pick<Env, 'RAW_RETENTION_DAYS' | 'RECORD_RETENTION_DAYS'>): RetentionDefaults {
  return { rawDays: days(env.RAW_RETENTION_DAYS, 90), recordDays: days(env.RECORD_RETENTION_DAYS, 400) };
}

export type RetentionKind = 'raw_days' | 'record_days';

/**
 * SQL for the days kept for the data of the domain named by `name` (an SQL expression): the longest
 * retention of the groups owning it or a parent of it, each group's override or else the default;
 * the default when no group owns it. 0 means forever and ranks longest.
 */
export function retentionDaysOf(name: SQL, kind: RetentionKind, fallback: number): SQL {
  const column = sql.raw(`gr.${kind}`);
  return sql`coalesce((SELECT max(CASE coalesce(${column}, ${fallback}) WHEN 0 THEN ${FOREVER_DAYS} ELSE coalesce(${column}, ${fallback}) END)
      FROM domains d JOIN group_domains gd ON gd.domain_id = d.id LEFT JOIN group_retention gr ON gr.group_id = gd.group_id
      WHERE ${name} = d.name OR substr(${name}, -length(d.name) - 1) = '.' || d.name), ${fallback === 0 ? FOREVER_DAYS : fallback})`;
}
