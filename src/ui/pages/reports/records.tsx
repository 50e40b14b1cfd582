/**
 * The raw records behind the statistics (GET /api/aggregatereport/:domain/records), optionally of one
 * source IP: where a person goes from a failing source to what the receivers reported about it.
 *
 *   GET /domains/:domain/reports/records?source_ip=&from=&to=&include_subdomains=true&cursor=
 */
import { Hono } from 'hono';
import { apiJson, currentUser, query, type UiContext, type UiEnv } from '../../api-call';
import { page } from '../../layout';
import { count, dayText } from './format';
import { readRangeQuery } from './range';
import { Breadcrumbs, domainTrail } from '../../components/breadcrumbs';

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

interface Records {
  domain: string;
  include_subdomains: boolean;
  from: string;
  to: string;
  items: RecordRow[];
  next_cursor: string | null;
}

const PAGE = 100;

function resultTag(result: string | null) {
  if (!result) return '–';
  return <span class={result === 'pass' ? 'tag tag--good' : 'tag tag--bad'}>{result}</span>;
}

async function recordsPage(c: UiContext) {
  const me = await currentUser(c);
  const domain = c.req.param('domain') ?? '';
  const range = readRangeQuery((n) => c.req.query(n));
  const sourceIp = c.req.query('source_ip')?.trim() || undefined;
  const cursor = c.req.query('cursor') || undefined;
  const scope = { from: range.from, to: range.to, include_subdomains: range.includeSubdomains ? 'true' : undefined, source_ip: sourceIp };
  const base = `/api/aggregatereport/${encodeURIComponent(domain)}/records`;
  const data = await apiJson<Records>(c, `${base}${query({ ...scope, cursor, limit: PAGE })}`);
  const settled = { ...scope, from: data.from, to: data.to };
  const here = `/domains/${encodeURIComponent(data.domain)}/reports/records`;
  const back = `/domains/${encodeURIComponent(data.domain)}/reports${query({ from: data.from, to: data.to, include_subdomains: settled.include_subdomains })}`;
  return page(
    c,
    { title: `Records: ${data.domain}`, active: 'reports', me },
    <>
      <Breadcrumbs trail={[...domainTrail(data.domain), { href: back, label: 'Reports' }]} />
      <h1>
        <span class="caption">{data.domain}</span>
        <span class="visually-hidden">: </span>
        Report records{sourceIp ? ` from ${sourceIp}` : ''}
      </h1>
      <p class="lede">
        What receivers reported, record by record, for reports beginning {dayText(data.from)} to {dayText(data.to)}
        {data.include_subdomains ? ', including sub-domains' : ''}.
      </p>
      {data.items.length === 0 ? (
        <p>No records.</p>
      ) : (
        <div class="table-wrap">
          <table class="stack" id="records-table">
            <caption>Records{sourceIp ? ` from ${sourceIp}` : ''}</caption>
            <thead>
              <tr>
                <th scope="col">Reporter and period</th>
                <th scope="col">Source IP</th>
                <th scope="col" class="num">
                  Messages
                </th>
                <th scope="col">Disposition</th>
                <th scope="col">DKIM</th>
                <th scope="col">SPF</th>
                <th scope="col">Header from</th>
                <th scope="col">Envelope from</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((r) => (
                <tr>
                  <th scope="row">
                    {r.org_name || r.reporter}, {dayText(r.begin_at.slice(0, 10))}
                    {r.end_at.slice(0, 10) !== r.begin_at.slice(0, 10) ? ` to ${dayText(r.end_at.slice(0, 10))}` : ''}
                  </th>
                  <td class="mono" data-label="Source IP">
                    {r.source_ip}
                  </td>
                  <td class="num" data-label="Messages">
                    {count(r.count)}
                  </td>
                  <td data-label="Disposition">{r.disposition ?? 'none'}</td>
                  <td data-label="DKIM">{resultTag(r.dkim)}</td>
                  <td data-label="SPF">{resultTag(r.spf)}</td>
                  <td data-label="Header from">{r.header_from ?? '–'}</td>
                  <td data-label="Envelope from">{r.envelope_from ?? '–'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pagination" aria-label="Pages of records">
        {cursor ? <a href={`${here}${query(settled)}`}>First page</a> : null}
        {data.next_cursor ? <a href={`${here}${query({ ...settled, cursor: data.next_cursor })}`}>Next page of records</a> : null}
      </nav>
      <p>
        <a href={`${base}${query({ ...settled, cursor, limit: 500, format: 'csv' })}`} download>
          Download CSV<span class="visually-hidden"> of these records</span>
        </a>{' '}
        (up to 500 records, from this page on)
      </p>
      <p>
        <a href={back}>Back to the reports</a>
      </p>
    </>,
  );
}

export const recordRoutes = new Hono<UiEnv>().get('/domains/:domain/reports/records', recordsPage);
