/** Response declarations shared by the routes: JSON bodies, CSV alternatives and problems. */
import { z } from 'zod';

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    detail: z.string().optional(),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .meta({ description: 'For 400s (and 404s of ids named in a body): each failing field, `(body)` for the body as a whole.' }),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details; every error of the API has this shape.' });

const PROBLEM_DESCRIPTIONS = {
  400: 'Invalid input: `detail` and `errors` name each failing field.',
  401: 'No credentials, or credentials that are not valid (429 after repeated failures).',
  403: 'Authenticated, but without the scope this needs (or a cross-site request with a cookie).',
  404: 'No such resource, or one the caller may not see.',
  409: 'Conflicts with an existing resource.',
  413: 'The body is too large.',
  415: 'The body is not of a media type this route takes.',
  422: 'Well-formed, but it does not fit what it answers (see detail).',
  429: 'Too many requests; see Retry-After.',
  503: 'A dependency could not complete the request.',
} as const;

type ProblemStatus = keyof typeof PROBLEM_DESCRIPTIONS;

/** The problem responses a route may give, declared with the shared Problem schema. */
export function problems(...statuses: ProblemStatus[]) {
  return Object.fromEntries(
    statuses.map((status) => [status, { description: PROBLEM_DESCRIPTIONS[status], content: { 'application/problem+json': { schema: problemSchema } } }]),
  ) as Record<number, { description: string; content: { 'application/problem+json': { schema: typeof problemSchema } } }>;
}

export function json<S extends z.ZodType>(schema: S, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

/** A JSON body, or with `?format=csv` the same rows as CSV (a header row, one line per row). */
export function jsonOrCsv<S extends z.ZodType>(schema: S, description: string) {
  return {
    description: `${description} With \`format=csv\`: the same rows as CSV, with a header row.`,
    content: { 'application/json': { schema }, 'text/csv': { schema: { type: 'string' as const } } },
  };
}

export function noContent(description: string) {
  return { description };
}

/** `{ items, next_cursor }`: one page of a keyset-paginated list. */
export function pageOf<S extends z.ZodType>(item: S) {
  return z.object({
    items: z.array(item),
    next_cursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
  });
}

/** A required JSON request body (read whatever its Content-Type; see jsonBody in api-router.ts). */
export function jsonRequest<S extends z.ZodType>(schema: S, description?: string) {
  return { required: true, ...(description ? { description } : {}), content: { 'application/json': { schema } } };
}
