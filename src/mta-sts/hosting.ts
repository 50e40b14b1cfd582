/**
 * Serving hosted MTA-STS policies: the settings of a domain, its policy from the latest check, and
 * the middleware that answers `https://mta-sts.<domain>/.well-known/mta-sts.txt` by Host header
 * before the UI and API see the request (docs/mta-sts-hosting.md).
 */
import { sql } from 'drizzle-orm';
import type { MiddlewareHandler } from 'hono';
import { database } from '../db/client';
import type { MxFacts } from '../dns/checks/mx';
import { domainKey } from '../lib/domain-name';
import { latestCheck } from '../monitor/store-check';
import { buildPolicy, MAX_AGE, policyId, type HostedMode } from './policy';

export const POLICY_PATH = '/.well-known/mta-sts.txt';

export interface HostingState {
  domain: string;
  monitored: boolean;
  enabled: boolean;
  mode: HostedMode;
  updated_at: string | null;
  updated_by: string | null;
}

export async function hostingState(d1: D1Database, domain: string): Promise<HostingState> {
  const row = await database(d1).get<{ monitored: number; enabled: number | null; mode: HostedMode | null; updated_at: string | null; updated_by: string | null }>(
    sql`SELECT EXISTS (SELECT 1 FROM domains WHERE name = ${domain}) AS monitored, h.enabled, h.mode, h.updated_at, h.updated_by
      FROM (SELECT 1) LEFT JOIN mta_sts_hosting h ON h.domain = ${domain}`,
  );
  return {
    domain,
    monitored: row?.monitored === 1,
    enabled: row?.enabled === 1,
    mode: row?.mode ?? 'testing',
    updated_at: row?.updated_at ?? null,
    updated_by: row?.updated_by ?? null,
  };
}

export interface GeneratedPolicy {
  text: string;
  id: string;
  mode: HostedMode;
  max_age: number;
  mx: string[];
  /** The check the MX hosts come from. */
  checked_at: string;
}

/** The policy from the domain's latest complete check; undefined before a check or without MX hosts. */
export async function generatedPolicy(d1: D1Database, domain: string, mode: HostedMode): Promise<GeneratedPolicy | undefined> {
  const latest = await latestCheck(d1, domain);
  // As checkDomain stores it: each area's facts under `facts` (src/dns/check-domain.ts).
  const mx = (latest?.check.mx.facts as Partial<MxFacts> | undefined)?.hosts?.filter((h) => !h.ipLiteral).map((h) => h.host) ?? [];
  const text = buildPolicy(mx, mode);
  if (!latest || !text) return undefined;
  return { text, id: await policyId(text), mode, max_age: MAX_AGE[mode], mx: [...new Set(mx.map((h) => h.toLowerCase().replace(/\.$/, '')))], checked_at: latest.checkedAt };
}

/** The domain a request's Host names, when it is `mta-sts.<domain>` (port and trailing dot dropped). */
export function hostedDomainOf(host: string | undefined): string | undefined {
  const name = (host ?? '').toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  if (!name.startsWith('mta-sts.')) return undefined;
  const domain = domainKey(name.slice('mta-sts.'.length));
  return domain.includes('.') ? domain : undefined;
}

const notFound = () => new Response('Not found\n', { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' } });

/**
 * Any request whose Host is `mta-sts.<something>` is answered here and never reaches the UI or API
 * (so neither is ever exposed on a customer's name): the policy, as text/plain with status 200 and
 * no redirect (RFC 8461 §3.3), for a monitored domain whose owner turned hosting on and whose latest
 * check has MX hosts; 404 for everything else. It runs before the IP allow-list: senders everywhere
 * must be able to fetch a policy. HTTP caching is short; senders cache by max_age.
 */
export function hostedMtaSts(): MiddlewareHandler<{ Bindings: Env }> {
  return async (c, next) => {
    const domain = hostedDomainOf(c.req.header('Host') ?? new URL(c.req.url).host);
    if (domain === undefined) return next();
    if ((c.req.method !== 'GET' && c.req.method !== 'HEAD') || c.req.path !== POLICY_PATH) return notFound();
    const state = await hostingState(c.env.DB, domain);
    if (!state.monitored || !state.enabled) return notFound();
    const policy = await generatedPolicy(c.env.DB, domain, state.mode);
    if (!policy) return notFound();
    return new Response(c.req.method === 'HEAD' ? null : policy.text, {
      status: 200,
      headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'public, max-age=300' },
    });
  };
}
