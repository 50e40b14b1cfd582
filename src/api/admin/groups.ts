import { createRoute } from '@hono/zod-openapi';
import { and, asc, eq, gt, ne, sql } from 'drizzle-orm';
import { z } from 'zod';
import { database, type Database } from '../../db/client';
import { runBatch } from '../../db/d1-batch';
import { domains, groupDomains, groupMembers, groups, users } from '../../db/schema/index';
import { ApiRouter, pathId } from '../openapi/api-router';
import { json, jsonRequest, noContent, pageOf as pageSchema, problems } from '../openapi/responses';
import { access } from '../openapi/security';
import { pageOf } from '../pagination';
import { auditedCreate, auditedDelete, auditedUpdate, groupSnapshot, isUniqueViolation } from './audit-log';
import { conflict, contains, groupNameField, idParam, listFrom, listQuery, notFound } from './validation';

const groupBody = z.strictObject({ name: groupNameField });

const memberCount = sql<number>`(SELECT count(*) FROM group_members gm WHERE gm.group_id = ${groups.id})`;
const domainCount = sql<number>`(SELECT count(*) FROM group_domains gd WHERE gd.group_id = ${groups.id})`;

/** Group names are unique ignoring case, so a CSV's group column cannot be ambiguous. */
async function nameTaken(db: Database, name: string, exceptId?: number) {
  const row = await db
    .select({ id: groups.id, name: groups.name })
    .from(groups)
    .where(and(sql`${groups.name} = ${name} COLLATE NOCASE`, exceptId === undefined ? undefined : ne(groups.id, exceptId)))
    .get();
  return row;
}

async function groupDetail(db: Database, id: number) {
  const group = await db.select({ id: groups.id, name: groups.name, created_at: groups.createdAt }).from(groups).where(eq(groups.id, id)).get();
  if (!group) return undefined;
  const [members, owned] = await Promise.all([
    db
      .select({ id: users.id, email: users.email, name: users.name, role: users.role })
      .from(groupMembers)
      .innerJoin(users, eq(users.id, groupMembers.userId))
      .where(eq(groupMembers.groupId, id))
      .orderBy(asc(users.email)),
    db
      .select({ id: domains.id, name: domains.name })
      .from(groupDomains)
      .innerJoin(domains, eq(domains.id, groupDomains.domainId))
      .where(eq(groupDomains.groupId, id))
      .orderBy(asc(domains.name)),
  ]);
  return { ...group, members, domains: owned };
}

const groupSummarySchema = z
  .object({ id: z.int(), name: z.string(), created_at: z.string(), member_count: z.int(), domain_count: z.int() })
  .meta({ id: 'GroupSummary' });

const groupDetailSchema = z
  .object({
    id: z.int(),
    name: z.string(),
    created_at: z.string(),
    members: z.array(z.object({ id: z.int(), email: z.string(), name: z.string().nullable(), role: z.enum(['admin', 'member']) })),
    domains: z.array(z.object({ id: z.int(), name: z.string() })),
  })
  .meta({ id: 'Group' });

const admin = { tags: ['admin'], ...access('admin') };
const params = z.object({ id: pathId });

const listGroups = createRoute({
  method: 'get',
  path: '/groups',
  summary: 'List groups',
  ...admin,
  request: { query: listQuery },
  responses: { 200: json(pageSchema(groupSummarySchema), 'Groups by id, with their member and domain counts.'), ...problems(400, 401, 403) },
});

const addGroup = createRoute({
  method: 'post',
  path: '/groups',
  summary: 'Add a group (names are unique ignoring case)',
  ...admin,
  request: { body: jsonRequest(groupBody) },
  responses: { 201: json(groupDetailSchema, 'Created (Location: its URL).'), ...problems(400, 401, 403, 409) },
});

const getGroup = createRoute({
  method: 'get',
  path: '/groups/{id{[0-9]+}}',
  summary: 'A group with its members and domains',
  ...admin,
  request: { params },
  responses: { 200: json(groupDetailSchema, 'The group.'), ...problems(401, 403, 404) },
});

const renameGroup = createRoute({
  method: 'patch',
  path: '/groups/{id{[0-9]+}}',
  summary: 'Rename a group',
  ...admin,
  request: { params, body: jsonRequest(groupBody) },
  responses: { 200: json(groupDetailSchema, 'The group as changed.'), ...problems(400, 401, 403, 404, 409) },
});

