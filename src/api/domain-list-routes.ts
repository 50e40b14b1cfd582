import { createRoute } from '@hono/zod-openapi';
import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { visibleDomain } from '../auth/domain-access';
import { database } from '../db/client';
import { ApiRouter } from './openapi/api-router';
import { json, problems } from './openapi/responses';
import { access } from './openapi/security';
import { blankAsAbsent } from './pagination';

/**
 * GET /api/domains: the monitored domains the caller may see, each with a one-line status (DMARC
 * policy, SPF, MTA-STS mode, DNSSEC, TLS grade, findings, last report), filtered, sorted and paged in
 * D1. It is the web UI's domains list (docs/ui.md), and a script's. Paged by number rather than keyset
 * because people sort by any column and jump between pages; the list is one row per domain.
 */

const TLS_BANDS = ['good', 'sufficient', 'phase_out', 'insufficient', 'no_tls'] as const;
const DMARC = ['reject', 'quarantine', 'none', 'missing'] as const;
const SPF = ['valid', 'invalid', 'missing'] as const;
const MTA_STS = ['enforce', 'testing', 'none', 'invalid', 'missing'] as const;
const DNSSEC = ['validated', 'unsigned', 'bogus', 'unknown'] as const;
const TLS = [...TLS_BANDS, 'inconclusive', 'not_scanned'] as const;
const SEVERITY = ['error', 'warning', 'info', 'none'] as const;
const SORTS = ['name', '-name', 'severity', 'tls', 'last_report', '-last_report', 'checked_at'] as const;

const optional = <T extends readonly [string, ...string[]]>(values: T, description: string) =>
  z.preprocess(blankAsAbsent, z.enum(values).optional()).meta({ description });

const listQuery = z.object({
  q: z.preprocess(blankAsAbsent, z.string().max(253).optional()).meta({ description: 'Part of the domain name.' }),
  dmarc: optional(DMARC, 'DMARC policy for mail from the domain (`missing`: no record applies).'),
  spf: optional(SPF, '`invalid`: the record has an error-severity finding.'),
  mta_sts: optional(MTA_STS, 'MTA-STS policy mode (`invalid`: a record, but no usable policy).'),
  dnssec: optional(DNSSEC, 'DNSSEC status of the domain.'),
  tls: optional(TLS, "The domain's mail-server TLS grade (its worst MX server)."),
  severity: optional(SEVERITY, 'The worst finding of the latest check.'),
  sort: z.preprocess(blankAsAbsent, z.enum(SORTS).default('name')).meta({ description: '`severity` and `tls`: worst first; `-` reverses the name or report order.' }),
  page: z.coerce.number({ error: 'must be a whole number from 1' }).int('must be a whole number from 1').min(1, 'must be a whole number from 1').default(1),
  limit: z.coerce.number({ error: 'must be an integer from 1 to 500' }).int('must be an integer from 1 to 500').min(1, 'must be an integer from 1 to 500').max(500, 'must be an integer from 1 to 500').default(50),
});

const nullable = <T extends readonly [string, ...string[]]>(values: T) => z.enum(values).nullable();

const domainRow = z
  .object({
    domain: z.string(),
    checked_at: z.string().nullable().meta({ description: 'The latest complete check; null before the first.' }),
    last_error: z.string().nullable().meta({ description: 'Why the last attempt failed, when it did.' }),
    severity: nullable(SEVERITY),
    errors: z.int(),
    warnings: z.int(),
    dmarc: nullable(DMARC),
    spf: nullable(SPF),
    mta_sts: nullable(MTA_STS),
    dnssec: nullable(DNSSEC),
    tls: z.enum(TLS),
    last_report: z.string().nullable().meta({ description: 'The last day (YYYY-MM-DD) an aggregate report covered, for the domain itself.' }),
  })
  .meta({ id: 'DomainListItem', description: 'Null statuses: not checked yet.' });

const listRoute = createRoute({
  method: 'get',
  path: '/domains',
  summary: 'Monitored domains the caller may see, with their status, filtered, sorted and paged',
  tags: ['domain status'],
  ...access('read'),
  request: { query: listQuery },
  responses: {
    200: json(z.object({ items: z.array(domainRow), total: z.int(), page: z.int(), limit: z.int() }), 'A page of domains; `total` counts every match.'),
    ...problems(400, 401, 403),
  },
});

