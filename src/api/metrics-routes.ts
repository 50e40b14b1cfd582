import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { computeMetrics, isMonth, monthOf, readSnapshots, type Metrics } from '../stats/metrics';
import { ApiRouter } from './openapi/api-router';
import { json, problems } from './openapi/responses';
import { access } from './openapi/security';
import { invalid } from './problem';

/**
 * GET /api/metrics?from=YYYY-MM&to=YYYY-MM (docs/metrics.md): the current month computed live over the
 * domains the caller may see; earlier months from the whole-service snapshots, which only principals
 * who see every domain get (`snapshots_available`), since a snapshot counts every domain.
 */

/** Months a request may span at most. */
export const MAX_MONTHS = 120;

function monthIndex(month: string): number {
  return Number(month.slice(0, 4)) * 12 + Number(month.slice(5, 7)) - 1;
}

interface Item extends Metrics {
  source: 'live' | 'snapshot';
  computed_at: string;
}

const month = (description: string) => z.string().refine(isMonth, 'must be a month, YYYY-MM').optional().meta({ description });

const share = z.object({ count: z.int(), fraction: z.number().meta({ description: 'count over the checked domains (0 when none is checked yet).' }) });

const metricsSchema = z
  .object({
    month: z.string(),
    domains: z.int(),
    checked: z.int(),
    not_checked_yet: z.int(),
    dmarc: z.object({ reject: share, quarantine: share, none: share, missing: share }),
    spf_valid: share,
    mta_sts_enforce: share,
    dnssec_validated: share,
    reports: z.object({ messages: z.int(), dmarc_pass: z.int(), dmarc_pass_rate: z.number().nullable() }),
    source: z.enum(['live', 'snapshot']),
    computed_at: z.string(),
  })
  .meta({ id: 'MonthlyMetrics' });

const getMetrics = createRoute({
  method: 'get',
  path: '/metrics',
  summary: 'Adoption across the domains the caller sees, by month',
  tags: ['statistics'],
  ...access('read'),
  request: { query: z.object({ from: month('First month; default the current one.'), to: month('Last month, at most the current one; default the current one.') }) },
  responses: {
    200: json(
      z.object({
        from: z.string(),
        to: z.string(),
        snapshots_available: z.boolean().meta({ description: 'Earlier months come from whole-service snapshots, shown only to those who see every domain.' }),
        note: z.string().optional(),
        items: z.array(metricsSchema),
      }),
      'One item per month: snapshots for past months, live figures for the current one.',
    ),
    ...problems(400, 401, 403),
  },
});

export const metricsRoutes = new ApiRouter().declare(getMetrics, async (c) => {
  const now = new Date();
  const current = monthOf(now);
  const query = c.req.valid('query');
  const from = query.from ?? current;
  const to = query.to ?? current;
  if (from > to) return invalid(c, [{ path: 'from', message: 'must not be after to' }]);
  if (to > current) return invalid(c, [{ path: 'to', message: `must not be after the current month (${current})` }]);
  if (monthIndex(to) - monthIndex(from) + 1 > MAX_MONTHS) return invalid(c, [{ path: 'from', message: `at most ${MAX_MONTHS} months per request` }]);

  const principal = c.get('principal');
  const snapshotsAvailable = principal.allDomains;
  const items: Item[] = [];
  if (snapshotsAvailable && from < current) {
    const last = to < current ? to : current;
    for (const s of await readSnapshots(c.env.DB, from, last)) {
      if (s.month < current) items.push({ ...s.metrics, source: 'snapshot', computed_at: s.computed_at });
    }
  }
  if (to === current) {
    const live = await computeMetrics(c.env.DB, principal, current);
    items.push({ ...live, source: 'live', computed_at: now.toISOString().replace(/\.\d{3}Z$/, 'Z') });
  }
  return c.json({
    from,
    to,
    snapshots_available: snapshotsAvailable,
    ...(snapshotsAvailable ? {} : { note: 'Only the current month is available: monthly snapshots cover every domain, so they are shown only to those who see all domains.' }),
    items,
  });
});
