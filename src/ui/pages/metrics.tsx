/**
 * Metrics: the central team's dashboard over GET /api/metrics (docs/metrics.md): the current month
 * live, earlier months from the whole-service snapshots (only for those who see every domain), as
 * tables, and as charts over the months when there are at least two.
 *
 *   GET /metrics?from=YYYY-MM&to=YYYY-MM
 */
import { Hono } from 'hono';
import { apiCall, ApiError, currentUser, query, type UiContext, type UiEnv } from '../api-call';
import { assetUrl } from '../assets/index';
import { page } from '../layout';
import { ChartFigure, unixSeconds } from './reports/chart';
import { count, monthText, percent, timeText } from './reports/format';

interface Share {
  count: number;
  fraction: number;
}

interface MonthMetrics {
  month: string;
  source: 'live' | 'snapshot';
  computed_at: string;
  domains: number;
  checked: number;
  not_checked_yet: number;
  dmarc: { reject: Share; quarantine: Share; none: Share; missing: Share };
  spf_valid: Share;
  mta_sts_enforce: Share;
  dnssec_validated: Share;
  /** Absent in snapshots written before mail-server TLS grading. */
  tls?: Record<'good' | 'sufficient' | 'phase_out' | 'insufficient' | 'no_tls' | 'inconclusive' | 'not_scanned', Share>;
  reports: { messages: number; dmarc_pass: number; dmarc_pass_rate: number | null };
}

interface MetricsResponse {
  from: string;
  to: string;
  snapshots_available: boolean;
  note?: string;
  items: MonthMetrics[];
}

const TLS_BANDS = [
  ['good', 'Good'],
  ['sufficient', 'Sufficient'],
  ['phase_out', 'Phase out'],
  ['insufficient', 'Insufficient'],
  ['no_tls', 'No TLS'],
  ['inconclusive', 'Inconclusive scans'],
  ['not_scanned', 'Not scanned yet'],
] as const;

function addMonths(month: string, n: number): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const index = y * 12 + (m - 1) + n;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;
}

