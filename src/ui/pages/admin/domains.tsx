/** Admin: domains (docs/admin-api.md#domains): list with owning groups, add one, add many from CSV, delete. */
import { Hono } from 'hono';
import { apiCall, apiJson, query, type Me, type Problem, type UiContext, type UiEnv } from '../../api-call';
import { adminPage, adminUser, done, ErrorSummary, field, formFields, NextPage, type Page, PostButton, refusedStatus, TextField, timeOrDash } from './common';

interface Domain {
  id: number;
  name: string;
  created_at: string;
  groups: { id: number; name: string }[];
}

interface BulkResult {
  added: string[];
  existing: string[];
  linked: number;
  invalid: { line: number; value: string; reason: string }[];
}

/** Groups offered in the add form: one page of them (the API's largest), which covers most services. */
async function groupChoices(c: UiContext) {
  return (await apiJson<Page<{ id: number; name: string }>>(c, '/api/admin/groups?limit=500')).items;
}

async function listDomains(c: UiContext, me: Me, refused?: { problem: Problem; status: 400 | 404 | 409; values: Record<string, string>; form: 'add' | 'bulk' }) {
  const search = c.req.query('search') ?? '';
  const groupId = c.req.query('group_id') ?? '';
  const [list, groups] = await Promise.all([
    apiJson<Page<Domain>>(c, `/api/admin/domains${query({ search, group_id: groupId, cursor: c.req.query('cursor'), limit: 50 })}`),
    groupChoices(c),
  ]);
  const values = refused?.values ?? {};
  return adminPage(
    c,
    me,
    { title: 'Domains', section: 'domains', status: refused?.status },
    <>
      <h1>Domains</h1>
      <p>Monitored domains and the groups that own them. Members of an owning group see the domain and its sub-domains.</p>
      <ErrorSummary problem={refused?.problem} />
      <form method="get" action="/admin/domains" class="filters" aria-label="Filter domains">
        <TextField id="search" name="search" label="Name contains" type="search" value={search} />
        <div class="field">
          <label for="group-filter">Owned by</label>
          <select id="group-filter" name="group_id">
            <option value="">Any group</option>
            {groups.map((g) => (
              <option value={String(g.id)} selected={String(g.id) === groupId}>
                {g.name}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" class="button button--secondary">
          Filter
        </button>
      </form>
      <div class="table-wrap">
        <table class="stack" id="admin-domains-table">
          <caption>Domains</caption>
          <thead>
            <tr>
              <th scope="col">Domain</th>
              <th scope="col">Groups</th>
              <th scope="col">Added</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((d) => (
              <tr>
                <th scope="row">
                  <a href={`/domains/${encodeURIComponent(d.name)}`}>{d.name}</a>
                </th>
                <td data-label="Groups">
                  {d.groups.length === 0
                    ? 'None'
                    : d.groups.map((g, i) => (
                        <>
                          {i > 0 ? ', ' : ''}
                          <a href={`/admin/groups/${g.id}`}>{g.name}</a>
                        </>
                      ))}
                </td>
                <td data-label="Added">{timeOrDash(d.created_at)}</td>
                <td>
                  <PostButton
                    action={`/admin/domains/${d.id}/delete`}
                    label={
                      <>
                        Delete<span class="visually-hidden"> {d.name}</span>
                      </>
                    }
                    warning
                    confirm={`Delete ${d.name}? It stops being monitored.`}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {list.items.length === 0 ? <p>No domains match.</p> : null}
      <NextPage c={c} next={list.next_cursor} label="domains" />

      <section class="form-section" aria-labelledby="add-domain">
        <h2 id="add-domain">Add a domain</h2>
        <form method="post" action="/admin/domains">
          <TextField
            id="new-domain"
            name="name"
            label="Domain name"
            hint="For example, example.gov.uk. Internationalised names are stored as A-labels."
            value={refused?.form === 'add' ? values.name : ''}
            required
            problem={refused?.form === 'add' ? refused.problem : undefined}
          />
          <div class="field">
            <label for="new-domain-group">Owning group (optional)</label>
            <select id="new-domain-group" name="group_id">
              <option value="">No group yet</option>
              {groups.map((g) => (
                <option value={String(g.id)} selected={refused?.form === 'add' && values.group_id === String(g.id)}>
                  {g.name}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" class="button">
            Add domain
          </button>
        </form>
      </section>

      <section class="form-section" aria-labelledby="bulk-domains">
        <h2 id="bulk-domains">Add many domains</h2>
        <form method="post" action="/admin/domains/bulk">
          <div class="field">
            <label for="bulk-csv">Domains, one per line</label>
            <p class="hint" id="bulk-csv-hint">
              CSV: a domain, optionally a comma and the name of an existing group. Lines starting with # are skipped. At most 10,000 rows.
            </p>
            <textarea id="bulk-csv" name="csv" rows={8} aria-describedby="bulk-csv-hint" spellcheck={false}>
              {refused?.form === 'bulk' ? values.csv : ''}
            </textarea>
          </div>
          <button type="submit" class="button">
            Add domains
          </button>
        </form>
      </section>
    </>,
  );
}

function BulkOutcome(props: { result: BulkResult }) {
  const { result } = props;
  return (
    <>
      <h1>Domains added</h1>
      <div class="notice notice--success" role="status">
        <p>
          {result.added.length} added, {result.existing.length} already there, {result.linked} new group links, {result.invalid.length} rows skipped.
        </p>
      </div>
      {result.invalid.length > 0 ? (
        <div class="table-wrap">
          <table id="bulk-invalid-table">
            <caption>Rows skipped</caption>
            <thead>
              <tr>
                <th scope="col">Line</th>
                <th scope="col">Row</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              {result.invalid.map((r) => (
                <tr>
                  <th scope="row">{r.line}</th>
                  <td class="mono">{r.value}</td>
                  <td>{r.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {result.added.length > 0 ? (
        <>
          <h2>Added</h2>
          <ul>
            {result.added.map((d) => (
              <li>{d}</li>
            ))}
          </ul>
        </>
      ) : null}
      <p>
        <a href="/admin/domains">Back to domains</a>
      </p>
    </>
  );
}

export const domainRoutes = new Hono<UiEnv>()
  .get('/domains', async (c) => listDomains(c, await adminUser(c)))
  .post('/domains', async (c) => {
    const me = await adminUser(c);
    const fields = await formFields(c);
    const values = { name: field(fields, 'name'), group_id: field(fields, 'group_id') };
    const body = { name: values.name, ...(values.group_id ? { group_ids: [Number(values.group_id)] } : {}) };
    const result = await apiCall<Domain>(c, '/api/admin/domains', { method: 'POST', body });
    if (!result.ok) return listDomains(c, me, { problem: result.problem, status: refusedStatus(result), values, form: 'add' });
    return done(c, '/admin/domains', 'domain-created');
  })
  .post('/domains/bulk', async (c) => {
    const me = await adminUser(c);
    const csv = field(await formFields(c), 'csv');
    const result = await apiCall<BulkResult>(c, '/api/admin/domains/bulk', { method: 'POST', body: `${csv}\n`, contentType: 'text/csv' });
    if (!result.ok) return listDomains(c, me, { problem: result.problem, status: refusedStatus(result), values: { csv }, form: 'bulk' });
    // The outcome lists what was skipped and why, so it is shown at once rather than after a redirect.
    return adminPage(c, me, { title: 'Domains added', section: 'domains' }, <BulkOutcome result={result.data} />);
  })
  .post('/domains/:id{[0-9]+}/delete', async (c) => {
    const me = await adminUser(c);
    const result = await apiCall(c, `/api/admin/domains/${c.req.param('id')}`, { method: 'DELETE' });
    if (!result.ok) return listDomains(c, me, { problem: result.problem, status: refusedStatus(result), values: {}, form: 'add' });
    return done(c, '/admin/domains', 'domain-deleted');
  });
