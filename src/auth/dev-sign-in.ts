import { Hono } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { problem } from '../api/problem';

export const DEV_COOKIE = 'mailcheck_dev_user';

/**
 * The local stand-in for Cloudflare Access. Only when ENVIRONMENT is `development` (`.dev.vars`,
 * made by `npm start`); wrangler.toml sets `production`, so a deployed Worker never accepts it.
 */
export function devSignInEnabled(env: Env): boolean {
  return env.ENVIRONMENT === 'development';
}

/** GET /auth/dev-sign-in?email=… signs in as that (existing) user; /auth/dev-sign-out forgets it. */
export const devSignInRoutes = new Hono<{ Bindings: Env }>()
  .get('/dev-sign-in', (c) => {
    if (!devSignInEnabled(c.env)) return problem(c, 404, 'Not Found', 'The development sign-in exists only when ENVIRONMENT=development.');
    const email = c.req.query('email')?.trim().toLowerCase();
    if (!email || !/^[^@\s]+@[^@\s]+$/.test(email)) return problem(c, 400, 'Bad Request', 'Give the email of a user: /auth/dev-sign-in?email=admin@example.org');
    setCookie(c, DEV_COOKIE, email, { httpOnly: true, sameSite: 'Strict', path: '/' });
    return c.json({ signed_in_as: email });
  })
  .get('/dev-sign-out', (c) => {
    deleteCookie(c, DEV_COOKIE, { path: '/' });
    return c.json({ signed_out: true });
  });
