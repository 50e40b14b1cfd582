/**
 * /account: who you are, as GET /api/me says: how you signed in, your role and scopes, your groups
 * and the domains you see.
 */
import { Hono } from 'hono';
import { currentUser, type UiEnv } from '../api-call';
import { page } from '../layout';

const KINDS: Record<string, string> = {
  access: 'Cloudflare Access',
  dev: 'Development sign-in',
  token: 'API token',
  bootstrap: 'Bootstrap administrator token',
};

const SCOPE_TEXT: Record<string, string> = {
  read: 'read: statistics, reports and checks of the domains you see',
  ingest: 'ingest: upload reports',
  probe: 'probe: act as a mail-server TLS probe agent',
  admin: 'admin: everything, including administration',
};

/** Domains listed before "and N more": a long list helps nobody. */
const SHOWN = 200;

export const accountRoutes = new Hono<UiEnv>().get('/account', async (c) => {
  const me = await currentUser(c);
  const shown = me.domains.slice(0, SHOWN);
  return page(
    c,
    { title: 'Your account', me },
    <>
      <h1>Your account</h1>
      <dl class="summary" id="account-summary">
        <dt>Email</dt>
        <dd>{me.email ?? 'None (not a person)'}</dd>
        <dt>Signed in with</dt>
        <dd>{KINDS[me.kind] ?? me.kind}</dd>
        <dt>Role</dt>
        <dd>{me.role === 'admin' ? 'Administrator' : me.role === 'member' ? 'Member' : 'None'}</dd>
        <dt>Domains</dt>
        <dd>{me.all_domains ? 'Every domain' : `${me.domains.length} ${me.domains.length === 1 ? 'domain' : 'domains'}, through your groups`}</dd>
      </dl>
      <h2>What you may do</h2>
      <ul id="account-scopes">
        {me.scopes.map((s) => (
          <li>{SCOPE_TEXT[s] ?? s}</li>
        ))}
      </ul>
      <h2>Your groups</h2>
      {me.groups.length === 0 ? (
        <p>You are in no group.</p>
      ) : (
        <ul id="account-groups">
          {me.groups.map((g) => (
            <li>{g.name}</li>
          ))}
        </ul>
      )}
      <h2>Domains you see</h2>
      {me.all_domains ? <p>You see every monitored domain. <a href="/">The domains list</a> has them all.</p> : null}
      {!me.all_domains && shown.length === 0 ? <p>No domain yet: ask an administrator to give one of your groups a domain.</p> : null}
      {!me.all_domains && shown.length > 0 ? (
        <>
          <ul id="account-domains">
            {shown.map((d) => (
              <li>
                <a href={`/domains/${encodeURIComponent(d)}`}>{d}</a>
              </li>
            ))}
          </ul>
          {me.domains.length > shown.length ? <p>And {me.domains.length - shown.length} more: see the domains list.</p> : null}
        </>
      ) : null}
      <p>
        Scripts: <a href="/api-docs">the API and how to get a token</a>. JSON: <a href="/api/me">/api/me</a>
      </p>
    </>,
  );
});
