import { createRoute } from '@hono/zod-openapi';
import { and, eq, sql } from 'drizzle-orm';
import type { Context } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../../auth/authenticate';
import { database } from '../../db/client';
import { runBatch } from '../../db/d1-batch';
import { groupMembers, groups, users } from '../../db/schema/index';
import { auditIfChanged, int } from './audit-log';
import { ApiRouter, pathId } from '../openapi/api-router';
import { noContent, problems } from '../openapi/responses';
import { access } from '../openapi/security';
import { idParam, notFound } from './validation';

/** The membership as the audit log shows it. */
function membership(groupId: number, userId: number) {
  return sql`json_object('group_id', ${int(groupId)}, 'group', (SELECT name FROM groups WHERE id = ${groupId}),
    'user_id', ${int(userId)}, 'email', (SELECT email FROM users WHERE id = ${userId}))`;
}

/** The group and user named in the path, or the 404 for whichever does not exist. */
async function linkEnds(c: Context<AppEnv>) {
  const groupId = idParam(c, 'id');
  const userId = idParam(c, 'userId');
  const db = database(c.env.DB);
  const group = groupId === null ? undefined : await db.select({ id: groups.id }).from(groups).where(eq(groups.id, groupId)).get();
  if (!group) return notFound(c, `group ${c.req.param('id')}`);
  const user = userId === null ? undefined : await db.select({ id: users.id }).from(users).where(eq(users.id, userId)).get();
  if (!user) return notFound(c, `user ${c.req.param('userId')}`);
  return { db, group, user };
}

const params = z.object({ id: pathId.meta({ description: 'The group id.' }), userId: pathId.meta({ description: 'The user id.' }) });

const addMember = createRoute({
  method: 'put',
  path: '/groups/{id{[0-9]+}}/members/{userId{[0-9]+}}',
  summary: 'Add a user to a group (idempotent)',
  tags: ['admin'],
  ...access('admin'),
  request: { params },
  responses: { 204: noContent('A member (whether or not they were already).'), ...problems(401, 403, 404) },
});

const removeMember = createRoute({
  method: 'delete',
  path: '/groups/{id{[0-9]+}}/members/{userId{[0-9]+}}',
  summary: 'Remove a user from a group (idempotent)',
  tags: ['admin'],
  ...access('admin'),
  request: { params },
  responses: { 204: noContent('Not a member (whether or not they were).'), ...problems(401, 403, 404) },
});

/**
 * Memberships: PUT adds a user to a group, DELETE removes them. Both are idempotent (204 whether or
 * not anything changed) and audited only when something did change.
 */
export const membershipRoutes = new ApiRouter()
  .declare(addMember, async (c) => {
    const ends = await linkEnds(c);
    if (ends instanceof Response) return ends;
    const { db, group, user } = ends;
    const subject = { actor: c.get('principal').actor, action: 'group.add_member', entity: 'group' as const, entityId: group.id };
    const [inserted] = await runBatch(c.env.DB, [
      // Guarded again inside the transaction, in case either was deleted since the checks above.
      sql`INSERT INTO group_members (group_id, user_id)
        SELECT ${int(group.id)}, ${int(user.id)}
        WHERE EXISTS (SELECT 1 FROM groups WHERE id = ${group.id}) AND EXISTS (SELECT 1 FROM users WHERE id = ${user.id})
        ON CONFLICT DO NOTHING`,
      auditIfChanged(subject, null, membership(group.id, user.id)),
    ]);
    if (inserted?.meta.changes === 0) {
      // Nothing inserted: either the link was there already (fine) or one side vanished meanwhile.
      const linked = await db.select().from(groupMembers).where(and(eq(groupMembers.groupId, group.id), eq(groupMembers.userId, user.id))).get();
      if (!linked) return notFound(c, `group ${group.id} or user ${user.id}`);
    }
    return c.body(null, 204);
  })
  .declare(removeMember, async (c) => {
    const ends = await linkEnds(c);
    if (ends instanceof Response) return ends;
    const { group, user } = ends;
    const subject = { actor: c.get('principal').actor, action: 'group.remove_member', entity: 'group' as const, entityId: group.id };
    await runBatch(c.env.DB, [
      sql`DELETE FROM group_members WHERE group_id = ${group.id} AND user_id = ${user.id}`,
      auditIfChanged(subject, membership(group.id, user.id), null),
    ]);
    return c.body(null, 204);
  });
