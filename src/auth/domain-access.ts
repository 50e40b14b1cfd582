import { sql, type SQL } from 'drizzle-orm';
import type { AnySQLiteColumn } from 'drizzle-orm/sqlite-core';
import { database } from '../db/client';
import type { Principal } from './principal';

/**
 * The one authorisation rule for domain data: a condition that `column` (a domain name) belongs to
 * one of the principal's groups, directly or as a sub-domain of one of their domains; `undefined`
 * (no condition) for admins and service tokens. Every data route filters with it, and answers 404
 * rather than 403 for a domain outside it, so its existence does not leak.
 *
 * The sub-domain test compares suffixes with substr rather than LIKE: D1 limits LIKE patterns to
 * 50 bytes, and a domain can be longer than that.
 */
export function visibleDomain(principal: Principal, column: AnySQLiteColumn | SQL): SQL | undefined {
  if (principal.allDomains) return undefined;
  if (principal.userId === null) return sql`0`;
  return sql`EXISTS (SELECT 1 FROM group_members gm
      JOIN group_domains gd ON gd.group_id = gm.group_id
      JOIN domains d ON d.id = gd.domain_id
      WHERE gm.user_id = ${principal.userId}
        AND (${column} = d.name OR substr(${column}, -length(d.name) - 1) = '.' || d.name))`;
}

/** Whether one domain name is visible to the principal. */
export async function canSeeDomain(d1: D1Database, principal: Principal, domain: string): Promise<boolean> {
  const condition = visibleDomain(principal, sql`${domain.toLowerCase()}`);
  if (!condition) return true;
  const row = await database(d1).get<{ visible: number }>(sql`SELECT ${condition} AS visible`);
  return row?.visible === 1;
}
