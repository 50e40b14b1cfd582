import { createRoute } from '@hono/zod-openapi';
import { and, eq, sql } from 'drizzle-orm';
import type { Context } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../../auth/authenticate';
import { database } from '../../db/client';
import { runBatch } from '../../db/d1-batch';
import { domains, groupDomains, groups } from '../../db/schema/index';
import { auditIfChanged, int } from './audit-log';
import { ApiRouter, pathId } from '../openapi/api-router';
import { noContent, problems } from '../openapi/responses';
import { access } from '../openapi/security';
import { idParam, notFound } from './validation';

/** The link as the audit log shows it. */
function link(groupId: number, domainId: number) {
  return sql`json_object('group_id', ${int(groupId)}, 'group', (SELECT name FROM groups WHERE id = ${groupId}),
    'domain_id', ${int(domainId)}, 'domain', (SELECT name FROM domains WHERE id = ${domainId}))`;
}

/** The group and domain named in the path, or the 404 for whichever does not exist. */
async function linkEnds(c: Context<AppEnv>) {
  const groupId = idParam(c, 'id');
  const domainId = idParam(c, 'domainId');
  const db = database(c.env.DB);
  const group = groupId === null ? undefined : await db.select({ id: groups.id }).from(groups).where(eq(groups.id, groupId)).get();
  if (!group) return notFound(c, `group ${c.req.param('id')}`);
  const domain = domainId === null ? undefined : await db.select({ id: domains.id }).from(domains).where(eq(domains.id, domainId)).get();
  if (!domain) return notFound(c, `domain ${c.req.param('domainId')}`);
  return { db, group, domain };
}

const params = z.object({ id: pathId.meta({ description: 'The group id.' }), domainId: pathId.meta({ description: 'The domain id.' }) });

const linkDomain = createRoute({
  method: 'put',
  path: '/groups/{id{[0-9]+}}/domains/{domainId{[0-9]+}}',
  summary: 'Make a group an owner of a domain (idempotent)',
  tags: ['admin'],
  ...access('admin'),
  request: { params },
  responses: { 204: noContent('Linked (whether or not it was already).'), ...problems(401, 403, 404) },
});

const unlinkDomain = createRoute({
  method: 'delete',
  path: '/groups/{id{[0-9]+}}/domains/{domainId{[0-9]+}}',
  summary: 'Stop a group owning a domain (idempotent)',
  tags: ['admin'],
  ...access('admin'),
  request: { params },
  responses: { 204: noContent('Not linked (whether or not it was).'), ...problems(401, 403, 404) },
});

/**
 * Which groups own a domain: PUT links, DELETE unlinks. Both are idempotent (204 whether or not
 * anything changed) and audited only when something did change.
 */
export const groupDomainRoutes = new ApiRouter()
  .declare(linkDomain, async (c) => {
    const ends = await linkEnds(c);
    if (ends instanceof Response) return ends;
    const { db, group, domain } = ends;
    const subject = { actor: c.get('principal').actor, action: 'group.link_domain', entity: 'group' as const, entityId: group.id };
    const [inserted] = await runBatch(c.env.DB, [
      sql`INSERT INTO group_domains (group_id, domain_id)
        SELECT ${int(group.id)}, ${int(domain.id)}
        WHERE EXISTS (SELECT 1 FROM groups WHERE id = ${group.id}) AND EXISTS (SELECT 1 FROM domains WHERE id = ${domain.id})
        ON CONFLICT DO NOTHING`,
      auditIfChanged(subject, null, link(group.id, domain.id)),
    ]);
    if (inserted?.meta.changes === 0) {
      // Nothing inserted: either the link was there already (fine) or one side vanished meanwhile.
      const linked = await db.select().from(groupDomains).where(and(eq(groupDomains.groupId, group.id), eq(groupDomains.domainId, domain.id))).get();
      if (!linked) return notFound(c, `group ${group.id} or domain ${domain.id}`);
    }
    return c.body(null, 204);
  })
  .declare(unlinkDomain, async (c) => {
    const ends = await linkEnds(c);
    if (ends instanceof Response) return ends;
    const { group, domain } = ends;
    const subject = { actor: c.get('principal').actor, action: 'group.unlink_domain', entity: 'group' as const, entityId: group.id };
    await runBatch(c.env.DB, [
      sql`DELETE FROM group_domains WHERE group_id = ${group.id} AND domain_id = ${domain.id}`,
      auditIfChanged(subject, link(group.id, domain.id), null),
    ]);
    return c.body(null, 204);
  });
