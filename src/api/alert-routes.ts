import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { ALERT_KINDS, ALERT_SEVERITIES, ALERT_STATES } from '../alerts/kinds';
import { canSeeDomain, visibleDomain } from '../auth/domain-access';
import type { Principal } from '../auth/principal';
import { database } from '../db/client';
import { domainKey } from '../lib/domain-name';
import { sql, type SQL } from 'drizzle-orm';
import { ApiRouter, pathId } from './openapi/api-router';
import { json, pageOf, problems } from './openapi/responses';
import { access } from './openapi/security';
import { blankAsAbsent, pageFrom, pageOf as pageRows, pageQuery } from './pagination';
import { problem } from './problem';

/**
 * Alerts (docs/alerts.md): list, one, acknowledge. Only alerts of domains the caller may see (the
 * domain rule of src/auth/domain-access.ts); any other is 404, as for all domain data. Acknowledging
 * is open to members (the read scope), like "check now": it is about their own domains and changes
 * nothing but the alert's state.
 */

const alertSchema = z
  .object({
    id: z.int(),
    domain: z.string(),
    kind: z.enum(ALERT_KINDS),
    subject: z.string().meta({ description: "What within the domain: DNS area, finding id, source IP, certificate SHA-256, ip:port; '' for the domain as a whole." }),
    state: z.enum(ALERT_STATES),
    severity: z.enum(ALERT_SEVERITIES),
    title: z.string(),
    message: z.string().meta({ description: 'What happened and what to do, for people.' }),
    detail: z.looseObject({}).meta({ description: 'The facts behind the alert (kind-specific: before/after, counts, rates, dates).' }),
    opened_at: z.string(),
    last_seen_at: z.string().meta({ description: 'The last evaluation that saw the cause.' }),
    acknowledged_at: z.string().nullable(),
    acknowledged_by: z.string().nullable(),
    resolved_at: z.string().nullable(),
  })
  .meta({ id: 'Alert' });

const deliverySchema = z.object({
  group_id: z.int(),
  group: z.string().nullable(),
  channel: z.enum(['webhook', 'email']),
  event: z.enum(['opened', 'resolved']),
  state: z.enum(['pending', 'sent', 'failed', 'skipped']),
  attempts: z.int(),
  last_error: z.string().nullable(),
  next_attempt_at: z.string().nullable(),
  sent_at: z.string().nullable(),
});

const alertWithDeliveries = alertSchema.extend({
  deliveries: z.array(deliverySchema).meta({ description: "To the caller's groups (every group for administrators): each message about the alert, its attempts and last error." }),
});

const optionalEnum = <T extends readonly [string, ...string[]]>(values: T, description: string) => z.preprocess(blankAsAbsent, z.enum(values).optional()).meta({ description });

const listQuery = pageQuery.extend({
  domain: z.preprocess(blankAsAbsent, z.string().max(253).optional()).meta({ description: 'Only this domain (not its sub-domains).' }),
  state: optionalEnum(ALERT_STATES, 'Only alerts in this state.'),
  kind: optionalEnum(ALERT_KINDS, 'Only alerts of this kind.'),
});

const tags = ['alerts'];
const idParams = z.object({ id: pathId });

const listRoute = createRoute({
  method: 'get',
  path: '/alerts',
  summary: 'Alerts of the domains the caller may see, newest first',
  tags,
  ...access('read'),
  request: { query: listQuery },
  responses: { 200: json(pageOf(alertSchema), 'One page of alerts.'), ...problems(400, 401, 403, 404) },
});

const oneRoute = createRoute({
  method: 'get',
  path: '/alerts/{id{[0-9]+}}',
  summary: 'One alert, with its deliveries',
  tags,
  ...access('read'),
  request: { params: idParams },
  responses: { 200: json(alertWithDeliveries, 'The alert.'), ...problems(401, 403, 404) },
});

const acknowledgeRoute = createRoute({
  method: 'post',
  path: '/alerts/{id{[0-9]+}}/acknowledge',
  summary: 'Acknowledge an alert: someone is on it',
  description: 'An open alert becomes acknowledged (no further notifications; it still resolves by itself when its cause goes). Acknowledging an acknowledged alert changes nothing; a resolved one is a 409.',
  tags,
  ...access('read'),
  request: { params: idParams },
  responses: { 200: json(alertSchema, 'The alert, acknowledged.'), ...problems(401, 403, 404, 409) },
});

