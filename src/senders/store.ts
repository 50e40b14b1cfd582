/**
 * Sender identification in the Worker: the D1 sender map, the reverse_dns cache, and lookups over the
 * configured DoH resolver. Cached results keep the DNS facts; the service is read from the map on every
 * read, so an admin's override applies at once to every cached address.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { AnySQLiteColumn } from 'drizzle-orm/sqlite-core';
import { database } from '../db/client';
import { reverseDns, senderKnownUnknown, senderMap } from '../db/schema/index';
import { createDohResolver, DEFAULT_DOH_URL } from '../dns/doh-client';
import type { Resolver } from '../dns/resolver';
import { canonicalIp, DEFAULT_REVERSE_SUFFIXES, identifySender, type MapEntry, type ReverseSuffixes, type SenderIdentity } from './identify';

/** How long a result is trusted: a week for answers, a day after DNS trouble. */
export const CACHE_SECONDS = 7 * 86_400;
export const FAILURE_CACHE_SECONDS = 86_400;
/** DoH queries for one address: the PTR and the forward lookups of MAX_PTR_NAMES names, plus slack. */
export const QUERIES_PER_LOOKUP = 8;
/**
 * Values per `IN (SELECT value FROM json_each(?))`: one bound parameter whatever the count (D1 allows
 * 100 parameters a statement), and few statements even for a 200,000-record report's sources (D1
 * allows 1,000 queries an invocation). 5,000 addresses are ~200 KB of JSON, under D1's 2 MB.
 */
const IN_CHUNK = 5_000;

function inList(column: AnySQLiteColumn, values: string[]): SQL {
  return sql`${column} IN (SELECT value FROM json_each(${JSON.stringify(values)}))`;
}

export interface SenderLookup extends SenderIdentity {
  checked_at: string;
  expires_at: string;
  /** Served from the reverse_dns cache rather than looked up in this call. */
  cached: boolean;
}

export interface LookupOptions {
  /** A resolver of the caller's choosing; default the DoH resolver of DOH_URL. */
  resolver?: Resolver;
  /** Reverse zones; default REVERSE_DNS_SUFFIXES (`in-addr.arpa,ip6.arpa`) or the standard ones. */
  suffixes?: ReverseSuffixes;
  now?: Date;
}

type SenderEnv = Pick<Env, 'DB' | 'DOH_URL'> & { REVERSE_DNS_SUFFIXES?: string };

/** `REVERSE_DNS_SUFFIXES = "in-addr.arpa,ip6.arpa"` (optional var): where PTR names are asked. */
export function configuredSuffixes(env: SenderEnv): ReverseSuffixes {
  const [v4, v6] = (env.REVERSE_DNS_SUFFIXES ?? '').split(',').map((s) => s.trim());
  return { v4: v4 || DEFAULT_REVERSE_SUFFIXES.v4, v6: v6 || DEFAULT_REVERSE_SUFFIXES.v6 };
}

export function senderResolver(env: SenderEnv, maxQueries = QUERIES_PER_LOOKUP): Resolver {
  return createDohResolver({ url: env.DOH_URL?.trim() || DEFAULT_DOH_URL, maxQueries });
}

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Map entries of many base domains at once (admin rows win: they replace the shipped row in place). */
export async function mapEntries(db: D1Database, baseDomains: string[]): Promise<Map<string, MapEntry>> {
  const unique = [...new Set(baseDomains)];
  const out = new Map<string, MapEntry>(unique.map((d) => [d, { service: null, knownUnknown: false }]));
  const orm = database(db);
  for (let i = 0; i < unique.length; i += IN_CHUNK) {
    const chunk = unique.slice(i, i + IN_CHUNK);
    const [services, unknown] = await Promise.all([
      orm.select({ baseDomain: senderMap.baseDomain, name: senderMap.name, type: senderMap.type }).from(senderMap).where(inList(senderMap.baseDomain, chunk)),
      orm.select({ baseDomain: senderKnownUnknown.baseDomain }).from(senderKnownUnknown).where(inList(senderKnownUnknown.baseDomain, chunk)),
    ]);
    for (const s of services) out.get(s.baseDomain)!.service = { name: s.name, type: s.type };
    for (const u of unknown) out.get(u.baseDomain)!.knownUnknown = true;
  }
  return out;
}

