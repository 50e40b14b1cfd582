/**
 * Who may see what: users, groups (an organisation), memberships, domains owned by groups, API tokens
 * and the audit log of every administrative change.
 */
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

const now = sql`(strftime('%Y-%m-%dT%H:%M:%SZ','now'))`;

export const users = sqliteTable(
  'users',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** Lower-case; the identity Cloudflare Access asserts. */
    email: text('email').notNull(),
    name: text('name'),
    role: text('role', { enum: ['admin', 'member'] }).notNull().default('member'),
    createdAt: text('created_at').notNull().default(now),
  },
  (t) => [uniqueIndex('users_email').on(t.email)],
);

export const groups = sqliteTable(
  'groups',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    name: text('name').notNull(),
    createdAt: text('created_at').notNull().default(now),
    /** Told when a domain of the group changes (DNS record or findings): a webhook (JSON POST) and an address. */
    notifyWebhook: text('notify_webhook'),
    notifyEmail: text('notify_email'),
  },
  // Unique ignoring case too, so a CSV's group column can never be ambiguous.
  (t) => [uniqueIndex('groups_name').on(t.name), uniqueIndex('groups_name_nocase').on(sql`lower(${t.name})`)],
);

export const groupMembers = sqliteTable(
  'group_members',
  {
    groupId: integer('group_id').notNull(),
    userId: integer('user_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.userId] }), index('group_members_user').on(t.userId)],
);

export const domains = sqliteTable(
  'domains',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** Lower-case, no trailing dot. Its sub-domains belong to the same groups. */
    name: text('name').notNull(),
    createdAt: text('created_at').notNull().default(now),
  },
  (t) => [uniqueIndex('domains_name').on(t.name)],
);

export const groupDomains = sqliteTable(
  'group_domains',
  {
    groupId: integer('group_id').notNull(),
    domainId: integer('domain_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.domainId] }), index('group_domains_domain').on(t.domainId)],
);

export const apiTokens = sqliteTable(
  'api_tokens',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    name: text('name').notNull(),
    /** SHA-256 of the token, hex: the token itself is shown once and never stored. */
    tokenHash: text('token_hash').notNull(),
    /** The first characters of the token, so an operator can tell tokens apart. */
    prefix: text('prefix').notNull(),
    /** Comma-separated: read, ingest, probe, admin (admin includes the others). */
    scopes: text('scopes').notNull(),
    /** The user the token acts for (it sees what they see); null for a service token. */
    userId: integer('user_id'),
    createdBy: text('created_by').notNull(),
    createdAt: text('created_at').notNull().default(now),
    expiresAt: text('expires_at'),
    lastUsedAt: text('last_used_at'),
    revokedAt: text('revoked_at'),
  },
  (t) => [uniqueIndex('api_tokens_hash').on(t.tokenHash)],
);

export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: text('at').notNull().default(now),
    /** `user:<id> <email>`, `dev:<id> <email>`, `token:<id>`, `bootstrap`, `ingest-token` or `auto-enrol <email>`. */
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    entity: text('entity').notNull(),
    entityId: text('entity_id'),
    /** JSON snapshots; null where there was nothing before (create) or after (delete). */
    before: text('before'),
    after: text('after'),
  },
  (t) => [index('audit_log_entity').on(t.entity, t.entityId)],
);

/** Failed authentications per client address and window, for the rate limit. */
export const authFailures = sqliteTable(
  'auth_failures',
  {
    ip: text('ip').notNull(),
    window: text('window').notNull(),
    count: integer('count').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.ip, t.window] })],
);
