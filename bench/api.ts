/**
 * API latency at scale: local D1 seeded with 10,000 domains and first 100,000, then 1,000,000
 * aggregate records; p50/p95 of the domain summary, the 90-day time series and the top failing
 * sources, measured over HTTP against the real Worker (wrangler's local runtime) at both sizes. The
 * point is the growth: the routes read roll-ups whose size follows days and sources, not records,
 * so the 10x more records should leave latency flat.
 *
 * Seeding uses "the same inserts" as ingest, not the ingest path (a million records through the
 * queue would take the whole benchmark): rows are generated inside SQLite with recursive CTEs, and
 * the roll-ups are written by the very statements ingest runs (src/ingest/rollups.ts), widened from
 * one report id to a range of them.
 */
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SQLiteSyncDialect } from 'drizzle-orm/sqlite-core';
import { aggregateRollupStatements } from '../src/ingest/rollups';
import { healthy, makeSandbox, startProgrammatic, wrangler, type RunningWorker, type Sandbox, type Tokens } from './e2e';

export interface LatencyRow {
  query: string;
  p50: number;
  p95: number;
}

export interface ApiBenchResult {
  domains: number;
  stages: { records: number; rows: LatencyRow[]; seedMs: number }[];
}

const DOMAINS = 10_000;
const RECORDS_PER_REPORT = 10;
const SAMPLES = Number(process.env.BENCH_API_SAMPLES ?? 300);
/** The 90 days every report is spread over; the queries ask for exactly this range. */
const FIRST_DAY = '2026-06-01';
const LAST_DAY = '2026-08-29';
const DAYS = 90;

const log = (message: string) => process.stderr.write(`  api: ${message}\n`);

const domainName = (i: number) => `d${String(i).padStart(5, '0')}.bench.example`;

/** Statement text with the report id parameter replaced by a range (the bench's only change to ingest's SQL). */
function rollupSqlForRange(first: number, last: number): string[] {
  const dialect = new SQLiteSyncDialect();
  return aggregateRollupStatements(0).map((statement) => {
    const { sql, params } = dialect.sqlToQuery(statement);
    if (params.length !== 1 || !sql.includes('a.id = ?')) throw new Error('the roll-up statement changed shape; update bench/api.ts');
    return `${sql.replace('a.id = ?', `a.id BETWEEN ${first} AND ${last}`)};`;
  });
}

