/**
 * The objects `mailcheck-edge parse` writes: the parser's model (src/reports/model.ts) plus where
 * each report came from. Built field by field so the public JSON keeps a stable, readable order
 * whatever order the parser happened to create its objects in.
 */
import type {
  AggregateRecord,
  AggregateReportHeader,
  FailureReportFacts,
  PolicyPublished,
  SmtpTlsReport,
} from '../reports/model';

/** Everything of an aggregate report's output object written before its `records`. */
export interface AggregateHead {
  file: string;
  /** The attachment or archive entry the report came from; null for a plain or gzip file. */
  part: string | null;
  kind: 'aggregate';
  schema: AggregateReportHeader['schema'];
  version: string | null;
  report_id: string;
  org_name: string;
  org_email: string | null;
  extra_contact_info: string | null;
  generator: string | null;
  begin: string;
  end: string;
  policy: PolicyPublished;
  errors: string[];
}

export interface ReportError {
  code: string;
  reason: string;
}

export interface AggregateOutput extends AggregateHead {
  records: AggregateRecord[];
  warnings: string[];
  /** Only when the report broke after part of it was already written out (see docs/cli.md). */
  error?: ReportError;
}

export interface SmtpTlsOutput extends Omit<SmtpTlsReport, 'kind'> {
  file: string;
  part: string | null;
  kind: 'smtp_tls';
}

export interface FailureOutput extends Omit<FailureReportFacts, 'kind'> {
  file: string;
  kind: 'failure';
}

export type OutputObject = AggregateOutput | SmtpTlsOutput | FailureOutput;

export function aggregateHead(file: string, part: string | null, h: AggregateReportHeader): AggregateHead {
  return {
    file,
    part,
    kind: 'aggregate',
    schema: h.schema,
    version: h.version,
    report_id: h.report_id,
    org_name: h.org_name,
    org_email: h.org_email,
    extra_contact_info: h.extra_contact_info,
    generator: h.generator,
    begin: h.begin,
    end: h.end,
    policy: policy(h.policy),
    errors: h.errors,
  };
}

function policy(p: PolicyPublished): PolicyPublished {
  return {
    domain: p.domain,
    p: p.p,
    sp: p.sp,
    np: p.np,
    adkim: p.adkim,
    aspf: p.aspf,
    pct: p.pct,
    fo: p.fo,
    testing: p.testing,
    discovery_method: p.discovery_method,
  };
}

export function aggregateRecord(r: AggregateRecord): AggregateRecord {
  return {
    source_ip: r.source_ip,
    count: r.count,
    disposition: r.disposition,
    dkim: r.dkim,
    spf: r.spf,
    reasons: r.reasons,
    header_from: r.header_from,
    envelope_from: r.envelope_from,
    envelope_to: r.envelope_to,
    dkim_results: r.dkim_results,
    spf_results: r.spf_results,
  };
}

export function smtpTlsOutput(file: string, part: string | null, r: SmtpTlsReport): SmtpTlsOutput {
  return {
    file,
    part,
    kind: 'smtp_tls',
    report_id: r.report_id,
    org_name: r.org_name,
    org_email: r.org_email,
    begin: r.begin,
    end: r.end,
    policies: r.policies,
    warnings: r.warnings,
  };
}

export function failureOutput(file: string, f: FailureReportFacts): FailureOutput {
  return {
    file,
    kind: 'failure',
    domain: f.domain,
    day: f.day,
    source_ip: f.source_ip,
    reporter: f.reporter,
    feedback_type: f.feedback_type,
    warnings: f.warnings,
  };
}
