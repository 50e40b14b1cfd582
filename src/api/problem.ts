import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** Errors as RFC 9457 problem details, so scripts get a stable shape for every failure. */
export function problem(
  c: Context,
  status: ContentfulStatusCode,
  title: string,
  detail?: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  return c.json(
    { type: 'about:blank', title, status, ...(detail ? { detail } : {}), ...extra },
    status,
    { ...headers, 'Content-Type': 'application/problem+json' },
  );
}
