/**
 * /api/mta-sts/{domain} (docs/mta-sts-hosting.md): whether the Worker hosts the domain's MTA-STS
 * policy and in which mode, the policy it serves, and the DNS records the owner publishes.
 *
 * Who may: anyone who sees the (monitored) domain reads it, as with the domain's checks; only
 * administrators change it. That is the existing model (members are read-only, their tokens can only
 * `read`), and it fits the risk: `enforce` tells every sender to refuse delivery to an MX host the
 * policy does not name, so a wrong switch bounces mail. Changes are audited (entity `domain`).
 */
import { createRoute } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { database } from '../db/client';
import { runBatch } from '../db/d1-batch';
import { domainKey } from '../lib/domain-name';
import { latestCheck } from '../monitor/store-check';
import { generatedPolicy, hostingState } from '../mta-sts/hosting';
import { recordsToPublish, tlsReportAddress } from '../mta-sts/policy';
import { auditValues } from './admin/audit-log';
import { visibleMonitoredDomain } from './domain-status-routes';
import { ApiRouter } from './openapi/api-router';
import { json, jsonRequest, problems } from './openapi/responses';
import { access } from './openapi/security';

const params = z.object({ domain: z.string().meta({ description: 'A monitored domain the caller may see.' }) });

const settingsSchema = z
  .object({
    domain: z.string(),
    enabled: z.boolean().meta({ description: 'The Worker serves https://mta-sts.<domain>/.well-known/mta-sts.txt.' }),
    mode: z.enum(['testing', 'enforce']),
    updated_at: z.string().nullable(),
    updated_by: z.string().nullable(),
    policy_url: z.string(),
    policy: z
      .object({ text: z.string(), id: z.string(), mode: z.enum(['testing', 'enforce']), max_age: z.int(), mx: z.array(z.string()), checked_at: z.string() })
      .nullable()
      .meta({ description: "The policy (served only while enabled), from the latest check's MX hosts; null before a check or without MX hosts." }),
    published_id: z
      .string()
      .nullable()
      .meta({ description: "The id in the domain's _mta-sts TXT record as its latest check found it; null when none." }),
    published_id_current: z.boolean().meta({ description: 'The published id is the current policy\'s: senders will fetch this policy.' }),
    records: z
      .array(z.object({ name: z.string(), type: z.enum(['CNAME', 'TXT']), value: z.string().nullable(), purpose: z.string(), note: z.string().optional() }))
      .meta({ description: 'What the owner publishes in DNS.' }),
  })
  .meta({ id: 'MtaStsHosting' });

const getRoute = createRoute({
  method: 'get',
  path: '/mta-sts/{domain}',
  summary: "A domain's hosted MTA-STS: settings, policy and the DNS records to publish",
  tags: ['mta-sts'],
  ...access('read', visibleMonitoredDomain),
  request: { params },
  responses: { 200: json(settingsSchema, 'The settings.'), ...problems(401, 403, 404) },
});

const putRoute = createRoute({
  method: 'put',
  path: '/mta-sts/{domain}',
  summary: 'Turn hosted MTA-STS on or off and set its mode (administrators)',
  tags: ['mta-sts'],
  ...access('admin', visibleMonitoredDomain),
  request: { params, body: jsonRequest(z.strictObject({ enabled: z.boolean('must be true or false'), mode: z.enum(['testing', 'enforce'], 'must be "testing" or "enforce"') })) },
  responses: { 200: json(settingsSchema, 'The new settings.'), ...problems(400, 401, 403, 404) },
});

async function settings(env: Env, domain: string) {
  const state = await hostingState(env.DB, domain);
  const policy = (await generatedPolicy(env.DB, domain, state.mode)) ?? null;
  // Senders re-fetch the policy only when the TXT id changes: say when the published one is stale.
  const published = ((await latestCheck(env.DB, domain))?.check.mta_sts.facts as { id?: string | null } | undefined)?.id ?? null;
  return {
    domain,
    enabled: state.enabled,
    mode: state.mode,
    updated_at: state.updated_at,
    updated_by: state.updated_by,
    policy_url: `https://mta-sts.${domain}/.well-known/mta-sts.txt`,
    policy,
    published_id: published,
    published_id_current: policy !== null && published === policy.id,
    records: recordsToPublish(domain, { id: policy?.id ?? null, cnameTarget: env.MTA_STS_CNAME_TARGET ?? '', reportAddress: tlsReportAddress(env.REPORT_ADDRESSES) }),
  };
}

export const mtaStsRoutes = new ApiRouter()
  .declare(getRoute, async (c) => c.json(await settings(c.env, domainKey(c.req.param('domain')))))
  .declare(putRoute, async (c) => {
    const domain = domainKey(c.req.param('domain'));
    const body = c.req.valid('json');
    const before = await hostingState(c.env.DB, domain);
    if (before.enabled !== body.enabled || before.mode !== body.mode || before.updated_at === null) {
      const actor = c.get('principal').actor;
      const id = (await database(c.env.DB).get<{ id: number }>(sql`SELECT id FROM domains WHERE name = ${domain}`))?.id ?? null;
      const subject = { actor, action: 'domain.mta_sts', entity: 'domain' as const, entityId: id };
      await runBatch(c.env.DB, [
        sql`INSERT INTO mta_sts_hosting (domain, enabled, mode, updated_at, updated_by) VALUES (${domain}, ${body.enabled ? 1 : 0}, ${body.mode}, strftime('%Y-%m-%dT%H:%M:%SZ','now'), ${actor})
          ON CONFLICT (domain) DO UPDATE SET enabled = excluded.enabled, mode = excluded.mode, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
        auditValues(subject, { domain, enabled: before.enabled, mode: before.mode }, { domain, enabled: body.enabled, mode: body.mode }),
      ]);
    }
    return c.json(await settings(c.env, domain));
  });
