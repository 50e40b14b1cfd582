import type { MiddlewareHandler } from 'hono';
import { requireScope, type AppEnv } from '../../auth/authenticate';
import { DEV_COOKIE } from '../../auth/dev-sign-in';
import type { Scope } from '../../auth/principal';

/** The ways to authenticate (src/auth/authenticate.ts tries them in this order). */
export const SECURITY_SCHEMES = {
  bearerAuth: {
    type: 'http',
    scheme: 'bearer',
    description: 'An API token made by POST /api/admin/tokens, or the BOOTSTRAP_ADMIN_TOKEN / INGEST_TOKEN secret.',
  },
  cloudflareAccess: {
    type: 'apiKey',
    in: 'header',
    name: 'Cf-Access-Jwt-Assertion',
    description: 'Set by Cloudflare Access in front of the Worker when a person signs in (docs/auth.md).',
  },
  devSignIn: {
    type: 'apiKey',
    in: 'cookie',
    name: DEV_COOKIE,
    description: 'Local development only (ENVIRONMENT=development): set by GET /auth/dev-sign-in?email=.',
  },
} as const;

interface Access {
  middleware: MiddlewareHandler<AppEnv>[];
  security: Record<string, string[]>[];
}

/**
 * Who may call a route: the middleware that enforces it and the security requirement that documents
 * it. OpenAPI 3.1 lets a requirement of a non-OAuth scheme list roles: here the scope needed.
 * `null`: any signed-in principal. Authentication itself runs for all of /api/* (app.ts). `then`:
 * middleware that runs after the scope check (a domain visibility check).
 */
export function access(scope: Scope | null, ...then: MiddlewareHandler<AppEnv>[]): Access {
  const roles = scope ? [scope] : [];
  return {
    middleware: [...(scope ? [requireScope(scope)] : []), ...then],
    security: Object.keys(SECURITY_SCHEMES).map((name) => ({ [name]: roles })),
  };
}
