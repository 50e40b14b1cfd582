import { and, asc, desc, eq, gt, gte, lt, lte, sql, type SQL } from 'drizzle-orm';
import type { Principal } from '../auth/principal';
import { domainKey } from '../lib/domain-name';
import type { AnySQLiteColumn } from 'drizzle-orm/sqlite-core';
import { Hono } from 'hono';
import { requireScope, type AppEnv } from '../auth/authenticate';
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
import { pageOf, readPage } from './pagination';
import { problem } from './problem';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

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

/** Read routes over stored reports, filtered to the domains the principal may see. */
export const reportRoutes = new Hono<AppEnv>()
  .get('/reports', requireScope('read'), async (c) => {
    const page = readPage(c);
    if (typeof page === 'string') return problem(c, 400, 'Bad Request', page);
    const { domain, since, until } = c.req.query();
    if ((since && !DAY.test(since)) || (until && !DAY.test(until))) return problem(c, 400, 'Bad Request', 'since and until are days: YYYY-MM-DD');
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
  .get('/reports/:id{[0-9]+}', requireScope('read'), async (c) => {
    const page = readPage(c);
    if (typeof page === 'string') return problem(c, 400, 'Bad Request', page);
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
  .get('/tls-reports', requireScope('read'), async (c) => {
    const page = readPage(c);
    if (typeof page === 'string') return problem(c, 400, 'Bad Request', page);
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
  .get('/stats/daily', requireScope('read'), async (c) => {
    const { domain, since, until } = c.req.query();
    if (!domain) return problem(c, 400, 'Bad Request', 'domain is required');
    if (!(await canSeeDomain(c.env.DB, c.get('principal'), domainKey(domain)))) return problem(c, 404, 'Not Found', `No domain ${domain}.`);
    if ((since && !DAY.test(since)) || (until && !DAY.test(until))) return problem(c, 400, 'Bad Request', 'since and until are days: YYYY-MM-DD');
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
