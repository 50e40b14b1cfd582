import { createRoute } from '@hono/zod-openapi';
import { and, desc, eq, lt, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { database } from '../../db/client';
import { auditLog } from '../../db/schema/index';
import { ApiRouter } from '../openapi/api-router';
import { json, pageOf as pageSchema, problems } from '../openapi/responses';
import { access } from '../openapi/security';
import { blankAsAbsent, pageFrom, pageOf, pageQuery } from '../pagination';
import { invalid } from './validation';

const ENTITIES = ['user', 'group', 'domain', 'token', 'inbound', 'sender_map'] as const;

const listAudit = createRoute({
  method: 'get',
  path: '/audit',
  summary: 'The audit log, newest first',
  tags: ['admin'],
  ...access('admin'),
  request: {
    query: pageQuery.extend({
      entity: z.preprocess(blankAsAbsent, z.enum(ENTITIES, `must be one of ${ENTITIES.join(', ')}`).optional()),
      entity_id: z.string().optional().meta({ description: 'Needs entity as well.' }),
      action: z.string().optional().meta({ description: '`user.create`, `group.add_member`, `token.revoke`, ...' }),
      actor: z.string().optional().meta({ description: '`bootstrap`, `token:7`, `user:3 ann@example.org`, ...' }),
    }),
  },
  responses: {
    200: json(
      pageSchema(
        z.object({
          id: z.int(),
          at: z.string(),
          actor: z.string(),
          action: z.string(),
          entity: z.string(),
          entity_id: z.string().nullable(),
          before: z.unknown().meta({ description: 'The entity before the change (JSON), or null.' }),
          after: z.unknown().meta({ description: 'The entity after the change (JSON), or null.' }),
        }),
      ),
      'Audit entries.',
    ),
    ...problems(400, 401, 403),
  },
});

function parseSnapshot(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The audit log, newest first: `?entity=&entity_id=&action=&actor=` and `?limit=&cursor=`. */
export const auditRoutes = new ApiRouter().declare(listAudit, async (c) => {
  const query = c.req.valid('query');
  const page = pageFrom(query);
  const { entity, entity_id: entityId, action, actor } = query;
  if (entityId && !entity) return invalid(c, [{ path: 'entity_id', message: 'needs entity as well' }]);
  const where: (SQL | undefined)[] = [
    page.after !== null ? lt(auditLog.id, page.after) : undefined,
    entity ? eq(auditLog.entity, entity) : undefined,
    entityId ? eq(auditLog.entityId, entityId) : undefined,
    action ? eq(auditLog.action, action) : undefined,
    actor ? eq(auditLog.actor, actor) : undefined,
  ];
  const rows = await database(c.env.DB).select().from(auditLog).where(and(...where)).orderBy(desc(auditLog.id)).limit(page.limit + 1);
  const shown = pageOf(rows, page.limit, (r) => r.id);
  return c.json({
    items: shown.items.map((r) => ({
      id: r.id,
      at: r.at,
      actor: r.actor,
      action: r.action,
      entity: r.entity,
      entity_id: r.entityId,
      before: parseSnapshot(r.before),
      after: parseSnapshot(r.after),
    })),
    next_cursor: shown.next_cursor,
  });
});
