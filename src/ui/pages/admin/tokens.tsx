/**
 * Admin: API tokens (docs/admin-api.md#api-tokens): list, create, revoke. A new token is shown once,
 * on the page that answers the creating POST (not after a redirect: it must never sit in a URL or a
 * cache), sent with Cache-Control: no-store like the API's answer.
 */
import { Hono } from 'hono';
import { apiCall, apiJson, query, type Me, type Problem, type UiContext, type UiEnv } from '../../api-call';
import { adminPage, adminUser, done, ErrorSummary, field, fieldList, formFields, NextPage, type Page, PostButton, refusedStatus, TextField, timeOrDash, type User, userIdByEmail } from './common';

interface Token {
  id: number;
  name: string;
  prefix: string;
  scopes: string[];
  user_id: number | null;
  created_by: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

const SCOPES: [string, string][] = [
  ['read', 'read: statistics, reports and checks of the domains it sees'],
  ['ingest', 'ingest: upload reports'],
  ['probe', 'probe: a mail-server TLS probe agent'],
  ['admin', 'admin: everything, including administration'],
];

function status(t: Token, now: number) {
  if (t.revoked_at) return <span class="tag tag--none">Revoked</span>;
  if (t.expires_at && Date.parse(t.expires_at) <= now) return <span class="tag tag--warn">Expired</span>;
  return <span class="tag tag--good">Active</span>;
}

interface Refused {
  problem: Problem;
  status: 400 | 404 | 409;
  values: { name: string; scopes: string[]; email: string; expires: string };
}

async function listTokens(c: UiContext, me: Me, refused?: Refused) {
  const search = c.req.query('search') ?? '';
  const userId = c.req.query('user_id') ?? '';
  const list = await apiJson<Page<Token>>(c, `/api/admin/tokens${query({ search, user_id: userId, cursor: c.req.query('cursor'), limit: 100 })}`);
  // Tokens name their user by id; one page of users gives the emails people know them by.
  const emails = new Map<number, string>();
  if (list.items.some((t) => t.user_id !== null)) {
    for (const u of (await apiJson<Page<User>>(c, '/api/admin/users?limit=500')).items) emails.set(u.id, u.email);
  }
  const now = Date.now();
  const values = refused?.values ?? { name: '', scopes: ['read'], email: '', expires: '365' };
  return adminPage(
    c,
    me,
    { title: 'API tokens', section: 'tokens', status: refused?.status },
    <>
      <h1>API tokens</h1>
      <p>Tokens let scripts and probe agents use the API. Only a hash is stored: a token is shown once, when it is created.</p>
      <ErrorSummary problem={refused?.problem} />
      <form method="get" action="/admin/tokens" class="filters" aria-label="Filter tokens">
        <TextField id="search" name="search" label="Name or prefix contains" type="search" value={search} />
        {userId ? <input type="hidden" name="user_id" value={userId} /> : null}
        <button type="submit" class="button button--secondary">
          Filter
        </button>
        {userId ? <a href="/admin/tokens">Show every user's tokens</a> : null}
      </form>
      {list.items.length === 0 ? null : (
        <div class="table-wrap">
          <table class="stack" id="tokens-table">
            <caption>{userId ? `API tokens acting for user ${userId}` : 'API tokens, oldest first'}</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Prefix</th>
                <th scope="col">Scopes</th>
                <th scope="col">Acts for</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((t) => (
                <tr data-token-id={String(t.id)}>
                  <th scope="row">{t.name}</th>
                  <td class="mono" data-label="Prefix">
                    {t.prefix}
                  </td>
                  <td data-label="Scopes">{t.scopes.join(', ')}</td>
                  <td data-label="Acts for">{t.user_id === null ? 'Service (every domain)' : <a href={`/admin/users/${t.user_id}`}>{emails.get(t.user_id) ?? `User ${t.user_id}`}</a>}</td>
                  <td data-label="Created">
                    {timeOrDash(t.created_at)} by {t.created_by}
                  </td>
                  <td data-label="Expires">{t.expires_at ? timeOrDash(t.expires_at) : 'Never'}</td>
                  <td data-label="Last used">{t.last_used_at ? timeOrDash(t.last_used_at) : 'Never'}</td>
                  <td data-label="Status">{status(t, now)}</td>
                  <td>
                    {t.revoked_at ? null : (
                      <PostButton
                        action={`/admin/tokens/${t.id}/revoke`}
                        label={
                          <>
                            Revoke<span class="visually-hidden"> the token {t.name}</span>
                          </>
                        }
                        warning
                        confirm={`Revoke the token ${t.name}? Anything using it stops working.`}
                      />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.items.length === 0 ? <p>No tokens match.</p> : null}
      <NextPage c={c} next={list.next_cursor} label="tokens" />

      <section class="form-section" aria-labelledby="create-token">
        <h2 id="create-token">Create a token</h2>
        <form method="post" action="/admin/tokens">
          <TextField id="token-name" name="name" label="Name" hint="What uses it, e.g. nightly export" value={values.name} required problem={refused?.problem} />
          <fieldset aria-describedby="token-scopes-hint">
            <legend>Scopes</legend>
            <p class="hint" id="token-scopes-hint">
              A token acting for a member can only read.
            </p>
            <ul class="checkboxes">
              {SCOPES.map(([scope, label]) => (
                <li>
                  <input type="checkbox" id={`scope-${scope}`} name="scopes" value={scope} checked={values.scopes.includes(scope)} />
                  <label for={`scope-${scope}`}>{label}</label>
                </li>
              ))}
            </ul>
          </fieldset>
          <TextField
            id="token-user"
            name="email"
            label="Acts for user (optional)"
            type="email"
            hint="The email of a user: the token sees what they see. Leave empty for a service token, which sees every domain."
            value={values.email}
            problem={refused?.problem}
            errorPath="email"
          />
          <TextField
            id="token-expires"
            name="expires_in_days"
            label="Expires after (days, optional)"
            type="number"
            min={1}
            max={3650}
            hint="1 to 3650; leave empty for a token that does not expire"
            value={values.expires}
            problem={refused?.problem}
          />
          <button type="submit" class="button">
            Create token
          </button>
        </form>
      </section>
    </>,
  );
}

function CreatedToken(props: { token: Token & { token: string } }) {
  const t = props.token;
  return (
    <>
      <h1>Token created</h1>
      <div class="notice notice--success" role="status">
        <h2>Copy the token now</h2>
        <p>This is the only time it is shown. Only its hash is stored, so it cannot be shown again: if it is lost, revoke it and create another.</p>
      </div>
      <h2 id="new-token-label">Token “{t.name}”</h2>
      <p class="secret mono" id="new-token" data-token>
        {t.token}
      </p>
      <dl class="summary">
        <dt>Scopes</dt>
        <dd>{t.scopes.join(', ')}</dd>
        <dt>Acts for</dt>
        <dd>{t.user_id === null ? 'Service (every domain)' : `User ${t.user_id}`}</dd>
        <dt>Expires</dt>
        <dd>{t.expires_at ? timeOrDash(t.expires_at) : 'Never'}</dd>
      </dl>
      <p>
        Use it as <code>Authorization: Bearer {t.prefix}…</code>.
      </p>
      <p>
        <a href="/admin/tokens">Back to API tokens</a>
      </p>
    </>
  );
}

export const tokenRoutes = new Hono<UiEnv>()
  .get('/tokens', async (c) => listTokens(c, await adminUser(c)))
  .post('/tokens', async (c) => {
    const me = await adminUser(c);
    const fields = await formFields(c);
    const values = { name: field(fields, 'name'), scopes: fieldList(fields, 'scopes'), email: field(fields, 'email'), expires: field(fields, 'expires_in_days') };
    let userId: number | undefined;
    if (values.email) {
      const found = await userIdByEmail(c, values.email);
      if (typeof found !== 'number') return listTokens(c, me, { problem: found, status: found.status === 404 ? 404 : 400, values });
      userId = found;
    }
    const expires = values.expires ? Number(values.expires) : undefined;
    const body = { name: values.name, scopes: values.scopes, ...(userId !== undefined ? { user_id: userId } : {}), ...(expires !== undefined ? { expires_in_days: expires } : {}) };
    const result = await apiCall<Token & { token: string }>(c, '/api/admin/tokens', { method: 'POST', body });
    if (!result.ok) {
      // The API names user_id; the form asked for an email.
      const problem = { ...result.problem, errors: result.problem.errors?.map((e) => (e.path === 'user_id' ? { ...e, path: 'email' } : e)) };
      return listTokens(c, me, { problem, status: refusedStatus(result), values });
    }
    c.header('Cache-Control', 'no-store');
    return adminPage(c, me, { title: 'Token created', section: 'tokens', status: 201 }, <CreatedToken token={result.data} />);
  })
  .post('/tokens/:id{[0-9]+}/revoke', async (c) => {
    const me = await adminUser(c);
    const result = await apiCall(c, `/api/admin/tokens/${c.req.param('id')}`, { method: 'DELETE' });
    if (!result.ok) return listTokens(c, me, { problem: result.problem, status: refusedStatus(result), values: { name: '', scopes: ['read'], email: '', expires: '365' } });
    return done(c, '/admin/tokens', 'token-revoked');
  });
