import { z } from 'zod';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

export interface Page {
  limit: number;
  /** Keyset cursor: the last key of the previous page, or null for the first page. */
  after: number | null;
}

/** Fetch limit + 1 rows; the extra row only tells whether there is a next page. */
export function pageOf<T>(rows: T[], limit: number, key: (row: T) => number) {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, next_cursor: rows.length > limit && last !== undefined ? String(key(last)) : null };
}

/** An empty query parameter (`?cursor=`) counts as absent, as it always has. */
export const blankAsAbsent = (value: unknown) => (value === '' ? undefined : value);

const LIMIT_MESSAGE = `must be an integer from 1 to ${MAX_PAGE_SIZE}`;

/**
 * Keyset pagination (`?limit=&cursor=`): stable under inserts and O(page) in D1, unlike OFFSET. The
 * cursor is the last key of the previous page.
 */
export const pageQuery = z.object({
  limit: z.coerce
    .number({ error: LIMIT_MESSAGE })
    .int(LIMIT_MESSAGE)
    .min(1, LIMIT_MESSAGE)
    .max(MAX_PAGE_SIZE, LIMIT_MESSAGE)
    .default(DEFAULT_PAGE_SIZE)
    .meta({ description: 'Items per page.' }),
  cursor: z
    .preprocess(
      blankAsAbsent,
      z
        .string()
        .regex(/^[0-9]+$/, 'must be a value returned as next_cursor')
        .transform(Number)
        .refine(Number.isSafeInteger, 'must be a value returned as next_cursor')
        .optional(),
    )
    .meta({ description: 'The previous page\'s `next_cursor`; absent for the first page.' }),
});

/** The validated `pageQuery` as the Page the queries take. */
export function pageFrom(query: { limit: number; cursor?: number | undefined }): Page {
  return { limit: query.limit, after: query.cursor ?? null };
}
