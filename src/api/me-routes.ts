import { createRoute } from '@hono/zod-openapi';
import { asc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { SCOPES } from '../auth/principal';
import { database } from '../db/client';
import { domains, groupMembers, groups, users } from '../db/schema/index';
import { ApiRouter } from './openapi/api-router';
import { json, problems } from './openapi/responses';
import { access } from './openapi/security';

const meSchema = z
  .object({
    kind: z.enum(['token', 'bootstrap', 'access', 'dev']).meta({ description: 'How the caller authenticated.' }),
    email: z.string().nullable(),
    user_id: z.int().nullable(),
    role: z.enum(['admin', 'member']).optional().meta({ description: 'Absent for service tokens and the secrets.' }),
    scopes: z.array(z.enum(SCOPES as [string, ...string[]])),
    all_domains: z.boolean(),
    groups: z.array(z.object({ id: z.int(), name: z.string() })),
    domains: z.array(z.string()).meta({ description: 'Configured domains visible to the caller; their sub-domains are visible too.' }),
  })
  .meta({ id: 'Me' });

const getMe = createRoute({
  method: 'get',
  path: '/me',
  tags: ['me'],
  summary: 'Who the caller is and what they may see',
  ...access(null),
  responses: { 200: json(meSchema, 'The caller.'), ...problems(401) },
});

/**
 * GET /api/me: who the caller is and what they may see, for any authenticated principal (no scope
 * needed). `domains` lists the configured domains visible to them (sub-domains of these are visible
 * too): every domain for admins and service tokens, their groups' domains for members.
 */
export const meRoutes = new ApiRouter().declare(getMe, async (c) => {
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
