import { createRoute } from '@hono/zod-openapi';
import { sql, type SQL } from 'drizzle-orm';
import type { Context } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../auth/authenticate';
import { canSeeDomain } from '../auth/domain-access';
import { database } from '../db/client';
import { domainKey } from '../lib/domain-name';
import { toCsv } from '../stats/csv';
import { addDays, dayToMs, daysBetween, isoWeek, readDayRange, type DayRange } from '../stats/date-range';
import { ApiRouter } from './openapi/api-router';
import { jsonOrCsv, problems } from './openapi/responses';
import { access } from './openapi/security';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, pageFrom, pageOf, pageQuery } from './pagination';
import { invalid, problem } from './problem';
import { SOURCE_BASE_DOMAIN, SOURCE_PTR, SOURCE_SERVICE_NAME, SOURCE_SERVICE_TYPE, sourceNameJoins } from '../senders/source-name-sql';

/**
 * Aggregate-report statistics for one domain (optionally with its sub-domains) over a range of days
 * (docs/statistics.md). Everything is read from the roll-ups written at ingest (aggregate_daily,
 * aggregate_daily_sources, failure_daily) and from the one-row-per-report tables, never from
 * aggregate_records, so the cost follows the number of days and sources, not of records.
 */

/** Rows a CSV export of the sources holds at most per request (`next_cursor` gives the rest). */
export const MAX_CSV_ROWS = 10_000;

interface Scope {
  domain: string;
  subdomains: boolean;
  range: DayRange;
  format: 'json' | 'csv';
}

type Ctx = Context<AppEnv>;

const day = (description: string) =>
  z
    .string()
    .refine((text) => dayToMs(text) !== null, 'must be a date: YYYY-MM-DD')
    .optional()
    .meta({ description, format: 'date' });

/** The query every statistics route takes; the range's own rules (order, length) are readDayRange's. */
const scopeQuery = z.object({
  from: day('First day (UTC) a report starts on; default 29 days before `to`.'),
  to: day('Last day, included; default today (UTC). The range spans at most 400 days.'),
  include_subdomains: z.enum(['true', 'false'], 'is true or false').optional().meta({ description: 'Also count the sub-domains (default false).' }),
  format: z.enum(['json', 'csv'], 'is json or csv').default('json'),
});

const domainParams = z.object({ domain: z.string().meta({ description: 'A domain the caller may see (its sub-domains with include_subdomains).' }) });

/** The common inputs of every route; a Response for a bad range or a domain the principal may not see. */
async function readScope(c: Ctx, query: z.output<typeof scopeQuery>): Promise<Scope | Response> {
  const raw = c.req.param('domain') ?? '';
  const domain = domainKey(raw);
  if (!(await canSeeDomain(c.env.DB, c.get('principal'), domain))) return problem(c, 404, 'Not Found', `No domain ${raw}.`);
  const range = readDayRange({ from: query.from, to: query.to });
  if (typeof range === 'string') return problem(c, 400, 'Bad Request', range);
  return { domain, subdomains: query.include_subdomains === 'true', range, format: query.format };
}

/** The domain, or the domain and its sub-domains: a suffix test with substr (D1 caps LIKE patterns at 50 bytes). */
function domainMatch(column: string, scope: Scope): SQL {
  const col = sql.raw(column);
  return scope.subdomains
    ? sql`(${col} = ${scope.domain} OR substr(${col}, -length(${scope.domain}) - 1) = '.' || ${scope.domain})`
    : sql`${col} = ${scope.domain}`;
}

function dayIn(column: string, range: DayRange): SQL {
  return sql`${sql.raw(column)} BETWEEN ${range.from} AND ${range.to}`;
}

function csvResponse(c: Ctx, name: string, columns: readonly string[], rows: readonly object[], headers: Record<string, string> = {}) {
  return c.body(toCsv(columns, rows), 200, {
    'Content-Type': 'text/csv; charset=utf-8; header=present',
    'Content-Disposition': `attachment; filename="${name}.csv"`,
    ...headers,
  });
}

interface DailyTotals {
  messages: number;
  dmarc_pass: number;
  dkim_pass: number;
  spf_pass: number;
  both_pass: number;
  disposition_none: number;
  disposition_quarantine: number;
  disposition_reject: number;
  overridden: number;
  fail_not_rejected: number;
}

