import { createRoute } from '@hono/zod-openapi';
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { enqueueMonitoring } from '../../monitor/monitor-queue';
import { queueDataDeletion } from '../../retention/purge';
import { z } from 'zod';
import { database, type Database } from '../../db/client';
import { runBatch } from '../../db/d1-batch';
import { domains, groupDomains, groups } from '../../db/schema/index';
import { ApiRouter, pathId } from '../openapi/api-router';
import { json, jsonRequest, noContent, pageOf as pageSchema, problems } from '../openapi/responses';
import { access } from '../openapi/security';
import { pageOf } from '../pagination';
import { problem } from '../problem';
import { auditedCreate, auditedDelete, domainSnapshot, int, isUniqueViolation, type Statement } from './audit-log';
import { MAX_CSV_ROWS, parseDomainCsv, type CsvProblem } from './domain-csv';
import {
  conflict,
  contains,
  domainNameField,
  idField,
  idParam,
  idQuery,
  listFrom,
  listQuery,
  notFound,
  unknownReference,
} from './validation';

const createDomain = z.strictObject({
  name: domainNameField,
  group_ids: z.array(idField, 'must be an array of group ids').max(100, 'is limited to 100 groups').optional(),
});

/**
 * Names per bulk INSERT statement. Each statement carries its rows as one JSON text parameter read
 * with json_each, so D1's 100-bound-parameter limit never applies; 1,000 names of at most 253
 * characters keep the parameter far below D1's 2 MB string limit.
 */
export const BULK_CHUNK = 1000;

