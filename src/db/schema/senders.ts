/**
 * Sender identification: the reverse-DNS base domain → service map (loaded from
 * data/sender-map/ by a migration, overridable by admins), the base domains known to be
 * unattributable, and the per-IP reverse DNS cache (docs/senders.md).
 */
import { sql } from 'drizzle-orm';
import { index, sqliteTable, text } from 'drizzle-orm/sqlite-core';

const now = sql`(strftime('%Y-%m-%dT%H:%M:%SZ','now'))`;

export const senderMap = sqliteTable('sender_map', {
  /** Lower-case base domain of a reverse DNS name, e.g. `mcsv.net`. */
  baseDomain: text('base_domain').primaryKey(),
  name: text('name').notNull(),
  /** `ISP`, `Web Host`, `Email Security`, `Marketing`, `SaaS`, ... */
  type: text('type').notNull(),
  /** `map` (shipped CSV, data/sender-map/) or `admin` (an override; a map reload must keep it). */
  source: text('source', { enum: ['map', 'admin'] }).notNull().default('map'),
  updatedAt: text('updated_at').notNull().default(now),
});

/** Base domains that were looked at and could not be attributed (parsedmarc's known_unknown list). */
export const senderKnownUnknown = sqliteTable('sender_known_unknown', {
  baseDomain: text('base_domain').primaryKey(),
});

export const reverseDns = sqliteTable(
  'reverse_dns',
  {
    /** Canonical text form of the address (ipaddr.js `toString()` after IPv4-mapped folding). */
    ip: text('ip').primaryKey(),
    /** The SenderIdentity as JSON. */
    result: text('result').notNull(),
    /** `ok`, `no-ptr`, `not-confirmed` or `dns-failure`. */
    status: text('status').notNull(),
    checkedAt: text('checked_at').notNull().default(now),
    expiresAt: text('expires_at').notNull(),
  },
  (t) => [index('reverse_dns_expires_at').on(t.expiresAt)],
);
