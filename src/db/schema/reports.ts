/**
 * D1 schema. `npm run db:generate` turns changes here into SQL in migrations/ (drizzle-kit), which
 * `wrangler d1 migrations apply` applies. Times are ISO 8601 UTC text; days are `YYYY-MM-DD`.
 */
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

const now = sql`(strftime('%Y-%m-%dT%H:%M:%SZ','now'))`;

/** Every message or upload that reached us, kept raw in R2 under `r2Key`; nothing is dropped silently. */
export const inboundMessages = sqliteTable(
  'inbound_messages',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    receivedAt: text('received_at').notNull().default(now),
    updatedAt: text('updated_at').notNull().default(now),
    /** `email` (Email Routing) or `upload` (POST /api/reports). */
    source: text('source', { enum: ['email', 'upload'] }).notNull(),
    mailFrom: text('mail_from'),
    rcptTo: text('rcpt_to'),
    filename: text('filename'),
    contentType: text('content_type'),
    sha256: text('sha256').notNull(),
    r2Key: text('r2_key').notNull(),
    size: integer('size').notNull(),
    status: text('status', { enum: ['received', 'parsed', 'duplicate', 'rejected', 'failed'] })
      .notNull()
      .default('received'),
    /** Why it is rejected, failed or a duplicate: shown to operators as is. */
    reason: text('reason'),
    /** Machine-readable reason code (`not-a-report`, `decompression-bomb`, ...). */
    reasonCode: text('reason_code'),
    duplicateOf: integer('duplicate_of'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    /** Wall time spent processing it, summed over every invocation (a long report takes several). */
    processingMs: integer('processing_ms').notNull().default(0),
    /** JSON: what processing found (report ids, counts, warnings). */
    summary: text('summary'),
  },
  (t) => [index('inbound_sha256').on(t.sha256), index('inbound_status').on(t.status, t.id)],
);

export const aggregateReports = sqliteTable(
  'aggregate_reports',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    inboundId: integer('inbound_id').notNull(),
    /** Dedupe key part: the reporter's org_name, lower-case (or its email domain when org_name is empty). */
    reporter: text('reporter').notNull(),
    reportId: text('report_id').notNull(),
    domain: text('domain').notNull(),
    orgName: text('org_name').notNull(),
    orgEmail: text('org_email'),
    extraContactInfo: text('extra_contact_info'),
    generator: text('generator'),
    schema: text('schema').notNull(),
    version: text('version'),
    beginAt: text('begin_at').notNull(),
    endAt: text('end_at').notNull(),
    /** The day the report counts towards in roll-ups: the UTC day its range starts. */
    day: text('day').notNull(),
    p: text('p'),
    sp: text('sp'),
    np: text('np'),
    adkim: text('adkim'),
    aspf: text('aspf'),
    pct: integer('pct'),
    fo: text('fo'),
    testing: text('testing'),
    discoveryMethod: text('discovery_method'),
    /** sha256 of the report's decompressed XML, known once the whole report has been read. */
    contentSha256: text('content_sha256'),
    /** `ingesting` until the last record batch and the roll-ups land together; then `complete`. */
    status: text('status', { enum: ['ingesting', 'complete'] }).notNull().default('ingesting'),
    /** Checkpoint: records stored so far, in document order; a resumed ingest skips this many. */
    recordsIngested: integer('records_ingested').notNull().default(0),
    recordCount: integer('record_count'),
    messageCount: integer('message_count'),
    warnings: text('warnings'),
    errors: text('errors'),
    createdAt: text('created_at').notNull().default(now),
  },
  (t) => [
    uniqueIndex('aggregate_reports_dedupe').on(t.reporter, t.reportId, t.domain),
    index('aggregate_reports_domain_day').on(t.domain, t.day),
    index('aggregate_reports_inbound').on(t.inboundId),
  ],
);

/** One row per `<record>`; keyed by report and position so a resumed batch re-inserts nothing. */
export const aggregateRecords = sqliteTable(
  'aggregate_records',
  {
    reportId: integer('report_id').notNull(),
    ordinal: integer('ordinal').notNull(),
    sourceIp: text('source_ip').notNull(),
    count: integer('count').notNull(),
    disposition: text('disposition'),
    dkim: text('dkim'),
    spf: text('spf'),
    headerFrom: text('header_from'),
    envelopeFrom: text('envelope_from'),
    envelopeTo: text('envelope_to'),
  },
  (t) => [primaryKey({ columns: [t.reportId, t.ordinal] }), index('aggregate_records_source_ip').on(t.sourceIp)],
);

export const recordDkimResults = sqliteTable(
  'record_dkim_results',
  {
    reportId: integer('report_id').notNull(),
    ordinal: integer('ordinal').notNull(),
    idx: integer('idx').notNull(),
    domain: text('domain').notNull(),
    selector: text('selector'),
    result: text('result').notNull(),
    humanResult: text('human_result'),
  },
  // The monitor looks up the selectors seen for a domain (src/monitor/run-check.ts).
  (t) => [primaryKey({ columns: [t.reportId, t.ordinal, t.idx] }), index('record_dkim_results_domain').on(t.domain, t.selector)],
);

export const recordSpfResults = sqliteTable(
  'record_spf_results',
  {
    reportId: integer('report_id').notNull(),
    ordinal: integer('ordinal').notNull(),
    idx: integer('idx').notNull(),
    domain: text('domain').notNull(),
    scope: text('scope'),
    result: text('result').notNull(),
    humanResult: text('human_result'),
  },
  (t) => [primaryKey({ columns: [t.reportId, t.ordinal, t.idx] })],
);

