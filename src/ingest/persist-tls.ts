import { and, eq, sql } from 'drizzle-orm';
import { database } from '../db/client';
import { runBatch } from '../db/d1-batch';
import { tlsReports } from '../db/schema/index';
import { sha256Hex } from '../lib/digest';
import { domainKey } from '../lib/domain-name';
import type { SmtpTlsReport } from '../reports/model';
import { jsonSlices } from './json-rows';

export type TlsOutcome =
  | { status: 'stored'; id: number; report_id: string; policies: number }
  | { status: 'duplicate'; id: number; report_id: string };

const j = (n: number) => sql.raw(`json_extract(value, '$[${n}]')`);

/**
 * Stores an SMTP TLS report (RFC 8460) with its policies and failure details in one D1 transaction.
 * Children are keyed by position and inserted with OR IGNORE, so a re-run adds nothing; a re-run of
 * the delivery that stored it says `stored` again, any other delivery `duplicate`.
 */
export async function storeTlsReport(d1: D1Database, report: SmtpTlsReport, json: string, inboundId: number): Promise<TlsOutcome> {
  const db = database(d1);
  const reporter = report.org_name.trim().toLowerCase();
  const key = and(eq(tlsReports.reporter, reporter), eq(tlsReports.reportId, report.report_id));
  const policyCount = report.policies.length;
  const existing = await db.select({ id: tlsReports.id, inboundId: tlsReports.inboundId }).from(tlsReports).where(key).get();
  if (existing) {
    return existing.inboundId === inboundId
      ? { status: 'stored', id: existing.id, report_id: report.report_id, policies: policyCount }
      : { status: 'duplicate', id: existing.id, report_id: report.report_id };
  }

  const reportIdOf = sql`(SELECT id FROM tls_reports WHERE reporter = ${reporter} AND report_id = ${report.report_id})`;
  const policies = report.policies.map((p, i) => [
    i, p.policy_type, domainKey(p.policy_domain), JSON.stringify(p.policy_string), JSON.stringify(p.mx_host),
    p.total_successful_session_count, p.total_failure_session_count,
  ]);
  const failures = report.policies.flatMap((p, i) =>
    p.failure_details.map((f, k) => [
      i, k, f.result_type, f.sending_mta_ip, f.receiving_mx_hostname, f.receiving_mx_helo, f.receiving_ip,
      f.failed_session_count, f.additional_information, f.failure_reason_code,
    ]),
  );
  const insertReport = db
    .insert(tlsReports)
    .values({
      inboundId,
      reporter,
      reportId: report.report_id,
      orgName: report.org_name,
      orgEmail: report.org_email,
      beginAt: report.begin,
      endAt: report.end,
      contentSha256: await sha256Hex(new TextEncoder().encode(json)),
      warnings: report.warnings.length ? JSON.stringify(report.warnings) : null,
    })
    .onConflictDoNothing();
  const statements = [];
  for (const slice of jsonSlices(policies)) {
    statements.push(sql`INSERT OR IGNORE INTO tls_report_policies
      (tls_report_id, idx, policy_type, policy_domain, policy_string, mx_host, successful_sessions, failed_sessions)
      SELECT ${reportIdOf}, ${j(0)}, ${j(1)}, ${j(2)}, ${j(3)}, ${j(4)}, ${j(5)}, ${j(6)} FROM json_each(${slice.json})`);
  }
  for (const slice of jsonSlices(failures)) {
    statements.push(sql`INSERT OR IGNORE INTO tls_report_failures
      (tls_report_id, policy_idx, idx, result_type, sending_mta_ip, receiving_mx_hostname, receiving_mx_helo,
       receiving_ip, failed_session_count, additional_information, failure_reason_code)
      SELECT ${reportIdOf}, ${j(0)}, ${j(1)}, ${j(2)}, ${j(3)}, ${j(4)}, ${j(5)}, ${j(6)}, ${j(7)}, ${j(8)}, ${j(9)}
      FROM json_each(${slice.json})`);
  }
  await runBatch(d1, [insertReport, ...statements]);
  const stored = await db.select({ id: tlsReports.id, inboundId: tlsReports.inboundId }).from(tlsReports).where(key).get();
  if (!stored) throw new Error('TLS report row missing after insert');
  if (stored.inboundId !== inboundId) return { status: 'duplicate', id: stored.id, report_id: report.report_id };
  return { status: 'stored', id: stored.id, report_id: report.report_id, policies: policyCount };
}
