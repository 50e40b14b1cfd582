/** Admin: users (docs/admin-api.md#users): list, add, edit name and role, delete. */
import { Hono } from 'hono';
import { apiCall, apiJson, query, type Me, type Problem, type UiContext, type UiEnv } from '../../api-call';
import { adminPage, adminUser, done, ErrorSummary, field, formFields, NextPage, type Page, PostButton, refusedStatus, TextField, timeOrDash, type User } from './common';

function RoleSelect(props: { id: string; value: string; label?: string; any?: boolean }) {
  return (
    <div class="field">
      <label for={props.id}>{props.label ?? 'Role'}</label>
      <select id={props.id} name="role">
        {props.any ? (
          <option value="" selected={props.value === ''}>
            Any role
          </option>
        ) : null}
        <option value="member" selected={props.value === 'member'}>
          Member: sees the domains of their groups
        </option>
        <option value="admin" selected={props.value === 'admin'}>
          Administrator: sees and manages everything
        </option>
      </select>
    </div>
  );
}

async function listUsers(c: UiContext, me: Me, refused?: { problem: Problem; values: Record<string, string>; status: 400 | 404 | 409 }) {
  const search = c.req.query('search') ?? '';
  const role = c.req.query('role') ?? '';
  const list = await apiJson<Page<User>>(c, `/api/admin/users${query({ search, role, cursor: c.req.query('cursor'), limit: 50 })}`);
  const values = refused?.values ?? {};
  return adminPage(
    c,
    me,
    { title: 'Users', section: 'users', status: refused?.status },
    <>
      <h1>Users</h1>
      <ErrorSummary problem={refused?.problem} />
      <form method="get" action="/admin/users" class="filters" aria-label="Filter users">
        <TextField id="search" name="search" label="Email or name contains" type="search" value={search} />
        <RoleSelect id="role-filter" value={role} label="Role" any />
        <button type="submit" class="button button--secondary">
          Filter
        </button>
      </form>
      <div class="table-wrap">
        <table class="stack" id="users-table">
          <caption>Users</caption>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Added</th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((u) => (
              <tr>
                <th scope="row">
                  <a href={`/admin/users/${u.id}`}>{u.email}</a>
                </th>
                <td data-label="Name">{u.name ?? '–'}</td>
                <td data-label="Role">{u.role === 'admin' ? <span class="tag tag--info">Administrator</span> : 'Member'}</td>
                <td data-label="Added">{timeOrDash(u.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {list.items.length === 0 ? <p>No users match.</p> : null}
      <NextPage c={c} next={list.next_cursor} label="users" />

      <section class="form-section" aria-labelledby="add-user">
        <h2 id="add-user">Add a user</h2>
        <p>People sign in through Cloudflare Access with this email address.</p>
        <form method="post" action="/admin/users">
          <TextField id="new-email" name="email" label="Email address" type="email" value={values.email} required problem={refused?.problem} autocomplete="off" />
          <TextField id="new-name" name="name" label="Name (optional)" value={values.name} problem={refused?.problem} />
          <RoleSelect id="new-role" value={values.role ?? 'member'} />
          <button type="submit" class="button">
            Add user
          </button>
        </form>
      </section>
    </>,
  );
}

async function showUser(c: UiContext, me: Me, refused?: { problem: Problem; status: 400 | 404 | 409 }) {
  const id = c.req.param('id');
  const user = await apiJson<User>(c, `/api/admin/users/${id}`);
  return adminPage(
    c,
    me,
    { title: user.email, section: 'users', status: refused?.status },
    <>
      <h1>
        <span class="caption">User</span>
        <span class="visually-hidden">: </span>
        {user.email}
      </h1>
      <ErrorSummary problem={refused?.problem} />
      <dl class="summary">
        <dt>Name</dt>
        <dd>{user.name ?? '–'}</dd>
        <dt>Role</dt>
        <dd>{user.role === 'admin' ? 'Administrator' : 'Member'}</dd>
        <dt>Added</dt>
        <dd>{timeOrDash(user.created_at)}</dd>
        <dt>Groups</dt>
        <dd>
          {(user.groups ?? []).length === 0
            ? 'None'
            : (user.groups ?? []).map((g, i) => (
                <>
                  {i > 0 ? ', ' : ''}
                  <a href={`/admin/groups/${g.id}`}>{g.name}</a>
                </>
              ))}
        </dd>
        <dt>API tokens</dt>
        <dd>
          <a href={`/admin/tokens?user_id=${user.id}`}>Tokens acting for {user.email}</a>
        </dd>
      </dl>
      <p class="hint">Add the user to a group from the group's page.</p>

      <section class="form-section" aria-labelledby="edit-user">
        <h2 id="edit-user">Change name or role</h2>
        <p>The email cannot change: it is who Cloudflare Access says the person is. Delete the user and add another instead.</p>
        <form method="post" action={`/admin/users/${user.id}`}>
          <TextField id="edit-name" name="name" label="Name" value={user.name ?? ''} problem={refused?.problem} hint="Leave empty to clear it." />
          <RoleSelect id="edit-role" value={user.role} />
          <button type="submit" class="button">
            Save changes
          </button>
        </form>
      </section>

      <section class="form-section" aria-labelledby="delete-user">
        <h2 id="delete-user">Delete this user</h2>
        <p>Removes them from their groups and revokes their API tokens.</p>
        <PostButton action={`/admin/users/${user.id}/delete`} label={`Delete ${user.email}`} warning confirm={`Delete ${user.email}? Their API tokens will be revoked.`} />
      </section>
    </>,
  );
}

export const userRoutes = new Hono<UiEnv>()
  .get('/users', async (c) => listUsers(c, await adminUser(c)))
  .post('/users', async (c) => {
    const me = await adminUser(c);
    const fields = await formFields(c);
    const values = { email: field(fields, 'email'), name: field(fields, 'name'), role: field(fields, 'role') || 'member' };
    const result = await apiCall<User>(c, '/api/admin/users', { method: 'POST', body: { email: values.email, role: values.role, ...(values.name ? { name: values.name } : {}) } });
    if (!result.ok) return listUsers(c, me, { problem: result.problem, values, status: refusedStatus(result) });
    return done(c, `/admin/users/${result.data.id}`, 'user-created');
  })
  .get('/users/:id{[0-9]+}', async (c) => showUser(c, await adminUser(c)))
  .post('/users/:id{[0-9]+}', async (c) => {
    const me = await adminUser(c);
    const fields = await formFields(c);
    const id = c.req.param('id');
    const name = field(fields, 'name');
    const result = await apiCall(c, `/api/admin/users/${id}`, { method: 'PATCH', body: { name: name || null, role: field(fields, 'role') } });
    if (!result.ok) return showUser(c, me, { problem: result.problem, status: refusedStatus(result) });
    return done(c, `/admin/users/${id}`, 'user-updated');
  })
  .post('/users/:id{[0-9]+}/delete', async (c) => {
    const me = await adminUser(c);
    const result = await apiCall(c, `/api/admin/users/${c.req.param('id')}`, { method: 'DELETE' });
    if (!result.ok) return showUser(c, me, { problem: result.problem, status: refusedStatus(result) });
    return done(c, '/admin/users', 'user-deleted');
  });
