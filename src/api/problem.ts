import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';

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

export interface FieldError {
  /** Dotted path of the field (`group_ids.2`, `limit`), or `(body)` for the body as a whole. */
  path: string;
  message: string;
}

/** 400 with `detail` naming every failing field and `errors: [{path, message}]` for scripts. */
export function invalid(c: Context, errors: FieldError[]) {
  const detail = errors.map((e) => `${e.path}: ${e.message}`).join('; ');
  return problem(c, 400, 'Bad Request', detail, { errors });
}

function issueErrors(issue: z.core.$ZodIssue): FieldError[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: [...issue.path, key].join('.'), message: 'is not a known field' }));
  }
  const path = issue.path.length ? issue.path.map(String).join('.') : '(body)';
  const message = issue.code === 'invalid_type' && / received undefined$/.test(issue.message) ? 'is required' : issue.message;
  return [{ path, message }];
}

/** Errors a 400 lists at most: a body with thousands of bad entries (a probe result) answers the first few. */
export const MAX_FIELD_ERRORS = 20;

export function zodErrors(error: z.ZodError): FieldError[] {
  return error.issues.flatMap(issueErrors).slice(0, MAX_FIELD_ERRORS);
}
