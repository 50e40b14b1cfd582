/**
 * Hosted MTA-STS (docs/mta-sts-hosting.md): per monitored domain, whether the Worker serves its
 * policy at https://mta-sts.<domain>/.well-known/mta-sts.txt and in which mode. The policy itself is
 * generated on each request from the domain's latest check (its MX hosts), so it is never stale.
 */
import { sql } from 'drizzle-orm';
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

const now = sql`(strftime('%Y-%m-%dT%H:%M:%SZ','now'))`;

export const mtaStsHosting = sqliteTable('mta_sts_hosting', {
  /** A monitored domain's name (domains.name). */
  domain: text('domain').primaryKey(),
  enabled: integer('enabled', { mode: 'boolean' }).notNull().default(false),
  mode: text('mode', { enum: ['testing', 'enforce'] }).notNull().default('testing'),
  updatedAt: text('updated_at').notNull().default(now),
  updatedBy: text('updated_by').notNull(),
});
