import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../auth/authenticate';
import { problem } from '../problem';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF protection for mutations authenticated by something the browser sends on its own (the Access
 * cookie, the dev sign-in cookie): the request must come from our own origin (or CORS_ORIGIN), else
 * 403; with no Origin header, `Sec-Fetch-Site: same-origin` is required. Bearer-token requests
 * cannot be forged cross-site, so they pass.
 */
export function csrfForCookies(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = c.get('principal');
    if (principal.ambient && !SAFE.has(c.req.method)) {
      const origin = c.req.header('Origin');
      const fetchSite = c.req.header('Sec-Fetch-Site');
      // Our own origin, and the one origin CORS_ORIGIN lets call the API with credentials.
      const allowed = [new URL(c.req.url).origin, c.env.CORS_ORIGIN?.trim()].filter(Boolean);
      const sameOrigin = origin ? allowed.includes(origin) : fetchSite === 'same-origin';
      if (!sameOrigin) return problem(c, 403, 'Forbidden', 'Cross-site request refused (CSRF protection).');
    }
    await next();
  };
}
