/**
 * Shared input handling for the admin API: field schemas for the declared bodies and queries (their
 * 400s come from the routers' shared hook), path ids, list queries (search, pagination), domain names.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { AnySQLiteColumn } from 'drizzle-orm/sqlite-core';
import type { Context } from 'hono';
import { z } from 'zod';
import { normaliseDomain } from '../../lib/domain-name';

export { normaliseDomain };
import { blankAsAbsent, pageFrom, pageQuery, type Page } from '../pagination';
import { problem } from '../problem';

export { invalid, zodErrors, type FieldError } from '../problem';

/** 404 for an id named in the body (`user_id`, `group_ids.1`): unknown ids are 404 everywhere. */
export function unknownReference(c: Context, path: string, message: string) {
  return problem(c, 404, 'Not Found', `${path}: ${message}`, { errors: [{ path, message }] });
}

export function notFound(c: Context, what: string) {
  return problem(c, 404, 'Not Found', `No ${what}.`);
}

export function conflict(c: Context, detail: string) {
  return problem(c, 409, 'Conflict', detail);
}

/** A numeric path parameter (the routes only match digits); null when too large to be an id. */
export function idParam(c: Context, name: string): number | null {
  const value = Number(c.req.param(name));
  return Number.isSafeInteger(value) ? value : null;
}

/** Longest accepted `?search=` term. */
export const MAX_SEARCH = 200;

export interface ListQuery {
  page: Page;
  /** The trimmed search term, or null. */
  search: string | null;
}

/** `?limit=&cursor=&search=` of the admin lists, declared with their routes. */
export const listQuery = pageQuery.extend({
  search: z
    .string()
    .trim()
    .max(MAX_SEARCH, `is limited to ${MAX_SEARCH} characters`)
    .optional()
    .meta({ description: 'Case-insensitive substring to look for.' }),
});

/** The validated `listQuery` in the shape the list queries take (no search: null). */
export function listFrom(query: z.output<typeof listQuery>): ListQuery {
  return { page: pageFrom(query), search: query.search ? query.search : null };
}

/**
 * Case-insensitive substring match. instr() rather than LIKE: D1 limits LIKE patterns to 50 bytes
 * and LIKE would need `%` and `_` escaped. SQLite's lower() folds ASCII only, so both sides use it.
 */
export function contains(columns: (AnySQLiteColumn | SQL)[], term: string): SQL {
  const parts = columns.map((column) => sql`instr(lower(${column}), lower(${term})) > 0`);
  return sql`(${sql.join(parts, sql` OR `)})`;
}

/** An optional positive integer query parameter (`?group_id=`); empty counts as absent. */
export const idQuery = z.preprocess(
  blankAsAbsent,
  z.coerce
    .number({ error: 'must be a positive integer' })
    .int('must be a positive integer')
    .min(1, 'must be a positive integer')
    .max(Number.MAX_SAFE_INTEGER, 'must be a positive integer')
    .optional(),
);

// ---------------------------------------------------------------------------------------------
// Field schemas

export const emailField = z.string().trim().toLowerCase().max(254, 'is longer than 254 characters').pipe(z.email('is not an email address'));

/** A person's display name; null or "" clears it. */
export const personNameField = z
  .string()
  .trim()
  .max(200, 'is longer than 200 characters')
  .nullable()
  .transform((name) => (name ? name : null));

export const groupNameField = z.string().trim().min(1, 'must not be empty').max(100, 'is longer than 100 characters');

export const roleField = z.enum(['admin', 'member'], 'must be "admin" or "member"');

export const idField = z.number('must be a number').int('must be an integer').positive('must be a positive integer').max(Number.MAX_SAFE_INTEGER);

export const domainNameField = z.string('must be a string').transform((value, ctx) => {
  const result = normaliseDomain(value);
  if ('error' in result) {
    ctx.addIssue({ code: 'custom', message: result.error });
    return z.NEVER;
  }
  return result.name;
});

/** SQLite's ISO timestamps, as the schema's defaults write them: no milliseconds. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
