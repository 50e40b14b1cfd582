import type { SQL } from 'drizzle-orm';
import { SQLiteAsyncDialect } from 'drizzle-orm/sqlite-core';

const dialect = new SQLiteAsyncDialect();

type Query = SQL | { toSQL(): { sql: string; params: unknown[] } };

/**
 * Runs drizzle-built statements as one D1 batch, i.e. one transaction and one D1 query. drizzle's own
 * `db.batch` cannot carry raw `sql` statements on D1 (drizzle-orm 0.45: their prepared form has no
 * `stmt`), and the bulk inserts need raw SQL over json_each.
 */
export async function runBatch(d1: D1Database, queries: Query[]): Promise<D1Result[]> {
  const statements = queries.map((query) => {
    const { sql, params } = 'toSQL' in query ? query.toSQL() : dialect.sqlToQuery(query);
    return d1.prepare(sql).bind(...params);
  });
  return d1.batch(statements);
}
