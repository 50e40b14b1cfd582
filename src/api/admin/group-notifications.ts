import { createRoute } from '@hono/zod-openapi';
import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { database } from '../../db/client';
import { runBatch } from '../../db/d1-batch';
import { groups } from '../../db/schema/index';
import { auditedUpdate } from './audit-log';
import { ApiRouter, pathId } from '../openapi/api-router';
import { json, jsonRequest, problems } from '../openapi/responses';
import { access } from '../openapi/security';
import { emailField, idParam, notFound } from './validation';

const notificationsBody = z.strictObject({
  /** Receives a JSON POST when a domain of the group changes; https only. */
  webhook: z.url({ protocol: /^https$/, error: 'must be an https URL' }).nullable(),
  email: emailField.nullable(),
});

const setNotifications = createRoute({
  method: 'put',
  path: '/groups/{id{[0-9]+}}/notifications',
  summary: "Where a group hears of changes to its domains' checks",
  tags: ['admin'],
  ...access('admin'),
  request: { params: z.object({ id: pathId }), body: jsonRequest(notificationsBody) },
  responses: {
    200: json(z.object({ id: z.int(), webhook: z.string().nullable(), email: z.string().nullable() }), 'The settings now in force.'),
    ...problems(400, 401, 403, 404),
  },
});

/**
 * PUT /api/admin/groups/:id/notifications: where the group hears of changes to its domains' DNS
 * checks (docs/monitoring.md). Both null turns notifications off.
 */
export const groupNotificationRoutes = new ApiRouter().declare(setNotifications, async (c) => {
  const id = idParam(c, 'id');
  const settings = c.req.valid('json');
  const db = database(c.env.DB);
  const group = id === null ? undefined : await db.select({ id: groups.id }).from(groups).where(eq(groups.id, id)).get();
  if (!group) return notFound(c, `group ${c.req.param('id')}`);
  const subject = { actor: c.get('principal').actor, action: 'group.notifications', entity: 'group' as const, entityId: group.id };
  const update = db.update(groups).set({ notifyWebhook: settings.webhook, notifyEmail: settings.email }).where(eq(groups.id, group.id));
  await runBatch(c.env.DB, auditedUpdate(subject, [update], sql`(SELECT json_object('id', g.id, 'notify_webhook', g.notify_webhook, 'notify_email', g.notify_email) FROM groups g WHERE g.id = ${group.id})`));
  return c.json({ id: group.id, webhook: settings.webhook, email: settings.email });
});
