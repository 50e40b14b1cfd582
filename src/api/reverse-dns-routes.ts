import { createRoute } from '@hono/zod-openapi';
import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { database } from '../db/client';
import { auditLog, senderMap } from '../db/schema/index';
import { normaliseDomain } from '../dns/dmarc/domain';
import { canonicalIp } from '../senders/identify';
import { lookupAndCache, lookupMany, mapEntry } from '../senders/store';
import { ApiRouter } from './openapi/api-router';
import { json, jsonRequest, problems } from './openapi/responses';
import { access } from './openapi/security';
import { problem } from './problem';

/** Addresses per batch request. */
export const MAX_BATCH_IPS = 100;
/** Uncached addresses of a batch looked up during the request; the rest answer `pending`. */
export const MAX_BATCH_LOOKUPS = 25;

/** An address in any form; valid ones arrive canonical (IPv4-mapped IPv6 folded to IPv4). */
const ipParam = z.string().transform((value, ctx) => {
  const ip = canonicalIp(value);
  if (ip === null) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not an IPv4 or IPv6 address` });
    return z.NEVER;
  }
  return ip;
});

/** A base domain, normalised (lower case, no trailing dot). */
const baseDomainParam = z.string().transform((value, ctx) => {
  const domain = normaliseDomain(value);
  if (!domain.ok) {
    ctx.addIssue({ code: 'custom', message: domain.reason });
    return z.NEVER;
  }
  return domain.domain;
});

const serviceSchema = z.object({ name: z.string(), type: z.string() }).nullable();

const lookupSchema = z
  .object({
    ip: z.string().meta({ description: 'Canonical form of the address.' }),
    ptr: z.array(z.string()).meta({ description: 'Every PTR name published for the address.' }),
    confirmed: z.array(z.string()).meta({ description: 'The PTR names whose A/AAAA records contain the address.' }),
    base_domain: z.string().nullable(),
    service: serviceSchema,
    known_unknown: z.boolean(),
    status: z.enum(['ok', 'no-ptr', 'not-confirmed', 'dns-failure']),
    error: z.string().optional(),
    checked_at: z.string(),
    expires_at: z.string(),
    cached: z.boolean(),
  })
  .meta({ id: 'SenderLookup' });

const senders = { tags: ['senders'] };

const lookupOne = createRoute({
  method: 'get',
  path: '/reverse-dns/{ip}',
  summary: 'Reverse DNS with forward confirmation, and the sending service, of one address',
  ...senders,
  ...access('read'),
  request: { params: z.object({ ip: ipParam }) },
  responses: { 200: json(lookupSchema, 'The cached result, or a lookup made now (and cached).'), ...problems(400, 401, 403) },
});

const lookupBatch = createRoute({
  method: 'post',
  path: '/reverse-dns',
  summary: `Reverse DNS of up to ${MAX_BATCH_IPS} addresses`,
  ...senders,
  ...access('read'),
  request: {
    body: jsonRequest(
      z.object({
        // Entries are checked by the handler, which lists every one that is not an address (`invalid`).
        ips: z
          .array(z.unknown().meta({ type: 'string', description: 'An IPv4 or IPv6 address.' }), 'must be a non-empty array of addresses')
          .min(1, 'must be a non-empty array of addresses')
          .max(MAX_BATCH_IPS, `is limited to ${MAX_BATCH_IPS} addresses per request`),
      }),
    ),
  },
  responses: {
    200: json(
      z.object({ items: z.array(z.union([lookupSchema, z.object({ ip: z.string(), status: z.literal('pending') })])) }),
      `In request order; beyond ${MAX_BATCH_LOOKUPS} uncached addresses, the rest answer \`pending\` and are looked up in the background.`,
    ),
    ...problems(400, 401, 403),
  },
});

const mapParams = z.object({ base_domain: baseDomainParam });

