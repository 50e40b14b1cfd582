import { desc, eq, sql } from 'drizzle-orm';
import { database } from '../db/client';
import { runBatch } from '../db/d1-batch';
import { domainCheckResults, domainCheckState } from '../db/schema/index';
import { diffChecks, type CheckChange } from '../dns/diff-checks';
import { maxSeverity, type DomainCheck } from '../dns/domain-check';

export type StoredCheck =
  | { stored: true; resultId: number; changes: CheckChange[]; first: boolean }
  /** Incomplete (DNS failures): kept as the last attempt's error; the last good result stays. */
  | { stored: false; reason: string };

function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export async function latestCheck(d1: D1Database, domain: string): Promise<{ id: number; check: DomainCheck; checkedAt: string } | null> {
  const row = await database(d1)
    .select({ id: domainCheckResults.id, result: domainCheckResults.result, checkedAt: domainCheckResults.checkedAt })
    .from(domainCheckState)
    .innerJoin(domainCheckResults, eq(domainCheckResults.id, domainCheckState.latestResultId))
    .where(eq(domainCheckState.domain, domain))
    .get();
  return row ? { id: row.id, check: JSON.parse(row.result) as DomainCheck, checkedAt: row.checkedAt } : null;
}

/**
 * Keeps a check. A complete one becomes the domain's latest result, with the changes since the
 * previous one, in one D1 transaction; an incomplete one (a DNS failure somewhere) only records the
 * failed attempt, so a resolver outage never turns a domain's records into "missing" — unless the
 * caller accepts it (`acceptIncomplete`: the failure has persisted and is itself the news).
 */
export async function storeCheck(d1: D1Database, check: DomainCheck, nextCheckAt: Date, options: { acceptIncomplete?: boolean } = {}): Promise<StoredCheck> {
  const db = database(d1);
  const attemptAt = iso(new Date(check.checked_at));
  if (!check.complete && !options.acceptIncomplete) {
    const reason = check.findings.filter((f) => f.id.endsWith('.dns-failure')).map((f) => `${f.area}: ${f.title}`).join('; ') || 'DNS failure';
    await db
      .insert(domainCheckState)
      .values({ domain: check.domain, lastAttemptAt: attemptAt, lastError: reason, consecutiveFailures: 1, nextCheckAt: iso(nextCheckAt) })
      .onConflictDoUpdate({
        target: domainCheckState.domain,
        set: { lastAttemptAt: attemptAt, lastError: reason, consecutiveFailures: sql`${domainCheckState.consecutiveFailures} + 1`, nextCheckAt: iso(nextCheckAt) },
      });
    return { stored: false, reason };
  }
  const previous = await latestCheck(d1, check.domain);
  const changes = previous ? diffChecks(previous.check, check) : [];
  if (previous && changes.length === 0) {
    // Nothing changed: refresh the latest result in place, so history grows with changes, not with days.
    await runBatch(d1, [
      db.update(domainCheckResults).set({ checkedAt: attemptAt, maxSeverity: maxSeverity(check.findings), result: JSON.stringify(check) }).where(eq(domainCheckResults.id, previous.id)),
      db.update(domainCheckState).set({ lastAttemptAt: attemptAt, lastError: null, consecutiveFailures: 0, nextCheckAt: iso(nextCheckAt) }).where(eq(domainCheckState.domain, check.domain)),
    ]);
    return { stored: true, resultId: previous.id, changes, first: false };
  }
  const newId = sql`(SELECT max(id) FROM domain_check_results WHERE domain = ${check.domain})`;
  await runBatch(d1, [
    db.insert(domainCheckResults).values({ domain: check.domain, checkedAt: attemptAt, maxSeverity: maxSeverity(check.findings), result: JSON.stringify(check) }),
    ...changes.map((c) =>
      sql`INSERT INTO domain_check_changes (domain, at, result_id, area, kind, finding_id, detail)
          VALUES (${check.domain}, ${attemptAt}, ${newId}, ${c.area}, ${c.kind}, ${c.finding_id}, ${JSON.stringify(c.detail)})`,
    ),
    sql`INSERT INTO domain_check_state (domain, latest_result_id, last_attempt_at, last_error, consecutive_failures, next_check_at)
        VALUES (${check.domain}, ${newId}, ${attemptAt}, NULL, 0, ${iso(nextCheckAt)})
        ON CONFLICT (domain) DO UPDATE SET latest_result_id = excluded.latest_result_id, last_attempt_at = excluded.last_attempt_at,
          last_error = NULL, consecutive_failures = 0, next_check_at = excluded.next_check_at`,
  ]);
  const stored = await db.select({ id: domainCheckResults.id }).from(domainCheckResults).where(eq(domainCheckResults.domain, check.domain)).orderBy(desc(domainCheckResults.id)).limit(1).get();
  return { stored: true, resultId: stored?.id ?? 0, changes, first: previous === null };
}

