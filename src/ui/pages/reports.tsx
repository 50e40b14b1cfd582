/**
 * Reports: a domain's DMARC aggregate statistics over a date range, from /api/aggregatereport/:domain/…
 * (docs/statistics.md). Every figure is the API's; the page only arranges them. Charts are drawn by the
 * chart script from data the page also shows as tables, and every table links to the API's CSV.
 *
 *   GET /reports                      choose a domain
 *   GET /domains/:domain/reports      ?from=&to=&include_subdomains=true&sources_cursor=
 */
import { Hono } from 'hono';
import { apiCall, ApiError, currentUser, query, type ApiResult, type Problem, type UiContext, type UiEnv } from '../api-call';
import { assetUrl } from '../assets/index';
import { page } from '../layout';
import { ChartFigure, unixSeconds } from './reports/chart';
import { count, dayText, percentOf } from './reports/format';
import { recordRoutes } from './reports/records';
import { policyText, reportRoutes, type ReportSummary } from './reports/report';
import { intervalFor, presets, readRangeQuery, thirtyDaysTo, type Preset, type RangeQuery } from './reports/range';
import type { Listing, Reporter, ServiceRow, Source, Sources, Summary, Timeseries, TlsRow } from './reports/types';
import { Breadcrumbs, domainTrail } from '../components/breadcrumbs';

/** Rows per page of the sources table; the top failing list is a short one. */
const SOURCES_PAGE = 25;
const TOP_FAILING = 10;
const RECEIVED_PAGE = 50;

interface Scope {
  domain: string;
  range: RangeQuery;
}

/** The API's query for the range, as given (the API applies the defaults and judges the dates). */
function rangeParams(scope: Scope): Record<string, string | undefined> {
  return { from: scope.range.from, to: scope.range.to, include_subdomains: scope.range.includeSubdomains ? 'true' : undefined };
}

function statsPath(scope: Scope, view: string, extra: Record<string, string | number | undefined> = {}): string {
  return `/api/aggregatereport/${encodeURIComponent(scope.domain)}/${view}${query({ ...rangeParams(scope), ...extra })}`;
}

function pageUrl(domain: string, params: Record<string, string | undefined>): string {
  return `/domains/${encodeURIComponent(domain)}/reports${query(params)}`;
}

/** "Download CSV" beside a table: the API's own export of the same view, over the same range. */
function CsvLink(props: { href: string; what: string }) {
  return (
    <p class="csv-link">
      <a href={props.href} download>
        Download CSV<span class="visually-hidden"> of {props.what}</span>
      </a>
    </p>
  );
}

function serviceName(row: { service: { name: string; type: string | null } | null; base_domain: string | null }): string {
  if (row.service) return row.service.type ? `${row.service.name} (${row.service.type})` : row.service.name;
  if (row.base_domain) return row.base_domain;
  return 'Not identified';
}