const getMapEntry = createRoute({
  method: 'get',
  path: '/reverse-dns/map/{base_domain}',
  summary: 'The sending service a base domain maps to',
  ...senders,
  ...access('read'),
  request: { params: mapParams },
  responses: {
    200: json(
      z.object({
        base_domain: z.string(),
        service: serviceSchema,
        source: z.string().nullable().meta({ description: '`map` (shipped), `admin` (overridden), or null when not in the map.' }),
        known_unknown: z.boolean(),
      }),
      'The entry.',
    ),
    ...problems(400, 401, 403),
  },
});

const putMapEntry = createRoute({
  method: 'put',
  path: '/reverse-dns/map/{base_domain}',
  summary: "Set a base domain's service (replaces the shipped entry; audited)",
  ...senders,
  ...access('admin'),
  request: {
    params: mapParams,
    body: jsonRequest(
      z.object({
        name: z.string('must be a string').trim().min(1, 'must not be empty').max(200, 'is longer than 200 characters'),
        type: z.string('must be a string').trim().min(1, 'must not be empty').max(100, 'is longer than 100 characters'),
      }),
    ),
  },
  responses: {
    200: json(z.object({ base_domain: z.string(), name: z.string(), type: z.string(), source: z.literal('admin') }), 'Replaced.'),
    201: json(z.object({ base_domain: z.string(), name: z.string(), type: z.string(), source: z.literal('admin') }), 'Added.'),
    ...problems(400, 401, 403),
  },
});

/**
 * Reverse DNS and sender identification of source IPs (docs/senders.md). An address is not domain
 * data, so any principal with `read` may ask; results are cached in D1 (reverse_dns).
 */
export const reverseDnsRoutes = new ApiRouter()
  .declare(lookupOne, async (c) => c.json(await lookupAndCache(c.env, c.req.valid('param').ip)))
  .declare(lookupBatch, async (c) => {
    const { ips } = c.req.valid('json');
    const invalid = ips.filter((ip) => typeof ip !== 'string' || canonicalIp(ip) === null);
    if (invalid.length > 0) return problem(c, 400, 'Bad Request', 'Some entries are not IP addresses.', { invalid: invalid.slice(0, 10) });
    const items = await lookupMany(c.env, (ips as string[]).map((ip) => canonicalIp(ip)!), { maxLookups: MAX_BATCH_LOOKUPS });
    return c.json({ items });
  })
  .declare(getMapEntry, async (c) => {
    const baseDomain = c.req.valid('param').base_domain;
    const row = await database(c.env.DB).select().from(senderMap).where(eq(senderMap.baseDomain, baseDomain)).get();
    const entry = await mapEntry(c.env.DB, baseDomain);
    return c.json({ base_domain: baseDomain, service: entry.service, source: row?.source ?? null, known_unknown: entry.knownUnknown });
  })
  /** An administrator's entry: replaces the shipped one (source `admin`), audited. */
  .declare(putMapEntry, async (c) => {
    const baseDomain = c.req.valid('param').base_domain;
    const { name, type } = c.req.valid('json');
    const db = database(c.env.DB);
    const before = await db.select().from(senderMap).where(eq(senderMap.baseDomain, baseDomain)).get();
    const after = { base_domain: baseDomain, name, type, source: 'admin' as const };
    await db.batch([
      db
        .insert(senderMap)
        .values({ baseDomain: baseDomain, name, type, source: 'admin' })
        .onConflictDoUpdate({ target: senderMap.baseDomain, set: { name, type, source: 'admin', updatedAt: sql`(strftime('%Y-%m-%dT%H:%M:%SZ','now'))` } }),
      db.insert(auditLog).values({
        actor: c.get('principal').actor,
        action: before ? 'sender_map.update' : 'sender_map.create',
        entity: 'sender_map',
        entityId: baseDomain,
        before: before ? JSON.stringify({ base_domain: before.baseDomain, name: before.name, type: before.type, source: before.source }) : null,
        after: JSON.stringify(after),
      }),
    ]);
    return c.json(after, before ? 200 : 201);
  });