const DAILY_SUMS = sql.raw(`coalesce(sum(messages), 0) AS messages,
  coalesce(sum(dmarc_pass), 0) AS dmarc_pass,
  coalesce(sum(dkim_pass), 0) AS dkim_pass,
  coalesce(sum(spf_pass), 0) AS spf_pass,
  coalesce(sum(both_pass), 0) AS both_pass,
  coalesce(sum(disposition_none), 0) AS disposition_none,
  coalesce(sum(disposition_quarantine), 0) AS disposition_quarantine,
  coalesce(sum(disposition_reject), 0) AS disposition_reject,
  coalesce(sum(overridden), 0) AS overridden,
  coalesce(sum(fail_not_rejected), 0) AS fail_not_rejected`);

const ZERO: DailyTotals = {
  messages: 0,
  dmarc_pass: 0,
  dkim_pass: 0,
  spf_pass: 0,
  both_pass: 0,
  disposition_none: 0,
  disposition_quarantine: 0,
  disposition_reject: 0,
  overridden: 0,
  fail_not_rejected: 0,
};

/** The measures of a summary or a time-series row. */
function measures(reports: number, t: DailyTotals) {
  const dmarcFail = t.messages - t.dmarc_pass;
  return {
    reports,
    messages: t.messages,
    dmarc_pass: t.dmarc_pass,
    dmarc_fail: dmarcFail,
    dkim_aligned_pass: t.dkim_pass,
    spf_aligned_pass: t.spf_pass,
    both_aligned_pass: t.both_pass,
    disposition_none: t.disposition_none,
    disposition_quarantine: t.disposition_quarantine,
    disposition_reject: t.disposition_reject,
    overridden: t.overridden,
    // Messages failing DMARC that the receiver did not reject: what p=reject would block on top of today.
    would_be_blocked_at_reject: t.fail_not_rejected,
  };
}

const MEASURE_COLUMNS = [
  'reports',
  'messages',
  'dmarc_pass',
  'dmarc_fail',
  'dkim_aligned_pass',
  'spf_aligned_pass',
  'both_aligned_pass',
  'disposition_none',
  'disposition_quarantine',
  'disposition_reject',
  'overridden',
  'would_be_blocked_at_reject',
] as const;

/** Only complete reports count: a report still being stored has no roll-up rows yet. */
function reportsWhere(scope: Scope): SQL {
  return sql`status = 'complete' AND ${domainMatch('domain', scope)} AND ${dayIn('day', scope.range)}`;
}

/** Sources: keyset cursor over (measure desc, source_ip asc), opaque to clients. */
interface SourceCursor {
  value: number;
  ip: string;
}

