/**
 * The domains list (`/`): every monitored domain the person may see, with its status at a glance,
 * from GET /api/domains (search, filters, sorting and pages are its query parameters, so they work
 * without JavaScript and can be bookmarked). Administrators also get the add and bulk-add forms,
 * which post here and go to POST /api/admin/domains and /api/admin/domains/bulk.
 */
import { Hono } from 'hono';
import type { Me, UiContext, UiEnv } from '../api-call';
import { ApiError, apiCall, apiJson, currentUser, isAdmin, query } from '../api-call';
import { ErrorSummary, Notice } from '../components/notice';
import { Pagination } from '../components/pagination';
import { StatusTag, STATUS_TAGS } from '../components/tag';
import { formatDay, plural } from '../components/format';
import { page } from '../layout';

interface DomainItem {
  domain: string;
  checked_at: string | null;
  last_error: string | null;
  severity: string | null;
  errors: number;
  warnings: number;
  dmarc: string | null;
  spf: string | null;
  mta_sts: string | null;
  dnssec: string | null;
  tls: string;
  last_report: string | null;
}

interface DomainList {
  items: DomainItem[];
  total: number;
  page: number;
  limit: number;
}

interface Group {
  id: number;
  name: string;
}

interface BulkResult {
  added: string[];
  existing: string[];
  linked: number;
  invalid: { line: number; value: string; reason: string }[];
}

const FILTERS = [
  { key: 'dmarc', label: 'DMARC' },
  { key: 'spf', label: 'SPF' },
  { key: 'mta_sts', label: 'MTA-STS' },
  { key: 'tls', label: 'TLS grade' },
  { key: 'dnssec', label: 'DNSSEC' },
  { key: 'severity', label: 'Worst finding' },
] as const;

const SORTS: [string, string][] = [
  ['name', 'Name (A to Z)'],
  ['-name', 'Name (Z to A)'],
  ['severity', 'Most problems first'],
  ['tls', 'Weakest TLS first'],
  ['last_report', 'Latest report first'],
  ['-last_report', 'Oldest report first'],
  ['checked_at', 'Recently checked first'],
];

const PAGE_SIZE = 25;

/** The list's query from the page's: only the parameters the API knows, passed through unchanged. */
function listQuery(c: UiContext) {
  const params: Record<string, string | undefined> = { q: c.req.query('q'), sort: c.req.query('sort'), page: c.req.query('page') };
  for (const f of FILTERS) params[f.key] = c.req.query(f.key);
  return params;
}

