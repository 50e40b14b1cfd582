/**
 * Mail-server TLS: what the probe agents measured per (ip, port), graded; the certificates they saw,
 * each kept once by its SHA-256; and which domains' MX hosts point at which IPs, as the last check of
 * each domain saw it (the results are per IP and shared by every domain that uses the server).
 *
 * D1 limits: a probe result is one row whose JSON is a bound parameter (the 100 KB limit is on SQL
 * text, not on parameters; rows may be up to 2 MB, and the agent's result with the DER taken out is a
 * few KB). Mappings are inserted from one JSON parameter with json_each, so no statement binds more
 * than a handful of parameters whatever the number of MX hosts.
 */
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

const now = sql`(strftime('%Y-%m-%dT%H:%M:%SZ','now'))`;

/**
 * Every distinct result per server: a new row only when the graded facts changed, otherwise the
 * latest row's scanned_at is refreshed in place (history grows with changes, not with scans).
 */
export const tlsProbeResults = sqliteTable(
  'tls_probe_results',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ip: text('ip').notNull(),
    port: integer('port').notNull(),
    /** The MX host the agent named (the first, when several share the IP). */
    host: text('host').notNull(),
    /** First and last time this same result was measured. */
    firstScannedAt: text('first_scanned_at').notNull().default(now),
    scannedAt: text('scanned_at').notNull().default(now),
    status: text('status').notNull(),
    /** good | sufficient | phase_out | insufficient | inconclusive | no_tls (src/tls/grading). */
    grade: text('grade').notNull(),
    /** The graded facts' digest: equal digests mean nothing changed. */
    digest: text('digest').notNull(),
    /** ProbeTargetResult as JSON, each certificate's DER replaced by its sha256 (kept in tls_certificates). */
    result: text('result').notNull(),
    /** The grading findings (Finding[]) as JSON; certificate findings depend on the domain and are made when read. */
    findings: text('findings').notNull(),
    agent: text('agent').notNull(),
  },
  (t) => [index('tls_probe_results_server').on(t.ip, t.port, t.id)],
);

/** One row per server: its latest result. */
export const tlsServers = sqliteTable(
  'tls_servers',
  {
    ip: text('ip').notNull(),
    port: integer('port').notNull(),
    latestResultId: integer('latest_result_id').notNull(),
    scannedAt: text('scanned_at').notNull(),
    grade: text('grade').notNull(),
  },
  (t) => [primaryKey({ columns: [t.ip, t.port] })],
);

/** The chain of each server's latest result, leaf first (position 0): which servers present a certificate. */
export const tlsServerCertificates = sqliteTable(
  'tls_server_certificates',
  {
    ip: text('ip').notNull(),
    port: integer('port').notNull(),
    position: integer('position').notNull(),
    sha256: text('sha256').notNull(),
  },
  (t) => [primaryKey({ columns: [t.ip, t.port, t.position] }), index('tls_server_certificates_sha256').on(t.sha256)],
);

/** Certificates by SHA-256 of the DER: the DER (base64) is kept once however many servers send it. */
export const tlsCertificates = sqliteTable('tls_certificates', {
  sha256: text('sha256').primaryKey(),
  der: text('der').notNull(),
  subject: text('subject').notNull(),
  issuer: text('issuer').notNull(),
  notBefore: text('not_before').notNull(),
  notAfter: text('not_after').notNull(),
  firstSeenAt: text('first_seen_at').notNull().default(now),
  lastSeenAt: text('last_seen_at').notNull().default(now),
});

/** MX host ↔ IP ↔ domain as the domain's last complete check saw it; replaced per domain each check. */
export const mxAddresses = sqliteTable(
  'mx_addresses',
  {
    domain: text('domain').notNull(),
    host: text('host').notNull(),
    ip: text('ip').notNull(),
    preference: integer('preference').notNull(),
    seenAt: text('seen_at').notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.domain, t.host, t.ip] }), index('mx_addresses_ip').on(t.ip)],
);