function RangeForm(props: { scope: Scope; shown: { from: string; to: string } | null; errors: Problem['errors']; latest: Preset | null }) {
  const { scope } = props;
  const from = scope.range.from ?? props.shown?.from ?? '';
  const to = scope.range.to ?? props.shown?.to ?? '';
  const errorFor = (field: string) => props.errors?.find((e) => e.path === field)?.message;
  const presetLinks = [...presets(), ...(props.latest ? [props.latest] : [])];
  return (
    <form method="get" action={pageUrl(scope.domain, {})} class="filters" aria-label="Date range">
      <div class="field">
        <label for="from">From</label>
        {errorFor('from') ? (
          <p class="field-error" id="from-error">
            <span class="visually-hidden">Error:</span> {errorFor('from')}
          </p>
        ) : null}
        <input type="date" id="from" name="from" value={from} aria-describedby={errorFor('from') ? 'from-error' : undefined} />
      </div>
      <div class="field">
        <label for="to">To</label>
        {errorFor('to') ? (
          <p class="field-error" id="to-error">
            <span class="visually-hidden">Error:</span> {errorFor('to')}
          </p>
        ) : null}
        <input type="date" id="to" name="to" value={to} aria-describedby={errorFor('to') ? 'to-error' : undefined} />
      </div>
      <div class="field checkbox">
        <input type="checkbox" id="include_subdomains" name="include_subdomains" value="true" checked={scope.range.includeSubdomains} />
        <label for="include_subdomains">Include sub-domains</label>
      </div>
      <button type="submit" class="button">
        Show reports
      </button>
      <nav class="presets" aria-label="Preset date ranges">
        <ul>
          {presetLinks.map((p) => (
            <li>
              <a
                href={pageUrl(scope.domain, { from: p.from, to: p.to, include_subdomains: scope.range.includeSubdomains ? 'true' : undefined })}
                aria-current={p.from === props.shown?.from && p.to === props.shown?.to ? 'true' : undefined}
              >
                {p.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
    </form>
  );
}

function KeyFigures(props: { s: Summary }) {
  const { s } = props;
  return (
    <dl class="key-figures">
      <div>
        <dt>Messages</dt>
        <dd data-figure="messages">{count(s.messages)}</dd>
      </div>
      <div>
        <dt>Passed DMARC</dt>
        <dd data-figure="dmarc_pass_rate">{percentOf(s.dmarc_pass, s.messages)}</dd>
      </div>
      <div>
        <dt>Failed DMARC</dt>
        <dd data-figure="dmarc_fail">{count(s.dmarc_fail)}</dd>
      </div>
      <div>
        <dt>Would be blocked at reject</dt>
        <dd data-figure="would_be_blocked_at_reject">{count(s.would_be_blocked_at_reject)}</dd>
      </div>
    </dl>
  );
}

function SummaryTable(props: { s: Summary; csv: string }) {
  const { s } = props;
  const rows: [string, string, number, string?][] = [
    ['Aggregate reports', 'reports', s.reports, ''],
    ['Messages', 'messages', s.messages],
    ['Passed DMARC (aligned DKIM or SPF)', 'dmarc_pass', s.dmarc_pass],
    ['Failed DMARC', 'dmarc_fail', s.dmarc_fail],
    ['DKIM aligned and passed', 'dkim_aligned_pass', s.dkim_aligned_pass],
    ['SPF aligned and passed', 'spf_aligned_pass', s.spf_aligned_pass],
    ['Both aligned and passed', 'both_aligned_pass', s.both_aligned_pass],
    ['Delivered (disposition none)', 'disposition_none', s.disposition_none],
    ['Quarantined', 'disposition_quarantine', s.disposition_quarantine],
    ['Rejected', 'disposition_reject', s.disposition_reject],
    ['Policy overridden by the receiver', 'overridden', s.overridden],
    ['Would be blocked at p=reject', 'would_be_blocked_at_reject', s.would_be_blocked_at_reject],
    ['Failure reports received', 'failure_reports', s.failure_reports, ''],
  ];
  return (
    <>
      <div class="table-wrap">
        <table id="summary-table">
          <caption>Summary figures</caption>
          <thead>
            <tr>
              <th scope="col">Measure</th>
              <th scope="col" class="num">
                Count
              </th>
              <th scope="col" class="num">
                Share of messages
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map(([label, key, value, share]) => (
              <tr data-measure={key}>
                <th scope="row">{label}</th>
                <td class="num">{count(value)}</td>
                <td class="num">{share === undefined ? percentOf(value, s.messages) : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <CsvLink href={props.csv} what="the summary figures" />
    </>
  );
}

function Charts(props: { ts: Timeseries; csv: string }) {
  const { ts } = props;
  const x = ts.items.map((r) => unixSeconds(r.period));
  const rate = (part: (r: (typeof ts.items)[number]) => number) => ts.items.map((r) => (r.messages > 0 ? Math.round((1000 * part(r)) / r.messages) / 10 : null));
  const per = ts.interval === 'week' ? 'week (Monday to Sunday, within the range)' : 'day';
  const table = (
    <>
      <div class="table-wrap">
        <table class="stack">
          <caption>Messages and pass rates per {ts.interval}</caption>
          <thead>
            <tr>
              <th scope="col">{ts.interval === 'week' ? 'Week' : 'Day'}</th>
              <th scope="col" class="num">
                Messages
              </th>
              <th scope="col" class="num">
                Passed DMARC
              </th>
              <th scope="col" class="num">
                Failed DMARC
              </th>
              <th scope="col" class="num">
                DMARC pass rate
              </th>
              <th scope="col" class="num">
                DKIM aligned
              </th>
              <th scope="col" class="num">
                SPF aligned
              </th>
            </tr>
          </thead>
          <tbody>
            {ts.items.map((r) => (
              <tr>
                <th scope="row">{r.week ? `${r.week} (from ${dayText(r.period)})` : dayText(r.period)}</th>
                <td class="num" data-label="Messages">
                  {count(r.messages)}
                </td>
                <td class="num" data-label="Passed DMARC">
                  {count(r.dmarc_pass)}
                </td>
                <td class="num" data-label="Failed DMARC">
                  {count(r.dmarc_fail)}
                </td>
                <td class="num" data-label="DMARC pass rate">
                  {percentOf(r.dmarc_pass, r.messages)}
                </td>
                <td class="num" data-label="DKIM aligned">
                  {percentOf(r.dkim_aligned_pass, r.messages)}
                </td>
                <td class="num" data-label="SPF aligned">
                  {percentOf(r.spf_aligned_pass, r.messages)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <CsvLink href={props.csv} what={`the figures per ${ts.interval}`} />
    </>
  );
  return (
    <>
      <ChartFigure
        id="volume-chart"
        caption="Message volume"
        description={`Messages reported per ${per}: those that passed DMARC (solid line) and those that failed (dashed line).`}
        spec={{
          x,
          series: [
            { label: 'Passed DMARC', values: ts.items.map((r) => r.dmarc_pass), tone: 'green' },
            { label: 'Failed DMARC', values: ts.items.map((r) => r.dmarc_fail), tone: 'red' },
          ],
        }}
      >
        {table}
      </ChartFigure>
      <ChartFigure
        id="rate-chart"
        caption="Pass rates"
        description={`Share of messages per ${per} that passed DMARC, and that had aligned DKIM or aligned SPF pass. Gaps are periods without messages.`}
        spec={{
          x,
          percent: true,
          series: [
            { label: 'DMARC pass rate', values: rate((r) => r.dmarc_pass), tone: 'blue' },
            { label: 'DKIM aligned', values: rate((r) => r.dkim_aligned_pass), tone: 'purple' },
            { label: 'SPF aligned', values: rate((r) => r.spf_aligned_pass), tone: 'orange' },
          ],
        }}
      >
        <p>The table under the message volume chart above has these rates per {ts.interval}.</p>
      </ChartFigure>
    </>
  );
}

function ServicesTable(props: { items: ServiceRow[]; csv: string; caption: string; id: string }) {
  if (props.items.length === 0) return <p>No sending services in this range.</p>;
  return (
    <>
      <div class="table-wrap">
        <table class="stack" id={props.id}>
          <caption>{props.caption}</caption>
          <thead>
            <tr>
              <th scope="col">Service</th>
              <th scope="col" class="num">
                Source IPs
              </th>
              <th scope="col" class="num">
                Messages
              </th>
              <th scope="col" class="num">
                Passed DMARC
              </th>
              <th scope="col" class="num">
                Failed DMARC
              </th>
              <th scope="col" class="num">
                DKIM aligned
              </th>
              <th scope="col" class="num">
                SPF aligned
              </th>
              <th scope="col" class="num">
                Would be blocked at reject
              </th>
            </tr>
          </thead>
          <tbody>
            {props.items.map((r) => (
              <tr>
                <th scope="row">{serviceName(r)}</th>
                <td class="num" data-label="Source IPs">
                  {count(r.sources)}
                </td>
                <td class="num" data-label="Messages">
                  {count(r.messages)}
                </td>
                <td class="num" data-label="Passed DMARC">
                  {count(r.dmarc_pass)}
                </td>
                <td class="num" data-label="Failed DMARC">
                  {count(r.dmarc_fail)}
                </td>
                <td class="num" data-label="DKIM aligned">
                  {count(r.dkim_aligned_pass)}
                </td>
                <td class="num" data-label="SPF aligned">
                  {count(r.spf_aligned_pass)}
                </td>
                <td class="num" data-label="Would be blocked at reject">
                  {count(r.would_be_blocked_at_reject)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <CsvLink href={props.csv} what="the sending services" />
    </>
  );
}

function SourcesTable(props: { items: Source[]; caption: string; id: string; records: (ip: string) => string }) {
  return (
    <div class="table-wrap">
      <table class="stack" id={props.id}>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col">Source IP</th>
            <th scope="col">Name (reverse DNS)</th>
            <th scope="col">Service</th>
            <th scope="col" class="num">
              Messages
            </th>
            <th scope="col" class="num">
              Passed DMARC
            </th>
            <th scope="col" class="num">
              Failed DMARC
            </th>
            <th scope="col" class="num">
              DKIM pass
            </th>
            <th scope="col" class="num">
              SPF pass
            </th>
            <th scope="col" class="num">
              Quarantined
            </th>
            <th scope="col" class="num">
              Rejected
            </th>
            <th scope="col" class="num">
              Would be blocked at reject
            </th>
          </tr>
        </thead>
        <tbody>
          {props.items.map((r) => (
            <tr>
              <th scope="row" class="mono">
                <a href={props.records(r.source_ip)}>
                  {r.source_ip}
                  <span class="visually-hidden">: its records</span>
                </a>
              </th>
              <td data-label="Name">{r.ptr ?? 'Unknown'}</td>
              <td data-label="Service">{r.service || r.base_domain ? serviceName(r) : 'Not identified'}</td>
              <td class="num" data-label="Messages">
                {count(r.messages)}
              </td>
              <td class="num" data-label="Passed DMARC">
                {count(r.dmarc_pass)}
              </td>
              <td class="num" data-label="Failed DMARC">
                {count(r.dmarc_fail)}
              </td>
              <td class="num" data-label="DKIM pass">
                {count(r.dkim_pass)}
              </td>
              <td class="num" data-label="SPF pass">
                {count(r.spf_pass)}
              </td>
              <td class="num" data-label="Quarantined">
                {count(r.quarantined)}
              </td>
              <td class="num" data-label="Rejected">
                {count(r.rejected)}
              </td>
              <td class="num" data-label="Would be blocked at reject">
                {count(r.would_be_blocked_at_reject)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ReportersTable(props: { items: Reporter[]; csv: string }) {
  if (props.items.length === 0) return <p>No reporters in this range.</p>;
  return (
    <>
      <div class="table-wrap">
        <table class="stack" id="reporters-table">
          <caption>Organisations that sent aggregate reports</caption>
          <thead>
            <tr>
              <th scope="col">Reporter</th>
              <th scope="col" class="num">
                Reports
              </th>
              <th scope="col" class="num">
                Messages
              </th>
            </tr>
          </thead>
          <tbody>
            {props.items.map((r) => (
              <tr>
                <th scope="row">{r.org_name || r.reporter}</th>
                <td class="num" data-label="Reports">
                  {count(r.reports)}
                </td>
                <td class="num" data-label="Messages">
                  {count(r.messages)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <CsvLink href={props.csv} what="the reporters" />
    </>
  );
}

function ReceivedTable(props: { reports: { items: ReportSummary[]; next_cursor: string | null } }) {
  const { items } = props.reports;
  if (items.length === 0) return <p>No aggregate reports for this domain itself begin in this range.</p>;
  return (
    <>
      <div class="table-wrap">
        <table class="stack" id="received-table">
          <caption>{props.reports.next_cursor ? `The latest ${items.length} aggregate reports` : 'Aggregate reports, newest first'}</caption>
          <thead>
            <tr>
              <th scope="col">Reporter</th>
              <th scope="col">Day</th>
              <th scope="col">Policy seen</th>
              <th scope="col" class="num">
                Messages
              </th>
              <th scope="col" class="num">
                Records
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((r) => (
              <tr>
                <th scope="row">
                  <a href={`/reports/${r.id}`}>{r.org_name}</a>
                </th>
                <td data-label="Day">{dayText(r.day)}</td>
                <td class="mono" data-label="Policy seen">
                  {policyText(r.policy) || '–'}
                </td>
                <td class="num" data-label="Messages">
                  {count(r.message_count)}
                </td>
                <td class="num" data-label="Records">
                  {count(r.record_count)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {props.reports.next_cursor ? <p>Narrow the date range to see older reports.</p> : null}
    </>
  );
}

const POLICY_TYPES: Record<string, string> = { sts: 'MTA-STS', tlsa: 'DANE (TLSA)', 'no-policy-found': 'No policy' };

function TlsTable(props: { items: TlsRow[]; summary: Summary; csv: string }) {
  const { tls } = props.summary;
  if (props.items.length === 0) return <p>No SMTP TLS reports in this range.</p>;
  return (
    <>
      <p>
        {count(tls.reports)} TLS reports: {count(tls.successful_sessions)} successful and {count(tls.failed_sessions)} failed TLS sessions (
        {percentOf(tls.failed_sessions, tls.successful_sessions + tls.failed_sessions)} failed).
      </p>
      <div class="table-wrap">
        <table class="stack" id="tls-table">
          <caption>SMTP TLS results by receiving organisation</caption>
          <thead>
            <tr>
              <th scope="col">Organisation</th>
              <th scope="col">Policy</th>
              <th scope="col" class="num">
                Reports
              </th>
              <th scope="col" class="num">
                Successful sessions
              </th>
              <th scope="col" class="num">
                Failed sessions
              </th>
              <th scope="col">Failures by type</th>
            </tr>
          </thead>
          <tbody>
            {props.items.map((r) => {
              const failures = Object.entries(r.failure_types);
              return (
                <tr>
                  <th scope="row">{r.org_name}</th>
                  <td data-label="Policy">{POLICY_TYPES[r.policy_type] ?? r.policy_type}</td>
                  <td class="num" data-label="Reports">
                    {count(r.reports)}
                  </td>
                  <td class="num" data-label="Successful sessions">
                    {count(r.successful_sessions)}
                  </td>
                  <td class="num" data-label="Failed sessions">
                    {count(r.failed_sessions)}
                  </td>
                  <td data-label="Failures by type">
                    {failures.length === 0 ? 'None' : failures.map(([type, n]) => `${type}: ${count(n)}`).join(', ')}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <CsvLink href={props.csv} what="the TLS results" />
    </>
  );
}

/** A failed call: 400 is the person's range (shown by the form); anything else is the error page's. */
function dataOf<T>(result: ApiResult<T>): T {
  if (!result.ok) throw new ApiError(result.status, result.problem);
  return result.data;
}

async function domainReports(c: UiContext) {
  const me = await currentUser(c);
  const domain = c.req.param('domain') ?? '';
  const scope: Scope = { domain, range: readRangeQuery((n) => c.req.query(n)) };
  const sourcesCursor = c.req.query('sources_cursor') || undefined;

  const summaryResult = await apiCall<Summary>(c, statsPath(scope, 'summary'));
  if (!summaryResult.ok && summaryResult.status === 400) {
    // A date typed wrongly: the form again, saying what is wrong, rather than an error page.
    return page(
      c,
      { title: `Reports: ${domain}`, active: 'reports', me, status: 400 },
      <>
        <Heading domain={domain} />
        <div class="error-summary" role="alert" aria-labelledby="error-summary-title">
          <h2 id="error-summary-title">There is a problem</h2>
          <p>{summaryResult.problem.detail ?? summaryResult.problem.title}</p>
        </div>
        <RangeForm scope={scope} shown={null} errors={summaryResult.problem.errors} latest={null} />
      </>,
    );
  }
  const summary = dataOf(summaryResult);
  const shown = { from: summary.from, to: summary.to };
  // The range the API settled on, so every view below counts exactly the same days.
  const settled: Scope = { domain: summary.domain, range: { ...scope.range, from: summary.from, to: summary.to } };
  const interval = intervalFor(summary.from, summary.to);
  const [timeseries, services, sources, failing, reporters, tls, latestReport, received] = await Promise.all([
    apiCall<Timeseries>(c, statsPath(settled, 'timeseries', { interval })),
    apiCall<Listing<ServiceRow>>(c, statsPath(settled, 'services')),
    apiCall<Sources>(c, statsPath(settled, 'sources', { limit: SOURCES_PAGE, cursor: sourcesCursor })),
    apiCall<Sources>(c, statsPath(settled, 'sources', { limit: TOP_FAILING, failing: 'true' })),
    apiCall<Listing<Reporter>>(c, statsPath(settled, 'reporters')),
    apiCall<Listing<TlsRow>>(c, statsPath(settled, 'tls')),
    // With nothing in the range, offer the range of the latest report instead of an empty page.
    summary.messages === 0 ? apiCall<{ items: { day: string }[] }>(c, `/api/reports${query({ domain: summary.domain, limit: 1 })}`) : null,
    // The reports themselves (the domain's own: /api/reports has no sub-domain option), newest first.
    apiCall<{ items: ReportSummary[]; next_cursor: string | null }>(c, `/api/reports${query({ domain: summary.domain, since: summary.from, until: summary.to, limit: RECEIVED_PAGE })}`),
  ]);
  const latestDay = latestReport?.ok ? latestReport.data.items[0]?.day : undefined;
  const latest = latestDay && latestDay < summary.from ? thirtyDaysTo(latestDay) : null;
  const ts = dataOf(timeseries);
  const servicesData = dataOf(services);
  const sourcesData = dataOf(sources);
  const failingData = dataOf(failing);
  const blockingServices = servicesData.items.filter((s) => s.would_be_blocked_at_reject > 0);
  const csv = (view: string, extra: Record<string, string | number | undefined> = {}) => statsPath(settled, view, { ...extra, format: 'csv' });
  const keep = rangeParams(settled);
  const recordsOf = (ip: string) => `/domains/${encodeURIComponent(summary.domain)}/reports/records${query({ ...keep, source_ip: ip })}`;

  return page(
    c,
    { title: `Reports: ${summary.domain}`, active: 'reports', me, scripts: ['charts.js'] },
    <>
      <link rel="stylesheet" href={assetUrl('charts.css')} />
      <Heading domain={summary.domain} />
      <RangeForm scope={scope} shown={shown} errors={undefined} latest={latest} />
      <p class="lede" id="range-shown">
        {dayText(summary.from)} to {dayText(summary.to)}
        {summary.include_subdomains ? ', including sub-domains' : ''}: {count(summary.reports)} aggregate reports covering {count(summary.messages)} messages.
      </p>
      {summary.messages === 0 ? (
        <div class="notice">
          <p>No aggregate reports begin in this range.{latest ? ` The latest report for ${summary.domain} is from ${dayText(latestDay!)}.` : ''}</p>
          {latest ? (
            <p>
              <a href={pageUrl(summary.domain, { from: latest.from, to: latest.to, include_subdomains: keep.include_subdomains })}>Show the 30 days up to the latest report</a>
            </p>
          ) : null}
        </div>
      ) : null}

      <h2 id="summary">Summary</h2>
      <KeyFigures s={summary} />
      <SummaryTable s={summary} csv={csv('summary')} />

      <h2 id="over-time">Over time</h2>
      <Charts ts={ts} csv={csv('timeseries', { interval })} />

      <h2 id="services">Sending services</h2>
      <p>Who sends mail as {summary.domain}, by the service their reverse DNS name belongs to.</p>
      <ServicesTable items={servicesData.items} csv={csv('services')} caption="Messages by sending service" id="services-table" />

      <h2 id="reject">What p=reject would block</h2>
      <p>
        <strong>{count(summary.would_be_blocked_at_reject)}</strong> messages ({percentOf(summary.would_be_blocked_at_reject, summary.messages)} of all) failed DMARC and
        were not rejected. With a DMARC policy of <code>p=reject</code>, receivers would refuse them.
      </p>
      <p>
        <a href={`/domains/${encodeURIComponent(summary.domain)}/reject-path`}>The path to p=reject for {summary.domain}</a>: who still fails,
        whether each is a known service, forwarded mail or spoofing, and the next safe policy step.
      </p>
      {blockingServices.length > 0 ? (
        <>
          <p>If any of these services send legitimate mail for you, fix their DKIM signing or SPF alignment before moving to reject.</p>
          <ServicesTable items={blockingServices} csv={csv('services')} caption="Services with messages that reject would block" id="blocking-services-table" />
        </>
      ) : null}
      {failingData.items.length > 0 ? (
        <>
          <SourcesTable items={failingData.items} records={recordsOf} caption={`Top ${failingData.items.length} sources failing DMARC`} id="failing-sources-table" />
          <CsvLink href={csv('sources', { failing: 'true' })} what="every source failing DMARC" />
        </>
      ) : (
        <p>No source failed DMARC in this range.</p>
      )}

      <h2 id="sources">Sources</h2>
      {sourcesData.items.length === 0 ? (
        <p>No sources in this range.</p>
      ) : (
        <>
          <SourcesTable items={sourcesData.items} records={recordsOf} caption="Sending IP addresses by messages" id="sources-table" />
          <nav class="pagination" aria-label="Pages of sources">
            {sourcesCursor ? <a href={`${pageUrl(summary.domain, keep)}#sources`}>First page of sources</a> : null}
            {sourcesData.next_cursor ? <a href={`${pageUrl(summary.domain, { ...keep, sources_cursor: sourcesData.next_cursor })}#sources`}>Next page of sources</a> : null}
          </nav>
          <CsvLink href={csv('sources')} what="the sources" />
        </>
      )}

      <h2 id="reporters">Reporters</h2>
      <ReportersTable items={dataOf(reporters).items} csv={csv('reporters')} />

      <h2 id="received">Aggregate reports received</h2>
      <ReceivedTable reports={dataOf(received)} />

      <h2 id="tls">SMTP TLS reports</h2>
      <TlsTable items={dataOf(tls).items} summary={summary} csv={csv('tls')} />

      <h2 id="failure-reports">Failure reports</h2>
      <p>
        {count(summary.failure_reports)} failure (forensic) reports were received in this range. They are counted only: their content is never stored.
      </p>
    </>,
  );
}

function Heading(props: { domain: string }) {
  return (
    <>
      <Breadcrumbs trail={domainTrail(props.domain)} />
      <h1>
        <span class="caption">{props.domain}</span>
        <span class="visually-hidden">: </span>
        Reports
      </h1>
    </>
  );
}

/** /reports: which domain's reports; a form for any domain, links for the caller's own. */
async function chooseDomain(c: UiContext) {
  const me = await currentUser(c);
  const typed = c.req.query('domain')?.trim();
  if (typed) return c.redirect(pageUrl(typed.toLowerCase(), {}), 303);
  const listed = me.domains.slice(0, 200);
  return page(
    c,
    { title: 'Reports', active: 'reports', me },
    <>
      <h1>Reports</h1>
      <p class="lede">DMARC aggregate, SMTP TLS and failure reports received for a domain.</p>
      <p>
        Also: <a href="/tls-reports">SMTP TLS reports of all your domains</a> and <a href="/upload">upload a report</a>.
      </p>
      <form method="get" action="/reports" class="filters">
        <div class="field">
          <label for="domain">Domain</label>
          <p class="hint" id="domain-hint">
            A domain you can see, or one of its sub-domains
          </p>
          <input type="text" id="domain" name="domain" aria-describedby="domain-hint" autocomplete="off" spellcheck={false} />
        </div>
        <button type="submit" class="button">
          Show reports
        </button>
      </form>
      {listed.length > 0 ? (
        <>
          <h2>Your domains</h2>
          <ul>
            {listed.map((d) => (
              <li>
                <a href={pageUrl(d, {})}>{d}</a>
              </li>
            ))}
          </ul>
          {me.domains.length > listed.length ? <p>And {count(me.domains.length - listed.length)} more: type the domain above.</p> : null}
        </>
      ) : (
        <p>No domain is configured for you yet.</p>
      )}
    </>,
  );
}

export const reportsRoutes = new Hono<UiEnv>().get('/reports', chooseDomain).get('/domains/:domain/reports', domainReports).route('/', recordRoutes).route('/', reportRoutes);
