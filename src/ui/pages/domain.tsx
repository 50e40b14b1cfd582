/**
 * One domain (`/domains/:domain`): each area's record and findings (worst first, with the advice),
 * its mail servers' TLS grades and certificates, the history of changes, and "check now". Data from
 * GET /api/domainstatus/:domain, /history and GET /api/certificates/:domain; a domain the person may
 * not see is the API's 404, shown as the friendly not-found page.
 */
import { Hono } from 'hono';
import type { Child } from 'hono/jsx';
import { AREA_TITLES, AREAS, bySeverity, type Area, type AreaResult, type Finding } from '../../dns/domain-check';
import type { MxTlsSection } from '../../monitor/tls-store';
import type { UiContext, UiEnv } from '../api-call';
import { ApiError, apiCall, apiJson, currentUser, query } from '../api-call';
import { formatDateTime, plural } from '../components/format';
import { Notice } from '../components/notice';
import { StatusTag, Tag } from '../components/tag';
import { page } from '../layout';
import { Breadcrumbs } from '../components/breadcrumbs';

interface Monitor {
  last_attempt_at: string | null;
  last_error: string | null;
  next_check_at: string | null;
}

type Status =
  | ({ domain: string; pending: false; checked_at: string; complete: boolean; monitor: Monitor; mx_tls: MxTlsSection; findings: (Finding & { area: Area })[] } & Record<Area, AreaResult>)
  | { domain: string; pending: true; monitor: Monitor; mx_tls: MxTlsSection };

interface Change {
  id: number;
  at: string;
  area: string;
  kind: 'record-changed' | 'finding-appeared' | 'finding-cleared' | string;
  finding_id: string | null;
  detail: { before?: string | null; after?: string | null; severity?: string; title?: string } | null;
}

interface History {
  changes: Change[];
  next_cursor: string | null;
  recent_checks: { id: number; checked_at: string; max_severity: string }[];
}

interface CertificateServer {
  host: string;
  ip: string;
  pending: boolean;
  strict: boolean;
  certificates: { subject: string; issuer: string; not_before: string; not_after: string; sha256: string; san_dns: string[]; key_type: string; key_bits: number; signature_algorithm: string; self_signed: boolean }[];
  findings: Finding[];
}

const SEVERITY_WORDS: Record<string, string> = { error: 'Error', warning: 'Warning', info: 'Info' };
const PROTECTION: Record<string, string> = { none: 'None: senders may deliver without TLS if an attacker strips it', mta_sts: 'MTA-STS (enforce)', dane: 'DANE' };

/** Areas that are about one published record (DKIM and DNSSEC are not: selectors, signatures). */
const RECORD_AREAS = new Set<Area>(['dmarc', 'spf', 'mx', 'mta_sts', 'tls_rpt', 'bimi']);

const areaId = (area: string) => `area-${area.replace(/_/g, '-')}`;

function FindingItem(props: { finding: Finding; area?: string }) {
  const f = props.finding;
  return (
    <li class={`finding finding--${f.severity}`}>
      <h4>
        <Tag tone={f.severity === 'error' ? 'bad' : f.severity === 'warning' ? 'warn' : 'info'}>{SEVERITY_WORDS[f.severity] ?? f.severity}</Tag> {f.title}
      </h4>
      <p>{f.advice}</p>
      {f.detail ? (
        <p class="hint">
          Seen: <code>{f.detail}</code>
        </p>
      ) : null}
      <p class="hint">
        <code>{f.id}</code>
        {f.reference ? (
          <>
            {' · '}
            <a href={f.reference}>
              The standard<span class="visually-hidden"> for {f.title}</span>
            </a>
          </>
        ) : null}
      </p>
    </li>
  );
}

function AreaSection(props: { area: Area; result: AreaResult }) {
  const findings = [...props.result.findings].sort(bySeverity);
  const worst = findings[0]?.severity ?? 'none';
  return (
    <section class="area" id={areaId(props.area)} aria-labelledby={`${areaId(props.area)}-h`}>
      <h2 id={`${areaId(props.area)}-h`}>
        {AREA_TITLES[props.area]} <StatusTag kind="severity" value={worst === 'info' ? 'info' : worst} />
      </h2>
      {props.area === 'dnssec' ? (
        <p>
          Status: <StatusTag kind="dnssec" value={typeof props.result.facts === 'object' && props.result.facts && 'status' in props.result.facts ? String(props.result.facts.status) : 'unknown'} />
        </p>
      ) : null}
      {RECORD_AREAS.has(props.area) ? (
        props.result.record ? (
          <>
            <p class="hint">Record</p>
            <pre>{props.result.record}</pre>
          </>
        ) : (
          <p>No record published.</p>
        )
      ) : null}
      {findings.length ? (
        <ul class="findings">
          {findings.map((f) => (
            <FindingItem finding={f} />
          ))}
        </ul>
      ) : (
        <p>Nothing to fix.</p>
      )}
    </section>
  );
}