const deleteGroup = createRoute({
  method: 'delete',
  path: '/groups/{id{[0-9]+}}',
  summary: 'Delete a group with its memberships and domain links (the users and domains stay)',
  ...admin,
  request: { params },
  responses: { 204: noContent('Deleted.'), ...problems(401, 403, 404) },
});

/** Groups: organisations. Their members see their domains (and the domains' sub-domains). */
export const groupRoutes = new ApiRouter()
  .declare(listGroups, async (c) => {
    const list = listFrom(c.req.valid('query'));
    const rows = await database(c.env.DB)
      .select({ id: groups.id, name: groups.name, created_at: groups.createdAt, member_count: memberCount, domain_count: domainCount })
      .from(groups)
      .where(and(list.page.after !== null ? gt(groups.id, list.page.after) : undefined, list.search ? contains([groups.name], list.search) : undefined))
      .orderBy(asc(groups.id))
      .limit(list.page.limit + 1);
    return c.json(pageOf(rows, list.page.limit, (g) => g.id));
  })
  .declare(addGroup, async (c) => {
    const { name } = c.req.valid('json');
    const db = database(c.env.DB);
    const taken = await nameTaken(db, name);
    if (taken) return conflict(c, `A group named "${taken.name}" already exists (id ${taken.id}).`);
    const subject = { actor: c.get('principal').actor, action: 'group.create', entity: 'group' as const, entityId: sql`(SELECT id FROM groups WHERE name = ${name})` };
    try {
      await runBatch(c.env.DB, auditedCreate(subject, [db.insert(groups).values({ name })], groupSnapshot(sql`g.name = ${name}`)));
    } catch (error) {
      if (isUniqueViolation(error)) return conflict(c, `A group named "${name}" already exists.`);
      throw error;
    }
    const created = await db.select({ id: groups.id }).from(groups).where(eq(groups.name, name)).get();
    return c.json((await groupDetail(db, created!.id))!, 201, { Location: `/api/admin/groups/${created!.id}` });
  })
  .declare(getGroup, async (c) => {
    const id = idParam(c, 'id');
    const detail = id === null ? undefined : await groupDetail(database(c.env.DB), id);
    if (!detail) return notFound(c, `group ${c.req.param('id')}`);
    return c.json(detail);
  })
  .declare(renameGroup, async (c) => {
    const id = idParam(c, 'id');
    const { name } = c.req.valid('json');
    const db = database(c.env.DB);
    const group = id === null ? undefined : await db.select().from(groups).where(eq(groups.id, id)).get();
    if (!group) return notFound(c, `group ${c.req.param('id')}`);
    if (name !== group.name) {
      const taken = await nameTaken(db, name, group.id);
      if (taken) return conflict(c, `A group named "${taken.name}" already exists (id ${taken.id}).`);
      const subject = { actor: c.get('principal').actor, action: 'group.update', entity: 'group' as const, entityId: group.id };
      try {
        const results = await runBatch(c.env.DB, auditedUpdate(subject, [db.update(groups).set({ name }).where(eq(groups.id, group.id))], groupSnapshot(sql`g.id = ${group.id}`)));
        if (results[1]?.meta.changes === 0) return notFound(c, `group ${group.id}`);
      } catch (error) {
        if (isUniqueViolation(error)) return conflict(c, `A group named "${name}" already exists.`);
        throw error;
      }
    }
    const detail = await groupDetail(db, group.id);
    if (!detail) return notFound(c, `group ${group.id}`);
    return c.json(detail);
  })
  .declare(deleteGroup, async (c) => {
    const id = idParam(c, 'id');
    if (id === null) return notFound(c, `group ${c.req.param('id')}`);
    const db = database(c.env.DB);
    const subject = { actor: c.get('principal').actor, action: 'group.delete', entity: 'group' as const, entityId: id };
    const results = await runBatch(
      c.env.DB,
      auditedDelete(
        subject,
        [
          db.delete(groupMembers).where(eq(groupMembers.groupId, id)),
          db.delete(groupDomains).where(eq(groupDomains.groupId, id)),
          db.delete(groups).where(eq(groups.id, id)),
        ],
        groupSnapshot(sql`g.id = ${id}`),
      ),
    );
    if (results[3]?.meta.changes === 0) return notFound(c, `group ${id}`);
    return c.body(null, 204);
  });
