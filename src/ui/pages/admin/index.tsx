/**
 * /admin: users, groups, domains, API tokens and the audit log, over the admin API
 * (docs/admin-api.md). Every page and form calls that API as the signed-in person, so only
 * administrators get past it: anyone else sees the friendly 403 page made from the API's answer.
 * Forms post here; the API's CSRF check judges the browser's own Origin, forwarded by apiCall.
 */
import { Hono } from 'hono';
import { apiJson, currentUser, type UiEnv } from '../../api-call';
import { type AuditEntry, AuditTable, auditRoutes } from './audit';
import { adminPage, type Page } from './common';
import { domainRoutes } from './domains';
import { groupRoutes } from './groups';
import { inboundRoutes } from './inbound';
import { tokenRoutes } from './tokens';
import { userRoutes } from './users';

const overview = new Hono<UiEnv>().get('/', async (c) => {
  const me = await currentUser(c);
  const recent = await apiJson<Page<AuditEntry>>(c, '/api/admin/audit?limit=10');
  return adminPage(
    c,
    me,
    { title: 'Administration', section: 'overview' },
    <>
      <h1>Administration</h1>
      <ul>
        <li>
          <a href="/admin/users">Users</a>: who may sign in, and who administers
        </li>
        <li>
          <a href="/admin/groups">Groups</a>: organisations, their members, their domains and notifications
        </li>
        <li>
          <a href="/admin/domains">Domains</a>: what is monitored, one at a time or from a CSV list
        </li>
        <li>
          <a href="/admin/tokens">API tokens</a>: for scripts and probe agents
        </li>
        <li>
          <a href="/admin/audit">Audit log</a>: every change, by whom
        </li>
        <li>
          <a href="/admin/retention">Retention</a>: how long reports are kept, per group, and the purge
        </li>
        <li>
          <a href="/admin/inbound">Inbound messages</a>: every report received, what became of it, and replay
        </li>
        <li>
          <a href="/senders#sender-map">Sender map</a>: which service a reverse-DNS domain belongs to, and your overrides
        </li>
        <li>
          <a href="/upload">Upload a report</a>: a report file or a raw report email
        </li>
        <li>
          <a href="/api-docs">API and specification</a>: the JSON API, its conventions, and tokens for scripts
        </li>
      </ul>
      <h2>Recent changes</h2>
      {recent.items.length === 0 ? <p>No changes yet.</p> : <AuditTable items={recent.items} caption="The ten latest changes" />}
    </>,
  );
});

export const adminRoutes = new Hono<UiEnv>()
  .route('/admin', overview)
  .route('/admin', userRoutes)
  .route('/admin', groupRoutes)
  .route('/admin', domainRoutes)
  .route('/admin', tokenRoutes)
  .route('/admin', auditRoutes)
  .route('/admin', inboundRoutes);
