import { sql, type SQL } from 'drizzle-orm';

/**
 * Adds one report's records to the daily roll-ups. Guarded by `status = 'ingesting'` and run in the
 * same D1 batch that marks the report complete, so each report is counted exactly once even when a
 * queue message is delivered again. Aggregating one report's records is bounded by that report.
 */
export function aggregateRollupStatements(reportId: number): SQL[] {
  const overridden = sql.raw(`EXISTS (SELECT 1 FROM record_policy_overrides o
      WHERE o.report_id = r.report_id AND o.ordinal = r.ordinal)`);
  // Failing DMARC (neither aligned DKIM nor aligned SPF passed; NULL is not a pass) and not rejected.
  const failNotRejected = sql.raw(`sum(CASE WHEN r.dkim = 'pass' OR r.spf = 'pass' THEN 0
        WHEN r.disposition = 'reject' THEN 0 ELSE r.count END)`);
  return [
    sql`INSERT INTO aggregate_daily
      (domain, header_from, day, reports, messages, dmarc_pass, dkim_pass, spf_pass, both_pass,
       disposition_none, disposition_quarantine, disposition_reject, overridden, fail_not_rejected)
      SELECT a.domain, coalesce(lower(r.header_from), a.domain), a.day, 1, sum(r.count),
        sum(CASE WHEN r.dkim = 'pass' OR r.spf = 'pass' THEN r.count ELSE 0 END),
        sum(CASE WHEN r.dkim = 'pass' THEN r.count ELSE 0 END),
        sum(CASE WHEN r.spf = 'pass' THEN r.count ELSE 0 END),
        sum(CASE WHEN r.dkim = 'pass' AND r.spf = 'pass' THEN r.count ELSE 0 END),
        sum(CASE WHEN r.disposition IS NULL OR r.disposition IN ('none', 'pass') THEN r.count ELSE 0 END),
        sum(CASE WHEN r.disposition = 'quarantine' THEN r.count ELSE 0 END),
        sum(CASE WHEN r.disposition = 'reject' THEN r.count ELSE 0 END),
        sum(CASE WHEN ${overridden} THEN r.count ELSE 0 END),
        ${failNotRejected}
      FROM aggregate_records r JOIN aggregate_reports a ON a.id = r.report_id
      WHERE a.id = ${reportId} AND a.status = 'ingesting'
      GROUP BY 1, 2, 3
      ON CONFLICT (domain, day, header_from) DO UPDATE SET
        reports = reports + excluded.reports,
        messages = messages + excluded.messages,
        dmarc_pass = dmarc_pass + excluded.dmarc_pass,
        dkim_pass = dkim_pass + excluded.dkim_pass,
        spf_pass = spf_pass + excluded.spf_pass,
        both_pass = both_pass + excluded.both_pass,
        disposition_none = disposition_none + excluded.disposition_none,
        disposition_quarantine = disposition_quarantine + excluded.disposition_quarantine,
        disposition_reject = disposition_reject + excluded.disposition_reject,
        overridden = overridden + excluded.overridden,
        fail_not_rejected = fail_not_rejected + excluded.fail_not_rejected`,
    sql`INSERT INTO aggregate_daily_sources
      (domain, day, source_ip, messages, dmarc_pass, dkim_pass, spf_pass, disposition_quarantine, disposition_reject,
       fail_not_rejected)
      SELECT a.domain, a.day, r.source_ip, sum(r.count),
        sum(CASE WHEN r.dkim = 'pass' OR r.spf = 'pass' THEN r.count ELSE 0 END),
        sum(CASE WHEN r.dkim = 'pass' THEN r.count ELSE 0 END),
        sum(CASE WHEN r.spf = 'pass' THEN r.count ELSE 0 END),
        sum(CASE WHEN r.disposition = 'quarantine' THEN r.count ELSE 0 END),
        sum(CASE WHEN r.disposition = 'reject' THEN r.count ELSE 0 END),
        ${failNotRejected}
      FROM aggregate_records r JOIN aggregate_reports a ON a.id = r.report_id
      WHERE a.id = ${reportId} AND a.status = 'ingesting'
      GROUP BY 1, 2, 3
      ON CONFLICT (domain, day, source_ip) DO UPDATE SET
        messages = messages + excluded.messages,
        dmarc_pass = dmarc_pass + excluded.dmarc_pass,
        dkim_pass = dkim_pass + excluded.dkim_pass,
        spf_pass = spf_pass + excluded.spf_pass,
        disposition_quarantine = disposition_quarantine + excluded.disposition_quarantine,
        disposition_reject = disposition_reject + excluded.disposition_reject,
        fail_not_rejected = fail_not_rejected + excluded.fail_not_rejected`,
  ];
}
