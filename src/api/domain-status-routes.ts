import { createRoute } from '@hono/zod-openapi';
import { and, desc, eq, lt, type SQL } from 'drizzle-orm';
import type { MiddlewareHandler } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../auth/authenticate';
import { canSeeDomain } from '../auth/domain-access';
import { database } from '../db/client';
import { domainCheckChanges, domainCheckResults, domainCheckState, domains } from '../db/schema/index';
import { domainKey } from '../lib/domain-name';
import { monitorOf } from '../monitor/monitor-queue';
import { latestCheck } from '../monitor/store-check';
import { mxTlsSection } from '../monitor/tls-store';
import { ApiRouter } from './openapi/api-router';
import { domainCheckSchema, mxTlsSchema } from './openapi/check-schemas';
import { json, problems } from './openapi/responses';
import { access } from './openapi/security';
import { pageFrom, pageOf, pageQuery } from './pagination';
import { problem } from './problem';

/**
 * The domain owner's view of a domain's DNS checks (the seed's /api/domainstatus): the latest complete
 * result, its history of changes, and a re-check on demand. Only domains the principal may see, and
 * only monitored ones (added through the admin API); anything else is 404.
 */
/** 404 unless the domain is monitored and the principal may see it. */
export const visibleMonitoredDomain: MiddlewareHandler<AppEnv> = async (c, next) => {
  const domain = domainKey(c.req.param('domain') ?? '');
  if (!(await monitored(c.env.DB, domain)) || !(await canSeeDomain(c.env.DB, c.get('principal'), domain))) {
    return problem(c, 404, 'Not Found', `No monitored domain ${domain}.`);
  }
  await next();
};

const monitorSchema = z.object({ last_attempt_at: z.string().nullable(), last_error: z.string().nullable(), next_check_at: z.string().nullable() });

const params = z.object({ domain: z.string().meta({ description: 'A monitored domain the caller may see.' }) });
const monitoredDomain = { tags: ['domain status'], ...access('read', visibleMonitoredDomain) };

const statusRoute = createRoute({
  method: 'get',
  path: '/domainstatus/{domain}',
  summary: "A domain's latest complete DNS check and its mail servers' TLS",
  ...monitoredDomain,
  request: { params },
  responses: {
    200: json(
      z.union([
        domainCheckSchema.extend({ pending: z.literal(false), monitor: monitorSchema, mx_tls: mxTlsSchema }),
        z.object({ domain: z.string(), pending: z.literal(true), monitor: monitorSchema, mx_tls: mxTlsSchema }).meta({ description: 'Not checked yet.' }),
      ]),
      'The check, or `pending: true` before the first one.',
    ),
    ...problems(401, 403, 404),
  },
});

const historyRoute = createRoute({
  method: 'get',
  path: '/domainstatus/{domain}/history',
  summary: "A domain's changes between checks, newest first, and its recent checks",
  ...monitoredDomain,
  request: { params, query: pageQuery },
  responses: {
    200: json(
      z.object({
        domain: z.string(),
        changes: z.array(
          z.object({
            id: z.int(),
            at: z.string(),
            result_id: z.int(),
            area: z.string(),
            kind: z.string(),
            finding_id: z.string().nullable(),
            detail: z.unknown().meta({ description: 'What changed (JSON), or null.' }),
          }),
        ),
        next_cursor: z.string().nullable(),
        recent_checks: z.array(z.object({ id: z.int(), checked_at: z.string(), max_severity: z.string() })).meta({ description: 'The last 30.' }),
      }),
      'A page of changes.',
    ),
    ...problems(400, 401, 403, 404),
  },
});

const outcomeSchema = z.object({
  domain: z.string(),
  throttled: z.boolean().optional(),
  stored: z.boolean(),
  reason: z.string().nullable(),
  changes: z.array(z.looseObject({ area: z.string(), kind: z.string(), finding_id: z.string().nullable() })),
  next_check_at: z.string(),
});

const recheckRoute = createRoute({
  method: 'post',
  path: '/domainstatus/{domain}/recheck',
  summary: 'Check a domain now (at most once a minute)',
  ...monitoredDomain,
  request: { params },
  responses: {
    200: json(z.object({ outcome: outcomeSchema, result: domainCheckSchema.nullable() }), 'Checked and stored.'),
    503: json(z.object({ outcome: outcomeSchema, result: domainCheckSchema.nullable() }), 'The check could not complete (a DNS failure); `result` is the latest stored one.'),
    ...problems(401, 403, 404, 429),
  },
});

export const domainStatusRoutes = new ApiRouter()
  .declare(statusRoute, async (c) => {
    const domain = domainKey(c.req.param('domain'));
    const [latest, state] = await Promise.all([
      latestCheck(c.env.DB, domain),
      database(c.env.DB).select().from(domainCheckState).where(eq(domainCheckState.domain, domain)).get(),
    ]);
    const monitor = {
      last_attempt_at: state?.lastAttemptAt ?? null,
      last_error: state?.lastError ?? null,
      next_check_at: state?.nextCheckAt ?? null,
    };
    const mxTls = await mxTlsSection(c.env.DB, domain, latest?.check ?? null);
    if (!latest) return c.json({ domain, pending: true, monitor, mx_tls: mxTls });
    return c.json({ ...latest.check, pending: false, monitor, mx_tls: mxTls });
  })
  .declare(historyRoute, async (c) => {
    const page = pageFrom(c.req.valid('query'));
    const domain = domainKey(c.req.param('domain'));
    const db = database(c.env.DB);
    const where: (SQL | undefined)[] = [eq(domainCheckChanges.domain, domain), page.after !== null ? lt(domainCheckChanges.id, page.after) : undefined];
    const rows = await db.select().from(domainCheckChanges).where(and(...where)).orderBy(desc(domainCheckChanges.id)).limit(page.limit + 1);
    const shown = pageOf(rows, page.limit, (r) => r.id);
    const checks = await db
      .select({ id: domainCheckResults.id, checked_at: domainCheckResults.checkedAt, max_severity: domainCheckResults.maxSeverity })
      .from(domainCheckResults)
      .where(eq(domainCheckResults.domain, domain))
      .orderBy(desc(domainCheckResults.id))
      .limit(30);
    return c.json({
      domain,
      changes: shown.items.map((r) => ({
        id: r.id,
        at: r.at,
        result_id: r.resultId,
        area: r.area,
        kind: r.kind,
        finding_id: r.findingId,
        detail: r.detail ? (JSON.parse(r.detail) as unknown) : null,
      })),
      next_cursor: shown.next_cursor,
      recent_checks: checks,
    });
  })
  .declare(recheckRoute, async (c) => {
    const domain = domainKey(c.req.param('domain'));
    const outcome = await monitorOf(c.env, domain).recheck(domain);
    if (outcome.throttled) return problem(c, 429, 'Too Many Requests', `${domain} was checked less than a minute ago.`, {}, { 'Retry-After': '60' });
    const latest = await latestCheck(c.env.DB, domain);
    return c.json({ outcome, result: latest?.check ?? null }, outcome.stored ? 200 : 503);
  });

async function monitored(d1: D1Database, domain: string): Promise<boolean> {
  return (await database(d1).select({ id: domains.id }).from(domains).where(eq(domains.name, domain)).get()) !== undefined;
}
