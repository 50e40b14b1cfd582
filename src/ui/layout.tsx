/**
 * The page frame every UI page uses: skip link, header with navigation and the signed-in user,
 * main landmark, footer. Pages render through `page()`:
 *
 *   return page(c, { title: 'Metrics', active: 'metrics', me }, <>…</>);
 *   return page(c, { title, active: 'reports', me, scripts: ['charts.js'] }, body);   // assets by name
 *
 * `me` comes from `currentUser(c)` (src/ui/api-call.ts); null on pages shown before sign-in.
 */
import { html } from 'hono/html';
import type { Child } from 'hono/jsx';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Me, UiContext } from './api-call';
import { isAdmin } from './api-call';
import { assetUrl } from './assets/index';

export type Section = 'domains' | 'reports' | 'metrics' | 'alerts' | 'digests' | 'senders' | 'admin';

export interface PageOptions {
  /** The page's own title; the document title adds " – MailCheck Edge". */
  title: string;
  me: Me | null;
  active?: Section;
  /** Asset names (src/ui/assets/index.ts) loaded with `defer`, e.g. a chart script. */
  scripts?: string[];
  status?: ContentfulStatusCode;
}

function Navigation(props: { me: Me; active?: Section }) {
  const link = (section: Section, href: string, label: string) => (
    <li>
      <a href={href} aria-current={props.active === section ? 'page' : undefined}>
        {label}
      </a>
    </li>
  );
  return (
    <nav class="nav" aria-label="Main">
      <ul>
        {link('domains', '/', 'Domains')}
        {link('reports', '/reports', 'Reports')}
        {link('metrics', '/metrics', 'Metrics')}
        {link('alerts', '/alerts', 'Alerts')}
        {link('digests', '/digests', 'Digests')}
        {link('senders', '/senders', 'Senders')}
        {isAdmin(props.me) ? link('admin', '/admin', 'Admin') : null}
      </ul>
    </nav>
  );
}

/** Sign-out differs by how the person signed in: Access has its own logout URL; dev sign-in a cookie. */
function Account(props: { me: Me }) {
  const who = props.me.email ?? (props.me.kind === 'bootstrap' ? 'bootstrap administrator' : 'API token');
  return (
    <div class="account">
      <span>
        Signed in as{' '}
        <a href="/account">
          <strong>{who}</strong>
        </a>
      </span>
      {props.me.kind === 'dev' ? (
        <form method="post" action="/sign-out">
          <button type="submit" class="link-button">
            Sign out
          </button>
        </form>
      ) : props.me.kind === 'access' ? (
        <a href="/cdn-cgi/access/logout">Sign out</a>
      ) : null}
    </div>
  );
}

export function Layout(props: PageOptions & { children?: Child }) {
  return (
    <html lang="en-GB">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} – MailCheck Edge`}</title>
        <link rel="stylesheet" href={assetUrl('app.css')} />
        <script src={assetUrl('app.js')} defer />
        {(props.scripts ?? []).map((name) => (
          <script src={assetUrl(name)} defer />
        ))}
      </head>
      <body>
        <a class="skip-link" href="#main">
          Skip to main content
        </a>
        <header class="header">
          <div class="header__inner">
            <a class="header__name" href="/">
              MailCheck Edge
            </a>
            {props.me ? <Navigation me={props.me} active={props.active} /> : null}
            {props.me ? <Account me={props.me} /> : null}
          </div>
        </header>
        <main class="main" id="main" tabindex={-1}>
          {props.children}
        </main>
        <footer class="footer">
          <div class="footer__inner">
            <p>
              MailCheck Edge: email security for your domains. Everything here is also in the <a href="/api/openapi.json">JSON API</a> (<a href="/api-docs">how to use it</a>).
            </p>
          </div>
        </footer>
      </body>
    </html>
  );
}

/** Renders a whole page as the response, with `status` (default 200). */
export function page(c: UiContext, options: PageOptions, body: Child): Response | Promise<Response> {
  return c.html(html`<!DOCTYPE html>${(<Layout {...options}>{body}</Layout>)}`, options.status ?? 200);
}