export const recordPolicyOverrides = sqliteTable(
  'record_policy_overrides',
  {
    reportId: integer('report_id').notNull(),
    ordinal: integer('ordinal').notNull(),
    idx: integer('idx').notNull(),
    type: text('type').notNull(),
    comment: text('comment'),
  },
  (t) => [primaryKey({ columns: [t.reportId, t.ordinal, t.idx] })],
);

/**
 * Per-domain daily roll-up, written in the same D1 transaction that marks a report complete, so
 * statistics never scan raw records and a report is counted exactly once.
 */
export const aggregateDaily = sqliteTable(
  'aggregate_daily',
  {
    domain: text('domain').notNull(),
    headerFrom: text('header_from').notNull(),
    day: text('day').notNull(),
    reports: integer('reports').notNull().default(0),
    messages: integer('messages').notNull().default(0),
    /** DMARC pass: aligned DKIM or aligned SPF passed. */
    dmarcPass: integer('dmarc_pass').notNull().default(0),
    dkimPass: integer('dkim_pass').notNull().default(0),
    spfPass: integer('spf_pass').notNull().default(0),
    bothPass: integer('both_pass').notNull().default(0),
    dispositionNone: integer('disposition_none').notNull().default(0),
    dispositionQuarantine: integer('disposition_quarantine').notNull().default(0),
    dispositionReject: integer('disposition_reject').notNull().default(0),
    /** Messages whose disposition the receiver overrode (forwarded, sampled_out, ...). */
    overridden: integer('overridden').notNull().default(0),
    /** Messages failing DMARC that the receiver did not reject: what p=reject would block on top. */
    failNotRejected: integer('fail_not_rejected').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.domain, t.day, t.headerFrom] })],
);

/** Per-domain, per-source-IP daily roll-up: who sends as each domain, and whether it passes. */
export const aggregateDailySources = sqliteTable(
  'aggregate_daily_sources',
  {
    domain: text('domain').notNull(),
    day: text('day').notNull(),
    sourceIp: text('source_ip').notNull(),
    messages: integer('messages').notNull().default(0),
    dmarcPass: integer('dmarc_pass').notNull().default(0),
    dkimPass: integer('dkim_pass').notNull().default(0),
    spfPass: integer('spf_pass').notNull().default(0),
    dispositionQuarantine: integer('disposition_quarantine').notNull().default(0),
    dispositionReject: integer('disposition_reject').notNull().default(0),
    /** Messages failing DMARC that the receiver did not reject (as on aggregate_daily). */
    failNotRejected: integer('fail_not_rejected').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.domain, t.day, t.sourceIp] })],
);

export const tlsReports = sqliteTable(
  'tls_reports',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    inboundId: integer('inbound_id').notNull(),
    reporter: text('reporter').notNull(),
    reportId: text('report_id').notNull(),
    orgName: text('org_name').notNull(),
    orgEmail: text('org_email'),
    beginAt: text('begin_at').notNull(),
    endAt: text('end_at').notNull(),
    contentSha256: text('content_sha256').notNull(),
    warnings: text('warnings'),
    createdAt: text('created_at').notNull().default(now),
  },
  (t) => [uniqueIndex('tls_reports_dedupe').on(t.reporter, t.reportId)],
);

export const tlsReportPolicies = sqliteTable(
  'tls_report_policies',
  {
    tlsReportId: integer('tls_report_id').notNull(),
    idx: integer('idx').notNull(),
    policyType: text('policy_type').notNull(),
    policyDomain: text('policy_domain').notNull(),
    /** JSON arrays, as reported. */
    policyString: text('policy_string').notNull(),
    mxHost: text('mx_host').notNull(),
    successfulSessions: integer('successful_sessions').notNull(),
    failedSessions: integer('failed_sessions').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tlsReportId, t.idx] }), index('tls_report_policies_domain').on(t.policyDomain)],
);

export const tlsReportFailures = sqliteTable(
  'tls_report_failures',
  {
    tlsReportId: integer('tls_report_id').notNull(),
    policyIdx: integer('policy_idx').notNull(),
    idx: integer('idx').notNull(),
    resultType: text('result_type').notNull(),
    sendingMtaIp: text('sending_mta_ip'),
    receivingMxHostname: text('receiving_mx_hostname'),
    receivingMxHelo: text('receiving_mx_helo'),
    receivingIp: text('receiving_ip'),
    failedSessionCount: integer('failed_session_count').notNull(),
    additionalInformation: text('additional_information'),
    failureReasonCode: text('failure_reason_code'),
  },
  (t) => [primaryKey({ columns: [t.tlsReportId, t.policyIdx, t.idx] })],
);

/**
 * Failure (forensic) reports are counted per domain and day; their content is never stored (GDPR).
 * `failure_report_receipts` holds only the message hash so a replay or re-delivery counts once.
 */
export const failureDaily = sqliteTable(
  'failure_daily',
  {
    domain: text('domain').notNull(),
    day: text('day').notNull(),
    reports: integer('reports').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.domain, t.day] })],
);

export const failureReportReceipts = sqliteTable('failure_report_receipts', {
  /** sha256 of the inbound message plus the part index, so one message with two reports counts twice. */
  key: text('key').primaryKey(),
  domain: text('domain').notNull(),
  day: text('day').notNull(),
});
