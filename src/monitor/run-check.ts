import { sql } from 'drizzle-orm';
import { database } from '../db/client';
import { checkDomain } from '../dns/check-domain';
import { createDohResolver, DEFAULT_DOH_URL } from '../dns/doh-client';
import type { DomainCheck } from '../dns/domain-check';

/**
 * DNS queries one check may make. Each DoH query is a subrequest; Workers Paid allows 1,000 per
 * invocation, and a DO alarm checks one domain, so this leaves room for the MTA-STS fetch and the
 * webhook.
 */
export const QUERIES_PER_CHECK = 400;

/** DKIM selectors seen for the domain in aggregate reports: never guessed (no "default"). */
export async function selectorsSeen(d1: D1Database, domain: string): Promise<string[]> {
  const rows = await database(d1).all<{ selector: string }>(sql`SELECT DISTINCT lower(k.selector) AS selector
    FROM record_dkim_results k JOIN aggregate_reports a ON a.id = k.report_id
    WHERE lower(k.domain) = ${domain} AND k.selector IS NOT NULL AND k.selector <> ''
    ORDER BY selector LIMIT 20`);
  return rows.map((r) => r.selector);
}

/** One complete check of a domain from the Worker: the DoH resolver configured by DOH_URL. */
export async function runDomainCheck(env: Env, domain: string): Promise<DomainCheck> {
  const resolver = createDohResolver({ url: env.DOH_URL?.trim() || DEFAULT_DOH_URL, maxQueries: QUERIES_PER_CHECK });
  return checkDomain(resolver, domain, { selectors: await selectorsSeen(env.DB, domain) });
}
