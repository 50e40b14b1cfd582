/**
 * `npm run bench`: ingest throughput (floor vs our parser vs the whole Worker) and peak memory of
 * the parse pipeline at growing report sizes. Prints; never fails on a target (docs/benchmarks.md).
 *
 *   BENCH_RECORDS=100000     records in the throughput report
 *   BENCH_ROUNDS=3           floor/parse rounds (alternating; the best of each is kept)
 *   BENCH_MEMORY_MB=1,50,200 XML sizes for the memory part
 *   BENCH_MEMORY_NODE_FLAGS  extra node flags for the memory children (e.g. --max-semi-space-size=1)
 *   BENCH_SKIP_E2E=1         skip the Worker; BENCH_E2E_MODE=dev forces `wrangler dev`
 *   BENCH_E2E_TIMEOUT_MS     give up on the Worker after this long (default 20 min)
 *   BENCH_SKIP_API=1         skip the API latency part (10k domains, 100k then 1M records)
 *   BENCH_API_SAMPLES=300    requests per query in the API latency part
 *   BENCH_SKIP_PROBE=1       skip the mail-server TLS scan part (ours vs sslscan vs testssl.sh on the SMTP
 *                            lab); BENCH_PROBE_* in bench/probe.ts tune it
 *   BENCH_SKIP_LOAD=1        skip the load part (report emails through email(), every one accounted for)
 *   BENCH_LOAD_MESSAGES=10000 messages in the load part
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { apiBench, formatApiBench, type ApiBenchResult } from './api';
import { endToEnd, type EndToEndResult } from './e2e';
import { gzipReport } from './generate-report';
import { formatLoad, loadTest, type LoadResult } from './load';
import { MEMORY_NODE_FLAGS, measureMemory } from './memory';
import type { MemoryResult } from './memory-child';
import { floorParse, pipelineParse, type ParseRun } from './parse-pipeline';
import { formatProbeBench, probeBench, type ProbeBenchResult } from './probe';

const RECORDS = positiveInt(process.env.BENCH_RECORDS, 100_000);
const ROUNDS = positiveInt(process.env.BENCH_ROUNDS, 3);
const MEMORY_MB = (process.env.BENCH_MEMORY_MB ?? '1,50,200').split(',').map(Number).filter((n) => n > 0);
const E2E_TARGET = 0.5;
const MEMORY_TARGET = 1.5;

function positiveInt(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const n = (x: number) => Math.round(x).toLocaleString('en-US');
const mb = (bytes: number) => (bytes < 100_000 ? `${(bytes / 1000).toFixed(0)} kB` : `${(bytes / 1_000_000).toFixed(1)} MB`);
const ratio = (x: number) => `${x.toFixed(2)} ×`;
const progress = (message: string) => process.stderr.write(`${message}\n`);
const perSecond = (records: number, ms: number) => (records / ms) * 1000;

function best(runs: ParseRun[]): ParseRun {
  return runs.reduce((a, b) => (b.ms < a.ms ? b : a));
}

async function main() {
  const began = performance.now();
  progress(`generating ${n(RECORDS)} records…`);
  const report = await gzipReport({ records: RECORDS, seed: 7489, reportId: `bench-${Date.now()}` });

  // Alternate floor and parse so that neither gets the warmer machine; keep the best of each.
  const floors: ParseRun[] = [];
  const parses: ParseRun[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    gc();
    floors.push(floorParse(report.gz));
    gc();
    parses.push(await pipelineParse(report.gz));
    const f = floors.at(-1) as ParseRun;
    const p = parses.at(-1) as ParseRun;
    progress(`round ${round}/${ROUNDS}: floor ${(f.ms / 1000).toFixed(2)} s, parse ${(p.ms / 1000).toFixed(2)} s`);
    for (const run of [f, p]) {
      if (run.records !== report.records || run.messages !== report.messages) {
        throw new Error(`a parser saw ${run.records} records / ${run.messages} messages, generated ${report.records} / ${report.messages}`);
      }
    }
  }
  gc();
  const floor = best(floors);
  const parse = best(parses);
  const floorRate = perSecond(floor.records, floor.ms);
  const parseRate = perSecond(parse.records, parse.ms);

  let e2e: EndToEndResult | null = null;
  let e2eError: string | null = null;
  if (process.env.BENCH_SKIP_E2E) {
    e2eError = 'skipped (BENCH_SKIP_E2E)';
  } else {
    progress('end to end through the Worker…');
    try {
      e2e = await endToEnd(report.gz);
      if (e2e.status !== 'parsed' || e2e.records !== report.records) {
        e2eError = `inbound ended ${e2e.status}${e2e.reason ? ` (${e2e.reason})` : ''} with ${e2e.records} of ${report.records} records stored`;
      }
    } catch (error) {
      e2eError = error instanceof Error ? error.message : String(error);
    }
  }

  const memory: MemoryResult[] = [];
  for (const size of MEMORY_MB) {
    progress(`memory at ${size} MB of XML…`);
    memory.push(await measureMemory(size));
  }

  let api: ApiBenchResult | null = null;
  let apiError: string | null = process.env.BENCH_SKIP_API ? 'skipped (BENCH_SKIP_API)' : null;
  if (!apiError) {
    progress('API latency at 10,000 domains…');
    try {
      api = await apiBench();
    } catch (error) {
      apiError = error instanceof Error ? error.message : String(error);
    }
  }

  let probe: ProbeBenchResult | null = null;
  let probeError: string | null = process.env.BENCH_SKIP_PROBE ? 'skipped (BENCH_SKIP_PROBE)' : null;
  if (!probeError) {
    progress('mail-server TLS scan: mailcheck-probe, sslscan, testssl.sh on the SMTP lab…');
    try {
      probe = await probeBench(progress);
    } catch (error) {
      probeError = error instanceof Error ? error.message : String(error);
    }
  }

  let load: LoadResult | null = null;
  let loadError: string | null = process.env.BENCH_SKIP_LOAD ? 'skipped (BENCH_SKIP_LOAD)' : null;
  if (!loadError) {
    const messages = positiveInt(process.env.BENCH_LOAD_MESSAGES, 10_000);
    progress(`load: ${n(messages)} report emails through the Worker…`);
    try {
      load = await loadTest(messages, { progress: (m) => progress(`  load: ${m}`) });
    } catch (error) {
      loadError = error instanceof Error ? error.message : String(error);
    }
  }

  const lines: string[] = [];
  const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  lines.push(`ingest (${n(report.records)} records, ${n(report.messages)} messages, ${mb(report.xmlBytes)} XML, ${mb(report.gz.byteLength)} gz; floor and parse best of ${ROUNDS})`);
  lines.push(`  floor   fflate + fast-xml-parser  ${n(floorRate).padStart(9)} rec/s  1.00 × floor  (${secs(floor.ms)})`);
  lines.push(`  parse   mailcheck-edge pure       ${n(parseRate).padStart(9)} rec/s  ${ratio(parseRate / floorRate)} floor  (${secs(parse.ms)})`);
  if (e2e && !e2eError) {
    const rate = perSecond(e2e.records, e2e.processingMs);
    const r = rate / floorRate;
    lines.push(
      `  e2e     parse + D1 insert         ${n(rate).padStart(9)} rec/s  ${ratio(r)} floor  ` +
        `(${secs(e2e.processingMs)} consumer time; target ≥ ${E2E_TARGET}: ${r >= E2E_TARGET ? 'met' : 'not met'})`,
    );
    lines.push(
      `          upload → parsed ${secs(e2e.wallMs)} wall, ${n(perSecond(e2e.records, e2e.wallMs))} rec/s: adds the upload (${n(e2e.uploadMs)} ms), ` +
        `the queue's batch wait (≤ 5 s) and polling`,
    );
    lines.push(`          Worker via ${e2e.mode}, compatibility date ${e2e.compatibilityDate}${e2e.compatibilityNote ? ` (${e2e.compatibilityNote})` : ''}`);
    if (e2e.unansweredPolls > 0) {
      lines.push(`          ${e2e.unansweredPolls} status request(s) went unanswered while the consumer ran (local runtime); asked again`);
    }
  } else {
    lines.push(`  e2e     parse + D1 insert         not measured: ${e2eError}`);
  }
  const first = memory[0];
  if (first) {
    const flags = MEMORY_NODE_FLAGS.length ? `; node ${MEMORY_NODE_FLAGS.join(' ')}` : '';
    lines.push(`memory (peak RSS of a fresh Node process holding the gzip and running the parse pipeline over it${flags})`);
    for (const m of memory) {
      const label = `${m.xmlMB} MB XML`.padEnd(11);
      const peak = m.peakMaxRssKB / 1024;
      const baseline = m.baselineMaxRssKB / 1024;
      lines.push(
        `  ${label} ${`${peak.toFixed(0)} MB`.padStart(7)}  ${ratio(m.peakMaxRssKB / first.peakMaxRssKB)}   ` +
          `after reading the gzip ${baseline.toFixed(0)} MB, parse +${(peak - baseline).toFixed(0)} MB  ` +
          `(${mb(m.gzBytes)} gz, ${n(m.records)} records, ${secs(m.parseMs)})`,
      );
    }
    const last = memory.at(-1) as MemoryResult;
    const worst = Math.max(...memory.map((m) => m.peakMaxRssKB)) / first.peakMaxRssKB;
    let summary = `  largest / ${first.xmlMB} MB  ${ratio(worst)}  (target ≤ ${MEMORY_TARGET} ×: ${worst <= MEMORY_TARGET ? 'met' : 'not met'})`;
    const second = memory[1];
    if (memory.length >= 3 && second) summary += `;  ${last.xmlMB} MB / ${second.xmlMB} MB ${ratio(last.peakMaxRssKB / second.peakMaxRssKB)}`;
    lines.push(summary);
  }
  if (api) lines.push(...formatApiBench(api));
  else lines.push(`api latency not measured: ${apiError}`);
  if (probe) lines.push(...formatProbeBench(probe));
  else lines.push(`mail-server TLS scan not measured: ${probeError}`);
  if (load) lines.push(...formatLoad(load));
  else lines.push(`load not measured: ${loadError}`);
  lines.push(`(${((performance.now() - began) / 1000).toFixed(0)} s, Node ${process.version}, ${(await import('node:os')).availableParallelism()} CPUs)`);
  console.log(`\n${lines.join('\n')}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
