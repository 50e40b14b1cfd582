import { env } from 'cloudflare:workers';
import type { IngestMessage } from '../../src/ingest/ingest-message';

/**
 * Faults injected at the binding boundary: the code under test gets the real D1, R2 and Queue
 * bindings of workerd, each behind a Proxy that fails on cue. Nothing of the code itself is mocked,
 * so what survives a fault here survives it in production for the same reason.
 */

/** The error a binding throws when a fault fires; the name says it was injected, for the logs. */
export class InjectedFault extends Error {
  override name = 'InjectedFault';
}

export interface D1Fault {
  /** `batch`: a `DB.batch()` call (one D1 transaction); `statement`: `prepare().run/all/first/raw()`. */
  on: 'batch' | 'statement';
  /** Only calls with a statement whose SQL matches count (any statement of a batch). */
  match?: RegExp;
  /** The first matching call that fails (1-based); earlier ones go through. Default 1. */
  nth?: number;
  /** How many matching calls fail from the nth on. Default 1; Infinity: an outage. */
  times?: number;
  /**
   * Run the real call first, then throw: the transaction committed but its answer was lost (a
   * dropped connection after D1's commit). Without it the call never reaches D1.
   */
  afterCommit?: boolean;
}

export interface FaultyD1 {
  db: D1Database;
  /** How many times each fault fired. */
  fired: number[];
  /** The SQL of every call made through it, in order (a batch as its statements joined by ' ; '). */
  calls: string[];
  /** Turn every fault off (the outage ends). */
  heal(): void;
}

const statementSql = new WeakMap<object, { real: D1PreparedStatement; sql: string }>();

/** A D1 whose calls fail as `faults` say; everything else reaches the real database. */
export function faultyD1(real: D1Database, faults: D1Fault[], hooks: { beforeBatch?: (sqls: string[]) => Promise<void> | void; afterBatch?: (n: number, sqls: string[]) => void } = {}): FaultyD1 {
  let batches = 0;
  const seen = faults.map(() => 0);
  const fired = faults.map(() => 0);
  let healed = false;
  const calls: string[] = [];

  async function guard<T>(kind: D1Fault['on'], sqls: string[], call: () => Promise<T>): Promise<T> {
    let after: InjectedFault | null = null;
    calls.push(sqls.join(' ; '));
    if (!healed) {
      for (const [i, fault] of faults.entries()) {
        if (fault.on !== kind) continue;
        if (fault.match && !sqls.some((s) => fault.match!.test(s))) continue;
        seen[i]! += 1;
        const nth = fault.nth ?? 1;
        const times = fault.times ?? 1;
        if (seen[i]! < nth || seen[i]! >= nth + times) continue;
        fired[i]! += 1;
        const error = new InjectedFault(`injected D1 ${kind} failure #${fired[i]} (${sqls[0]?.slice(0, 60).replace(/\s+/g, ' ')}…)`);
        if (!fault.afterCommit) throw error;
        after = error;
      }
    }
    const result = await call();
    if (after) throw after;
    return result;
  }

  function wrapStatement(stmt: D1PreparedStatement, sql: string): D1PreparedStatement {
    const proxy = new Proxy(stmt, {
      get(target, prop) {
        if (prop === 'bind') return (...values: unknown[]) => wrapStatement(target.bind(...values), sql);
        if (prop === 'run' || prop === 'all' || prop === 'first' || prop === 'raw') {
          const method = (target[prop] as (...a: unknown[]) => Promise<unknown>).bind(target);
          return (...args: unknown[]) => guard('statement', [sql], () => method(...args));
        }
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    statementSql.set(proxy, { real: stmt, sql });
    return proxy;
  }

  const db = new Proxy(real, {
    get(target, prop) {
      if (prop === 'prepare') return (sql: string) => wrapStatement(target.prepare(sql), sql);
      if (prop === 'batch') {
        return (statements: D1PreparedStatement[]) => {
          const unwrapped = statements.map((s) => statementSql.get(s) ?? { real: s, sql: '' });
          const sqls = unwrapped.map((u) => u.sql);
          return guard('batch', sqls, async () => {
            await hooks.beforeBatch?.(sqls);
            const result = await target.batch(unwrapped.map((u) => u.real));
            hooks.afterBatch?.(++batches, sqls);
            return result;
          });
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return {
    db,
    fired,
    calls,
    heal() {
      healed = true;
    },
  };
}

/**
 * Holds calls until `parties` of them have arrived, then lets them all go: makes an interleaving that
 * the scheduler produces only sometimes (two requests both past their reads before either writes)
 * happen every time.
 */
export function barrier(parties: number): () => Promise<void> {
  let arrived = 0;
  let release!: () => void;
  const all = new Promise<void>((resolve) => (release = resolve));
  return () => {
    arrived++;
    if (arrived === parties) release();
    return arrived <= parties ? all : Promise.resolve();
  };
}

/** An R2 bucket whose `get` throws `times` times (Infinity: R2 is down for this message), then works. */
export function faultyR2(real: R2Bucket, times: number): { bucket: R2Bucket; fired: () => number; heal(): void } {
  let fired = 0;
  let healed = false;
  const bucket = new Proxy(real, {
    get(target, prop) {
      if (prop === 'get') {
        return async (...args: Parameters<R2Bucket['get']>) => {
          if (!healed && fired < times) {
            fired++;
            throw new InjectedFault(`injected R2 get failure #${fired} (${String(args[0])})`);
          }
          return target.get(...args);
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { bucket, fired: () => fired, heal: () => void (healed = true) };
}

/**
 * The ingest queue as a producer, recording what the code sends instead of handing it to the local
 * queue: the test then delivers each message itself, at the moment it chooses (and twice when it
 * wants a redelivery), so no background consumer races the scenario.
 */
export function capturingQueue(): { queue: Queue<IngestMessage>; sent: IngestMessage[]; take(): IngestMessage[] } {
  const sent: IngestMessage[] = [];
  const queue = {
    async send(body: IngestMessage) {
      sent.push(body);
    },
    async sendBatch(messages: Iterable<MessageSendRequest<IngestMessage>>) {
      for (const m of messages) sent.push(m.body);
    },
  } as unknown as Queue<IngestMessage>;
  return { queue, sent, take: () => sent.splice(0, sent.length) };
}

/** The real `env` with some bindings swapped for faulty (or capturing) ones. */
export function envWith(overrides: Partial<Env>): Env {
  return { ...env, ...overrides } as Env;
}
