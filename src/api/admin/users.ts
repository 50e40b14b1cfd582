import { createRoute } from '@hono/zod-openapi';
import { and, asc, eq, gt, isNull, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { database } from '../../db/client';
import { runBatch } from '../../db/d1-batch';
import { apiTokens, groupMembers, groups, users } from '../../db/schema/index';
import { ApiRouter, pathId } from '../openapi/api-router';
import { json, jsonRequest, noContent, pageOf as pageSchema, problems } from '../openapi/responses';
import { access } from '../openapi/security';
import { pageOf } from '../pagination';
import { auditedCreate, auditedDelete, auditedUpdate, isUniqueViolation, userSnapshot } from './audit-log';
import {
  conflict,
  contains,
  emailField,
  idParam,
  isoSeconds,
  listFrom,
  listQuery,
  notFound,
  personNameField,
  roleField,
} from './validation';

type UserRow = typeof users.$inferSelect;

export function userJson(u: UserRow) {
  return { id: u.id, email: u.email, name: u.name, role: u.role, created_at: u.createdAt };
}

const createUser = z.strictObject({
  email: emailField,
  name: personNameField.optional(),
  role: roleField.default('member'),
});

const updateUser = z.strictObject({
  name: personNameField.optional(),
  role: roleField.optional(),
});

export const userSchema = z
  .object({ id: z.int(), email: z.string(), name: z.string().nullable(), role: z.enum(['admin', 'member']), created_at: z.string() })
  .meta({ id: 'User' });

const userDetailSchema = userSchema.extend({ groups: z.array(z.object({ id: z.int(), name: z.string() })) }).meta({ id: 'UserDetail' });

const admin = { tags: ['admin'], ...access('admin') };
const params = z.object({ id: pathId });

const listUsers = createRoute({
  method: 'get',
  path: '/users',
  summary: 'List users',
  ...admin,
  request: { query: listQuery.extend({ role: roleField.optional() }) },
  responses: { 200: json(pageSchema(userSchema), 'Users by id.'), ...problems(400, 401, 403) },
});

const addUser = createRoute({
  method: 'post',
  path: '/users',
  summary: 'Add a user',
  ...admin,
  request: { body: jsonRequest(createUser) },
  responses: { 201: json(userDetailSchema, 'Created (Location: its URL).'), ...problems(400, 401, 403, 409) },
});

const getUser = createRoute({
  method: 'get',
  path: '/users/{id{[0-9]+}}',
  summary: 'A user and their groups',
  ...admin,
  request: { params },
  responses: { 200: json(userDetailSchema, 'The user.'), ...problems(401, 403, 404) },
});

const changeUser = createRoute({
  method: 'patch',
  path: '/users/{id{[0-9]+}}',
  summary: 'Rename, promote or demote a user',
  ...admin,
  request: { params, body: jsonRequest(updateUser) },
  responses: { 200: json(userSchema, 'The user as changed.'), ...problems(400, 401, 403, 404) },
});

const deleteUser = createRoute({
  method: 'delete',
  path: '/users/{id{[0-9]+}}',
  summary: 'Delete a user, their memberships, and revoke their tokens',
  ...admin,
  request: { params },
  responses: { 204: noContent('Deleted.'), ...problems(401, 403, 404) },
});

/**
 * Users: people who sign in through Cloudflare Access. Demoting or deleting the last admin is
 * allowed: the BOOTSTRAP_ADMIN_TOKEN secret always remains as a way back in.
 */
export const userRoutes = new ApiRouter()
  .declare(listUsers, async (c) => {
    const query = c.req.valid('query');
    const list = listFrom(query);
    const role = query.role;
    const where: (SQL | undefined)[] = [
      list.page.after !== null ? gt(users.id, list.page.after) : undefined,
      list.search ? contains([users.email, users.name], list.search) : undefined,
      role ? eq(users.role, role) : undefined,
    ];
    const rows = await database(c.env.DB).select().from(users).where(and(...where)).orderBy(asc(users.id)).limit(list.page.limit + 1);
    const page = pageOf(rows, list.page.limit, (u) => u.id);
    return c.json({ items: page.items.map(userJson), next_cursor: page.next_cursor });
  })
  .declare(addUser, async (c) => {
    const { email, name, role } = c.req.valid('json');
    const db = database(c.env.DB);
    if (await db.select({ id: users.id }).from(users).where(eq(users.email, email)).get()) return conflict(c, `A user with the email ${email} already exists.`);
    const subject = { actor: c.get('principal').actor, action: 'user.create', entity: 'user' as const, entityId: sql`(SELECT id FROM users WHERE email = ${email})` };
    try {
      await runBatch(c.env.DB, auditedCreate(subject, [db.insert(users).values({ email, name: name ?? null, role })], userSnapshot(sql`u.email = ${email}`)));
    } catch (error) {
      if (isUniqueViolation(error)) return conflict(c, `A user with the email ${email} already exists.`);
      throw error;
    }
    const user = await db.select().from(users).where(eq(users.email, email)).get();
    return c.json({ ...userJson(user!), groups: [] }, 201, { Location: `/api/admin/users/${user!.id}` });
  })
  .declare(getUser, async (c) => {
    const id = idParam(c, 'id');
    const db = database(c.env.DB);
    const user = id === null ? undefined : await db.select().from(users).where(eq(users.id, id)).get();
    if (!user) return notFound(c, `user ${c.req.param('id')}`);
    const memberOf = await db
      .select({ id: groups.id, name: groups.name })
      .from(groupMembers)
      .innerJoin(groups, eq(groups.id, groupMembers.groupId))
      .where(eq(groupMembers.userId, user.id))
      .orderBy(asc(groups.name));
    return c.json({ ...userJson(user), groups: memberOf });
  })
  .declare(changeUser, async (c) => {
    const id = idParam(c, 'id');
    const changes = c.req.valid('json');
    const db = database(c.env.DB);
    const user = id === null ? undefined : await db.select().from(users).where(eq(users.id, id)).get();
    if (!user) return notFound(c, `user ${c.req.param('id')}`);
    const set: Partial<Pick<UserRow, 'name' | 'role'>> = {};
    if (changes.name !== undefined && changes.name !== user.name) set.name = changes.name;
    if (changes.role !== undefined && changes.role !== user.role) set.role = changes.role;
    if (Object.keys(set).length > 0) {
      const subject = { actor: c.get('principal').actor, action: 'user.update', entity: 'user' as const, entityId: user.id };
      const results = await runBatch(c.env.DB, auditedUpdate(subject, [db.update(users).set(set).where(eq(users.id, user.id))], userSnapshot(sql`u.id = ${user.id}`)));
      if (results[1]?.meta.changes === 0) return notFound(c, `user ${user.id}`);
    }
    const updated = await db.select().from(users).where(eq(users.id, user.id)).get();
    if (!updated) return notFound(c, `user ${user.id}`);
    return c.json(userJson(updated));
  })
  .declare(deleteUser, async (c) => {
    const id = idParam(c, 'id');
    if (id === null) return notFound(c, `user ${c.req.param('id')}`);
    const db = database(c.env.DB);
    const subject = { actor: c.get('principal').actor, action: 'user.delete', entity: 'user' as const, entityId: id };
    const results = await runBatch(
      c.env.DB,
      auditedDelete(
        subject,
        [
          db.delete(groupMembers).where(eq(groupMembers.userId, id)),
          // The tokens stop working anyway once their user is gone; revoking says so in the list.
          db.update(apiTokens).set({ revokedAt: isoSeconds(new Date()) }).where(and(eq(apiTokens.userId, id), isNull(apiTokens.revokedAt))),
          db.delete(users).where(eq(users.id, id)),
        ],
        userSnapshot(sql`u.id = ${id}`, { activeTokens: true }),
      ),
    );
    if (results[3]?.meta.changes === 0) return notFound(c, `user ${id}`);
    return c.body(null, 204);
  });
