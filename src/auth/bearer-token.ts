import type { MiddlewareHandler } from 'hono';
import { problem } from '../api/problem';

/**
 * Interim machine authentication until the access-control issue brings users and stored tokens:
 * `INGEST_TOKEN` may upload reports; `BOOTSTRAP_ADMIN_TOKEN` may do anything. Both are secrets
 * (`.dev.vars` locally, `wrangler secret put` when deployed); an unset secret admits nobody.
 */
export type Scope = 'ingest' | 'read' | 'admin';

async function digest(value: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest('SHA-256', new TextEncoder().encode(value));
}

/** Constant-time: both sides are hashed first, so neither content nor length leaks through timing. */
export async function tokenMatches(presented: string, secret: string | undefined): Promise<boolean> {
  if (!secret) return false;
  const [a, b] = await Promise.all([digest(presented), digest(secret)]);
  return crypto.subtle.timingSafeEqual(a, b);
}

export function requireToken(scope: Scope): MiddlewareHandler<{ Bindings: Env }> {
  return async (c, next) => {
    const header = c.req.header('Authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) {
      return problem(c, 401, 'Unauthorized', 'Send an API token as "Authorization: Bearer <token>".');
    }
    const token = match[1];
    if (await tokenMatches(token, c.env.BOOTSTRAP_ADMIN_TOKEN)) return next();
    if (await tokenMatches(token, c.env.INGEST_TOKEN)) {
      if (scope === 'ingest') return next();
      return problem(c, 403, 'Forbidden', 'The ingest token may only upload reports.');
    }
    return problem(c, 401, 'Unauthorized', 'The API token is not valid.');
  };
}
