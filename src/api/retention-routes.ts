/**
 * /api/admin/retention (docs/retention.md): the deployment's retention defaults, each group's
 * override, deletions still being worked through, recent purge runs; a purge run now; and erasing a
 * group with the domains only it owned and all their data. Administrators only, like every change of
 * who keeps what; each change writes an audit row in the same D1 transaction.
 */
import { createRoute } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { database } from '../db/client';
import { runBatch } from '../db/d1-batch';
import { enqueueMonitoring } from '../monitor/monitor-queue';
import { retentionDefaults } from '../retention/policy';
import { purgeExpiredData, queueDataDeletion } from '../retention/purge';
import { auditedDelete, auditValues, groupSnapshot, type Statement } from './admin/audit-log';
import { idParam, notFound } from './admin/validation';
import { ApiRouter, pathId } from './openapi/api-router';
import { json, jsonRequest, problems } from './openapi/responses';
import { access } from './openapi/security';

const admin = { tags: ['admin', 'retention'], ...access('admin') };

/** 0 keeps forever; at most 100 years. */
const daysField = z
  .number('must be a number of days or null')
  .int('must be a whole number of days')
  .min(0, 'must be 0 (keep forever) or more')
  .max(36_500, 'is limited to 36500 days')
  .nullable();

const groupRetentionSchema = z.object({
  id: z.int(),
  name: z.string(),
  raw_days: z.int().nullable().meta({ description: 'Override; null: the deployment default.' }),
  record_days: z.int().nullable().meta({ description: 'Override; null: the deployment default.' }),
});

const runSchema = z.object({
  id: z.int(),
  trigger: z.string(),
  started_at: z.string(),
  finished_at: z.string().nullable(),
  complete: z.boolean().meta({ description: 'False: the run stopped at its budget; the next one carries on.' }),
  counts: z.record(z.string(), z.unknown()),
});

const overview = createRoute({
  method: 'get',
  path: '/retention',
  summary: 'Retention: defaults, group overrides, pending deletions, recent purge runs',
  ...admin,
  responses: {
    200: json(
      z.object({
        defaults: z.object({ raw_days: z.int(), record_days: z.int() }).meta({ description: 'RAW_RETENTION_DAYS and RECORD_RETENTION_DAYS; 0 keeps forever.' }),
        groups: z.array(groupRetentionSchema).meta({ description: 'Every group (up to 1,000, by name) with its overrides.' }),
        pending_deletions: z.array(z.object({ id: z.int(), domain: z.string(), requested_at: z.string(), requested_by: z.string(), counts: z.record(z.string(), z.unknown()) })),
        recent_runs: z.array(runSchema).meta({ description: 'The 10 latest purge runs, newest first.' }),
      }),
      'The retention settings and the purge state.',
    ),
    ...problems(401, 403),
  },
});

const setGroupRetention = createRoute({
  method: 'put',
  path: '/retention/groups/{id{[0-9]+}}',
  summary: "Set a group's retention overrides (null: the deployment default)",
  ...admin,
  request: { params: z.object({ id: pathId }), body: jsonRequest(z.strictObject({ raw_days: daysField, record_days: daysField })) },
  responses: { 200: json(groupRetentionSchema, 'The group with its overrides.'), ...problems(400, 401, 403, 404) },
});

const runNow = createRoute({
  method: 'post',
  path: '/retention/run',
  summary: 'Run one bounded purge pass now (the daily cron does the same)',
  ...admin,
  responses: { 200: json(z.object({ run_id: z.int(), complete: z.boolean(), counts: z.record(z.string(), z.int()) }), 'What the pass removed.'), ...problems(401, 403) },
});

const eraseGroup = createRoute({
  method: 'post',
  path: '/groups/{id{[0-9]+}}/erase',
  summary: 'Delete a group, the domains no other group owns, and all their data',
  description:
    'DELETE /api/admin/groups/{id} keeps the domains (and their data). This also deletes each domain the group alone owned, stops its monitor and queues its reports, roll-ups and check history for the purge (docs/retention.md). Domains another group owns stay, with their data.',
  ...admin,
  request: { params: z.object({ id: pathId }) },
  responses: { 200: json(z.object({ deleted_domains: z.array(z.string()) }), 'Erased; the data goes in batches.'), ...problems(401, 403, 404) },
});

async function groupRetentionRow(d1: D1Database, id: number) {
  return database(d1).get<{ id: number; name: string; raw_days: number | null; record_days: number | null } | undefined>(
    sql`SELECT g.id, g.name, r.raw_days, r.record_days FROM groups g LEFT JOIN group_retention r ON r.group_id = g.id WHERE g.id = ${id}`,
  );
}

