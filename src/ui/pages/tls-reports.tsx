/**
 * /tls-reports: SMTP TLS reports (RFC 8460) with their policies, newest first, from GET
 * /api/tls-reports. A report can cover several domains; the API gives only the policies of domains
 * the person may see, so the page shows exactly those. Keyset pages of 50 (`?cursor=`).
 */
import { Hono } from 'hono';
import { apiJson, currentUser, isAdmin, query, type UiEnv } from '../api-call';
import { page } from '../layout';
import { NextPage, timeOrDash } from './admin/common';

interface TlsReport {
  id: number;
  inbound_id: number;
  report_id: string;
  org_name: string;
  org_email: string | null;
  begin: string;
  end: string;
  policies: {
    policy_type: string;
    policy_domain: string;
    policy_string: string[];
    mx_host: string[];
    total_successful_session_count: number;
    total_failure_session_count: number;
  }[];
}

const POLICY_TYPES: Record<string, string> = { sts: 'MTA-STS', tlsa: 'DANE (TLSA)', 'no-policy-found': 'No policy found' };

export const tlsReportsRoutes = new Hono<UiEnv>().get('/tls-reports', async (c) => {
  const me = await currentUser(c);
  const list = await apiJson<{ items: TlsReport[]; next_cursor: string | null }>(c, `/api/tls-reports${query({ cursor: c.req.query('cursor'), limit: 50 })}`);
  const admin = isAdmin(me);
  return page(
    c,
    { title: 'SMTP TLS reports', active: 'reports', me },
    <>
      <p class="breadcrumbs">
        <a href="/reports">Reports</a>
      </p>
      <h1>SMTP TLS reports</h1>
      <p class="lede">What sending mail servers found when they delivered to your domains over TLS: sessions that succeeded and failed, per policy.</p>
      {list.items.length === 0 ? (
        <p>No SMTP TLS reports{c.req.query('cursor') ? ' on this page' : ' for your domains yet'}.</p>
      ) : (
        <div class="table-wrap">
          <table class="stack" id="tls-reports-table">
            <caption>SMTP TLS reports, newest first, one row per policy</caption>
            <thead>
              <tr>
                <th scope="col">Reporter</th>
                <th scope="col">Period (UTC)</th>
                <th scope="col">Policy domain</th>
                <th scope="col">Policy</th>
                <th scope="col">Mail servers</th>
                <th scope="col" class="num">
                  Successful sessions
                </th>
                <th scope="col" class="num">
                  Failed sessions
                </th>
              </tr>
            </thead>
            <tbody>
              {list.items.flatMap((r) =>
                (r.policies.length ? r.policies : [null]).map((p) => (
                  <tr data-report-id={r.report_id}>
                    <th scope="row">
                      {r.org_name}
                      <span class="hint">
                        {' '}
                        report {r.report_id}
                        {admin ? (
                          <>
                            {' '}
                            (<a href={`/admin/inbound/${r.inbound_id}`}>message {r.inbound_id}</a>)
                          </>
                        ) : null}
                      </span>
                    </th>
                    <td data-label="Period (UTC)">
                      {timeOrDash(r.begin)} to {timeOrDash(r.end)}
                    </td>
                    {p ? (
                      <>
                        <td data-label="Policy domain">
                          <a href={`/domains/${encodeURIComponent(p.policy_domain)}`}>{p.policy_domain}</a>
                        </td>
                        <td data-label="Policy">
                          {POLICY_TYPES[p.policy_type] ?? p.policy_type}
                          {p.policy_string.length > 0 ? (
                            <details>
                              <summary>Policy text</summary>
                              <pre>{p.policy_string.join('\n')}</pre>
                            </details>
                          ) : null}
                        </td>
                        <td data-label="Mail servers" class="mono">
                          {p.mx_host.length ? p.mx_host.join(', ') : '–'}
                        </td>
                        <td data-label="Successful sessions" class="num">
                          {p.total_successful_session_count.toLocaleString('en-GB')}
                        </td>
                        <td data-label="Failed sessions" class="num">
                          {p.total_failure_session_count > 0 ? <span class="tag tag--bad">{p.total_failure_session_count.toLocaleString('en-GB')} failed</span> : '0'}
                        </td>
                      </>
                    ) : (
                      <td colspan={5}>No policy of your domains in this report.</td>
                    )}
                  </tr>
                )),
              )}
            </tbody>
          </table>
        </div>
      )}
      <NextPage c={c} next={list.next_cursor} label="TLS reports" />
      <p>
        JSON: <a href="/api/tls-reports">/api/tls-reports</a>
      </p>
    </>,
  );
});
