import { Hono } from 'hono';
import { requireScope, type AppEnv } from '../auth/authenticate';
import { computeMetrics, isMonth, monthOf, readSnapshots, type Metrics } from '../stats/metrics';
import { problem } from './problem';

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

export const metricsRoutes = new Hono<AppEnv>().get('/metrics', requireScope('read'), async (c) => {
  const now = new Date();
  const current = monthOf(now);
  const from = c.req.query('from') ?? current;
  const to = c.req.query('to') ?? current;
  if (!isMonth(from)) return problem(c, 400, 'Bad Request', 'from must be a month, YYYY-MM');
  if (!isMonth(to)) return problem(c, 400, 'Bad Request', 'to must be a month, YYYY-MM');
  if (from > to) return problem(c, 400, 'Bad Request', 'from must not be after to');
  if (to > current) return problem(c, 400, 'Bad Request', `to must not be after the current month (${current})`);
  if (monthIndex(to) - monthIndex(from) + 1 > MAX_MONTHS) return problem(c, 400, 'Bad Request', `at most ${MAX_MONTHS} months per request`);

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
