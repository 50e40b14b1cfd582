import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../auth/authenticate';
import { problem } from '../problem';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF protection for mutations authenticated by something the browser sends on its own (the Access
 * cookie, the dev sign-in cookie): the request must come from our own origin. Bearer-token requests
 * cannot be forged cross-site, so they pass.
 */
export function csrfForCookies(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = c.get('principal');
    if (principal.ambient && !SAFE.has(c.req.method)) {
      const origin = c.req.header('Origin');
      const fetchSite = c.req.header('Sec-Fetch-Site');
      const own = new URL(c.req.url).origin;
      const sameOrigin = origin ? origin === own : fetchSite === 'same-origin';
      if (!sameOrigin) return problem(c, 403, 'Forbidden', 'Cross-site request refused (CSRF protection).');
    }
    await next();
  };
}