export const retentionRoutes = new ApiRouter()
  .declare(overview, async (c) => {
    const db = database(c.env.DB);
    const defaults = retentionDefaults(c.env);
    const [groups, pending, runs] = await Promise.all([
      db.all<{ id: number; name: string; raw_days: number | null; record_days: number | null }>(
        sql`SELECT g.id, g.name, r.raw_days, r.record_days FROM groups g LEFT JOIN group_retention r ON r.group_id = g.id ORDER BY lower(g.name) LIMIT 1000`,
      ),
      db.all<{ id: number; domain: string; requested_at: string; requested_by: string; counts: string }>(
        sql`SELECT id, domain, requested_at, requested_by, counts FROM data_deletions WHERE done_at IS NULL ORDER BY id LIMIT 50`,
      ),
      db.all<{ id: number; trigger: string; started_at: string; finished_at: string | null; complete: number; counts: string }>(
        sql`SELECT id, trigger, started_at, finished_at, complete, counts FROM purge_runs ORDER BY id DESC LIMIT 10`,
      ),
    ]);
    return c.json({
      defaults: { raw_days: defaults.rawDays, record_days: defaults.recordDays },
      groups,
      pending_deletions: pending.map((p) => ({ ...p, counts: JSON.parse(p.counts) as Record<string, unknown> })),
      recent_runs: runs.map((r) => ({ ...r, complete: r.complete === 1, counts: JSON.parse(r.counts) as Record<string, unknown> })),
    });
  })
  .declare(setGroupRetention, async (c) => {
    const id = idParam(c, 'id');
    const before = id === null ? undefined : await groupRetentionRow(c.env.DB, id);
    if (id === null || !before) return notFound(c, `group ${c.req.param('id')}`);
    const body = c.req.valid('json');
    const subject = { actor: c.get('principal').actor, action: 'group.retention', entity: 'group' as const, entityId: id };
    const changes: Statement[] =
      body.raw_days === null && body.record_days === null
        ? [sql`DELETE FROM group_retention WHERE group_id = ${id}`]
        : [
            sql`INSERT INTO group_retention (group_id, raw_days, record_days, updated_at) VALUES (${id}, ${body.raw_days}, ${body.record_days}, strftime('%Y-%m-%dT%H:%M:%SZ','now'))
              ON CONFLICT (group_id) DO UPDATE SET raw_days = excluded.raw_days, record_days = excluded.record_days, updated_at = excluded.updated_at`,
          ];
    const after = { ...before, raw_days: body.raw_days, record_days: body.record_days };
    // A PUT of the same values changes nothing and logs nothing.
    if (before.raw_days !== body.raw_days || before.record_days !== body.record_days) {
      await runBatch(c.env.DB, [...changes, auditValues(subject, before, after)]);
    }
    return c.json(after);
  })
  .declare(runNow, async (c) => {
    const result = await purgeExpiredData(c.env, new Date(), { trigger: 'manual' });
    const subject = { actor: c.get('principal').actor, action: 'retention.run', entity: 'group' as const, entityId: null };
    await runBatch(c.env.DB, [auditValues(subject, null, { run_id: result.run_id, complete: result.complete, counts: result.counts })]);
    return c.json(result);
  })
  .declare(eraseGroup, async (c) => {
    const id = idParam(c, 'id');
    if (id === null) return notFound(c, `group ${c.req.param('id')}`);
    const db = database(c.env.DB);
    const owned = await db.all<{ id: number; name: string }>(
      sql`SELECT d.id, d.name FROM group_domains gd JOIN domains d ON d.id = gd.domain_id
        WHERE gd.group_id = ${id} AND NOT EXISTS (SELECT 1 FROM group_domains o WHERE o.domain_id = d.id AND o.group_id <> ${id})`,
    );
    const actor = c.get('principal').actor;
    const ids = JSON.stringify(owned.map((d) => d.id));
    const subject = { actor, action: 'group.erase', entity: 'group' as const, entityId: id };
    const results = await runBatch(
      c.env.DB,
      auditedDelete(
        subject,
        [
          sql`DELETE FROM groups WHERE id = ${id}`,
          sql`DELETE FROM group_members WHERE group_id = ${id}`,
          sql`DELETE FROM group_retention WHERE group_id = ${id}`,
          // The group's own settings and history elsewhere (alerts, digests, change notices kept for a retry).
          sql`DELETE FROM group_alert_settings WHERE group_id = ${id}`,
          sql`DELETE FROM alert_deliveries WHERE group_id = ${id}`,
          sql`DELETE FROM digest_deliveries WHERE group_id = ${id}`,
          sql`DELETE FROM notice_retries WHERE group_id = ${id}`,
          sql`DELETE FROM group_domains WHERE group_id = ${id} OR domain_id IN (SELECT value FROM json_each(${ids}))`,
          sql`DELETE FROM domains WHERE id IN (SELECT value FROM json_each(${ids}))`,
          ...owned.map((d) => queueDataDeletion(d.name, actor)),
        ],
        groupSnapshot(sql`g.id = ${id}`),
      ),
    );
    if (results[1]?.meta.changes === 0) return notFound(c, `group ${id}`);
    await enqueueMonitoring(
      c.env,
      owned.map((d) => d.name),
      'stop',
    );
    return c.json({ deleted_domains: owned.map((d) => d.name) });
  });