function ShareTable(props: { caption: string; id: string; of: string; rows: { label: string; share: Share }[] }) {
  return (
    <div class="table-wrap">
      <table id={props.id}>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col">Measure</th>
            <th scope="col" class="num">
              Domains
            </th>
            <th scope="col" class="num">
              Share of {props.of}
            </th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr>
              <th scope="row">{r.label}</th>
              <td class="num">{count(r.share.count)}</td>
              <td class="num">{percent(r.share.fraction)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function MonthFigures(props: { m: MonthMetrics }) {
  const { m } = props;
  return (
    <>
      <dl class="key-figures">
        <div>
          <dt>Domains monitored</dt>
          <dd data-figure="domains">{count(m.domains)}</dd>
        </div>
        <div>
          <dt>Checked</dt>
          <dd data-figure="checked">{count(m.checked)}</dd>
        </div>
        <div>
          <dt>DMARC at reject</dt>
          <dd data-figure="dmarc_reject">{percent(m.dmarc.reject.fraction)}</dd>
        </div>
        <div>
          <dt>Report messages passing DMARC</dt>
          <dd data-figure="dmarc_pass_rate">{percent(m.reports.dmarc_pass_rate)}</dd>
        </div>
      </dl>
      <p>
        {count(m.not_checked_yet)} of {count(m.domains)} domains have not been checked yet. Shares of DMARC, SPF, MTA-STS and DNSSEC are of the {count(m.checked)} checked
        domains; TLS grades are of all {count(m.domains)}.
      </p>
      <ShareTable
        caption="DMARC policy"
        id="dmarc-table"
        of="checked domains"
        rows={[
          { label: 'Reject (p=reject)', share: m.dmarc.reject },
          { label: 'Quarantine (p=quarantine)', share: m.dmarc.quarantine },
          { label: 'None (p=none, monitoring only)', share: m.dmarc.none },
          { label: 'No DMARC record', share: m.dmarc.missing },
        ]}
      />
      <ShareTable
        caption="Other protections"
        id="protections-table"
        of="checked domains"
        rows={[
          { label: 'SPF record valid', share: m.spf_valid },
          { label: 'MTA-STS in enforce mode', share: m.mta_sts_enforce },
          { label: 'DNSSEC validated', share: m.dnssec_validated },
        ]}
      />
      {m.tls ? (
        <ShareTable caption="Mail-server TLS grade (each domain's worst MX server)" id="tls-table" of="all domains" rows={TLS_BANDS.map(([key, label]) => ({ label, share: m.tls![key] }))} />
      ) : (
        <p>This month's snapshot was taken before mail-server TLS was graded.</p>
      )}
      <div class="table-wrap">
        <table id="reports-table">
          <caption>Aggregate reports received for {monthText(m.month)}</caption>
          <tbody>
            <tr>
              <th scope="row">Messages reported</th>
              <td class="num">{count(m.reports.messages)}</td>
            </tr>
            <tr>
              <th scope="row">Passed DMARC</th>
              <td class="num">{count(m.reports.dmarc_pass)}</td>
            </tr>
            <tr>
              <th scope="row">DMARC pass rate</th>
              <td class="num">{percent(m.reports.dmarc_pass_rate)}</td>
            </tr>
          </tbody>
        </table>
      </div>
    </>
  );
}

function OverMonths(props: { items: MonthMetrics[] }) {
  const { items } = props;
  const x = items.map((m) => unixSeconds(m.month));
  const pct = (f: (m: MonthMetrics) => number | null) => items.map((m) => {
    const v = f(m);
    return v === null ? null : Math.round(v * 1000) / 10;
  });
  const table = (
    <div class="table-wrap">
      <table class="stack" id="months-table">
        <caption>Figures by month</caption>
        <thead>
          <tr>
            <th scope="col">Month</th>
            <th scope="col" class="num">
              Domains
            </th>
            <th scope="col" class="num">
              Checked
            </th>
            <th scope="col" class="num">
              DMARC reject
            </th>
            <th scope="col" class="num">
              DMARC quarantine
            </th>
            <th scope="col" class="num">
              SPF valid
            </th>
            <th scope="col" class="num">
              MTA-STS enforce
            </th>
            <th scope="col" class="num">
              DNSSEC
            </th>
            <th scope="col" class="num">
              Messages
            </th>
            <th scope="col" class="num">
              DMARC pass rate
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((m) => (
            <tr>
              <th scope="row">
                {monthText(m.month)}
                {m.source === 'live' ? ' (so far)' : ''}
              </th>
              <td class="num" data-label="Domains">
                {count(m.domains)}
              </td>
              <td class="num" data-label="Checked">
                {count(m.checked)}
              </td>
              <td class="num" data-label="DMARC reject">
                {percent(m.dmarc.reject.fraction)}
              </td>
              <td class="num" data-label="DMARC quarantine">
                {percent(m.dmarc.quarantine.fraction)}
              </td>
              <td class="num" data-label="SPF valid">
                {percent(m.spf_valid.fraction)}
              </td>
              <td class="num" data-label="MTA-STS enforce">
                {percent(m.mta_sts_enforce.fraction)}
              </td>
              <td class="num" data-label="DNSSEC">
                {percent(m.dnssec_validated.fraction)}
              </td>
              <td class="num" data-label="Messages">
                {count(m.reports.messages)}
              </td>
              <td class="num" data-label="DMARC pass rate">
                {percent(m.reports.dmarc_pass_rate)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
  if (items.length < 2) return table;
  return (
    <>
      <ChartFigure
        id="adoption-chart"
        caption="Adoption by month"
        description="Share of checked domains with each protection, and the share of reported messages that passed DMARC, at the end of each month (the current month so far)."
        spec={{
          x,
          percent: true,
          monthly: true,
          series: [
            { label: 'DMARC reject', values: pct((m) => m.dmarc.reject.fraction), tone: 'blue' },
            { label: 'SPF valid', values: pct((m) => m.spf_valid.fraction), tone: 'green' },
            { label: 'MTA-STS enforce', values: pct((m) => m.mta_sts_enforce.fraction), tone: 'purple' },
            { label: 'DNSSEC validated', values: pct((m) => m.dnssec_validated.fraction), tone: 'orange' },
            { label: 'DMARC pass rate', values: pct((m) => m.reports.dmarc_pass_rate), tone: 'black' },
          ],
        }}
      >
        {table}
      </ChartFigure>
      <ChartFigure
        id="volume-chart"
        caption="Report volume by month"
        description="Messages covered by the aggregate reports received for each month."
        spec={{ x, monthly: true, series: [{ label: 'Messages', values: items.map((m) => m.reports.messages), tone: 'blue' }] }}
      >
        <p>The table under the adoption chart above has the messages per month.</p>
      </ChartFigure>
    </>
  );
}

async function metricsPage(c: UiContext) {
  const me = await currentUser(c);
  const current = new Date().toISOString().slice(0, 7);
  // Those who see every domain get a year of snapshots by default; others only have the live month.
  const from = c.req.query('from')?.trim() || (me.all_domains ? addMonths(current, -11) : current);
  const to = c.req.query('to')?.trim() || current;
  const result = await apiCall<MetricsResponse>(c, `/api/metrics${query({ from, to })}`);
  if (!result.ok && result.status !== 400) throw new ApiError(result.status, result.problem);
  const data = result.ok ? result.data : null;
  const errorFor = (field: string) => (result.ok ? undefined : result.problem.errors?.find((e) => e.path === field)?.message);
  const latest = data?.items.at(-1);

  return page(
    c,
    { title: 'Metrics', active: 'metrics', me, scripts: ['charts.js'], status: result.ok ? 200 : 400 },
    <>
      <link rel="stylesheet" href={assetUrl('charts.css')} />
      <h1>Metrics</h1>
      <p class="lede">How widely email security is adopted across the domains you can see.</p>
      {!result.ok ? (
        <div class="error-summary" role="alert" aria-labelledby="error-summary-title">
          <h2 id="error-summary-title">There is a problem</h2>
          <p>{result.problem.detail ?? result.problem.title}</p>
        </div>
      ) : null}
      <form method="get" action="/metrics" class="filters" aria-label="Months">
        {(['from', 'to'] as const).map((field) => (
          <div class="field">
            <label for={`month-${field}`}>{field === 'from' ? 'From month' : 'To month'}</label>
            <p class="hint" id={`month-${field}-hint`}>
              For example, {current}
            </p>
            {errorFor(field) ? (
              <p class="field-error" id={`month-${field}-error`}>
                <span class="visually-hidden">Error:</span> {errorFor(field)}
              </p>
            ) : null}
            <input
              type="month"
              id={`month-${field}`}
              name={field}
              value={field === 'from' ? from : to}
              max={current}
              pattern="[0-9]{4}-[0-9]{2}"
              aria-describedby={`month-${field}-hint${errorFor(field) ? ` month-${field}-error` : ''}`}
            />
          </div>
        ))}
        <button type="submit" class="button">
          Show months
        </button>
      </form>
      {data?.note ? <p class="notice">{data.note}</p> : null}
      {data && latest ? (
        <>
          <h2 id="latest">
            {monthText(latest.month)}
            {latest.source === 'live' ? ' so far' : ''}
          </h2>
          <p class="hint">
            {latest.source === 'live' ? 'Computed now' : 'Snapshot taken'} at {timeText(latest.computed_at)}.
          </p>
          <MonthFigures m={latest} />
          <h2 id="months">Over the months</h2>
          {data.items.length < 2 ? <p>Only one month has figures in this range, so there is no chart; earlier months appear once monthly snapshots exist.</p> : null}
          <OverMonths items={data.items} />
        </>
      ) : data ? (
        <p>No figures for these months.</p>
      ) : null}
    </>,
  );
}

export const metricsRoutes = new Hono<UiEnv>().get('/metrics', metricsPage);
