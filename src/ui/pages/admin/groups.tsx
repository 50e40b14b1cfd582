/**
 * Admin: groups (docs/admin-api.md#groups): list and create; a group's page renames it, adds and
 * removes members (by email), links and unlinks domains (by name), sets where it hears of changes,
 * deletes it.
 */
import { Hono } from 'hono';
import { apiCall, apiJson, query, type Me, type Problem, type UiContext, type UiEnv } from '../../api-call';
import { adminPage, adminUser, done, ErrorSummary, field, formFields, NextPage, type Page, PostButton, refusedStatus, TextField, timeOrDash, userIdByEmail } from './common';

interface GroupSummary {
  id: number;
  name: string;
  created_at: string;
  member_count: number;
  domain_count: number;
}

interface GroupDetail {
  id: number;
  name: string;
  created_at: string;
  members: { id: number; email: string; name: string | null; role: 'admin' | 'member' }[];
  domains: { id: number; name: string }[];
}

interface Refused {
  problem: Problem;
  status: 400 | 404 | 409;
  /** Which form was refused, so its error shows there and its values are kept. */
  form: string;
  values?: Record<string, string>;
}

async function listGroups(c: UiContext, me: Me, refused?: Refused) {
  const search = c.req.query('search') ?? '';
  const list = await apiJson<Page<GroupSummary>>(c, `/api/admin/groups${query({ search, cursor: c.req.query('cursor'), limit: 50 })}`);
  return adminPage(
    c,
    me,
    { title: 'Groups', section: 'groups', status: refused?.status },
    <>
      <h1>Groups</h1>
      <p>A group is an organisation: its members see its domains and their sub-domains.</p>
      <ErrorSummary problem={refused?.problem} />
      <form method="get" action="/admin/groups" class="filters" aria-label="Filter groups">
        <TextField id="search" name="search" label="Name contains" type="search" value={search} />
        <button type="submit" class="button button--secondary">
          Filter
        </button>
      </form>
      <div class="table-wrap">
        <table class="stack" id="groups-table">
          <caption>Groups</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col" class="num">
                Members
              </th>
              <th scope="col" class="num">
                Domains
              </th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((g) => (
              <tr>
                <th scope="row">
                  <a href={`/admin/groups/${g.id}`}>{g.name}</a>
                </th>
                <td class="num" data-label="Members">
                  {g.member_count}
                </td>
                <td class="num" data-label="Domains">
                  {g.domain_count}
                </td>
                <td data-label="Created">{timeOrDash(g.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {list.items.length === 0 ? <p>No groups match.</p> : null}
      <NextPage c={c} next={list.next_cursor} label="groups" />
      <section class="form-section" aria-labelledby="create-group">
        <h2 id="create-group">Create a group</h2>
        <form method="post" action="/admin/groups">
          <TextField id="new-group-name" name="name" label="Group name" hint="1 to 100 characters, unique ignoring case" value={refused?.values?.name} required problem={refused?.problem} />
          <button type="submit" class="button">
            Create group
          </button>
        </form>
      </section>
    </>,
  );
}

async function showGroup(c: UiContext, me: Me, refused?: Refused) {
  const id = c.req.param('id');
  const group = await apiJson<GroupDetail>(c, `/api/admin/groups/${id}`);
  const problemFor = (form: string) => (refused?.form === form ? refused.problem : undefined);
  const base = `/admin/groups/${group.id}`;
  return adminPage(
    c,
    me,
    { title: group.name, section: 'groups', status: refused?.status },
    <>
      <h1>
        <span class="caption">Group</span>
        <span class="visually-hidden">: </span>
        {group.name}
      </h1>
      <ErrorSummary problem={refused?.problem} />

      <h2 id="members">Members</h2>
      {group.members.length === 0 ? (
        <p>No members yet.</p>
      ) : (
        <div class="table-wrap">
          <table class="stack" id="members-table">
            <caption>Members of {group.name}</caption>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {group.members.map((m) => (
                <tr>
                  <th scope="row">
                    <a href={`/admin/users/${m.id}`}>{m.email}</a>
                  </th>
                  <td data-label="Name">{m.name ?? '–'}</td>
                  <td data-label="Role">{m.role === 'admin' ? 'Administrator' : 'Member'}</td>
                  <td>
                    <PostButton
                      action={`${base}/members/${m.id}/remove`}
                      label={
                        <>
                          Remove<span class="visually-hidden"> {m.email} from the group</span>
                        </>
                      }
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form method="post" action={`${base}/members`} aria-labelledby="add-member">
        <h3 id="add-member">Add a member</h3>
        <TextField id="member-email" name="email" label="Email address of the user" type="email" value={refused?.form === 'member' ? refused.values?.email : ''} problem={problemFor('member')} hint="The person must be a user already." />
        <button type="submit" class="button">
          Add member
        </button>
      </form>

      <h2 id="domains">Domains</h2>
      {group.domains.length === 0 ? (
        <p>The group owns no domains yet.</p>
      ) : (
        <div class="table-wrap">
          <table class="stack" id="group-domains-table">
            <caption>Domains {group.name} owns</caption>
            <thead>
              <tr>
                <th scope="col">Domain</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {group.domains.map((d) => (
                <tr>
                  <th scope="row">
                    <a href={`/domains/${encodeURIComponent(d.name)}`}>{d.name}</a>
                  </th>
                  <td>
                    <PostButton
                      action={`${base}/domains/${d.id}/unlink`}
                      label={
                        <>
                          Remove<span class="visually-hidden"> {d.name} from the group</span>
                        </>
                      }
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form method="post" action={`${base}/domains`} aria-labelledby="link-domain">
        <h3 id="link-domain">Give the group a domain</h3>
        <TextField id="link-domain-name" name="domain" label="Domain" value={refused?.form === 'domain' ? refused.values?.domain : ''} problem={problemFor('domain')} hint="A monitored domain; add new ones under Domains." />
        <button type="submit" class="button">
          Add domain to group
        </button>
      </form>

      <section class="form-section" aria-labelledby="notifications">
        <h2 id="notifications">Notifications</h2>
        <p>Where the group hears when a check of one of its domains changes. Leave both empty to turn notifications off. (The current settings are not shown: the API does not return them.)</p>
        <form method="post" action={`${base}/notifications`}>
          <TextField id="notify-webhook" name="webhook" label="Webhook URL (https)" type="url" value={refused?.form === 'notifications' ? refused.values?.webhook : ''} problem={problemFor('notifications')} />
          <TextField id="notify-email" name="email" label="Email address" type="email" value={refused?.form === 'notifications' ? refused.values?.email : ''} problem={problemFor('notifications')} />
          <button type="submit" class="button">
            Save notifications
          </button>
        </form>
      </section>

      <section class="form-section" aria-labelledby="rename-group">
        <h2 id="rename-group">Rename</h2>
        <form method="post" action={base}>
          <TextField id="group-name" name="name" label="Group name" value={refused?.form === 'rename' ? refused.values?.name : group.name} required problem={problemFor('rename')} />
          <button type="submit" class="button">
            Rename group
          </button>
        </form>
      </section>

      <section class="form-section" aria-labelledby="delete-group">
        <h2 id="delete-group">Delete this group</h2>
        <p>Removes its memberships and its domain links; the users and domains stay.</p>
        <PostButton action={`${base}/delete`} label={`Delete ${group.name}`} warning confirm={`Delete the group ${group.name}?`} />
      </section>
    </>,
  );
}

/** A domain's id from its name, as the admin list finds it. */
async function domainIdByName(c: UiContext, name: string): Promise<number | Problem> {
  const wanted = name.trim().toLowerCase().replace(/\.$/, '');
  if (!wanted) return { title: 'Bad Request', status: 400, errors: [{ path: 'domain', message: 'enter a domain name' }] };
  const found = await apiCall<Page<{ id: number; name: string }>>(c, `/api/admin/domains${query({ search: wanted, limit: 100 })}`);
  if (!found.ok) return found.problem;
  const domain = found.data.items.find((d) => d.name === wanted);
  return domain ? domain.id : { title: 'Not Found', status: 404, errors: [{ path: 'domain', message: `${wanted} is not a monitored domain` }] };
}

const asRefused = (problem: Problem, form: string, values: Record<string, string>): Refused => ({
  problem,
  form,
  values,
  status: problem.status === 404 ? 404 : problem.status === 409 ? 409 : 400,
});

export const groupRoutes = new Hono<UiEnv>()
  .get('/groups', async (c) => listGroups(c, await adminUser(c)))
  .post('/groups', async (c) => {
    const me = await adminUser(c);
    const name = field(await formFields(c), 'name');
    const result = await apiCall<GroupDetail>(c, '/api/admin/groups', { method: 'POST', body: { name } });
    if (!result.ok) return listGroups(c, me, { problem: result.problem, status: refusedStatus(result), form: 'create', values: { name } });
    return done(c, `/admin/groups/${result.data.id}`, 'group-created');
  })
  .get('/groups/:id{[0-9]+}', async (c) => showGroup(c, await adminUser(c)))
  .post('/groups/:id{[0-9]+}', async (c) => {
    const me = await adminUser(c);
    const name = field(await formFields(c), 'name');
    const result = await apiCall(c, `/api/admin/groups/${c.req.param('id')}`, { method: 'PATCH', body: { name } });
    if (!result.ok) return showGroup(c, me, asRefused(result.problem, 'rename', { name }));
    return done(c, `/admin/groups/${c.req.param('id')}`, 'group-renamed');
  })
  .post('/groups/:id{[0-9]+}/delete', async (c) => {
    const me = await adminUser(c);
    const result = await apiCall(c, `/api/admin/groups/${c.req.param('id')}`, { method: 'DELETE' });
    if (!result.ok) return showGroup(c, me, asRefused(result.problem, 'delete', {}));
    return done(c, '/admin/groups', 'group-deleted');
  })
  .post('/groups/:id{[0-9]+}/members', async (c) => {
    const me = await adminUser(c);
    const email = field(await formFields(c), 'email');
    const userId = await userIdByEmail(c, email);
    if (typeof userId !== 'number') return showGroup(c, me, asRefused(userId, 'member', { email }));
    const result = await apiCall(c, `/api/admin/groups/${c.req.param('id')}/members/${userId}`, { method: 'PUT' });
    if (!result.ok) return showGroup(c, me, asRefused(result.problem, 'member', { email }));
    return done(c, `/admin/groups/${c.req.param('id')}#members`, 'member-added');
  })
  .post('/groups/:id{[0-9]+}/members/:userId{[0-9]+}/remove', async (c) => {
    const me = await adminUser(c);
    const result = await apiCall(c, `/api/admin/groups/${c.req.param('id')}/members/${c.req.param('userId')}`, { method: 'DELETE' });
    if (!result.ok) return showGroup(c, me, asRefused(result.problem, 'member', {}));
    return done(c, `/admin/groups/${c.req.param('id')}#members`, 'member-removed');
  })
  .post('/groups/:id{[0-9]+}/domains', async (c) => {
    const me = await adminUser(c);
    const domain = field(await formFields(c), 'domain');
    const domainId = await domainIdByName(c, domain);
    if (typeof domainId !== 'number') return showGroup(c, me, asRefused(domainId, 'domain', { domain }));
    const result = await apiCall(c, `/api/admin/groups/${c.req.param('id')}/domains/${domainId}`, { method: 'PUT' });
    if (!result.ok) return showGroup(c, me, asRefused(result.problem, 'domain', { domain }));
    return done(c, `/admin/groups/${c.req.param('id')}#domains`, 'domain-linked');
  })
  .post('/groups/:id{[0-9]+}/domains/:domainId{[0-9]+}/unlink', async (c) => {
    const me = await adminUser(c);
    const result = await apiCall(c, `/api/admin/groups/${c.req.param('id')}/domains/${c.req.param('domainId')}`, { method: 'DELETE' });
    if (!result.ok) return showGroup(c, me, asRefused(result.problem, 'domain', {}));
    return done(c, `/admin/groups/${c.req.param('id')}#domains`, 'domain-unlinked');
  })
  .post('/groups/:id{[0-9]+}/notifications', async (c) => {
    const me = await adminUser(c);
    const fields = await formFields(c);
    const values = { webhook: field(fields, 'webhook'), email: field(fields, 'email') };
    const result = await apiCall(c, `/api/admin/groups/${c.req.param('id')}/notifications`, {
      method: 'PUT',
      body: { webhook: values.webhook || null, email: values.email || null },
    });
    if (!result.ok) return showGroup(c, me, asRefused(result.problem, 'notifications', values));
    return done(c, `/admin/groups/${c.req.param('id')}#notifications`, 'notifications-saved');
  });