const ORDER: Record<(typeof SORTS)[number], string> = {
  name: 'domain',
  '-name': 'domain DESC',
  // Worst first: errors, then warnings; unchecked domains last.
  severity: "CASE severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 WHEN 'info' THEN 2 WHEN 'none' THEN 3 ELSE 4 END, errors DESC, warnings DESC, domain",
  tls: `CASE tls ${[...TLS].reverse().map((t, i) => `WHEN '${t}' THEN ${i}`).join(' ')} END, domain`,
  last_report: 'last_report IS NULL, last_report DESC, domain',
  '-last_report': 'last_report IS NOT NULL, last_report, domain',
  checked_at: 'checked_at IS NULL, checked_at DESC, domain',
};

export const domainListRoutes = new ApiRouter().declare(listRoute, async (c) => {
  const query = c.req.valid('query');
  const visible = visibleDomain(c.get('principal'), sql`md.name`);
  const rank = sql.raw(`CASE s.grade ${TLS_BANDS.map((g, i) => `WHEN '${g}' THEN ${i}`).join(' ')} END`);
  const band = sql.raw(`CASE t.worst ${TLS_BANDS.map((g, i) => `WHEN ${i} THEN '${g}'`).join(' ')} ELSE CASE WHEN t.scanned > 0 THEN 'inconclusive' ELSE 'not_scanned' END END`);
  const filters: SQL[] = [];
  if (query.q) filters.push(sql`instr(domain, ${query.q.trim().toLowerCase()}) > 0`);
  for (const key of ['dmarc', 'spf', 'mta_sts', 'dnssec', 'tls', 'severity'] as const) {
    const value = query[key];
    if (value) filters.push(sql`${sql.identifier(key)} = ${value}`);
  }
  const rows = await database(c.env.DB).all<z.infer<typeof domainRow> & { total: number }>(sql`
    SELECT *, count(*) OVER () AS total FROM (
      SELECT md.name AS domain, r.checked_at, st.last_error,
        CASE WHEN r.id IS NULL THEN NULL ELSE r.max_severity END AS severity,
        coalesce((SELECT count(*) FROM json_each(r.result, '$.findings') f WHERE json_extract(f.value, '$.severity') = 'error'), 0) AS errors,
        coalesce((SELECT count(*) FROM json_each(r.result, '$.findings') f WHERE json_extract(f.value, '$.severity') = 'warning'), 0) AS warnings,
        CASE WHEN r.id IS NULL THEN NULL WHEN json_extract(r.result, '$.dmarc.record') IS NULL THEN 'missing'
          ELSE coalesce(json_extract(r.result, '$.dmarc.facts.applied_policy'), json_extract(r.result, '$.dmarc.facts.p'), 'missing') END AS dmarc,
        CASE WHEN r.id IS NULL THEN NULL WHEN json_extract(r.result, '$.spf.record') IS NULL THEN 'missing'
          WHEN EXISTS (SELECT 1 FROM json_each(r.result, '$.spf.findings') f WHERE json_extract(f.value, '$.severity') = 'error') THEN 'invalid' ELSE 'valid' END AS spf,
        CASE WHEN r.id IS NULL THEN NULL WHEN json_extract(r.result, '$.mta_sts.record') IS NULL THEN 'missing'
          ELSE coalesce(json_extract(r.result, '$.mta_sts.facts.mode'), 'invalid') END AS mta_sts,
        CASE WHEN r.id IS NULL THEN NULL ELSE json_extract(r.result, '$.dnssec.facts.status') END AS dnssec,
        ${band} AS tls,
        (SELECT max(ad.day) FROM aggregate_daily ad WHERE ad.domain = md.name) AS last_report
      FROM domains md
      LEFT JOIN domain_check_state st ON st.domain = md.name
      LEFT JOIN domain_check_results r ON r.id = st.latest_result_id
      LEFT JOIN (SELECT m.domain, max(${rank}) AS worst, count(s.grade) AS scanned
                 FROM mx_addresses m LEFT JOIN tls_servers s ON s.ip = m.ip AND s.port = 25 GROUP BY m.domain) t ON t.domain = md.name
      ${visible ? sql`WHERE ${visible}` : sql``}
    ) x
    ${filters.length ? sql`WHERE ${sql.join(filters, sql` AND `)}` : sql``}
    ORDER BY ${sql.raw(ORDER[query.sort])}
    LIMIT ${query.limit} OFFSET ${(query.page - 1) * query.limit}`);
  const total = rows[0]?.total ?? 0;
  return c.json({ items: rows.map(({ total: _total, ...row }) => row), total, page: query.page, limit: query.limit });
});