function Filters(props: { params: Record<string, string | undefined> }) {
  const p = props.params;
  return (
    <form method="get" action="/" class="filters" role="search" aria-label="Domains">
      <div class="field">
        <label for="q">Search domains</label>
        <input type="search" id="q" name="q" value={p.q ?? ''} spellcheck={false} autocomplete="off" />
      </div>
      {FILTERS.map((f) => (
        <div class="field">
          <label for={`filter-${f.key}`}>{f.label}</label>
          <select id={`filter-${f.key}`} name={f.key}>
            <option value="">Any</option>
            {Object.entries(STATUS_TAGS[f.key]).map(([value, [label]]) => (
              <option value={value} selected={p[f.key] === value}>
                {label}
              </option>
            ))}
          </select>
        </div>
      ))}
      <div class="field">
        <label for="sort">Sort by</label>
        <select id="sort" name="sort">
          {SORTS.map(([value, label]) => (
            <option value={value} selected={(p.sort ?? 'name') === value}>
              {label}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <button type="submit" class="button">
          Apply
        </button>{' '}
        <a href="/">Clear</a>
      </div>
    </form>
  );
}

function Findings(props: { item: DomainItem }) {
  const { item } = props;
  if (item.severity === null) return <StatusTag kind="severity" value={null} />;
  if (item.errors === 0 && item.warnings === 0) return <StatusTag kind="severity" value={item.severity === 'info' ? 'none' : item.severity} />;
  return (
    <span class="badges">
      {item.errors > 0 ? <strong class="tag tag--bad">{plural(item.errors, 'error')}</strong> : null}
      {item.warnings > 0 ? <strong class="tag tag--warn">{plural(item.warnings, 'warning')}</strong> : null}
    </span>
  );
}

function DomainTable(props: { list: DomainList }) {
  return (
    <div class="table-wrap">
      <table class="stack">
        <caption class="visually-hidden">Domains and their status</caption>
        <thead>
          <tr>
            <th scope="col">Domain</th>
            <th scope="col">Findings</th>
            <th scope="col">DMARC</th>
            <th scope="col">SPF</th>
            <th scope="col">MTA-STS</th>
            <th scope="col">TLS</th>
            <th scope="col">DNSSEC</th>
            <th scope="col">Last report</th>
          </tr>
        </thead>
        <tbody>
          {props.list.items.map((item) => (
            <tr>
              <td>
                <a href={`/domains/${encodeURIComponent(item.domain)}`}>{item.domain}</a>
                {item.last_error ? <p class="hint">Last check failed: {item.last_error}</p> : null}
              </td>
              <td data-label="Findings">
                <Findings item={item} />
              </td>
              <td data-label="DMARC">
                <StatusTag kind="dmarc" value={item.dmarc} />
              </td>
              <td data-label="SPF">
                <StatusTag kind="spf" value={item.spf} />
              </td>
              <td data-label="MTA-STS">
                <StatusTag kind="mta_sts" value={item.mta_sts} />
              </td>
              <td data-label="TLS">
                <StatusTag kind="tls" value={item.tls} />
              </td>
              <td data-label="DNSSEC">
                <StatusTag kind="dnssec" value={item.dnssec} />
              </td>
              <td data-label="Last report">{item.last_report ? formatDay(item.last_report) : 'None yet'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

interface AdminState {
  groups: Group[];
  addErrors?: { field?: string; message: string }[];
  addValue?: string;
  bulk?: BulkResult;
  bulkErrors?: { field?: string; message: string }[];
}

function AdminForms(props: AdminState) {
  return (
    <section aria-labelledby="add-heading">
      <h2 id="add-heading">Add domains</h2>
      <form method="post" action="/domains/add">
        <ErrorSummary errors={props.addErrors ?? []} />
        <div class="field">
          <label for="add-name">Domain name</label>
          <p class="hint" id="add-name-hint">
            For example, agency.gov.example. Its sub-domains are covered too.
          </p>
          <input type="text" id="add-name" name="name" value={props.addValue ?? ''} aria-describedby="add-name-hint" spellcheck={false} autocomplete="off" />
        </div>
        {props.groups.length > 0 ? (
          <div class="field">
            <label for="add-group">Owned by group</label>
            <select id="add-group" name="group_id">
              <option value="">No group (administrators only)</option>
              {props.groups.map((g) => (
                <option value={String(g.id)}>{g.name}</option>
              ))}
            </select>
          </div>
        ) : null}
        <button type="submit" class="button">
          Add domain
        </button>
      </form>
      <h3 id="bulk-heading">Add many domains from CSV</h3>
      <form method="post" action="/domains/bulk" enctype="multipart/form-data">
        <ErrorSummary errors={props.bulkErrors ?? []} />
        {props.bulk ? <BulkOutcome result={props.bulk} /> : null}
        <div class="field">
          <label for="bulk-csv">Domains, one per line: domain or domain,group name</label>
          <p class="hint" id="bulk-csv-hint">
            A header line domain,group, blank lines and lines starting with # are skipped.
          </p>
          <textarea id="bulk-csv" name="csv" rows={6} aria-describedby="bulk-csv-hint" spellcheck={false} />
        </div>
        <div class="field">
          <label for="bulk-file">Or upload a CSV file</label>
          <input type="file" id="bulk-file" name="file" accept=".csv,text/csv,text/plain" />
        </div>
        <button type="submit" class="button button--secondary">
          Add domains
        </button>
      </form>
    </section>
  );
}

function BulkOutcome(props: { result: BulkResult }) {
  const r = props.result;
  return (
    <Notice tone={r.invalid.length ? 'error' : 'success'} title="Bulk add">
      <p>
        {plural(r.added.length, 'domain')} added, {r.existing.length} already monitored, {plural(r.linked, 'new group link')}.
      </p>
      {r.invalid.length ? (
        <>
          <p>These lines were not added:</p>
          <ul>
            {r.invalid.map((i) => (
              <li>
                Line {i.line} ({i.value || 'empty'}): {i.reason}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </Notice>
  );
}

/** What the PRG redirect says happened, from its query (no cookie or storage needed). */
function DoneNotice(props: { c: UiContext }) {
  const added = props.c.req.query('added');
  const bulk = props.c.req.query('bulk_added');
  if (added) {
    return (
      <Notice tone="success" title="Domain added">
        <p>
          <a href={`/domains/${encodeURIComponent(added)}`}>{added}</a> is now monitored; its first check runs within a minute.
        </p>
      </Notice>
    );
  }
  if (bulk !== undefined) {
    return (
      <Notice tone="success" title="Domains added">
        <p>
          {plural(Number(bulk) || 0, 'domain')} added, {Number(props.c.req.query('bulk_existing')) || 0} already monitored.
        </p>
      </Notice>
    );
  }
  return null;
}

async function renderDomains(c: UiContext, me: Me, admin?: Partial<AdminState>, status: 200 | 400 = 200) {
  const params = listQuery(c);
  const list = await apiJson<DomainList>(c, `/api/domains${query({ ...params, limit: PAGE_SIZE })}`);
  const groupList = isAdmin(me) ? await apiCall<{ items: Group[] }>(c, '/api/admin/groups?limit=500') : null;
  const groups = groupList?.ok ? groupList.data.items : [];
  const filtered = Object.entries(params).some(([k, v]) => k !== 'page' && k !== 'sort' && v);
  return page(
    c,
    { title: 'Domains', active: 'domains', me, status },
    <>
      <h1>Domains</h1>
      <DoneNotice c={c} />
      <Filters params={params} />
      <p role="status">
        {filtered ? `${plural(list.total, 'domain')} match` : plural(list.total, 'domain')}
        {list.total > list.limit ? `, showing ${(list.page - 1) * list.limit + 1} to ${Math.min(list.total, list.page * list.limit)}` : ''}.
      </p>
      {list.items.length ? (
        <DomainTable list={list} />
      ) : (
        <p>{filtered ? 'No domains match. Try fewer filters.' : isAdmin(me) ? 'No domains are monitored yet: add one below.' : 'Your groups have no domains yet. Ask an administrator to add them.'}</p>
      )}
      <Pagination url={c.req.url} page={list.page} total={list.total} limit={list.limit} label="Domain pages" />
      {isAdmin(me) ? <AdminForms groups={groups} {...admin} /> : null}
    </>,
  );
}

function fieldErrors(problem: { detail?: string; errors?: { path: string; message: string }[] }, field: string): { field?: string; message: string }[] {
  if (problem.errors?.length) return problem.errors.map((e) => ({ field, message: `${e.path === 'name' ? 'Domain name' : e.path}: ${e.message}` }));
  return [{ field, message: problem.detail ?? 'That could not be done.' }];
}

export const domainsRoutes = new Hono<UiEnv>()
  .get('/', async (c) => renderDomains(c, await currentUser(c)))
  .post('/domains/add', async (c) => {
    const me = await currentUser(c);
    const form = await c.req.parseBody();
    const name = typeof form.name === 'string' ? form.name.trim() : '';
    const groupId = typeof form.group_id === 'string' && /^\d+$/.test(form.group_id) ? Number(form.group_id) : null;
    if (!name) return renderDomains(c, me, { addErrors: [{ field: 'add-name', message: 'Enter a domain name' }] }, 400);
    const result = await apiCall<{ name: string }>(c, '/api/admin/domains', { method: 'POST', body: { name, ...(groupId ? { group_ids: [groupId] } : {}) } });
    if (!result.ok) {
      if (result.status === 400 || result.status === 409 || result.status === 404) {
        const errors = result.status === 409 ? [{ field: 'add-name', message: `${name} is already monitored` }] : fieldErrors(result.problem, 'add-name');
        return renderDomains(c, me, { addErrors: errors, addValue: name }, 400);
      }
      throw new ApiError(result.status, result.problem);
    }
    return c.redirect(`/${query({ added: result.data.name })}`, 303);
  })
  .post('/domains/bulk', async (c) => {
    const me = await currentUser(c);
    const form = await c.req.parseBody();
    const file = form.file instanceof File && form.file.size > 0 ? await form.file.text() : '';
    const csv = [typeof form.csv === 'string' ? form.csv : '', file].filter((t) => t.trim()).join('\n');
    if (!csv.trim()) return renderDomains(c, me, { bulkErrors: [{ field: 'bulk-csv', message: 'Enter or upload at least one domain' }] }, 400);
    const result = await apiCall<BulkResult>(c, '/api/admin/domains/bulk', { method: 'POST', body: csv, contentType: 'text/csv' });
    if (!result.ok && result.status !== 400 && result.status !== 413) throw new ApiError(result.status, result.problem);
    if (!result.ok) return renderDomains(c, me, { bulkErrors: fieldErrors(result.problem, 'bulk-csv') }, 400);
    // Rows that were not taken are shown at once (they would be lost in a redirect); else PRG.
    if (result.data.invalid.length) return renderDomains(c, me, { bulk: result.data });
    return c.redirect(`/${query({ bulk_added: result.data.added.length, bulk_existing: result.data.existing.length })}`, 303);
  });
