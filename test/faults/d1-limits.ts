/**
 * Deployed D1's per-statement limits, which local D1 (SQLite inside workerd) does not enforce: at most
 * 100 bound parameters, 100,000 bytes of SQL, and a value of at most 2 MB (a row may not exceed it, so
 * no single bound string or blob can). `limitedD1` wraps the real binding and refuses a statement over
 * any of them as deployed D1 would (it throws), and keeps the largest of each it saw, so a test can show
 * its paths came near a limit and stayed under it.
 */
export const D1_LIMITS = { boundParameters: 100, sqlBytes: 100_000, valueBytes: 2_000_000 } as const;

export interface LimitedD1 {
  db: D1Database;
  /** Every refusal, in order (a test expects none). */
  violations: string[];
  /** The largest of each measure seen over all statements. */
  peak: { boundParameters: number; sqlBytes: number; valueBytes: number };
  statements: number;
}

const utf8 = new TextEncoder();

function valueBytes(value: unknown): number {
  if (typeof value === 'string') return utf8.encode(value).byteLength;
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return value.byteLength;
  return 8;
}

const real = new WeakMap<object, { stmt: D1PreparedStatement; sql: string; bound: boolean }>();

export function limitedD1(binding: D1Database): LimitedD1 {
  const out: LimitedD1 = { db: binding, violations: [], peak: { boundParameters: 0, sqlBytes: 0, valueBytes: 0 }, statements: 0 };

  const refuse = (what: string, sql: string) => {
    const message = `D1 limit: ${what} in ${sql.slice(0, 80).replace(/\s+/g, ' ')}…`;
    out.violations.push(message);
    throw new Error(message);
  };

  function check(sql: string, values: unknown[]) {
    out.statements++;
    const sqlBytes = utf8.encode(sql).byteLength;
    const largest = values.reduce<number>((max, v) => Math.max(max, valueBytes(v)), 0);
    out.peak.boundParameters = Math.max(out.peak.boundParameters, values.length);
    out.peak.sqlBytes = Math.max(out.peak.sqlBytes, sqlBytes);
    out.peak.valueBytes = Math.max(out.peak.valueBytes, largest);
    if (values.length > D1_LIMITS.boundParameters) refuse(`${values.length} bound parameters (at most ${D1_LIMITS.boundParameters})`, sql);
    if (sqlBytes > D1_LIMITS.sqlBytes) refuse(`${sqlBytes} bytes of SQL (at most ${D1_LIMITS.sqlBytes})`, sql);
    if (largest > D1_LIMITS.valueBytes) refuse(`a ${largest}-byte value (at most ${D1_LIMITS.valueBytes})`, sql);
  }

  // A statement is checked when it is bound (every statement is bound, with no values when it has none,
  // before it runs or joins a batch).
  function wrap(stmt: D1PreparedStatement, sql: string, bound: boolean): D1PreparedStatement {
    const proxy = new Proxy(stmt, {
      get(target, prop) {
        if (prop === 'bind') {
          return (...values: unknown[]) => {
            check(sql, values);
            return wrap(target.bind(...values), sql, true);
          };
        }
        if (!bound && (prop === 'run' || prop === 'all' || prop === 'first' || prop === 'raw')) check(sql, []);
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    real.set(proxy, { stmt, sql, bound });
    return proxy;
  }

  out.db = new Proxy(binding, {
    get(target, prop) {
      if (prop === 'prepare') return (sql: string) => wrap(target.prepare(sql), sql, false);
      if (prop === 'batch') {
        return (statements: D1PreparedStatement[]) =>
          target.batch(
            statements.map((s) => {
              const known = real.get(s);
              // Not prepared through this D1: it could not be checked, so it does not pass silently.
              if (!known) return refuse('a statement prepared outside the limited D1', '');
              if (!known.bound) check(known.sql, []);
              return known.stmt;
            }),
          );
      }
      if (prop === 'exec') {
        return (sql: string) => {
          check(sql, []);
          return target.exec(sql);
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return out;
}
