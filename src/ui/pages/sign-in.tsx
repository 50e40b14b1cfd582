/**
 * Shown when the API answers 401. In production people sign in through Cloudflare Access, which sits
 * in front of the Worker, so reaching this page means Access is not set up for this hostname or the
 * person is not a user yet. Locally (ENVIRONMENT=development) a form signs in through the dev sign-in
 * route (/auth/dev-sign-in), whose cookie stands in for Access.
 */
import { Hono } from 'hono';
import { devSignInEnabled } from '../../auth/dev-sign-in';
import { executionContext, type Problem, type UiContext, type UiEnv } from '../api-call';
import { page } from '../layout';

/** Only same-site local paths, so `?next=` cannot send someone elsewhere after signing in. */
export function safeNext(next: string | undefined): string {
  return next && /^\/(?!\/)[^\\\s]*$/.test(next) ? next : '/';
}

export function signInPage(c: UiContext, problem?: Problem, status: 200 | 401 = 401) {
  const url = new URL(c.req.url);
  const next = safeNext(c.req.method === 'GET' && url.pathname !== '/sign-in' ? url.pathname + url.search : c.req.query('next'));
  const dev = devSignInEnabled(c.env);
  // The API's reason is worth showing when a credential was refused ("not a user of MailCheck Edge").
  const reason = problem?.detail && !/^Sign in through/.test(problem.detail) ? problem.detail : null;
  return page(
    c,
    { title: 'Sign in', me: null, status },
    <>
      <h1>Sign in to MailCheck Edge</h1>
      {reason ? (
        <div class="notice notice--error" role="alert">
          <p>{reason}</p>
        </div>
      ) : null}
      {dev ? (
        <>
          <p>This is a development Worker: sign in as any existing user by their email address.</p>
          <form method="post" action="/sign-in" novalidate>
            <input type="hidden" name="next" value={next} />
            <div class="field">
              <label for="email">Email address</label>
              <input type="email" id="email" name="email" autocomplete="email" spellcheck={false} required />
            </div>
            <button type="submit" class="button">
              Sign in
            </button>
          </form>
        </>
      ) : (
        <>
          <p>You sign in to MailCheck Edge through your organisation's Cloudflare Access login.</p>
          <p>
            <a class="button" href={next}>
              Continue to sign in
            </a>
          </p>
          <p class="hint">If you have signed in and still see this page, ask an administrator to add you as a user.</p>
        </>
      )}
    </>,
  );
}

/** Copies the Set-Cookie of the dev sign-in route onto a redirect. */
async function viaDevRoute(c: UiContext, path: string, location: string): Promise<Response> {
  const response = await c.get('api')(new Request(new URL(path, c.req.url)), c.env, executionContext(c));
  if (!response.ok) return signInPage(c, { title: 'Unauthorized', status: 401, detail: 'That sign-in did not work.' });
  const redirect = c.redirect(location, 303);
  const cookie = response.headers.get('Set-Cookie');
  if (cookie) redirect.headers.append('Set-Cookie', cookie);
  return redirect;
}

/** A sign-in or sign-out form must come from our own pages (login CSRF). */
function sameOrigin(c: UiContext): boolean {
  const origin = c.req.header('Origin');
  return origin ? origin === new URL(c.req.url).origin : c.req.header('Sec-Fetch-Site') === 'same-origin';
}

export const signInRoutes = new Hono<UiEnv>()
  .get('/sign-in', (c) => signInPage(c, undefined, 200))
  .post('/sign-in', async (c) => {
    if (!devSignInEnabled(c.env)) return c.redirect('/', 303);
    if (!sameOrigin(c)) return c.text('Cross-site request refused.', 403);
    const form = await c.req.parseBody();
    const email = typeof form.email === 'string' ? form.email.trim() : '';
    const next = safeNext(typeof form.next === 'string' ? form.next : undefined);
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) return signInPage(c, { title: 'Bad Request', status: 400, detail: 'Enter an email address, like name@example.org.' });
    return viaDevRoute(c, `/auth/dev-sign-in?email=${encodeURIComponent(email)}`, next);
  })
  .post('/sign-out', async (c) => {
    if (!devSignInEnabled(c.env)) return c.redirect('/cdn-cgi/access/logout', 303);
    if (!sameOrigin(c)) return c.text('Cross-site request refused.', 403);
    return viaDevRoute(c, '/auth/dev-sign-out', '/sign-in');
  });
