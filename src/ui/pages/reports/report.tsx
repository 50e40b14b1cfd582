/**
 * One aggregate report as received (GET /api/reports/:id): who sent it, the policy it saw published,
 * the parser's warnings, and its records with every DKIM signature and SPF check, a page at a time.
 *
 *   GET /reports/:id?cursor=
 */
import { Hono } from 'hono';
import { apiJson, currentUser, query, type UiContext, type UiEnv } from '../../api-call';
import { page } from '../../layout';
import { count, dayText, timeText } from './format';
import { Breadcrumbs, domainTrail } from '../../components/breadcrumbs';

export interface ReportSummary {
  id: number;
  report_id: string;
  org_name: string;
  org_email: string | null;
  begin: string;
  end: string;
  day: string;
  domain: string;
  policy: { p: string | null; sp: string | null; np?: string | null; adkim: string | null; aspf: string | null; pct: number | null; testing?: string | null };
  schema: string;
  status: string;
  record_count: number;
  message_count: number;
  warnings: unknown[];
}

interface AuthResult {
  domain: string;
  selector?: string | null;
  scope?: string | null;
  result: string;
  human_result: string | null;
}

interface ReportRecord {
  ordinal: number;
  source_ip: string;
  count: number;
  disposition: string | null;
  dkim: string | null;
  spf: string | null;
  reasons: { type: string; comment: string | null }[];
  header_from: string | null;
  envelope_from: string | null;
  envelope_to: string | null;
  dkim_results: AuthResult[];
  spf_results: AuthResult[];
}

const RECORDS_PAGE = 100;

/** `p=none; adkim=r; aspf=r; pct=100`: the policy as the receiver saw it published. */
export function policyText(p: ReportSummary['policy']): string {
  return [
    p.p ? `p=${p.p}` : null,
    p.sp ? `sp=${p.sp}` : null,
    p.np ? `np=${p.np}` : null,
    p.adkim ? `adkim=${p.adkim}` : null,
    p.aspf ? `aspf=${p.aspf}` : null,
    p.pct !== null && p.pct !== undefined ? `pct=${p.pct}` : null,
    p.testing ? `t=${p.testing}` : null,
  ]
    .filter(Boolean)
    .join('; ');
}

function results(list: AuthResult[], kind: 'dkim' | 'spf') {
  if (list.length === 0) return 'none reported';
  return list.map((r) => `${r.domain}${kind === 'dkim' && r.selector ? ` (${r.selector})` : ''}: ${r.result}`).join(', ');
}

function warningText(w: unknown): string {
  if (typeof w === 'string') return w;
  if (w && typeof w === 'object' && 'message' in w && typeof (w as { message: unknown }).message === 'string') return (w as { message: string }).message;
  return JSON.stringify(w);
}

async function reportPage(c: UiContext) {
  const me = await currentUser(c);
  const id = c.req.param('id');
  const cursor = c.req.query('cursor') || undefined;
  const report = await apiJson<ReportSummary & { records: ReportRecord[]; next_cursor: string | null }>(c, `/api/reports/${id}${query({ cursor, limit: RECORDS_PAGE })}`);
  const domainReports = `/domains/${encodeURIComponent(report.domain)}/reports${query({ from: report.day, to: report.day })}`;
  return page(
    c,
    { title: `Report from ${report.org_name}`, active: 'reports', me },
    <>
      <Breadcrumbs trail={[...domainTrail(report.domain), { href: domainReports, label: 'Reports' }]} />
      <h1>
        <span class="caption">Aggregate report</span>
        <span class="visually-hidden">: </span>
        {report.org_name}, {dayText(report.day)}
      </h1>
      <dl class="summary">
        <dt>Reporter</dt>
        <dd>
          {report.org_name}
          {report.org_email ? ` (${report.org_email})` : ''}
        </dd>
        <dt>Report id</dt>
        <dd class="mono">{report.report_id}</dd>
        <dt>Period</dt>
        <dd>
          {timeText(report.begin)} to {timeText(report.end)}
        </dd>
        <dt>Domain</dt>
        <dd>{report.domain}</dd>
        <dt>Policy published</dt>
        <dd class="mono">{policyText(report.policy) || '–'}</dd>
        <dt>Messages</dt>
        <dd>{count(report.message_count)}</dd>
        <dt>Records</dt>
        <dd>{count(report.record_count)}</dd>
        <dt>Format</dt>
        <dd>{report.schema}</dd>
        <dt>Warnings</dt>
        <dd>
          {report.warnings.length === 0 ? (
            'None'
          ) : (
            <ul>
              {report.warnings.map((w) => (
                <li>{warningText(w)}</li>
              ))}
            </ul>
          )}
        </dd>
      </dl>
      <div class="table-wrap">
        <table class="stack" id="report-records-table">
          <caption>Records</caption>
          <thead>
            <tr>
              <th scope="col">Source IP</th>
              <th scope="col" class="num">
                Messages
              </th>
              <th scope="col">Disposition</th>
              <th scope="col">DKIM (aligned)</th>
              <th scope="col">SPF (aligned)</th>
              <th scope="col">Header from</th>
              <th scope="col">DKIM signatures</th>
              <th scope="col">SPF checks</th>
              <th scope="col">Override</th>
            </tr>
          </thead>
          <tbody>
            {report.records.map((r) => (
              <tr>
                <th scope="row" class="mono">
                  {r.source_ip}
                </th>
                <td class="num" data-label="Messages">
                  {count(r.count)}
                </td>
                <td data-label="Disposition">{r.disposition ?? 'none'}</td>
                <td data-label="DKIM (aligned)">{r.dkim ?? '–'}</td>
                <td data-label="SPF (aligned)">{r.spf ?? '–'}</td>
                <td data-label="Header from">{r.header_from ?? '–'}</td>
                <td data-label="DKIM signatures">{results(r.dkim_results, 'dkim')}</td>
                <td data-label="SPF checks">{results(r.spf_results, 'spf')}</td>
                <td data-label="Override">{r.reasons.length === 0 ? '–' : r.reasons.map((x) => (x.comment ? `${x.type} (${x.comment})` : x.type)).join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <nav class="pagination" aria-label="Pages of records">
        {cursor ? <a href={`/reports/${report.id}`}>First page</a> : null}
        {report.next_cursor ? <a href={`/reports/${report.id}${query({ cursor: report.next_cursor })}`}>Next page of records</a> : null}
      </nav>
    </>,
  );
}

export const reportRoutes = new Hono<UiEnv>().get('/reports/:id{[0-9]+}', reportPage);