function chunks<T>(items: T[], size = BULK_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The groups of each domain id, for a page or one domain (ids travel as one JSON parameter). */
async function groupsOf(db: Database, ids: number[]): Promise<Map<number, { id: number; name: string }[]>> {
  const map = new Map<number, { id: number; name: string }[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return map;
  const rows = await db
    .select({ domainId: groupDomains.domainId, id: groups.id, name: groups.name })
    .from(groupDomains)
    .innerJoin(groups, eq(groups.id, groupDomains.groupId))
    .where(sql`${groupDomains.domainId} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`)
    .orderBy(asc(groups.name));
  for (const row of rows) map.get(row.domainId)?.push({ id: row.id, name: row.name });
  return map;
}

async function domainDetail(db: Database, id: number) {
  const domain = await db.select({ id: domains.id, name: domains.name, created_at: domains.createdAt }).from(domains).where(eq(domains.id, id)).get();
  if (!domain) return undefined;
  return { ...domain, groups: (await groupsOf(db, [id])).get(id) ?? [] };
}

const CSV_TYPES = ['text/csv', 'text/plain', 'application/csv'];

const domainSchema = z
  .object({ id: z.int(), name: z.string(), created_at: z.string(), groups: z.array(z.object({ id: z.int(), name: z.string() })) })
  .meta({ id: 'Domain' });

const admin = { tags: ['admin'], ...access('admin') };
const params = z.object({ id: pathId });

const listDomains = createRoute({
  method: 'get',
  path: '/domains',
  summary: 'List domains',
  ...admin,
  request: { query: listQuery.extend({ group_id: idQuery.meta({ description: 'Only the domains of this group.' }) }) },
  responses: { 200: json(pageSchema(domainSchema), 'Domains by id, with the groups that own them.'), ...problems(400, 401, 403) },
});

const addDomain = createRoute({
  method: 'post',
  path: '/domains',
  summary: 'Add a domain (and start monitoring it)',
  ...admin,
  request: { body: jsonRequest(createDomain) },
  responses: { 201: json(domainSchema, 'Created (Location: its URL).'), ...problems(400, 401, 403, 404, 409) },
});

const addDomainsInBulk = createRoute({
  method: 'post',
  path: '/domains/bulk',
  summary: 'Add many domains from CSV: domain[,group] per line',
  ...admin,
  request: {
    body: {
      required: true,
      description: `Up to ${MAX_CSV_ROWS} rows; an optional domain,group header, blank lines and # comments are skipped. Also text/plain or application/csv.`,
      content: { 'text/csv': { schema: { type: 'string' } } },
    },
  },
  responses: {
    200: json(
      z.object({
        added: z.array(z.string()),
        existing: z.array(z.string()),
        linked: z.int().meta({ description: 'New group ↔ domain links.' }),
        invalid: z.array(z.object({ line: z.int(), value: z.string(), reason: z.string() })),
      }),
      'What was added, what existed already, and each row that was not taken.',
    ),
    ...problems(400, 401, 403, 413, 415),
  },
});

const getDomain = createRoute({
  method: 'get',
  path: '/domains/{id{[0-9]+}}',
  summary: 'A domain and the groups that own it',
  ...admin,
  request: { params },
  responses: { 200: json(domainSchema, 'The domain.'), ...problems(401, 403, 404) },
});

const deleteDomain = createRoute({
  method: 'delete',
  path: '/domains/{id{[0-9]+}}',
  summary: 'Delete a domain (stop monitoring it; its data is purged in batches, docs/retention.md)',
  ...admin,
  request: { params },
  responses: { 204: noContent('Deleted.'), ...problems(401, 403, 404) },
});

/** Domains: each belongs to any number of groups; its sub-domains are visible to the same groups. */
export const domainRoutes = new ApiRouter()
  .declare(listDomains, async (c) => {
    const query = c.req.valid('query');
    const list = listFrom(query);
    const groupId = query.group_id;
    const db = database(c.env.DB);
    const rows = await db
      .select({ id: domains.id, name: domains.name, created_at: domains.createdAt })
      .from(domains)
      .where(
        and(
          list.page.after !== null ? gt(domains.id, list.page.after) : undefined,
          list.search ? contains([domains.name], list.search) : undefined,
          groupId !== undefined ? sql`EXISTS (SELECT 1 FROM group_domains gd WHERE gd.domain_id = ${domains.id} AND gd.group_id = ${groupId})` : undefined,
        ),
      )
      .orderBy(asc(domains.id))
      .limit(list.page.limit + 1);
    const page = pageOf(rows, list.page.limit, (d) => d.id);
    const owners = await groupsOf(
      db,
      page.items.map((d) => d.id),
    );
    return c.json({ items: page.items.map((d) => ({ ...d, groups: owners.get(d.id) ?? [] })), next_cursor: page.next_cursor });
  })
  .declare(addDomain, async (c) => {
    const body = c.req.valid('json');
    const { name } = body;
    const groupIds = [...new Set(body.group_ids ?? [])];
    const db = database(c.env.DB);
    const existing = await db.select({ id: domains.id }).from(domains).where(eq(domains.name, name)).get();
    if (existing) return conflict(c, `The domain ${name} already exists (id ${existing.id}).`);
    if (groupIds.length > 0) {
      const found = new Set(
        (await db.select({ id: groups.id }).from(groups).where(sql`${groups.id} IN (SELECT value FROM json_each(${JSON.stringify(groupIds)}))`)).map((g) => g.id),
      );
      const missing = (body.group_ids ?? []).findIndex((id) => !found.has(id));
      if (missing >= 0) return unknownReference(c, `group_ids.${missing}`, `no group ${body.group_ids![missing]}`);
    }
    const subject = { actor: c.get('principal').actor, action: 'domain.create', entity: 'domain' as const, entityId: sql`(SELECT id FROM domains WHERE name = ${name})` };
    const changes: Statement[] = [db.insert(domains).values({ name })];
    if (groupIds.length > 0) {
      changes.push(sql`INSERT INTO group_domains (group_id, domain_id)
        SELECT g.id, d.id FROM json_each(${JSON.stringify(groupIds)}) j
        JOIN groups g ON g.id = j.value JOIN domains d ON d.name = ${name}
        WHERE true ON CONFLICT DO NOTHING`);
    }
    try {
      await runBatch(c.env.DB, auditedCreate(subject, changes, domainSnapshot(sql`d.name = ${name}`)));
    } catch (error) {
      if (isUniqueViolation(error)) return conflict(c, `The domain ${name} already exists.`);
      throw error;
    }
    const created = await db.select({ id: domains.id }).from(domains).where(eq(domains.name, name)).get();
    // Its DomainMonitor starts checking it (through the monitor queue).
    await enqueueMonitoring(c.env, [name], 'schedule');
    return c.json((await domainDetail(db, created!.id))!, 201, { Location: `/api/admin/domains/${created!.id}` });
  })
  .declare(addDomainsInBulk, async (c) => {
    const type = (c.req.header('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (!CSV_TYPES.includes(type)) {
      return problem(c, 415, 'Unsupported Media Type', 'Send the domains as CSV with "Content-Type: text/csv": one domain per line, optionally a group name in a second column.');
    }
    const parsed = parseDomainCsv(await c.req.text());
    if ('tooMany' in parsed) {
      return problem(c, 400, 'Bad Request', `(body): is limited to ${MAX_CSV_ROWS} rows per request; split the file.`, {
        errors: [{ path: '(body)', message: `is limited to ${MAX_CSV_ROWS} rows per request` }],
      });
    }
    const db = database(c.env.DB);
    const invalid: CsvProblem[] = [...parsed.invalid];

    // Group names are matched ignoring case; a group that does not exist makes its row an error.
    // No group name is longer than 100 characters, so longer ones need not be looked up (and the
    // lookup's JSON parameter stays small: at most 1,000 names of 100 characters).
    const wanted = [...new Set(parsed.rows.flatMap((r) => (r.group && r.group.length <= 100 ? [r.group.toLowerCase()] : [])))];
    const groupIds = new Map<string, number>();
    for (const names of chunks(wanted)) {
      const found = await db
        .select({ id: groups.id, name: groups.name })
        .from(groups)
        .where(sql`lower(${groups.name}) IN (SELECT value FROM json_each(${JSON.stringify(names)}))`);
      for (const g of found) groupIds.set(g.name.toLowerCase(), g.id);
    }
    const names: string[] = [];
    const seen = new Set<string>();
    const pairs = new Map<string, [number, string]>();
    for (const row of parsed.rows) {
      let groupId: number | undefined;
      if (row.group) {
        groupId = groupIds.get(row.group.toLowerCase());
        if (groupId === undefined) {
          invalid.push({ line: row.line, value: row.value, reason: `no group named "${row.group}"` });
          continue;
        }
      }
      if (!seen.has(row.domain)) {
        seen.add(row.domain);
        names.push(row.domain);
      }
      if (groupId !== undefined) pairs.set(`${groupId} ${row.domain}`, [groupId, row.domain]);
    }
    invalid.sort((a, b) => a.line - b.line);
    if (names.length === 0) return c.json({ added: [], existing: [], linked: 0, invalid });

    const nameChunks = chunks(names);
    const pairChunks = chunks([...pairs.values()]);
    const subject = { actor: c.get('principal').actor, action: 'domain.bulk_add', entity: 'domain' as const, entityId: null };
    const statements: Statement[] = [
      // The audit row first, remembering where the tables ended; the last statement fills in the
      // summary from what this batch (one serialised transaction) added beyond that.
      sql`INSERT INTO audit_log (actor, action, entity, entity_id, before, after)
        VALUES (${subject.actor}, ${subject.action}, ${subject.entity}, NULL, NULL,
          json_object('domain_id_before', (SELECT coalesce(max(id), 0) FROM domains),
                      'link_rowid_before', (SELECT coalesce(max(rowid), 0) FROM group_domains)))`,
      ...nameChunks.map(
        (chunk) => sql`INSERT INTO domains (name) SELECT value FROM json_each(${JSON.stringify(chunk)})
          WHERE true ON CONFLICT (name) DO NOTHING RETURNING name`,
      ),
      ...pairChunks.map(
        (chunk) => sql`INSERT INTO group_domains (group_id, domain_id)
          SELECT g.id, d.id FROM json_each(${JSON.stringify(chunk)}) j
          JOIN groups g ON g.id = json_extract(j.value, '$[0]')
          JOIN domains d ON d.name = json_extract(j.value, '$[1]')
          WHERE true ON CONFLICT DO NOTHING RETURNING group_id`,
      ),
      sql`UPDATE audit_log SET after = json_object(
          'rows', ${int(parsed.rows.length + parsed.invalid.length)},
          'domains', ${int(names.length)},
          'added', (SELECT count(*) FROM domains WHERE id > json_extract(audit_log.after, '$.domain_id_before')),
          'existing', ${int(names.length)} - (SELECT count(*) FROM domains WHERE id > json_extract(audit_log.after, '$.domain_id_before')),
          'linked', (SELECT count(*) FROM group_domains WHERE rowid > json_extract(audit_log.after, '$.link_rowid_before')),
          'invalid', ${int(invalid.length)},
          'added_domains', json((SELECT json_group_array(name) FROM (SELECT name FROM domains
            WHERE id > json_extract(audit_log.after, '$.domain_id_before') ORDER BY id LIMIT 100))))
        WHERE id = (SELECT max(id) FROM audit_log)`,
    ];
    const results = await runBatch(c.env.DB, statements);
    const added = results.slice(1, 1 + nameChunks.length).flatMap((r) => (r.results as { name: string }[]).map((row) => row.name));
    const addedSet = new Set(added);
    const linked = results.slice(1 + nameChunks.length, 1 + nameChunks.length + pairChunks.length).reduce((n, r) => n + r.results.length, 0);
    await enqueueMonitoring(c.env, added, 'schedule');
    return c.json({ added, existing: names.filter((n) => !addedSet.has(n)), linked, invalid });
  })
  .declare(getDomain, async (c) => {
    const id = idParam(c, 'id');
    const detail = id === null ? undefined : await domainDetail(database(c.env.DB), id);
    if (!detail) return notFound(c, `domain ${c.req.param('id')}`);
    return c.json(detail);
  })
  .declare(deleteDomain, async (c) => {
    const id = idParam(c, 'id');
    if (id === null) return notFound(c, `domain ${c.req.param('id')}`);
    const db = database(c.env.DB);
    const doomed = await db.select({ name: domains.name }).from(domains).where(eq(domains.id, id)).get();
    const subject = { actor: c.get('principal').actor, action: 'domain.delete', entity: 'domain' as const, entityId: id };
    const results = await runBatch(
      c.env.DB,
      auditedDelete(
        subject,
        [
          db.delete(groupDomains).where(eq(groupDomains.domainId, id)),
          db.delete(domains).where(eq(domains.id, id)),
          // Its reports, roll-ups and check history go too, in batches (src/retention/purge.ts).
          ...(doomed ? [queueDataDeletion(doomed.name, subject.actor)] : []),
        ],
        domainSnapshot(sql`d.id = ${id}`),
      ),
    );
    if (results[2]?.meta.changes === 0) return notFound(c, `domain ${id}`);
    if (doomed) await enqueueMonitoring(c.env, [doomed.name], 'stop');
    return c.body(null, 204);
  });
