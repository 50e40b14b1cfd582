/**
 * The one normalised model for every report schema and version (RFC 7489 appendix C, RFC 9990
 * `dmarc-2.0`, the older drafts, RFC 8460 SMTP TLS, RFC 6591 failure reports). Field names are
 * snake_case because they are the public JSON of `mailcheck-edge parse`: users script against them.
 */

export type ReportKind = 'aggregate' | 'smtp_tls' | 'failure';

export type Disposition = 'none' | 'quarantine' | 'reject' | 'pass';
export type Alignment = 'r' | 's';
export type DmarcVerdict = 'pass' | 'fail';

export interface PolicyPublished {
  domain: string;
  p: Disposition | null;
  sp: Disposition | null;
  np: Disposition | null;
  adkim: Alignment | null;
  aspf: Alignment | null;
  pct: number | null;
  fo: string | null;
  /** RFC 9990 `t=` as reported: `y` while the policy is in testing mode. */
  testing: 'y' | 'n' | null;
  discovery_method: 'psl' | 'treewalk' | null;
}

export interface DkimAuthResult {
  domain: string;
  selector: string | null;
  result: string;
  human_result: string | null;
}

export interface SpfAuthResult {
  domain: string;
  scope: 'mfrom' | 'helo' | null;
  result: string;
  human_result: string | null;
}

export interface PolicyOverrideReason {
  type: string;
  comment: string | null;
}

export interface AggregateRecord {
  source_ip: string;
  count: number;
  disposition: Disposition | null;
  dkim: DmarcVerdict | null;
  spf: DmarcVerdict | null;
  reasons: PolicyOverrideReason[];
  header_from: string | null;
  envelope_from: string | null;
  envelope_to: string | null;
  dkim_results: DkimAuthResult[];
  spf_results: SpfAuthResult[];
}

/** Everything of an aggregate report that precedes its first `<record>`. */
export interface AggregateReportHeader {
  kind: 'aggregate';
  /** `rfc7489`, `dmarc-2.0` (RFC 9990 namespace) or `draft` (pre-RFC shapes still sent). */
  schema: 'rfc7489' | 'dmarc-2.0' | 'draft';
  version: string | null;
  report_id: string;
  org_name: string;
  org_email: string | null;
  extra_contact_info: string | null;
  generator: string | null;
  /** ISO 8601 UTC. */
  begin: string;
  end: string;
  policy: PolicyPublished;
  /** `<error>` elements the reporter included in report_metadata. */
  errors: string[];
}

export interface AggregateReport extends AggregateReportHeader {
  records: AggregateRecord[];
  warnings: string[];
}

export interface TlsFailureDetail {
  result_type: string;
  sending_mta_ip: string | null;
  receiving_mx_hostname: string | null;
  receiving_mx_helo: string | null;
  receiving_ip: string | null;
  failed_session_count: number;
  additional_information: string | null;
  failure_reason_code: string | null;
}

export interface TlsPolicyResult {
  policy_type: 'tlsa' | 'sts' | 'no-policy-found' | string;
  policy_string: string[];
  policy_domain: string;
  mx_host: string[];
  total_successful_session_count: number;
  total_failure_session_count: number;
  failure_details: TlsFailureDetail[];
}

export interface SmtpTlsReport {
  kind: 'smtp_tls';
  report_id: string;
  org_name: string;
  org_email: string | null;
  begin: string;
  end: string;
  policies: TlsPolicyResult[];
  warnings: string[];
}

/**
 * A failure (forensic) report is counted, never stored: only these facts survive (the original
 * MailCheck dropped the content for GDPR, and so do we).
 */
export interface FailureReportFacts {
  kind: 'failure';
  /** The domain the failing message claimed (RFC 5322 From), lower-case. */
  domain: string | null;
  /** UTC day the failure happened, YYYY-MM-DD (Arrival-Date, else the report's Date). */
  day: string | null;
  source_ip: string | null;
  reporter: string | null;
  feedback_type: string | null;
  warnings: string[];
}

/** Why something that arrived is not a report; kept as the inbound row's reason. */
export class ReportRejection extends Error {
  constructor(
    /** Stable machine-readable code, e.g. `not-a-report`, `decompression-bomb`, `xml-entities`. */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ReportRejection';
  }
}
