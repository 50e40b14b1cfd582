import { and, asc, eq, gt, isNull, sql, type SQL } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { requireScope, type AppEnv } from '../../auth/authenticate';
import { database } from '../../db/client';
import { runBatch } from '../../db/d1-batch';
import { apiTokens, groupMembers, groups, users } from '../../db/schema/index';
import { pageOf } from '../pagination';
import { auditedCreate, auditedDelete, auditedUpdate, isUniqueViolation, userSnapshot } from './audit-log';
import {
  conflict,
  contains,
  emailField,
  idParam,
  invalid,
  isoSeconds,
  notFound,
  personNameField,
  readJson,
  readList,
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

/**
 * Users: people who sign in through Cloudflare Access. Demoting or deleting the last admin is
 * allowed: the BOOTSTRAP_ADMIN_TOKEN secret always remains as a way back in.
 */
export const userRoutes = new Hono<AppEnv>()
  .get('/users', requireScope('admin'), async (c) => {
    const list = readList(c);
    if ('response' in list) return list.response;
    const role = c.req.query('role');
    if (role !== undefined && role !== 'admin' && role !== 'member') return invalid(c, [{ path: 'role', message: 'must be "admin" or "member"' }]);
    const where: (SQL | undefined)[] = [
      list.page.after !== null ? gt(users.id, list.page.after) : undefined,
      list.search ? contains([users.email, users.name], list.search) : undefined,
      role ? eq(users.role, role) : undefined,
    ];
    const rows = await database(c.env.DB).select().from(users).where(and(...where)).orderBy(asc(users.id)).limit(list.page.limit + 1);
    const page = pageOf(rows, list.page.limit, (u) => u.id);
    return c.json({ items: page.items.map(userJson), next_cursor: page.next_cursor });
  })
  .post('/users', requireScope('admin'), async (c) => {
    const body = await readJson(c, createUser);
    if ('response' in body) return body.response;
    const { email, name, role } = body.data;
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
  .get('/users/:id{[0-9]+}', requireScope('admin'), async (c) => {
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
  .patch('/users/:id{[0-9]+}', requireScope('admin'), async (c) => {
    const id = idParam(c, 'id');
    const body = await readJson(c, updateUser);
    if ('response' in body) return body.response;
    const db = database(c.env.DB);
    const user = id === null ? undefined : await db.select().from(users).where(eq(users.id, id)).get();
    if (!user) return notFound(c, `user ${c.req.param('id')}`);
    const set: Partial<Pick<UserRow, 'name' | 'role'>> = {};
    if (body.data.name !== undefined && body.data.name !== user.name) set.name = body.data.name;
    if (body.data.role !== undefined && body.data.role !== user.role) set.role = body.data.role;
    if (Object.keys(set).length > 0) {
      const subject = { actor: c.get('principal').actor, action: 'user.update', entity: 'user' as const, entityId: user.id };
      const results = await runBatch(c.env.DB, auditedUpdate(subject, [db.update(users).set(set).where(eq(users.id, user.id))], userSnapshot(sql`u.id = ${user.id}`)));
      if (results[1]?.meta.changes === 0) return notFound(c, `user ${user.id}`);
    }
    const updated = await db.select().from(users).where(eq(users.id, user.id)).get();
    if (!updated) return notFound(c, `user ${user.id}`);
    return c.json(userJson(updated));
  })
  .delete('/users/:id{[0-9]+}', requireScope('admin'), async (c) => {
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
