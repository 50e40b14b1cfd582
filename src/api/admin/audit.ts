import { and, desc, eq, lt, type SQL } from 'drizzle-orm';
import { Hono } from 'hono';
import { requireScope, type AppEnv } from '../../auth/authenticate';
import { database } from '../../db/client';
import { auditLog } from '../../db/schema/index';
import { pageOf } from '../pagination';
import { invalid, readPaging } from './validation';

const ENTITIES = ['user', 'group', 'domain', 'token', 'inbound', 'sender_map'];

function parseSnapshot(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The audit log, newest first: `?entity=&entity_id=&action=&actor=` and `?limit=&cursor=`. */
export const auditRoutes = new Hono<AppEnv>().get('/audit', requireScope('admin'), async (c) => {
  const page = readPaging(c);
  if ('response' in page) return page.response;
  const { entity, entity_id: entityId, action, actor } = c.req.query();
  if (entity && !ENTITIES.includes(entity)) return invalid(c, [{ path: 'entity', message: `must be one of ${ENTITIES.join(', ')}` }]);
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
