import { asc, eq, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import type { AppEnv } from '../auth/authenticate';
import { SCOPES } from '../auth/principal';
import { database } from '../db/client';
import { domains, groupMembers, groups, users } from '../db/schema/index';

/**
 * GET /api/me: who the caller is and what they may see, for any authenticated principal (no scope
 * needed). `domains` lists the configured domains visible to them (sub-domains of these are visible
 * too): every domain for admins and service tokens, their groups' domains for members.
 */
export const meRoutes = new Hono<AppEnv>().get('/me', async (c) => {
  const principal = c.get('principal');
  const db = database(c.env.DB);
  const userId = principal.userId;
  const [user, memberOf, visible] = await Promise.all([
    userId === null ? undefined : db.select({ role: users.role }).from(users).where(eq(users.id, userId)).get(),
    userId === null
      ? []
      : db
          .select({ id: groups.id, name: groups.name })
          .from(groupMembers)
          .innerJoin(groups, eq(groups.id, groupMembers.groupId))
          .where(eq(groupMembers.userId, userId))
          .orderBy(asc(groups.name)),
    principal.allDomains
      ? db.select({ name: domains.name }).from(domains).orderBy(asc(domains.name))
      : userId === null
        ? []
        : db
            .select({ name: domains.name })
            .from(domains)
            .where(
              sql`EXISTS (SELECT 1 FROM group_domains gd JOIN group_members gm ON gm.group_id = gd.group_id
                WHERE gd.domain_id = ${domains.id} AND gm.user_id = ${userId})`,
            )
            .orderBy(asc(domains.name)),
  ]);
  return c.json({
    kind: principal.kind,
    email: principal.email,
    user_id: userId,
    ...(user ? { role: user.role } : {}),
    scopes: SCOPES.filter((s) => principal.scopes.has(s)),
    all_domains: principal.allDomains,
    groups: memberOf,
    domains: visible.map((d) => d.name),
  });
});