interface AlertRow {
  id: number;
  domain: string;
  kind: (typeof ALERT_KINDS)[number];
  subject: string;
  state: (typeof ALERT_STATES)[number];
  severity: (typeof ALERT_SEVERITIES)[number];
  title: string;
  detail: string;
  opened_at: string;
  last_seen_at: string;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  resolved_at: string | null;
}

const COLUMNS = sql.raw('a.id, a.domain, a.kind, a.subject, a.state, a.severity, a.title, a.detail, a.opened_at, a.last_seen_at, a.acknowledged_at, a.acknowledged_by, a.resolved_at');

function present(row: AlertRow) {
  const { message, ...detail } = JSON.parse(row.detail) as Record<string, unknown>;
  return { ...row, message: typeof message === 'string' ? message : row.title, detail };
}

async function visibleAlert(d1: D1Database, principal: Principal, id: number): Promise<AlertRow | undefined> {
  const condition = visibleDomain(principal, sql`a.domain`) ?? sql`1`;
  return database(d1).get<AlertRow | undefined>(sql`SELECT ${COLUMNS} FROM alerts a WHERE a.id = ${id} AND ${condition}`);
}

export const alertRoutes = new ApiRouter()
  .declare(listRoute, async (c) => {
    const query = c.req.valid('query');
    const principal = c.get('principal');
    const where: SQL[] = [];
    const visible = visibleDomain(principal, sql`a.domain`);
    if (visible) where.push(visible);
    if (query.domain) {
      const domain = domainKey(query.domain);
      if (!(await canSeeDomain(c.env.DB, principal, domain))) return problem(c, 404, 'Not Found', `No domain ${query.domain}.`);
      where.push(sql`a.domain = ${domain}`);
    }
    if (query.state) where.push(sql`a.state = ${query.state}`);
    if (query.kind) where.push(sql`a.kind = ${query.kind}`);
    const page = pageFrom(query);
    if (page.after !== null) where.push(sql`a.id < ${page.after}`);
    const condition = where.length ? sql.join(where, sql` AND `) : sql`1`;
    const rows = await database(c.env.DB).all<AlertRow>(sql`SELECT ${COLUMNS} FROM alerts a WHERE ${condition} ORDER BY a.id DESC LIMIT ${page.limit + 1}`);
    const { items, next_cursor } = pageRows(rows, page.limit, (r) => r.id);
    return c.json({ items: items.map(present), next_cursor });
  })
  .declare(oneRoute, async (c) => {
    const id = Number(c.req.param('id'));
    if (!Number.isSafeInteger(id)) return problem(c, 404, 'Not Found', `No alert ${c.req.param('id')}.`);
    const principal = c.get('principal');
    const row = await visibleAlert(c.env.DB, principal, id);
    if (!row) return problem(c, 404, 'Not Found', `No alert ${id}.`);
    // Other groups sharing the domain: their channels are theirs to know.
    const ownGroups = principal.allDomains ? sql`1` : sql`d.group_id IN (SELECT group_id FROM group_members WHERE user_id = ${principal.userId ?? -1})`;
    const deliveries = await database(c.env.DB).all<z.infer<typeof deliverySchema>>(sql`SELECT d.group_id, g.name AS "group", d.channel, d.event, d.state, d.attempts, d.last_error, d.next_attempt_at, d.sent_at
      FROM alert_deliveries d LEFT JOIN groups g ON g.id = d.group_id WHERE d.alert_id = ${id} AND ${ownGroups} ORDER BY d.id`);
    return c.json({ ...present(row), deliveries });
  })
  .declare(acknowledgeRoute, async (c) => {
    const id = Number(c.req.param('id'));
    if (!Number.isSafeInteger(id)) return problem(c, 404, 'Not Found', `No alert ${c.req.param('id')}.`);
    const principal = c.get('principal');
    const row = await visibleAlert(c.env.DB, principal, id);
    if (!row) return problem(c, 404, 'Not Found', `No alert ${id}.`);
    if (row.state === 'resolved') return problem(c, 409, 'Conflict', `Alert ${id} resolved at ${row.resolved_at}: there is nothing to acknowledge.`);
    if (row.state === 'open') {
      await c.env.DB.prepare(`UPDATE alerts SET state = 'acknowledged', acknowledged_at = strftime('%Y-%m-%dT%H:%M:%SZ','now'), acknowledged_by = ?2 WHERE id = ?1 AND state = 'open'`)
        .bind(id, principal.actor)
        .run();
    }
    const updated = (await visibleAlert(c.env.DB, principal, id))!;
    return c.json(present(updated));
  });
