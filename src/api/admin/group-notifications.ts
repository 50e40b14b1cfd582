import { createRoute } from '@hono/zod-openapi';
import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { database } from '../../db/client';
import { runBatch } from '../../db/d1-batch';
import { groups } from '../../db/schema/index';
import { auditedUpdate, type Statement } from './audit-log';
import { ALERT_KINDS, isAlertKind, WEBHOOK_FORMATS, type WebhookFormat } from '../../alerts/kinds';
import { ApiRouter, pathId } from '../openapi/api-router';
import { json, jsonRequest, problems } from '../openapi/responses';
import { access } from '../openapi/security';
import { emailField, idParam, notFound } from './validation';

const kindList = z.array(z.enum(ALERT_KINDS)).max(ALERT_KINDS.length).meta({ description: 'Alert kinds (docs/alerts.md).' });

const alertPreferences = z
  .strictObject({
    webhook: kindList.meta({ description: 'Alert kinds sent to the webhook.' }),
    email: kindList.meta({ description: 'Alert kinds sent to the email address.' }),
  })
  .meta({ id: 'GroupAlertPreferences', description: 'Which alerts the group hears of on which channel. Alerts are kept and shown whatever this says.' });

const notificationsBody = z.strictObject({
  /** Receives a JSON POST when a domain of the group changes; https only. */
  webhook: z.url({ protocol: /^https$/, error: 'must be an https URL' }).nullable(),
  email: emailField.nullable(),
  webhook_format: z.enum(WEBHOOK_FORMATS).optional().meta({ description: 'Shape of the alert webhooks: `json` (ours), `slack` (incoming webhook) or `teams` (Workflows, Adaptive Card). Unchanged when absent; `json` at first.' }),
  alerts: alertPreferences.optional().meta({ description: 'Unchanged when absent; no alerts are sent at first.' }),
});

const settingsSchema = z.object({
  id: z.int(),
  webhook: z.string().nullable(),
  email: z.string().nullable(),
  webhook_format: z.enum(WEBHOOK_FORMATS),
  alerts: alertPreferences,
});

const setNotifications = createRoute({
  method: 'put',
  path: '/groups/{id{[0-9]+}}/notifications',
  summary: "Where a group hears of changes to its domains' checks",
  tags: ['admin'],
  ...access('admin'),
  request: { params: z.object({ id: pathId }), body: jsonRequest(notificationsBody) },
  responses: {
    200: json(settingsSchema, 'The settings now in force.'),
    ...problems(400, 401, 403, 404),
  },
});

const getNotifications = createRoute({
  method: 'get',
  path: '/groups/{id{[0-9]+}}/notifications',
  summary: 'Where a group hears of changes and alerts, and which alerts it wants',
  tags: ['admin'],
  ...access('admin'),
  request: { params: z.object({ id: pathId }) },
  responses: { 200: json(settingsSchema, 'The settings in force.'), ...problems(401, 403, 404) },
});

const kinds = (list: string) => list.split(',').filter(isAlertKind);

async function settingsOf(d1: D1Database, id: number): Promise<z.infer<typeof settingsSchema> | null> {
  const row = await d1
    .prepare(`SELECT g.id, g.notify_webhook AS webhook, g.notify_email AS email, coalesce(s.webhook_format, 'json') AS format, coalesce(s.webhook_kinds, '') AS webhook_kinds, coalesce(s.email_kinds, '') AS email_kinds
      FROM groups g LEFT JOIN group_alert_settings s ON s.group_id = g.id WHERE g.id = ?1`)
    .bind(id)
    .first<{ id: number; webhook: string | null; email: string | null; format: WebhookFormat; webhook_kinds: string; email_kinds: string }>();
  return row ? { id: row.id, webhook: row.webhook, email: row.email, webhook_format: row.format, alerts: { webhook: kinds(row.webhook_kinds), email: kinds(row.email_kinds) } } : null;
}

/**
 * PUT /api/admin/groups/:id/notifications: where the group hears of changes to its domains' DNS
 * checks (docs/monitoring.md), and which alerts it wants on each (docs/alerts.md). Both null turns
 * notifications off. GET answers the same settings.
 */
export const groupNotificationRoutes = new ApiRouter().declare(setNotifications, async (c) => {
  const id = idParam(c, 'id');
  const settings = c.req.valid('json');
  const db = database(c.env.DB);
  const group = id === null ? undefined : await db.select({ id: groups.id }).from(groups).where(eq(groups.id, id)).get();
  if (!group) return notFound(c, `group ${c.req.param('id')}`);
  const subject = { actor: c.get('principal').actor, action: 'group.notifications', entity: 'group' as const, entityId: group.id };
  const update = db.update(groups).set({ notifyWebhook: settings.webhook, notifyEmail: settings.email }).where(eq(groups.id, group.id));
  const changes: Statement[] = [update];
  if (settings.webhook_format !== undefined || settings.alerts !== undefined) {
    // Absent fields keep their value: the upsert's own defaults on first use, the stored ones after.
    const format = settings.webhook_format ?? null;
    const webhookKinds = settings.alerts ? [...new Set(settings.alerts.webhook)].join(',') : null;
    const emailKinds = settings.alerts ? [...new Set(settings.alerts.email)].join(',') : null;
    changes.push(sql`INSERT INTO group_alert_settings (group_id, webhook_format, webhook_kinds, email_kinds)
      VALUES (${group.id}, coalesce(${format}, 'json'), coalesce(${webhookKinds}, ''), coalesce(${emailKinds}, ''))
      ON CONFLICT (group_id) DO UPDATE SET webhook_format = coalesce(${format}, webhook_format), webhook_kinds = coalesce(${webhookKinds}, webhook_kinds),
        email_kinds = coalesce(${emailKinds}, email_kinds), updated_at = strftime('%Y-%m-%dT%H:%M:%SZ','now')`);
  }
  const snapshot = sql`(SELECT json_object('id', g.id, 'notify_webhook', g.notify_webhook, 'notify_email', g.notify_email,
    'webhook_format', s.webhook_format, 'alert_webhook_kinds', s.webhook_kinds, 'alert_email_kinds', s.email_kinds)
    FROM groups g LEFT JOIN group_alert_settings s ON s.group_id = g.id WHERE g.id = ${group.id})`;
  await runBatch(c.env.DB, auditedUpdate(subject, changes, snapshot));
  return c.json((await settingsOf(c.env.DB, group.id))!);
})
  .declare(getNotifications, async (c) => {
    const id = idParam(c, 'id');
    const settings = id === null ? null : await settingsOf(c.env.DB, id);
    if (!settings) return notFound(c, `group ${c.req.param('id')}`);
    return c.json(settings);
  });