export async function mapEntry(db: D1Database, baseDomain: string): Promise<MapEntry> {
  return (await mapEntries(db, [baseDomain])).get(baseDomain)!;
}

/** Fresh cached results for the given canonical addresses. */
export async function cachedLookups(db: D1Database, ips: string[], now = new Date()): Promise<Map<string, SenderLookup>> {
  const found = new Map<string, SenderLookup>();
  const orm = database(db);
  for (let i = 0; i < ips.length; i += IN_CHUNK) {
    const rows = await orm
      .select()
      .from(reverseDns)
      .where(sql`${inList(reverseDns.ip, ips.slice(i, i + IN_CHUNK))} AND ${reverseDns.expiresAt} > ${iso(now)}`);
    for (const row of rows) {
      found.set(row.ip, { ...(JSON.parse(row.result) as SenderIdentity), checked_at: row.checkedAt, expires_at: row.expiresAt, cached: true });
    }
  }
  // The service and known_unknown flag come from the map as it is now.
  const entries = await mapEntries(db, [...found.values()].flatMap((r) => (r.base_domain ? [r.base_domain] : [])));
  for (const r of found.values()) {
    const entry = r.base_domain ? entries.get(r.base_domain) : undefined;
    r.service = entry?.service ?? null;
    r.known_unknown = entry?.knownUnknown ?? false;
  }
  return found;
}

/** Looks an address up now (no cache read) and stores the result. `ip` must be canonical. */
async function lookupNow(env: SenderEnv, ip: string, resolver: Resolver, options: LookupOptions): Promise<SenderLookup> {
  const identity = await identifySender(resolver, ip, { map: (d) => mapEntry(env.DB, d), suffixes: options.suffixes ?? configuredSuffixes(env) });
  const now = options.now ?? new Date();
  const ttl = identity.status === 'dns-failure' ? FAILURE_CACHE_SECONDS : CACHE_SECONDS;
  const checkedAt = iso(now);
  const expiresAt = iso(new Date(now.getTime() + ttl * 1000));
  const row = { ip: identity.ip, result: JSON.stringify(identity), status: identity.status, checkedAt, expiresAt };
  await database(env.DB)
    .insert(reverseDns)
    .values(row)
    .onConflictDoUpdate({ target: reverseDns.ip, set: { result: row.result, status: row.status, checkedAt, expiresAt } });
  return { ...identity, checked_at: checkedAt, expires_at: expiresAt, cached: false };
}

/** The cached result of an address, or a lookup now (stored in the cache). Throws on an invalid address. */
export async function lookupAndCache(env: SenderEnv, ip: string, options: LookupOptions = {}): Promise<SenderLookup> {
  const canonical = canonicalIp(ip);
  if (canonical === null) throw new Error(`not an IP address: ${ip}`);
  const hit = (await cachedLookups(env.DB, [canonical], options.now)).get(canonical);
  if (hit) return hit;
  return lookupNow(env, canonical, options.resolver ?? senderResolver(env), options);
}

export interface BatchOptions extends LookupOptions {
  /** Addresses looked up now when not cached; the rest answer `pending`. Default 25. */
  maxLookups?: number;
  /** Lookups in flight at once. Default 5. */
  concurrency?: number;
}

export type BatchItem = SenderLookup | { ip: string; status: 'pending' };

/**
 * Many addresses (canonical, deduplicated by the caller or not): cached ones from D1, then up to
 * `maxLookups` of the missing ones looked up now; the others answer `pending` (the queue resolves them).
 */
export async function lookupMany(env: SenderEnv, ips: string[], options: BatchOptions = {}): Promise<BatchItem[]> {
  const unique = [...new Set(ips)];
  const cached = await cachedLookups(env.DB, unique, options.now);
  const missing = unique.filter((ip) => !cached.has(ip));
  const now = missing.slice(0, options.maxLookups ?? 25);
  const looked = new Map<string, SenderLookup>();
  const concurrency = options.concurrency ?? 5;
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, now.length) }, async () => {
      while (next < now.length) {
        const ip = now[next++]!;
        looked.set(ip, await lookupNow(env, ip, options.resolver ?? senderResolver(env), options));
      }
    }),
  );
  return unique.map((ip) => cached.get(ip) ?? looked.get(ip) ?? { ip, status: 'pending' as const });
}
