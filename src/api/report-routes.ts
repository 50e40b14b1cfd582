import { createRoute } from '@hono/zod-openapi';
import { and, asc, desc, eq, gt, gte, lt, lte, sql, type SQL } from 'drizzle-orm';
import type { Principal } from '../auth/principal';
import { domainKey } from '../lib/domain-name';
import type { AnySQLiteColumn } from 'drizzle-orm/sqlite-core';
import { z } from 'zod';
import { canSeeDomain, visibleDomain } from '../auth/domain-access';
import { database } from '../db/client';
import {
  aggregateDaily,
  aggregateRecords,
  aggregateReports,
  recordDkimResults,
  recordPolicyOverrides,
  recordSpfResults,
  tlsReportPolicies,
  tlsReports,
} from '../db/schema';
import { ApiRouter, pathId } from './openapi/api-router';
import { json, pageOf as pageSchema, problems } from './openapi/responses';
import { access } from './openapi/security';
import { blankAsAbsent, pageFrom, pageOf, pageQuery } from './pagination';
import { problem } from './problem';

/** `?since=&until=`: days, both ends included; empty counts as absent. */
const dayQuery = (description: string) =>
  z.preprocess(blankAsAbsent, z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a day, YYYY-MM-DD').optional()).meta({ description });
const dayRange = { since: dayQuery('First day (UTC) the report starts on.'), until: dayQuery('Last day (UTC) the report starts on.') };

function visibleOrAll(principal: Principal, tlsReportId: AnySQLiteColumn) {
  const condition = visibleDomain(principal, sql.raw('p.policy_domain'));
  return condition ? sql`EXISTS (SELECT 1 FROM tls_report_policies p WHERE p.tls_report_id = ${tlsReportId} AND ${condition})` : undefined;
}

function reportJson(r: typeof aggregateReports.$inferSelect) {
  return {
    id: r.id,
    inbound_id: r.inboundId,
    report_id: r.reportId,
    org_name: r.orgName,
    org_email: r.orgEmail,
    begin: r.beginAt,
    end: r.endAt,
    day: r.day,
    domain: r.domain,
    policy: { domain: r.domain, p: r.p, sp: r.sp, np: r.np, adkim: r.adkim, aspf: r.aspf, pct: r.pct, fo: r.fo, testing: r.testing, discovery_method: r.discoveryMethod },
    schema: r.schema,
    status: r.status,
    record_count: r.recordCount,
    message_count: r.messageCount,
    records_ingested: r.recordsIngested,
    content_sha256: r.contentSha256,
    warnings: r.warnings ? (JSON.parse(r.warnings) as string[]) : [],
  };
}

const nullableString = z.string().nullable();

const reportSchema = z
  .object({
    id: z.int(),
    inbound_id: z.int(),
    report_id: z.string(),
    org_name: z.string(),
    org_email: nullableString,
    begin: z.string(),
    end: z.string(),
    day: z.string().meta({ description: 'The UTC day the report starts on.' }),
    domain: z.string(),
    policy: z.object({
      domain: z.string(),
      p: nullableString,
      sp: nullableString,
      np: nullableString,
      adkim: nullableString,
      aspf: nullableString,
      pct: z.int().nullable(),
      fo: nullableString,
      testing: nullableString,
      discovery_method: nullableString,
    }),
    schema: z.string(),
    status: z.enum(['ingesting', 'complete']),
    record_count: z.int().nullable(),
    message_count: z.int().nullable(),
    records_ingested: z.int(),
    content_sha256: nullableString,
    warnings: z.array(z.string()),
  })
  .meta({ id: 'AggregateReport' });

const recordSchema = z.object({
  ordinal: z.int(),
  source_ip: z.string(),
  count: z.int(),
  disposition: nullableString,
  dkim: nullableString,
  spf: nullableString,
  reasons: z.array(z.object({ type: z.string(), comment: nullableString })),
  header_from: nullableString,
  envelope_from: nullableString,
  envelope_to: nullableString,
  dkim_results: z.array(z.object({ domain: z.string(), selector: nullableString, result: z.string(), human_result: nullableString })),
  spf_results: z.array(z.object({ domain: z.string(), scope: nullableString, result: z.string(), human_result: nullableString })),
});

const tlsReportSchema = z
  .object({
    id: z.int(),
    inbound_id: z.int(),
    report_id: z.string(),
    org_name: z.string(),
    org_email: nullableString,
    begin: z.string(),
    end: z.string(),
    policies: z.array(
      z.object({
        policy_type: z.string(),
        policy_domain: z.string(),
        policy_string: z.array(z.string()),
        mx_host: z.array(z.string()),
        total_successful_session_count: z.int(),
        total_failure_session_count: z.int(),
      }),
    ),
  })
  .meta({ id: 'TlsReport' });

const reports = { tags: ['reports'], ...access('read') };

const listReports = createRoute({
  method: 'get',
  path: '/reports',
  summary: 'Aggregate reports, newest first',
  description: 'Complete reports of the domains the caller may see; a report still being stored is listed once complete.',
  ...reports,
  request: { query: pageQuery.extend({ domain: z.string().optional().meta({ description: 'Only this domain (404 if not visible).' }), ...dayRange }) },
  responses: { 200: json(pageSchema(reportSchema), 'Reports.'), ...problems(400, 401, 403, 404) },
});

const getReport = createRoute({
  method: 'get',
  path: '/reports/{id{[0-9]+}}',
  summary: 'One report with its records (paginated by ordinal) and their DKIM and SPF results',
  ...reports,
  request: { params: z.object({ id: pathId }), query: pageQuery },
  responses: {
    200: json(reportSchema.extend({ records: z.array(recordSchema), next_cursor: z.string().nullable() }), 'The report and a page of its records.'),
    ...problems(400, 401, 403, 404),
  },
});

const listTlsReports = createRoute({
  method: 'get',
  path: '/tls-reports',
  summary: 'SMTP TLS reports with their policies, newest first',
  description: 'Reports with a policy for a domain the caller may see, showing only those policies.',
  ...reports,
  request: { query: pageQuery },
  responses: { 200: json(pageSchema(tlsReportSchema), 'TLS reports.'), ...problems(400, 401, 403) },
});

const dailyStats = createRoute({
  method: 'get',
  path: '/stats/daily',
  summary: 'The daily roll-up of a domain, per header-from domain',
  ...reports,
  request: { query: z.object({ domain: z.string().min(1, 'is required'), ...dayRange }) },
  responses: {
    200: json(
      z.object({
        domain: z.string(),
        days: z.array(
          z.object({
            day: z.string(),
            header_from: z.string(),
            reports: z.int(),
            messages: z.int(),
            dmarc_pass: z.int(),
            dkim_pass: z.int(),
            spf_pass: z.int(),
            both_pass: z.int(),
            disposition_none: z.int(),
            disposition_quarantine: z.int(),
            disposition_reject: z.int(),
            overridden: z.int(),
          }),
        ),
      }),
      'Up to 5,000 rows by day and header-from domain.',
    ),
    ...problems(400, 401, 403, 404),
  },
});

/** Read routes over stored reports, filtered to the domains the principal may see. */
export const reportRoutes = new ApiRouter()
  .declare(listReports, async (c) => {
    const query = c.req.valid('query');
    const page = pageFrom(query);
    const { domain, since, until } = query;
    // Reports still being stored are not listed until complete (GET /api/inbound/:id shows progress).
    const where: (SQL | undefined)[] = [eq(aggregateReports.status, 'complete'), visibleDomain(c.get('principal'), aggregateReports.domain)];
    if (domain) {
      // Asking for another group's domain answers 404, like every other view of it.
      if (!(await canSeeDomain(c.env.DB, c.get('principal'), domainKey(domain)))) return problem(c, 404, 'Not Found', `No domain ${domain}.`);
      where.push(eq(aggregateReports.domain, domainKey(domain)));
    }
    if (since) where.push(gte(aggregateReports.day, since));
    if (until) where.push(lte(aggregateReports.day, until));
    if (page.after !== null) where.push(lt(aggregateReports.id, page.after));
    const rows = await database(c.env.DB)
      .select()
      .from(aggregateReports)
      .where(and(...where))
      .orderBy(desc(aggregateReports.id))
      .limit(page.limit + 1);
    const result = pageOf(rows, page.limit, (r) => r.id);
    return c.json({ items: result.items.map(reportJson), next_cursor: result.next_cursor });
  })
  .declare(getReport, async (c) => {
    const page = pageFrom(c.req.valid('query'));
    const id = Number(c.req.param('id'));
    const db = database(c.env.DB);
    const report = await db
      .select()
      .from(aggregateReports)
      .where(and(eq(aggregateReports.id, id), visibleDomain(c.get('principal'), aggregateReports.domain)))
      .get();
    if (!report) return problem(c, 404, 'Not Found', `No aggregate report ${id}.`);
    const after = page.after ?? -1;
    const records = await db
      .select()
      .from(aggregateRecords)
      .where(and(eq(aggregateRecords.reportId, id), gt(aggregateRecords.ordinal, after)))
      .orderBy(asc(aggregateRecords.ordinal))
      .limit(page.limit + 1);
    const shown = pageOf(records, page.limit, (r) => r.ordinal);
    const first = shown.items[0]?.ordinal ?? 0;
    const last = shown.items[shown.items.length - 1]?.ordinal ?? -1;
    const inRange = (t: { reportId: AnySQLiteColumn; ordinal: AnySQLiteColumn }) =>
      and(eq(t.reportId, id), gte(t.ordinal, first), lte(t.ordinal, last));
    const [dkim, spf, reasons] = await Promise.all([
      db.select().from(recordDkimResults).where(inRange(recordDkimResults)).orderBy(asc(recordDkimResults.ordinal), asc(recordDkimResults.idx)),
      db.select().from(recordSpfResults).where(inRange(recordSpfResults)).orderBy(asc(recordSpfResults.ordinal), asc(recordSpfResults.idx)),
      db.select().from(recordPolicyOverrides).where(inRange(recordPolicyOverrides)).orderBy(asc(recordPolicyOverrides.ordinal), asc(recordPolicyOverrides.idx)),
    ]);
    const of = <T extends { ordinal: number }>(rows: T[], ordinal: number) => rows.filter((r) => r.ordinal === ordinal);
    return c.json({
      ...reportJson(report),
      records: shown.items.map((r) => ({
        ordinal: r.ordinal,
        source_ip: r.sourceIp,
        count: r.count,
        disposition: r.disposition,
        dkim: r.dkim,
        spf: r.spf,
        reasons: of(reasons, r.ordinal).map((o) => ({ type: o.type, comment: o.comment })),
        header_from: r.headerFrom,
        envelope_from: r.envelopeFrom,
        envelope_to: r.envelopeTo,
        dkim_results: of(dkim, r.ordinal).map((d) => ({ domain: d.domain, selector: d.selector, result: d.result, human_result: d.humanResult })),
        spf_results: of(spf, r.ordinal).map((s) => ({ domain: s.domain, scope: s.scope, result: s.result, human_result: s.humanResult })),
      })),
      next_cursor: shown.next_cursor,
    });
  })
  .declare(listTlsReports, async (c) => {
    const page = pageFrom(c.req.valid('query'));
    const db = database(c.env.DB);
    const rows = await db
      .select()
      .from(tlsReports)
      .where(
        and(
          page.after !== null ? lt(tlsReports.id, page.after) : undefined,
          // Visible when any policy in it is for a visible domain.
          visibleOrAll(c.get('principal'), tlsReports.id),
        ),
      )
      .orderBy(desc(tlsReports.id))
      .limit(page.limit + 1);
    const shown = pageOf(rows, page.limit, (r) => r.id);
    const ids = shown.items.map((r) => r.id);
    // Only the policies of domains the principal may see: a report can cover several domains.
    const policies = ids.length
      ? await db
          .select()
          .from(tlsReportPolicies)
          .where(
            and(
              sql`${tlsReportPolicies.tlsReportId} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`,
              visibleDomain(c.get('principal'), tlsReportPolicies.policyDomain),
            ),
          )
      : [];
    return c.json({
      items: shown.items.map((r) => ({
        id: r.id,
        inbound_id: r.inboundId,
        report_id: r.reportId,
        org_name: r.orgName,
        org_email: r.orgEmail,
        begin: r.beginAt,
        end: r.endAt,
        policies: policies
          .filter((p) => p.tlsReportId === r.id)
          .map((p) => ({
            policy_type: p.policyType,
            policy_domain: p.policyDomain,
            policy_string: JSON.parse(p.policyString) as string[],
            mx_host: JSON.parse(p.mxHost) as string[],
            total_successful_session_count: p.successfulSessions,
            total_failure_session_count: p.failedSessions,
          })),
      })),
      next_cursor: shown.next_cursor,
    });
  })
  .declare(dailyStats, async (c) => {
    const { domain, since, until } = c.req.valid('query');
    if (!(await canSeeDomain(c.env.DB, c.get('principal'), domainKey(domain)))) return problem(c, 404, 'Not Found', `No domain ${domain}.`);
    const where: SQL[] = [eq(aggregateDaily.domain, domainKey(domain))];
    if (since) where.push(gte(aggregateDaily.day, since));
    if (until) where.push(lte(aggregateDaily.day, until));
    const rows = await database(c.env.DB).select().from(aggregateDaily).where(and(...where)).orderBy(asc(aggregateDaily.day), asc(aggregateDaily.headerFrom)).limit(5000);
    return c.json({
      domain: domainKey(domain),
      days: rows.map((r) => ({
        day: r.day,
        header_from: r.headerFrom,
        reports: r.reports,
        messages: r.messages,
        dmarc_pass: r.dmarcPass,
        dkim_pass: r.dkimPass,
        spf_pass: r.spfPass,
        both_pass: r.bothPass,
        disposition_none: r.dispositionNone,
        disposition_quarantine: r.dispositionQuarantine,
        disposition_reject: r.dispositionReject,
        overridden: r.overridden,
      })),
    });
  });
