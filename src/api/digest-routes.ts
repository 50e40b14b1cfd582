import { createRoute } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { Context } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../auth/authenticate';
import type { Principal } from '../auth/principal';
import { database } from '../db/client';
import { buildDigest } from '../digests/build';
import { parseWeek, previousWeek, type Week } from '../digests/week';
import { rejectPathSchema } from './reject-path-routes';
import { ApiRouter, pathId } from './openapi/api-router';
import { json, problems } from './openapi/responses';
import { access } from './openapi/security';
import { problem } from './problem';

/**
 * Weekly digests (docs/digests.md): the list of groups whose digests the caller may read, and one
 * group's digest for an ISO week, built live from the same code the Monday email uses. A group's
 * digest is for its members and for administrators; anyone else gets 404, as for domains.
 */

const weekQuery = z.object({
  week: z
    .string()
    .refine((text) => parseWeek(text) !== null, 'must be an ISO week, YYYY-Www')
    .optional()
    .meta({ description: 'ISO week, e.g. 2026-W47; default the last complete week (UTC).' }),
});

const volume = { messages: z.int(), dmarc_pass: z.int(), pass_rate: z.number().nullable() };
const categories = rejectPathSchema.shape.categories;

const digestSchema = z.object({
  group: z.object({ id: z.int(), name: z.string() }),
  week: z.string(),
  from: z.string().meta({ description: 'Monday of the week.' }),
  to: z.string().meta({ description: 'Sunday of the week.' }),
  totals: z.object({ domains: z.int(), ...volume, previous: z.object(volume) }),
  domains: z.array(
    z.object({
      domain: z.string(),
      ...volume,
      previous: z.object(volume),
      new_sources: z.int(),
      findings: z.object({ error: z.int(), warning: z.int(), info: z.int() }),
      reject_path: z.object({
        p: z.string().nullable(),
        pct: z.int(),
        next_step: z.object({ p: z.string(), pct: z.int() }).nullable(),
        ready: z.boolean(),
        record: z.string(),
        unmet: z.array(z.string()),
        would_be_rejected: z.int(),
        categories,
      }),
    }),
  ),
  more_domains: z.int(),
  new_sources: z.object({
    total: z.int(),
    items: z.array(
      z.object({
        domain: z.string(),
        source_ip: z.string(),
        first_seen: z.string(),
        messages: z.int(),
        dmarc_pass: z.int(),
        ptr: z.string().nullable(),
        service: z.object({ name: z.string(), type: z.string().nullable() }).nullable(),
      }),
    ),
  }),
  findings: z.object({
    error: z.int(),
    warning: z.int(),
    info: z.int(),
    items: z.array(z.object({ domain: z.string(), area: z.string(), id: z.string(), severity: z.string(), title: z.string() })),
  }),
  changes: z.object({
    total: z.int(),
    items: z.array(
      z.object({
        domain: z.string(),
        at: z.string(),
        area: z.string(),
        kind: z.string(),
        finding_id: z.string().nullable(),
        before: z.string().nullable(),
        after: z.string().nullable(),
        title: z.string().nullable(),
      }),
    ),
  }),
});

const listRoute = createRoute({
  method: 'get',
  path: '/digests',
  summary: "The groups whose weekly digest the caller may read, with the week's email delivery",
  tags: ['digests'],
  ...access('read'),
  request: { query: weekQuery },
  responses: {
    200: json(
      z.object({
        week: z.string(),
        items: z.array(
          z.object({
            group_id: z.int(),
            name: z.string(),
            delivery: z.object({ status: z.enum(['sending', 'sent', 'failed', 'skipped']), sent_at: z.string().nullable() }).nullable(),
          }),
        ),
      }),
      'Groups by name.',
    ),
    ...problems(400, 401, 403),
  },
});

const digestRoute = createRoute({
  method: 'get',
  path: '/digests/{group_id{[0-9]+}}',
  summary: "A group's weekly digest: volume, pass rate, new sources, open findings, changes, the path to reject per domain",
  tags: ['digests'],
  ...access('read'),
  request: { params: z.object({ group_id: pathId }), query: weekQuery },
  responses: { 200: json(digestSchema, 'The digest, as the Monday email has it.'), ...problems(400, 401, 403, 404) },
});

/** Admins and service tokens read every group's digest; people those of their groups. */
function groupFilter(principal: Principal) {
  if (principal.allDomains) return sql`1`;
  if (principal.userId === null) return sql`0`;
  return sql`g.id IN (SELECT group_id FROM group_members WHERE user_id = ${principal.userId})`;
}

function weekFrom(c: Context<AppEnv>, label: string | undefined): Week {
  return label ? parseWeek(label)! : previousWeek(new Date());
}

export const digestRoutes = new ApiRouter()
  .declare(listRoute, async (c) => {
    const week = weekFrom(c, c.req.valid('query').week);
    const rows = await database(c.env.DB).all<{ group_id: number; name: string; status: string | null; sent_at: string | null }>(sql`
      SELECT g.id AS group_id, g.name, dd.status, dd.sent_at FROM groups g
      LEFT JOIN digest_deliveries dd ON dd.group_id = g.id AND dd.week = ${week.week}
      WHERE ${groupFilter(c.get('principal'))} ORDER BY g.name`);
    return c.json({
      week: week.week,
      items: rows.map((r) => ({
        group_id: r.group_id,
        name: r.name,
        delivery: r.status ? { status: r.status as 'sending' | 'sent' | 'failed' | 'skipped', sent_at: r.sent_at } : null,
      })),
    });
  })
  .declare(digestRoute, async (c) => {
    const groupId = Number(c.req.param('group_id'));
    const visible = await database(c.env.DB).get<{ id: number }>(sql`SELECT g.id FROM groups g WHERE g.id = ${groupId} AND ${groupFilter(c.get('principal'))}`);
    if (!visible) return problem(c, 404, 'Not Found', `No group ${groupId}.`);
    const digest = await buildDigest(c.env.DB, groupId, weekFrom(c, c.req.valid('query').week));
    if (!digest) return problem(c, 404, 'Not Found', `No group ${groupId}.`);
    return c.json(digest);
  });
