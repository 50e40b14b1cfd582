import { eq, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { requireScope, type AppEnv } from '../../auth/authenticate';
import { database } from '../../db/client';
import { runBatch } from '../../db/d1-batch';
import { groups } from '../../db/schema/index';
import { auditedUpdate } from './audit-log';
import { emailField, idParam, notFound, readJson } from './validation';

const notificationsBody = z.strictObject({
  /** Receives a JSON POST when a domain of the group changes; https only. */
  webhook: z.url({ protocol: /^https$/, error: 'must be an https URL' }).nullable(),
  email: emailField.nullable(),
});

/**
 * PUT /api/admin/groups/:id/notifications: where the group hears of changes to its domains' DNS
 * checks (docs/monitoring.md). Both null turns notifications off.
 */
export const groupNotificationRoutes = new Hono<AppEnv>().put('/groups/:id{[0-9]+}/notifications', requireScope('admin'), async (c) => {
  const id = idParam(c, 'id');
  const body = await readJson(c, notificationsBody);
  if ('response' in body) return body.response;
  const db = database(c.env.DB);
  const group = id === null ? undefined : await db.select({ id: groups.id }).from(groups).where(eq(groups.id, id)).get();
  if (!group) return notFound(c, `group ${c.req.param('id')}`);
  const subject = { actor: c.get('principal').actor, action: 'group.notifications', entity: 'group' as const, entityId: group.id };
  const update = db.update(groups).set({ notifyWebhook: body.data.webhook, notifyEmail: body.data.email }).where(eq(groups.id, group.id));
  await runBatch(c.env.DB, auditedUpdate(subject, [update], sql`(SELECT json_object('id', g.id, 'notify_webhook', g.notify_webhook, 'notify_email', g.notify_email) FROM groups g WHERE g.id = ${group.id})`));
  return c.json({ id: group.id, webhook: body.data.webhook, email: body.data.email });
});
