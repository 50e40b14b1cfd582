import { sql } from 'drizzle-orm';
import { database } from '../db/client';
import { checkDomain } from '../dns/check-domain';
import { createDohResolver, DEFAULT_DOH_URL } from '../dns/doh-client';
import type { DomainCheck } from '../dns/domain-check';

import { QUERIES_PER_CHECK } from '../dns/query-budget';

/**
 * DKIM selectors seen for the domain in aggregate reports of the last 90 days: never guessed (no
 * "default"). Only selectors that passed count: anyone can mail a report, but only the domain's
 * real keys make DKIM pass at receivers, so forged selectors cannot raise false alarms.
 */
export async function selectorsSeen(d1: D1Database, domain: string): Promise<string[]> {
  const rows = await database(d1).all<{ selector: string }>(sql`SELECT lower(k.selector) AS selector, count(*) AS seen
    FROM record_dkim_results k JOIN aggregate_reports a ON a.id = k.report_id
    WHERE k.domain = ${domain} AND k.result = 'pass' AND k.selector IS NOT NULL AND k.selector <> ''
      AND a.day >= date('now', '-90 days')
    GROUP BY 1 ORDER BY seen DESC, selector LIMIT 20`);
  return rows.map((r) => r.selector);
}

/** One complete check of a domain from the Worker: the DoH resolver configured by DOH_URL. */
export async function runDomainCheck(env: Env, domain: string): Promise<DomainCheck> {
  const resolver = createDohResolver({ url: env.DOH_URL?.trim() || DEFAULT_DOH_URL, maxQueries: QUERIES_PER_CHECK });
  return checkDomain(resolver, domain, { selectors: await selectorsSeen(env.DB, domain) });
}