function encodeCursor(cursor: SourceCursor): string {
  return btoa(JSON.stringify([cursor.value, cursor.ip])).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function decodeCursor(text: string): SourceCursor | null {
  try {
    const parsed = JSON.parse(atob(text.replace(/-/g, '+').replace(/_/g, '/'))) as unknown;
    if (Array.isArray(parsed) && parsed.length === 2 && Number.isInteger(parsed[0]) && typeof parsed[1] === 'string') {
      return { value: parsed[0] as number, ip: parsed[1] };
    }
  } catch {
    // fall through
  }
  return null;
}

interface SourceRow {
  source_ip: string;
  messages: number;
  dmarc_pass: number;
  dmarc_fail: number;
  dkim_pass: number;
  spf_pass: number;
  quarantined: number;
  rejected: number;
  would_be_blocked_at_reject: number;
  ptr: string | null;
  base_domain: string | null;
  service_name: string | null;
  service_type: string | null;
}

const SOURCE_COLUMNS = [
  'source_ip',
  'messages',
  'dmarc_pass',
  'dmarc_fail',
  'dkim_pass',
  'spf_pass',
  'quarantined',
  'rejected',
  'would_be_blocked_at_reject',
  'ptr',
  'base_domain',
  'service_name',
  'service_type',
] as const;

interface ServiceRow {
  service_name: string | null;
  service_type: string | null;
  base_domain: string | null;
  sources: number;
  messages: number;
  dmarc_pass: number;
  dmarc_fail: number;
  dkim_aligned_pass: number;
  spf_aligned_pass: number;
  would_be_blocked_at_reject: number;
}

const SERVICE_COLUMNS = [
  'service_name',
  'service_type',
  'base_domain',
  'sources',
  'messages',
  'dmarc_pass',
  'dmarc_fail',
  'dkim_aligned_pass',
  'spf_aligned_pass',
  'would_be_blocked_at_reject',
] as const;

const TLS_COLUMNS = ['org_name', 'policy_type', 'reports', 'successful_sessions', 'failed_sessions', 'failure_types'] as const;

/** Records per report stay below this (a record is over 100 bytes of XML and a report is capped at 1 GiB unpacked), so id * base + ordinal is a total order. */
const RECORD_CURSOR_BASE = 10_000_000;

interface RecordRow {
  report_id: number;
  ordinal: number;
  reporter: string;
  org_name: string;
  begin_at: string;
  end_at: string;
  source_ip: string;
  count: number;
  disposition: string | null;
  dkim: string | null;
  spf: string | null;
  header_from: string | null;
  envelope_from: string | null;
  envelope_to: string | null;
}

const RECORD_COLUMNS = [
  'report_id',
  'ordinal',
  'reporter',
  'org_name',
  'begin_at',
  'end_at',
  'source_ip',
  'count',
  'disposition',
  'dkim',
  'spf',
  'header_from',
  'envelope_from',
  'envelope_to',
] as const;

const measureSchemas = {
  reports: z.int(),
  messages: z.int(),
  dmarc_pass: z.int(),
  dmarc_fail: z.int(),
  dkim_aligned_pass: z.int(),
  spf_aligned_pass: z.int(),
  both_aligned_pass: z.int(),
  disposition_none: z.int(),
  disposition_quarantine: z.int(),
  disposition_reject: z.int(),
  overridden: z.int(),
  would_be_blocked_at_reject: z.int().meta({ description: 'Messages failing DMARC that the receiver did not reject.' }),
};

const scopeEcho = { domain: z.string(), include_subdomains: z.boolean(), from: z.string(), to: z.string() };

/** `{ name, type }` of the sending service a source's reverse-DNS base domain maps to, or null. */
const serviceSchema = z.object({ name: z.string(), type: z.string().nullable() }).nullable();

const statistics = { tags: ['statistics'], ...access('read') };
const failures = problems(400, 401, 403, 404);

const summaryRoute = createRoute({
  method: 'get',
  path: '/aggregatereport/{domain}/summary',
  summary: 'Message volume, DMARC and alignment results, dispositions, failure and TLS reports',
  ...statistics,
  request: { params: domainParams, query: scopeQuery },
  responses: {
    200: jsonOrCsv(
      z.object({
        ...scopeEcho,
        ...measureSchemas,
        failure_reports: z.int(),
        tls: z.object({
          reports: z.int(),
          successful_sessions: z.int(),
          failed_sessions: z.int(),
          by_organisation: z.array(z.object({ org_name: z.string(), reports: z.int(), successful_sessions: z.int(), failed_sessions: z.int() })),
        }),
      }),
      'Counts over reports whose range starts within the days asked for. CSV: one row, tls flattened to tls_* columns.',
    ),
    ...failures,
  },
});

const timeseriesRoute = createRoute({
  method: 'get',
  path: '/aggregatereport/{domain}/timeseries',
  summary: 'The summary measures per day or ISO week, every period of the range included',
  ...statistics,
  request: { params: domainParams, query: scopeQuery.extend({ interval: z.enum(['day', 'week'], 'is day or week').default('day') }) },
  responses: {
    200: jsonOrCsv(
      z.object({
        ...scopeEcho,
        interval: z.enum(['day', 'week']),
        items: z.array(z.object({ period: z.string().meta({ description: 'The day, or the Monday of the week.' }), week: z.string().optional(), ...measureSchemas })),
      }),
      'One row per period.',
    ),
    ...failures,
  },
});

const sourcesRoute = createRoute({
  method: 'get',
  path: '/aggregatereport/{domain}/sources',
  summary: 'Source IPs by messages (or by DMARC failures), with their reverse DNS and sending service',
  ...statistics,
  request: {
    params: domainParams,
    query: scopeQuery.extend({
      limit: z.coerce
        .number({ error: 'must be a positive integer' })
        .int('must be a positive integer')
        .min(1, 'must be a positive integer')
        .max(MAX_CSV_ROWS, `must be at most ${MAX_CSV_ROWS}`)
        .optional()
        .meta({ description: `Rows per page: 1 to ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE}); with format=csv up to ${MAX_CSV_ROWS} (the default).` }),
      cursor: z.string().optional().meta({ description: "The previous page's `next_cursor` (opaque; for CSV, the X-Next-Cursor header)." }),
      failing: z.enum(['true', 'false'], 'is true or false').optional().meta({ description: 'Only sources with DMARC failures, most failures first.' }),
    }),
  },
  responses: {
    200: jsonOrCsv(
      z.object({
        ...scopeEcho,
        failing: z.boolean(),
        items: z.array(
          z.object({
            source_ip: z.string(),
            messages: z.int(),
            dmarc_pass: z.int(),
            dmarc_fail: z.int(),
            dkim_pass: z.int(),
            spf_pass: z.int(),
            quarantined: z.int(),
            rejected: z.int(),
            would_be_blocked_at_reject: z.int(),
            ptr: z.string().nullable(),
            base_domain: z.string().nullable(),
            service: serviceSchema,
          }),
        ),
        next_cursor: z.string().nullable(),
      }),
      'A page of sources. CSV: service as service_name and service_type columns.',
    ),
    ...failures,
  },
});

const reportersRoute = createRoute({
  method: 'get',
  path: '/aggregatereport/{domain}/reporters',
  summary: 'Reports and messages per reporting organisation',
  ...statistics,
  request: { params: domainParams, query: scopeQuery },
  responses: {
    200: jsonOrCsv(
      z.object({ ...scopeEcho, items: z.array(z.object({ reporter: z.string(), org_name: z.string(), reports: z.int(), messages: z.int() })) }),
      'Reporters by messages.',
    ),
    ...failures,
  },
});

const servicesRoute = createRoute({
  method: 'get',
  path: '/aggregatereport/{domain}/services',
  summary: 'Sources grouped by sending service (or base domain, or unidentified)',
  ...statistics,
  request: { params: domainParams, query: scopeQuery },
  responses: {
    200: jsonOrCsv(
      z.object({
        ...scopeEcho,
        items: z.array(
          z.object({
            service: serviceSchema,
            base_domain: z.string().nullable().meta({ description: 'For sources without a mapped service: their base domain (null: no confirmed name).' }),
            sources: z.int(),
            messages: z.int(),
            dmarc_pass: z.int(),
            dmarc_fail: z.int(),
            dkim_aligned_pass: z.int(),
            spf_aligned_pass: z.int(),
            would_be_blocked_at_reject: z.int(),
          }),
        ),
      }),
      'Services by messages. CSV: service as service_name and service_type columns.',
    ),
    ...failures,
  },
});

const tlsRoute = createRoute({
  method: 'get',
  path: '/aggregatereport/{domain}/tls',
  summary: 'SMTP TLS sessions per receiving organisation and policy type, with failure types',
  ...statistics,
  request: { params: domainParams, query: scopeQuery },
  responses: {
    200: jsonOrCsv(
      z.object({
        ...scopeEcho,
        items: z.array(
          z.object({
            org_name: z.string(),
            policy_type: z.string(),
            reports: z.int(),
            successful_sessions: z.int(),
            failed_sessions: z.int(),
            failure_types: z.record(z.string(), z.int()).meta({ description: 'Failed sessions per result type. CSV: `type=n;type=n`.' }),
          }),
        ),
      }),
      'TLS results.',
    ),
    ...failures,
  },
});

const recordsRoute = createRoute({
  method: 'get',
  path: '/aggregatereport/{domain}/records',
  summary: 'The raw records behind the statistics, paginated',
  ...statistics,
  request: {
    params: domainParams,
    query: scopeQuery.extend({
      ...pageQuery.shape,
      source_ip: z.string().regex(/^[0-9a-fA-F:.]{2,45}$/, 'must be an IP address').optional().meta({ description: 'Only the records of this source.' }),
    }),
  },
  responses: {
    200: jsonOrCsv(
      z.object({
        ...scopeEcho,
        items: z.array(
          z.object({
            report_id: z.int(),
            ordinal: z.int(),
            reporter: z.string(),
            org_name: z.string(),
            begin_at: z.string(),
            end_at: z.string(),
            source_ip: z.string(),
            count: z.int(),
            disposition: z.string().nullable(),
            dkim: z.string().nullable(),
            spf: z.string().nullable(),
            header_from: z.string().nullable(),
            envelope_from: z.string().nullable(),
            envelope_to: z.string().nullable(),
          }),
        ),
        next_cursor: z.string().nullable(),
      }),
      'A page of records by report and ordinal (CSV: the cursor in X-Next-Cursor).',
    ),
    ...failures,
  },
});

export const aggregateReportRoutes = new ApiRouter()
  .declare(summaryRoute, async (c) => {
    const scope = await readScope(c, c.req.valid('query'));
    if (scope instanceof Response) return scope;
    const db = database(c.env.DB);
    const [reports, daily, failures, tls] = await Promise.all([
      db.get<{ n: number }>(sql`SELECT count(*) AS n FROM aggregate_reports WHERE ${reportsWhere(scope)}`),
      db.get<DailyTotals>(sql`SELECT ${DAILY_SUMS} FROM aggregate_daily WHERE ${domainMatch('domain', scope)} AND ${dayIn('day', scope.range)}`),
      db.get<{ n: number }>(sql`SELECT coalesce(sum(reports), 0) AS n FROM failure_daily WHERE ${domainMatch('domain', scope)} AND ${dayIn('day', scope.range)}`),
      db.all<{ org_name: string; reports: number; successful_sessions: number; failed_sessions: number }>(
        sql`SELECT t.org_name AS org_name, count(DISTINCT t.id) AS reports,
              coalesce(sum(p.successful_sessions), 0) AS successful_sessions, coalesce(sum(p.failed_sessions), 0) AS failed_sessions
            FROM tls_report_policies p JOIN tls_reports t ON t.id = p.tls_report_id
            WHERE ${domainMatch('p.policy_domain', scope)} AND ${dayIn('substr(t.begin_at, 1, 10)', scope.range)}
            GROUP BY t.org_name ORDER BY t.org_name`,
      ),
    ]);
    const tlsTotals = {
      reports: tls.reduce((n, r) => n + r.reports, 0),
      successful_sessions: tls.reduce((n, r) => n + r.successful_sessions, 0),
      failed_sessions: tls.reduce((n, r) => n + r.failed_sessions, 0),
    };
    const body = {
      domain: scope.domain,
      include_subdomains: scope.subdomains,
      from: scope.range.from,
      to: scope.range.to,
      ...measures(reports?.n ?? 0, daily ?? ZERO),
      failure_reports: failures?.n ?? 0,
      tls: { ...tlsTotals, by_organisation: tls },
    };
    if (scope.format === 'csv') {
      const { tls: _tls, ...flat } = body;
      const row = { ...flat, tls_reports: tlsTotals.reports, tls_successful_sessions: tlsTotals.successful_sessions, tls_failed_sessions: tlsTotals.failed_sessions };
      return csvResponse(c, `${scope.domain}-summary`, Object.keys(row), [row]);
    }
    return c.json(body);
  })
  .declare(timeseriesRoute, async (c) => {
    const query = c.req.valid('query');
    const scope = await readScope(c, query);
    if (scope instanceof Response) return scope;
    const { interval } = query;
    const db = database(c.env.DB);
    const [reportDays, daily] = await Promise.all([
      db.all<{ day: string; n: number }>(sql`SELECT day, count(*) AS n FROM aggregate_reports WHERE ${reportsWhere(scope)} GROUP BY day`),
      db.all<DailyTotals & { day: string }>(
        sql`SELECT day, ${DAILY_SUMS} FROM aggregate_daily WHERE ${domainMatch('domain', scope)} AND ${dayIn('day', scope.range)} GROUP BY day`,
      ),
    ]);
    // Every day (or ISO week) of the range gets a row, zeros included, so a chart needs no gap filling.
    const buckets = new Map<string, { period: string; week?: string; reports: number; totals: DailyTotals }>();
    const keyOf = (day: string) => (interval === 'day' ? { period: day } : (({ start, week }) => ({ period: start, week }))(isoWeek(day)));
    for (let i = 0, n = daysBetween(scope.range.from, scope.range.to); i < n; i++) {
      const key = keyOf(addDays(scope.range.from, i));
      if (!buckets.has(key.period)) buckets.set(key.period, { ...key, reports: 0, totals: { ...ZERO } });
    }
    for (const r of reportDays) buckets.get(keyOf(r.day).period)!.reports += r.n;
    for (const d of daily) {
      const totals = buckets.get(keyOf(d.day).period)!.totals;
      for (const k of Object.keys(ZERO) as (keyof DailyTotals)[]) totals[k] += d[k];
    }
    const rows = [...buckets.values()].map((b) => ({ period: b.period, ...(b.week ? { week: b.week } : {}), ...measures(b.reports, b.totals) }));
    if (scope.format === 'csv') {
      const columns = interval === 'day' ? ['period', ...MEASURE_COLUMNS] : ['period', 'week', ...MEASURE_COLUMNS];
      return csvResponse(c, `${scope.domain}-timeseries-${interval}`, columns, rows);
    }
    return c.json({ domain: scope.domain, include_subdomains: scope.subdomains, from: scope.range.from, to: scope.range.to, interval, items: rows });
  })
  .declare(sourcesRoute, async (c) => {
    const query = c.req.valid('query');
    const scope = await readScope(c, query);
    if (scope instanceof Response) return scope;
    // The limit's bound depends on the format, so the schema checks the larger one.
    const maxLimit = scope.format === 'csv' ? MAX_CSV_ROWS : MAX_PAGE_SIZE;
    const limit = query.limit ?? (scope.format === 'csv' ? MAX_CSV_ROWS : DEFAULT_PAGE_SIZE);
    if (limit > maxLimit) return invalid(c, [{ path: 'limit', message: `must be an integer from 1 to ${maxLimit}` }]);
    const failing = query.failing === 'true';
    const cursorText = query.cursor;
    const cursor = cursorText ? decodeCursor(cursorText) : null;
    if (cursorText && !cursor) return invalid(c, [{ path: 'cursor', message: 'must be a value returned as next_cursor' }]);

    // The sort measure: messages, or for the top failing sources the messages failing DMARC.
    const measure = sql.raw(failing ? 'sum(messages) - sum(dmarc_pass)' : 'sum(messages)');
    const having: SQL[] = [];
    if (failing) having.push(sql`${measure} > 0`);
    if (cursor) having.push(sql`(${measure} < ${cursor.value} OR (${measure} = ${cursor.value} AND source_ip > ${cursor.ip}))`);
    const rows = await database(c.env.DB).all<SourceRow>(sql`
      SELECT g.source_ip, g.messages, g.dmarc_pass, g.messages - g.dmarc_pass AS dmarc_fail, g.dkim_pass, g.spf_pass,
        g.quarantined, g.rejected, g.would_be_blocked_at_reject,
        ${SOURCE_PTR} AS ptr,
        ${SOURCE_BASE_DOMAIN} AS base_domain,
        ${SOURCE_SERVICE_NAME} AS service_name,
        ${SOURCE_SERVICE_TYPE} AS service_type
      FROM (
        SELECT source_ip, sum(messages) AS messages, sum(dmarc_pass) AS dmarc_pass, sum(dkim_pass) AS dkim_pass,
          sum(spf_pass) AS spf_pass, sum(disposition_quarantine) AS quarantined, sum(disposition_reject) AS rejected,
          sum(fail_not_rejected) AS would_be_blocked_at_reject, ${measure} AS sort_value
        FROM aggregate_daily_sources
        WHERE ${domainMatch('domain', scope)} AND ${dayIn('day', scope.range)}
        GROUP BY source_ip
        ${having.length ? sql`HAVING ${sql.join(having, sql` AND `)}` : sql``}
        ORDER BY sort_value DESC, source_ip ASC
        LIMIT ${limit + 1}
      ) g
      ${sourceNameJoins('g.source_ip')}
      ORDER BY g.sort_value DESC, g.source_ip ASC`);
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    const nextCursor =
      rows.length > limit && last ? encodeCursor({ value: failing ? last.dmarc_fail : last.messages, ip: last.source_ip }) : null;
    if (scope.format === 'csv') {
      return csvResponse(c, `${scope.domain}-sources`, SOURCE_COLUMNS, items, nextCursor ? { 'X-Next-Cursor': nextCursor } : {});
    }
    return c.json({
      domain: scope.domain,
      include_subdomains: scope.subdomains,
      from: scope.range.from,
      to: scope.range.to,
      failing,
      items: items.map(({ service_name, service_type, ...r }) => ({
        ...r,
        service: service_name !== null ? { name: service_name, type: service_type } : null,
      })),
      next_cursor: nextCursor,
    });
  })
  .declare(reportersRoute, async (c) => {
    const scope = await readScope(c, c.req.valid('query'));
    if (scope instanceof Response) return scope;
    // One row per report (small): grouped by the reporter key, shown with the name it reports under.
    const rows = await database(c.env.DB).all<{ reporter: string; org_name: string; reports: number; messages: number }>(sql`
      SELECT reporter, max(org_name) AS org_name, count(*) AS reports, coalesce(sum(message_count), 0) AS messages
      FROM aggregate_reports WHERE ${reportsWhere(scope)}
      GROUP BY reporter ORDER BY messages DESC, reporter ASC`);
    if (scope.format === 'csv') return csvResponse(c, `${scope.domain}-reporters`, ['reporter', 'org_name', 'reports', 'messages'], rows);
    return c.json({ domain: scope.domain, include_subdomains: scope.subdomains, from: scope.range.from, to: scope.range.to, items: rows });
  })
  .declare(servicesRoute, async (c) => {
    const scope = await readScope(c, c.req.valid('query'));
    if (scope instanceof Response) return scope;
    // Sources grouped by the service their reverse-DNS base domain maps to; without a mapped service,
    // by the base domain itself; without a confirmed name, one "unidentified" row. Grouping runs over
    // the per-source roll-up (one row per source IP and day), so its cost follows sources, not records.
    const rows = await database(c.env.DB).all<ServiceRow>(sql`
      SELECT s.service_name, s.service_type,
        CASE WHEN s.service_name IS NULL THEN s.base_domain END AS base_domain,
        count(*) AS sources, sum(s.messages) AS messages, sum(s.dmarc_pass) AS dmarc_pass,
        sum(s.messages) - sum(s.dmarc_pass) AS dmarc_fail, sum(s.dkim_pass) AS dkim_aligned_pass,
        sum(s.spf_pass) AS spf_aligned_pass, sum(s.would_be_blocked_at_reject) AS would_be_blocked_at_reject
      FROM (
        SELECT g.*, ${SOURCE_BASE_DOMAIN} AS base_domain,
          ${SOURCE_SERVICE_NAME} AS service_name,
          ${SOURCE_SERVICE_TYPE} AS service_type
        FROM (
          SELECT source_ip, sum(messages) AS messages, sum(dmarc_pass) AS dmarc_pass, sum(dkim_pass) AS dkim_pass,
            sum(spf_pass) AS spf_pass, sum(fail_not_rejected) AS would_be_blocked_at_reject
          FROM aggregate_daily_sources
          WHERE ${domainMatch('domain', scope)} AND ${dayIn('day', scope.range)}
          GROUP BY source_ip
        ) g
        ${sourceNameJoins('g.source_ip')}
      ) s
      GROUP BY s.service_name, s.service_type, CASE WHEN s.service_name IS NULL THEN s.base_domain END
      ORDER BY messages DESC, s.service_name ASC, base_domain ASC`);
    if (scope.format === 'csv') return csvResponse(c, `${scope.domain}-services`, SERVICE_COLUMNS, rows);
    return c.json({
      domain: scope.domain,
      include_subdomains: scope.subdomains,
      from: scope.range.from,
      to: scope.range.to,
      items: rows.map(({ service_name, service_type, ...r }) => ({
        service: service_name !== null ? { name: service_name, type: service_type } : null,
        ...r,
      })),
    });
  })
  .declare(tlsRoute, async (c) => {
    const scope = await readScope(c, c.req.valid('query'));
    if (scope instanceof Response) return scope;
    // SMTP TLS reports (RFC 8460) per receiving organisation and policy type, with the failure types
    // each reported. One row per report policy, so the cost follows the reports, not the sessions.
    const db = database(c.env.DB);
    const tlsWhere = sql`${domainMatch('p.policy_domain', scope)} AND ${dayIn('substr(t.begin_at, 1, 10)', scope.range)}`;
    const [orgs, failures] = await Promise.all([
      db.all<{ org_name: string; policy_type: string; reports: number; successful_sessions: number; failed_sessions: number }>(sql`
        SELECT t.org_name, p.policy_type, count(DISTINCT t.id) AS reports,
          sum(p.successful_sessions) AS successful_sessions, sum(p.failed_sessions) AS failed_sessions
        FROM tls_report_policies p JOIN tls_reports t ON t.id = p.tls_report_id
        WHERE ${tlsWhere}
        GROUP BY t.org_name, p.policy_type ORDER BY t.org_name, p.policy_type`),
      db.all<{ org_name: string; policy_type: string; result_type: string; sessions: number }>(sql`
        SELECT t.org_name, p.policy_type, f.result_type, sum(f.failed_session_count) AS sessions
        FROM tls_report_failures f
        JOIN tls_report_policies p ON p.tls_report_id = f.tls_report_id AND p.idx = f.policy_idx
        JOIN tls_reports t ON t.id = p.tls_report_id
        WHERE ${tlsWhere}
        GROUP BY t.org_name, p.policy_type, f.result_type ORDER BY sessions DESC, f.result_type`),
    ]);
    const items = orgs.map((o) => ({
      ...o,
      failure_types: Object.fromEntries(
        failures.filter((f) => f.org_name === o.org_name && f.policy_type === o.policy_type).map((f) => [f.result_type, f.sessions]),
      ),
    }));
    if (scope.format === 'csv') {
      const flat = items.map(({ failure_types, ...o }) => ({
        ...o,
        failure_types: Object.entries(failure_types).map(([type, n]) => `${type}=${n}`).join(';'),
      }));
      return csvResponse(c, `${scope.domain}-tls`, TLS_COLUMNS, flat);
    }
    return c.json({ domain: scope.domain, include_subdomains: scope.subdomains, from: scope.range.from, to: scope.range.to, items });
  })
  .declare(recordsRoute, async (c) => {
    const query = c.req.valid('query');
    const scope = await readScope(c, query);
    if (scope instanceof Response) return scope;
    // Drill-down to the raw records behind the roll-ups: keyset-paginated by (report id, ordinal),
    // packed into one integer cursor so each page is one index range read whatever the depth.
    const page = pageFrom(query);
    const sourceIp = query.source_ip;
    const after = page.after ?? 0;
    const rows = await database(c.env.DB).all<RecordRow>(sql`
      SELECT r.report_id, r.ordinal, a.reporter, a.org_name, a.begin_at, a.end_at, r.source_ip, r.count,
        r.disposition, r.dkim, r.spf, r.header_from, r.envelope_from, r.envelope_to
      FROM aggregate_records r JOIN aggregate_reports a ON a.id = r.report_id
      WHERE a.status = 'complete' AND ${domainMatch('a.domain', scope)} AND ${dayIn('a.day', scope.range)}
        ${sourceIp !== undefined ? sql`AND r.source_ip = ${sourceIp.toLowerCase()}` : sql``}
        AND r.report_id * ${RECORD_CURSOR_BASE} + r.ordinal > ${after}
      ORDER BY r.report_id, r.ordinal
      LIMIT ${page.limit + 1}`);
    const { items, next_cursor } = pageOf(rows, page.limit, (r) => r.report_id * RECORD_CURSOR_BASE + r.ordinal);
    if (scope.format === 'csv') {
      return csvResponse(c, `${scope.domain}-records`, RECORD_COLUMNS, items, next_cursor ? { 'X-Next-Cursor': next_cursor } : {});
    }
    return c.json({ domain: scope.domain, include_subdomains: scope.subdomains, from: scope.range.from, to: scope.range.to, items, next_cursor });
  });
