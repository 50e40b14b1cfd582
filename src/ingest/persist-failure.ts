import { sql } from 'drizzle-orm';
import { runBatch } from '../db/d1-batch';
import type { FailureReportFacts } from '../reports/model';

export type FailureOutcome = { status: 'counted' | 'duplicate'; domain: string; day: string } | { status: 'uncountable'; reason: string };

/**
 * Counts one failure report against its domain and day; its content is never stored. The receipt
 * (a hash, the domain and the day) and the count change in one transaction, so a replay counts once.
 */
export async function countFailureReport(
  d1: D1Database,
  facts: FailureReportFacts,
  receiptKey: string,
  fallbackDay: string,
): Promise<FailureOutcome> {
  if (!facts.domain) return { status: 'uncountable', reason: 'failure report names no domain' };
  const domain = facts.domain.toLowerCase();
  const day = facts.day ?? fallbackDay;
  const [counted] = await runBatch(d1, [
    sql`INSERT INTO failure_daily (domain, day, reports)
      SELECT ${domain}, ${day}, 1 WHERE NOT EXISTS (SELECT 1 FROM failure_report_receipts WHERE key = ${receiptKey})
      ON CONFLICT (domain, day) DO UPDATE SET reports = reports + 1`,
    sql`INSERT OR IGNORE INTO failure_report_receipts (key, domain, day) VALUES (${receiptKey}, ${domain}, ${day})`,
  ]);
  return { status: (counted?.meta.changes ?? 0) > 0 ? 'counted' : 'duplicate', domain, day };
}
