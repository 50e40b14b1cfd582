import { unstable_readConfig } from 'wrangler';
import { describe, expect, it } from 'vitest';

/**
 * Wrangler inherits neither vars nor bindings into `[env.*]`, so a var or binding added at the top level
 * (local dev and tests) and forgotten in an environment is `undefined` only once deployed. These
 * checks read the configuration as wrangler resolves it, per environment.
 */
// wrangler's published types for its config do not resolve here; these are the fields read below.
interface Config {
  name?: string;
  vars: Record<string, unknown>;
  d1_databases: { binding: string; database_name?: string; migrations_dir?: string }[];
  r2_buckets: { binding: string; bucket_name?: string }[];
  queues: { producers: { binding: string; queue: string }[]; consumers: { queue: string; dead_letter_queue?: string }[] };
  durable_objects: { bindings: unknown[] };
  send_email: { name: string }[];
  migrations: unknown[];
  triggers: unknown;
  limits: unknown;
}
const read = (env?: string): Config => unstable_readConfig({ config: 'wrangler.toml', ...(env ? { env } : {}) }, { hideWarnings: true }) as Config;
const top = read();
const ENVS = ['staging', 'production'] as const;

const queueNames = (config: Config) =>
  [...new Set([...config.queues.producers.map((p) => p.queue), ...config.queues.consumers.flatMap((c) => [c.queue, ...(c.dead_letter_queue ? [c.dead_letter_queue] : [])])])].sort();
// src/index.ts dispatches queue batches on these suffixes.
const suffix = (name: string) => /-(ingest-dlq|ingest|monitor|senders)$/.exec(name)?.[1];

describe.each(ENVS)('wrangler.toml [env.%s]', (envName) => {
  const config = read(envName);

  it('repeats every var of the top level', () => {
    expect(Object.keys(config.vars).sort()).toEqual(Object.keys(top.vars).sort());
    expect(config.vars.ENVIRONMENT).not.toBe('development');
    expect(config.vars.AUTO_ENROL).toBe('false');
  });

  it('repeats every binding of the top level', () => {
    expect(config.d1_databases.map((d) => d.binding)).toEqual(top.d1_databases.map((d) => d.binding));
    expect(config.d1_databases[0]?.migrations_dir).toBe('migrations');
    expect(config.r2_buckets.map((b) => b.binding)).toEqual(top.r2_buckets.map((b) => b.binding));
    expect(config.queues.producers.map((p) => p.binding)).toEqual(top.queues.producers.map((p) => p.binding));
    expect(config.durable_objects.bindings).toEqual(top.durable_objects.bindings);
    expect(config.send_email.map((s) => s.name)).toEqual(top.send_email.map((s) => s.name));
    expect(config.migrations).toEqual(top.migrations);
    expect(config.triggers).toEqual(top.triggers);
    expect(config.limits).toEqual(top.limits);
  });

  it('keeps the queue consumers and their settings, under names with the suffixes src/index.ts dispatches on', () => {
    expect(queueNames(config).map(suffix)).toEqual(queueNames(top).map(suffix));
    const strip = (c: Config['queues']['consumers'][number]) => ({ ...c, queue: suffix(c.queue), dead_letter_queue: c.dead_letter_queue && suffix(c.dead_letter_queue) });
    expect(config.queues.consumers.map(strip)).toEqual(top.queues.consumers.map(strip));
  });
});

describe('staging and production', () => {
  it('share no resource and no Worker name', () => {
    const [staging, production] = ENVS.map((env) => read(env)) as [Config, Config];
    expect(staging.name).not.toBe(production.name);
    expect(staging.d1_databases[0]?.database_name).not.toBe(production.d1_databases[0]?.database_name);
    expect(staging.r2_buckets[0]?.bucket_name).not.toBe(production.r2_buckets[0]?.bucket_name);
    const shared = queueNames(staging).filter((q) => queueNames(production).includes(q));
    expect(shared).toEqual([]);
  });
});
