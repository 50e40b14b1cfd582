/**
 * Audit rows for admin changes, built as statements that run in the same D1 batch (one transaction)
 * as the change itself: either both land or neither does.
 *
 * Snapshots are taken by SQL inside that transaction, so `before` is the row as the change found it
 * and `after` the row as it left it, whatever happened between the handler's own reads and the batch.
 * A snapshot is a scalar subquery that yields NULL when its row does not exist; the audit statements
 * are guarded so that nothing is logged for a change that did not happen.
 */
import { sql, type SQL } from 'drizzle-orm';

/** An integer parameter: D1 binds JS numbers as REAL, which json_object() would write as `5.0`. */
export function int(value: number): SQL {
  return sql`CAST(${value} AS INTEGER)`;
}

/** Something runBatch accepts. */
export type Statement = SQL | { toSQL(): { sql: string; params: unknown[] } };

export interface AuditSubject {
  actor: string;
  /** `user.create`, `group.add_member`, `token.revoke`, ... */
  action: string;
  entity: 'user' | 'group' | 'domain' | 'token' | 'inbound';
  /** The entity's id, or SQL yielding it (for a row the batch is about to create). */
  entityId: number | SQL | null;
}

function insertAudit(subject: AuditSubject, before: SQL, after: SQL, condition: SQL): SQL {
  // D1 binds every JS number as REAL (CAST(5 AS TEXT) would be '5.0'): ids go in as text.
  const id = subject.entityId;
  const entityId = id === null ? sql`NULL` : typeof id === 'number' ? sql`${String(id)}` : sql`CAST(${id} AS TEXT)`;
  return sql`INSERT INTO audit_log (actor, action, entity, entity_id, before, after)
    SELECT ${subject.actor}, ${subject.action}, ${subject.entity}, ${entityId}, ${before}, ${after}
    WHERE ${condition}`;
}

/** Statements for a row created by `changes`: the audit row carries the new row as `after`. */
export function auditedCreate(subject: AuditSubject, changes: Statement[], snapshot: SQL): Statement[] {
  return [...changes, insertAudit(subject, sql`NULL`, snapshot, sql`${snapshot} IS NOT NULL`)];
}

/**
 * Statements for an update: the audit row is written first with `before`, then the change, then
 * `after` is filled in. The last statement of `changes` must be the UPDATE of the audited row: its
 * change count guards the `after` statement (no row, no audit).
 */
export function auditedUpdate(subject: AuditSubject, changes: Statement[], snapshot: SQL, when?: SQL): Statement[] {
  return [
    // `when` must hold exactly when the UPDATE will change the row (default: the row exists).
    insertAudit(subject, snapshot, sql`NULL`, when ?? sql`${snapshot} IS NOT NULL`),
    ...changes,
    // One D1 batch is one serialised transaction: the newest audit row is the one written above.
    sql`UPDATE audit_log SET after = ${snapshot} WHERE id = (SELECT max(id) FROM audit_log) AND changes() > 0`,
  ];
}

/** Statements for a deletion: the audit row keeps the row (and its links) as `before`. */
export function auditedDelete(subject: AuditSubject, changes: Statement[], snapshot: SQL): Statement[] {
  return [insertAudit(subject, snapshot, sql`NULL`, sql`${snapshot} IS NOT NULL`), ...changes];
}

/**
 * An audit row for a link (membership, group ↔ domain) written right after the INSERT or DELETE
 * that made it, only when that statement changed a row: idempotent calls log nothing.
 */
export function auditIfChanged(subject: AuditSubject, before: SQL | null, after: SQL | null): SQL {
  return insertAudit(subject, before ?? sql`NULL`, after ?? sql`NULL`, sql`changes() > 0`);
}

/** An audit row whose snapshots the handler already has (a bulk operation's summary). */
export function auditValues(subject: AuditSubject, before: unknown, after: unknown): SQL {
  const json = (value: unknown) => (value === null || value === undefined ? sql`NULL` : sql`${JSON.stringify(value)}`);
  return insertAudit(subject, json(before), json(after), sql`1`);
}

// ---------------------------------------------------------------------------------------------
// Snapshots: the same shapes the API returns, plus the ids of linked rows. Never a token or its hash.

/** `(SELECT json_group_array(x) ...)` with a stable order; json() keeps it JSON inside json_object. */
function idArray(select: SQL): SQL {
  return sql`json((SELECT json_group_array(v) FROM (${select})))`;
}

/** `activeTokens`: also the ids of the user's unrevoked tokens (what deleting the user revokes). */
export function userSnapshot(where: SQL, options: { activeTokens?: boolean } = {}): SQL {
  const tokens = options.activeTokens
    ? sql`, 'active_token_ids', ${idArray(sql`SELECT t.id AS v FROM api_tokens t WHERE t.user_id = u.id AND t.revoked_at IS NULL ORDER BY t.id`)}`
    : sql``;
  return sql`(SELECT json_object('id', u.id, 'email', u.email, 'name', u.name, 'role', u.role, 'created_at', u.created_at,
      'group_ids', ${idArray(sql`SELECT gm.group_id AS v FROM group_members gm WHERE gm.user_id = u.id ORDER BY gm.group_id`)}${tokens})
    FROM users u WHERE ${where})`;
}

export function groupSnapshot(where: SQL): SQL {
  return sql`(SELECT json_object('id', g.id, 'name', g.name, 'created_at', g.created_at,
      'member_ids', ${idArray(sql`SELECT gm.user_id AS v FROM group_members gm WHERE gm.group_id = g.id ORDER BY gm.user_id`)},
      'domain_ids', ${idArray(sql`SELECT gd.domain_id AS v FROM group_domains gd WHERE gd.group_id = g.id ORDER BY gd.domain_id`)})
    FROM groups g WHERE ${where})`;
}

export function domainSnapshot(where: SQL): SQL {
  return sql`(SELECT json_object('id', d.id, 'name', d.name, 'created_at', d.created_at,
      'group_ids', ${idArray(sql`SELECT gd.group_id AS v FROM group_domains gd WHERE gd.domain_id = d.id ORDER BY gd.group_id`)})
    FROM domains d WHERE ${where})`;
}

/** Everything about a token except the token and its hash. Scopes are stored comma-separated. */
export function tokenSnapshot(where: SQL): SQL {
  return sql`(SELECT json_object('id', t.id, 'name', t.name, 'prefix', t.prefix,
      'scopes', json('["' || replace(t.scopes, ',', '","') || '"]'),
      'user_id', t.user_id, 'created_by', t.created_by, 'created_at', t.created_at,
      'expires_at', t.expires_at, 'revoked_at', t.revoked_at)
    FROM api_tokens t WHERE ${where})`;
}

/** D1 reports constraint violations as errors whose message carries SQLite's text. */
export function isUniqueViolation(error: unknown): boolean {
  const text = error instanceof Error ? `${error.message} ${String((error as { cause?: unknown }).cause ?? '')}` : String(error);
  return /UNIQUE constraint failed/i.test(text);
}
