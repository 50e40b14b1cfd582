import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { canSeeDomain } from '../auth/domain-access';
import { domainKey } from '../lib/domain-name';
import { dayToMs } from '../stats/date-range';
import { loadRejectPath, rejectPathRange } from '../stats/reject-path-data';
import { ApiRouter } from './openapi/api-router';
import { json, problems } from './openapi/responses';
import { access } from './openapi/security';
import { problem } from './problem';

/** GET /api/aggregatereport/:domain/reject-path (docs/reject-path.md). */

const policy = z.enum(['none', 'quarantine', 'reject']);
const categoryTotals = z.object({ sources: z.int(), dmarc_fail: z.int(), would_be_rejected: z.int() });
const impact = z.object({ messages: z.int(), share: z.number().nullable() });

export const rejectPathSchema = z.object({
  domain: z.string(),
  from: z.string(),
  to: z.string(),
  messages: z.int(),
  dmarc_pass: z.int(),
  dmarc_fail: z.int(),
  pass_rate: z.number().nullable(),
  identified_pass_rate: z.number().nullable().meta({ description: 'Pass rate of mail from identified senders (spoofing and unknown left out).' }),
  current: z.object({
    record: z.string().nullable(),
    source: z.enum(['check', 'reports', 'none']).meta({ description: 'Where the current policy comes from: the latest check, else the latest report.' }),
    policy_domain: z.string().nullable().meta({ description: 'The domain whose record applies: a parent when the domain has none of its own (its sp, else p).' }),
    p: policy.nullable(),
    sp: policy.nullable(),
    pct: z.int(),
    since: z.string().nullable().meta({ description: 'First day from which every report of the window shows the current p and pct.' }),
  }),
  categories: z.object({ legitimate: categoryTotals, forwarded: categoryTotals, unknown: categoryTotals }),
  impact: z.object({ quarantine: impact, reject: impact }).meta({ description: 'Messages of the window each policy (pct=100) would affect beyond what receivers already did, and their share of all messages.' }),
  sources: z.array(
    z.object({
      source_ip: z.string(),
      ptr: z.string().nullable(),
      base_domain: z.string().nullable(),
      service: z.object({ name: z.string(), type: z.string().nullable() }).nullable(),
      messages: z.int(),
      dmarc_fail: z.int(),
      would_be_quarantined: z.int(),
      would_be_rejected: z.int(),
      category: z.enum(['legitimate', 'forwarded', 'unknown']),
      reason: z.enum(['receiver-override', 'own-infrastructure', 'known-service', 'dkim-survived', 'network-operator', 'unmapped-name', 'no-identity', 'not-looked-up']),
    }),
  ),
  omitted_sources: z.int().meta({ description: 'Failing sources beyond the 200 classified, counted as unknown.' }),
  next_step: z.object({
    step: z.object({ p: policy, pct: z.int() }).nullable().meta({ description: 'Null at p=reject (pct 100) already.' }),
    ready: z.boolean(),
    record: z.string().meta({ description: 'The DMARC TXT record to publish at _dmarc.<domain> for the step, other tags kept.' }),
    conditions: z.array(z.object({ id: z.enum(['volume', 'pass-rate', 'no-legitimate-failing', 'settled']), met: z.boolean(), text: z.string() })),
    notes: z.array(z.string()),
  }),
});

const rejectPathRoute = createRoute({
  method: 'get',
  path: '/aggregatereport/{domain}/reject-path',
  summary: 'Who still fails DMARC (legitimate, forwarded, unknown), what quarantine and reject would affect, and the next policy step',
  tags: ['statistics'],
  ...access('read'),
  request: {
    params: z.object({ domain: z.string().meta({ description: 'A domain the caller may see.' }) }),
    query: z.object({
      to: z
        .string()
        .refine((text) => dayToMs(text) !== null, 'must be a date: YYYY-MM-DD')
        .optional()
        .meta({ description: 'Last day of the 30-day window (default today, UTC).', format: 'date' }),
    }),
  },
  responses: { 200: json(rejectPathSchema, 'The path to reject over the 30 days up to `to`.'), ...problems(400, 401, 403, 404) },
});

export const rejectPathRoutes = new ApiRouter().declare(rejectPathRoute, async (c) => {
  const raw = c.req.param('domain') ?? '';
  const domain = domainKey(raw);
  if (!(await canSeeDomain(c.env.DB, c.get('principal'), domain))) return problem(c, 404, 'Not Found', `No domain ${raw}.`);
  return c.json(await loadRejectPath(c.env.DB, domain, rejectPathRange(c.req.valid('query').to)));
});