/** SQL that adds reports [first, last] (ids) with RECORDS_PER_REPORT records each, then their roll-ups. */
function seedSql(first: number, last: number, withDomains: boolean): string {
  const lines: string[] = [];
  if (withDomains) {
    lines.push(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${DOMAINS - 1})
      INSERT INTO domains (name) SELECT 'd' || printf('%05d', i) || '.bench.example' FROM n;`);
  }
  // Report r belongs to domain r mod 10,000, starts on one of the 90 days, comes from one of 5 reporters.
  lines.push(`WITH RECURSIVE n(r) AS (SELECT ${first} UNION ALL SELECT r + 1 FROM n WHERE r < ${last})
    INSERT INTO aggregate_reports (id, inbound_id, reporter, report_id, domain, org_name, schema, begin_at, end_at, day, p, status, records_ingested, record_count, message_count)
    SELECT r, 0, 'reporter' || (r % 5) || '.example', 'bench-' || r, 'd' || printf('%05d', r % ${DOMAINS}) || '.bench.example',
      'Reporter ' || (r % 5), 'rfc7489',
      date('${FIRST_DAY}', '+' || ((r * 7919) % ${DAYS}) || ' days') || 'T00:00:00Z',
      date('${FIRST_DAY}', '+' || ((r * 7919) % ${DAYS}) || ' days') || 'T23:59:59Z',
      date('${FIRST_DAY}', '+' || ((r * 7919) % ${DAYS}) || ' days'), 'none', 'ingesting', ${RECORDS_PER_REPORT}, ${RECORDS_PER_REPORT}, 0
    FROM n;`);
  // Sources from a pool of 20,000 IPs; about 80% DKIM pass, 70% SPF pass, a few quarantined or rejected.
  lines.push(`WITH RECURSIVE n(k) AS (SELECT ${first * RECORDS_PER_REPORT} UNION ALL SELECT k + 1 FROM n WHERE k < ${(last + 1) * RECORDS_PER_REPORT - 1})
    INSERT INTO aggregate_records (report_id, ordinal, source_ip, count, disposition, dkim, spf, header_from)
    SELECT k / ${RECORDS_PER_REPORT}, k % ${RECORDS_PER_REPORT},
      '10.' || ((k * 48271) % 20000 / 65536) || '.' || ((k * 48271) % 20000 / 256 % 256) || '.' || ((k * 48271) % 20000 % 256),
      1 + k % 50,
      CASE WHEN k % 23 = 0 THEN 'reject' WHEN k % 17 = 0 THEN 'quarantine' ELSE 'none' END,
      CASE WHEN k % 10 < 8 THEN 'pass' ELSE 'fail' END,
      CASE WHEN k % 10 < 7 THEN 'pass' ELSE 'fail' END,
      'd' || printf('%05d', (k / ${RECORDS_PER_REPORT}) % ${DOMAINS}) || '.bench.example'
    FROM n;`);
  lines.push(...rollupSqlForRange(first, last));
  lines.push(`UPDATE aggregate_reports SET status = 'complete',
      message_count = (SELECT sum(count) FROM aggregate_records WHERE report_id = aggregate_reports.id)
    WHERE id BETWEEN ${first} AND ${last};`);
  return lines.join('\n');
}

function seed(box: Sandbox, first: number, last: number, withDomains: boolean): number {
  const started = performance.now();
  const file = join(box.dir, `seed-${first}.sql`);
  writeFileSync(file, seedSql(first, last, withDomains));
  wrangler(['d1', 'execute', 'DB', '--local', '--persist-to', box.persistTo, '--config', box.config, '--file', file, '--yes'], box.dir);
  rmSync(file);
  return performance.now() - started;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** A small deterministic generator, so both stages ask for the same domains. */
function* domainsToAsk(seedValue: number): Generator<string> {
  let x = seedValue;
  for (;;) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    yield domainName(x % DOMAINS);
  }
}

const QUERIES: { name: string; path: (domain: string) => string }[] = [
  { name: 'summary (90 days)', path: (d) => `/api/aggregatereport/${d}/summary?from=${FIRST_DAY}&to=${LAST_DAY}` },
  { name: 'time series (90 days, daily)', path: (d) => `/api/aggregatereport/${d}/timeseries?from=${FIRST_DAY}&to=${LAST_DAY}` },
  { name: 'top failing sources (90 days)', path: (d) => `/api/aggregatereport/${d}/sources?failing=true&limit=20&from=${FIRST_DAY}&to=${LAST_DAY}` },
];

async function measure(worker: RunningWorker, tokens: Tokens): Promise<LatencyRow[]> {
  const headers = { Authorization: `Bearer ${tokens.admin}` };
  const rows: LatencyRow[] = [];
  for (const query of QUERIES) {
    const domains = domainsToAsk(42);
    const times: number[] = [];
    for (let i = 0; i < SAMPLES + 20; i++) {
      const started = performance.now();
      const response = await fetch(`${worker.url}${query.path(domains.next().value as string)}`, { headers });
      const body = await response.text();
      if (!response.ok) throw new Error(`${query.name}: ${response.status} ${body.slice(0, 300)}`);
      if (i >= 20) times.push(performance.now() - started); // the first 20 warm the isolate and caches
    }
    times.sort((a, b) => a - b);
    rows.push({ query: query.name, p50: percentile(times, 50), p95: percentile(times, 95) });
  }
  return rows;
}

export async function apiBench(): Promise<ApiBenchResult> {
  const box = makeSandbox();
  const tokens: Tokens = { admin: randomBytes(32).toString('base64url'), ingest: randomBytes(32).toString('base64url') };
  const result: ApiBenchResult = { domains: DOMAINS, stages: [] };
  try {
    // 100,000 records, then 900,000 more: the same domains, 10x the data each.
    const stages = [
      { first: 1, last: 10_000, withDomains: true },
      { first: 10_001, last: 100_000, withDomains: false },
    ];
    for (const stage of stages) {
      log(`seeding reports ${stage.first}..${stage.last} (${((stage.last - stage.first + 1) * RECORDS_PER_REPORT).toLocaleString('en-US')} records)…`);
      const seedMs = seed(box, stage.first, stage.last, stage.withDomains);
      const worker = await startProgrammatic(box, tokens);
      try {
        if (!(await healthy(worker.url, 30_000))) throw new Error('the Worker did not answer /health');
        log(`measuring at ${(stage.last * RECORDS_PER_REPORT).toLocaleString('en-US')} records…`);
        result.stages.push({ records: stage.last * RECORDS_PER_REPORT, rows: await measure(worker, tokens), seedMs });
      } finally {
        await worker.stop();
      }
    }
    return result;
  } finally {
    rmSync(box.dir, { recursive: true, force: true });
  }
}

/** The printed section: p50/p95 per query at each size, and the growth of p95 from the first to the last. */
export function formatApiBench(result: ApiBenchResult, target = 50): string[] {
  const [small, large] = result.stages;
  const lines = [`api latency (${result.domains.toLocaleString('en-US')} domains; ${SAMPLES} requests per query over HTTP to the local Worker; target p95 < ${target} ms, flat growth)`];
  if (!small || !large) return [...lines, '  not measured'];
  const ms = (x: number) => `${x.toFixed(1)} ms`.padStart(9);
  lines.push(`  ${'query'.padEnd(31)} ${`${(small.records / 1000).toFixed(0)}k p50`.padStart(9)} ${'p95'.padStart(9)}  ${`${(large.records / 1e6).toFixed(0)}M p50`.padStart(9)} ${'p95'.padStart(9)}  growth p95`);
  large.rows.forEach((row, i) => {
    const before = small.rows[i]!;
    const met = row.p95 < target ? 'met' : 'not met';
    lines.push(`  ${row.query.padEnd(31)} ${ms(before.p50)} ${ms(before.p95)}  ${ms(row.p50)} ${ms(row.p95)}  ${(row.p95 / before.p95).toFixed(2)} ×  (${met})`);
  });
  lines.push(`  seeding: ${(small.seedMs / 1000).toFixed(0)} s for ${small.records.toLocaleString('en-US')} records, ${(large.seedMs / 1000).toFixed(0)} s for the next ${(large.records - small.records).toLocaleString('en-US')}`);
  return lines;
}
