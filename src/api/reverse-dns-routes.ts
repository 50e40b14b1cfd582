import { eq, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { requireScope, type AppEnv } from '../auth/authenticate';
import { database } from '../db/client';
import { auditLog, senderMap } from '../db/schema/index';
import { normaliseDomain } from '../dns/dmarc/domain';
import { canonicalIp } from '../senders/identify';
import { lookupAndCache, lookupMany, mapEntry } from '../senders/store';
import { problem } from './problem';

/** Addresses per batch request. */
export const MAX_BATCH_IPS = 100;
/** Uncached addresses of a batch looked up during the request; the rest answer `pending`. */
export const MAX_BATCH_LOOKUPS = 25;

/**
 * Reverse DNS and sender identification of source IPs (docs/senders.md). An address is not domain
 * data, so any principal with `read` may ask; results are cached in D1 (reverse_dns).
 */
export const reverseDnsRoutes = new Hono<AppEnv>()
  .get('/reverse-dns/:ip', requireScope('read'), async (c) => {
    const ip = canonicalIp(c.req.param('ip'));
    if (ip === null) return problem(c, 400, 'Bad Request', `"${c.req.param('ip')}" is not an IPv4 or IPv6 address.`);
    return c.json(await lookupAndCache(c.env, ip));
  })
  .post('/reverse-dns', requireScope('read'), async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return problem(c, 400, 'Bad Request', 'The body must be JSON: {"ips": ["192.0.2.1", ...]}.');
    }
    const ips = (body as { ips?: unknown } | null)?.ips;
    if (!Array.isArray(ips) || ips.length === 0) return problem(c, 400, 'Bad Request', 'ips must be a non-empty array of addresses.');
    if (ips.length > MAX_BATCH_IPS) return problem(c, 400, 'Bad Request', `At most ${MAX_BATCH_IPS} addresses per request.`);
    const invalid = ips.filter((ip) => typeof ip !== 'string' || canonicalIp(ip) === null);
    if (invalid.length > 0) return problem(c, 400, 'Bad Request', 'Some entries are not IP addresses.', { invalid: invalid.slice(0, 10) });
    const items = await lookupMany(c.env, (ips as string[]).map((ip) => canonicalIp(ip)!), { maxLookups: MAX_BATCH_LOOKUPS });
    return c.json({ items });
  })
  .get('/reverse-dns/map/:base_domain', requireScope('read'), async (c) => {
    const domain = normaliseDomain(c.req.param('base_domain'));
    if (!domain.ok) return problem(c, 400, 'Bad Request', domain.reason);
    const row = await database(c.env.DB).select().from(senderMap).where(eq(senderMap.baseDomain, domain.domain)).get();
    const entry = await mapEntry(c.env.DB, domain.domain);
    return c.json({ base_domain: domain.domain, service: entry.service, source: row?.source ?? null, known_unknown: entry.knownUnknown });
  })
  /** An administrator's entry: replaces the shipped one (source `admin`), audited. */
  .put('/reverse-dns/map/:base_domain', requireScope('admin'), async (c) => {
    const domain = normaliseDomain(c.req.param('base_domain'));
    if (!domain.ok) return problem(c, 400, 'Bad Request', domain.reason);
    const body = (await c.req.json().catch(() => null)) as { name?: unknown; type?: unknown } | null;
    const name = typeof body?.name === 'string' ? body.name.trim() : '';
    const type = typeof body?.type === 'string' ? body.type.trim() : '';
    if (!name || !type || name.length > 200 || type.length > 100) return problem(c, 400, 'Bad Request', 'The body must be {"name": "...", "type": "..."} (non-empty strings).');
    const db = database(c.env.DB);
    const before = await db.select().from(senderMap).where(eq(senderMap.baseDomain, domain.domain)).get();
    const after = { base_domain: domain.domain, name, type, source: 'admin' as const };
    await db.batch([
      db
        .insert(senderMap)
        .values({ baseDomain: domain.domain, name, type, source: 'admin' })
        .onConflictDoUpdate({ target: senderMap.baseDomain, set: { name, type, source: 'admin', updatedAt: sql`(strftime('%Y-%m-%dT%H:%M:%SZ','now'))` } }),
      db.insert(auditLog).values({
        actor: c.get('principal').actor,
        action: before ? 'sender_map.update' : 'sender_map.create',
        entity: 'sender_map',
        entityId: domain.domain,
        before: before ? JSON.stringify({ base_domain: before.baseDomain, name: before.name, type: before.type, source: before.source }) : null,
        after: JSON.stringify(after),
      }),
    ]);
    return c.json(after, before ? 200 : 201);
  });