function MailServers(props: { tls: MxTlsSection; certificates: CertificateServer[] | null }) {
  const { tls } = props;
  const certs = new Map((props.certificates ?? []).map((s) => [`${s.host} ${s.ip}`, s]));
  return (
    <section class="area" id="mail-servers" aria-labelledby="mail-servers-h">
      <h2 id="mail-servers-h">
        Mail servers and TLS <StatusTag kind="tls" value={tls.pending ? 'not_scanned' : tls.grade} />
      </h2>
      <p>
        Downgrade protection: <strong>{PROTECTION[tls.downgrade_protection] ?? tls.downgrade_protection}</strong>. The domain's grade is its weakest
        server's.
      </p>
      {tls.servers.length === 0 ? (
        <p>No mail servers found yet (no MX records, or a null MX).</p>
      ) : (
        <div class="table-wrap">
          <table class="stack">
            <caption class="visually-hidden">Mail servers</caption>
            <thead>
              <tr>
                <th scope="col">Host</th>
                <th scope="col">Address</th>
                <th scope="col" class="num">
                  Preference
                </th>
                <th scope="col">TLS grade</th>
                <th scope="col">Scanned</th>
              </tr>
            </thead>
            <tbody>
              {tls.servers.map((s) => (
                <tr>
                  <td>{s.host}</td>
                  <td data-label="Address" class="mono">
                    {s.ip}
                  </td>
                  <td data-label="Preference" class="num">
                    {s.preference}
                  </td>
                  <td data-label="TLS grade">{s.pending ? <StatusTag kind="tls" value="not_scanned" /> : <StatusTag kind="tls" value={s.grade ?? 'inconclusive'} />}</td>
                  <td data-label="Scanned">{s.scanned_at ? formatDateTime(s.scanned_at) : 'Not yet'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {tls.servers.map((s) => {
        const chain = certs.get(`${s.host} ${s.ip}`);
        const findings = [...s.findings, ...s.certificate_findings].sort(bySeverity);
        if (s.pending && !chain?.certificates.length) return null;
        return (
          <section aria-label={`${s.host} (${s.ip})`}>
            <h3>
              {s.host} <span class="mono">({s.ip})</span>
            </h3>
            {findings.length ? (
              <ul class="findings">
                {findings.map((f) => (
                  <FindingItem finding={f} />
                ))}
              </ul>
            ) : (
              <p>No TLS findings.</p>
            )}
            {chain?.certificates.length ? (
              <details>
                <summary>Certificate chain ({plural(chain.certificates.length, 'certificate')})</summary>
                {chain.certificates.map((cert, i) => (
                  <dl class="summary">
                    <dt>{i === 0 ? 'Server certificate' : `Chain certificate ${i}`}</dt>
                    <dd>{cert.subject}</dd>
                    <dt>Issuer</dt>
                    <dd>{cert.issuer}</dd>
                    <dt>Valid</dt>
                    <dd>
                      {formatDateTime(cert.not_before)} to {formatDateTime(cert.not_after)}
                    </dd>
                    {cert.san_dns.length ? (
                      <>
                        <dt>Names</dt>
                        <dd>{cert.san_dns.join(', ')}</dd>
                      </>
                    ) : null}
                    <dt>Key</dt>
                    <dd>
                      {cert.key_type} {cert.key_bits} bits, {cert.signature_algorithm}
                      {cert.self_signed ? ', self-signed' : ''}
                    </dd>
                    <dt>SHA-256</dt>
                    <dd class="mono">{cert.sha256}</dd>
                  </dl>
                ))}
              </details>
            ) : null}
          </section>
        );
      })}
    </section>
  );
}

function describeChange(change: Change): Child {
  const area = AREA_TITLES[change.area as Area] ?? change.area;
  if (change.kind === 'record-changed') {
    const before = change.detail?.before ?? null;
    const after = change.detail?.after ?? null;
    return (
      <>
        <p>
          {area} record {before === null ? 'published' : after === null ? 'removed' : 'changed'}
        </p>
        {before !== null ? (
          <p class="hint">
            Before: <code>{before}</code>
          </p>
        ) : null}
        {after !== null ? (
          <p class="hint">
            After: <code>{after}</code>
          </p>
        ) : null}
      </>
    );
  }
  const title = change.detail?.title ?? change.finding_id ?? '';
  return (
    <p>
      {change.kind === 'finding-appeared' ? 'New' : change.kind === 'finding-cleared' ? 'Fixed' : change.kind} ({area}): {title}
    </p>
  );
}

function Timeline(props: { domain: string; history: History; cursor: string | undefined }) {
  const { history } = props;
  return (
    <section class="area" id="history" aria-labelledby="history-h">
      <h2 id="history-h">History</h2>
      {history.changes.length === 0 ? (
        <p>No changes since monitoring began.</p>
      ) : (
        <ol class="timeline">
          {history.changes.map((change) => (
            <li>
              <time datetime={change.at}>{formatDateTime(change.at)}</time>
              {describeChange(change)}
            </li>
          ))}
        </ol>
      )}
      <nav class="pagination" aria-label="History pages">
        {props.cursor ? <a href={`/domains/${encodeURIComponent(props.domain)}#history`}>Newest changes</a> : null}
        {history.next_cursor ? (
          <a href={`/domains/${encodeURIComponent(props.domain)}${query({ history: history.next_cursor })}#history`} rel="next">
            Older changes
          </a>
        ) : null}
      </nav>
    </section>
  );
}

function CheckNotice(props: { c: UiContext }) {
  const outcome = props.c.req.query('check');
  if (outcome === 'done') return <Notice tone="success" title="Checked just now" />;
  if (outcome === 'throttled') return <Notice title="Checked less than a minute ago">{<p>A domain can be checked once a minute. The results below are the latest.</p>}</Notice>;
  if (outcome === 'failed')
    return (
      <Notice tone="error" title="The check could not complete">
        <p>A DNS lookup failed, so the results below are from the last complete check. It will be retried.</p>
      </Notice>
    );
  return null;
}

export const domainRoutes = new Hono<UiEnv>()
  .get('/domains/:domain', async (c) => {
    const me = await currentUser(c);
    const domain = c.req.param('domain').toLowerCase();
    const path = encodeURIComponent(domain);
    const cursor = c.req.query('history') || undefined;
    const status = await apiJson<Status>(c, `/api/domainstatus/${path}`);
    const [history, certificates] = await Promise.all([
      apiJson<History>(c, `/api/domainstatus/${path}/history${query({ limit: 20, cursor })}`),
      apiCall<{ servers: CertificateServer[] }>(c, `/api/certificates/${path}`),
    ]);
    const name = status.domain;
    return page(
      c,
      { title: name, active: 'domains', me },
      <>
        <Breadcrumbs trail={[{ href: '/', label: 'Domains' }]} current={name} />
        <h1>
          <span class="caption">Domain</span>
          {name}
        </h1>
        <CheckNotice c={c} />
        <dl class="summary">
          <dt>Last checked</dt>
          <dd>{status.pending ? 'Not checked yet: the first check runs within a minute of adding a domain.' : formatDateTime(status.checked_at)}</dd>
          {status.monitor.last_error ? (
            <>
              <dt>Last attempt failed</dt>
              <dd>
                {formatDateTime(status.monitor.last_attempt_at)}: {status.monitor.last_error}
              </dd>
            </>
          ) : null}
          <dt>Next check</dt>
          <dd>{formatDateTime(status.monitor.next_check_at)}</dd>
          {status.pending ? null : (
            <>
              <dt>Findings</dt>
              <dd>
                {plural(status.findings.filter((f) => f.severity === 'error').length, 'error')}, {plural(status.findings.filter((f) => f.severity === 'warning').length, 'warning')}
              </dd>
            </>
          )}
        </dl>
        <div class="actions">
          <form method="post" action={`/domains/${path}/check`}>
            <button type="submit" class="button">
              Check now
            </button>
          </form>
          <a href={`/domains/${path}/reports`}>DMARC and TLS reports for {name}</a>
          <a href={`/domains/${path}/mta-sts`}>MTA-STS hosting for {name}</a>
          <a href={`/domains/${path}/reject-path`}>The path to p=reject for {name}</a>
        </div>
        {status.pending ? null : (
          <>
            <nav aria-labelledby="contents-h">
              <h2 id="contents-h">Contents</h2>
              <ul>
                {AREAS.map((area) => (
                  <li>
                    <a href={`#${areaId(area)}`}>{AREA_TITLES[area]}</a>
                    {status[area].findings.length ? ` (${plural(status[area].findings.length, 'finding')})` : ''}
                  </li>
                ))}
                <li>
                  <a href="#mail-servers">Mail servers and TLS</a>
                </li>
                <li>
                  <a href="#history">History</a>
                </li>
              </ul>
            </nav>
            {AREAS.map((area) => (
              <AreaSection area={area} result={status[area]} />
            ))}
          </>
        )}
        <MailServers tls={status.mx_tls} certificates={certificates.ok ? certificates.data.servers : null} />
        <Timeline domain={name} history={history} cursor={cursor} />
      </>,
    );
  })
  .post('/domains/:domain/check', async (c) => {
    const path = encodeURIComponent(c.req.param('domain').toLowerCase());
    const result = await apiCall(c, `/api/domainstatus/${path}/recheck`, { method: 'POST' });
    const outcome = result.ok ? 'done' : result.status === 429 ? 'throttled' : result.status === 503 ? 'failed' : null;
    if (!outcome && !result.ok) throw new ApiError(result.status, result.problem);
    return c.redirect(`/domains/${path}${query({ check: outcome })}`, 303);
  });
