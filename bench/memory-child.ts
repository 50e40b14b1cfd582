/**
 * Memory measurement children, each a fresh process so one size's heap does not inflate the next:
 * - `tsx bench/memory-child.ts generate <MB of XML> <file>` writes the report as gzip to <file>,
 *   streamed record by record (the XML is never whole), and prints its metadata as JSON;
 * - `tsx bench/memory-child.ts parse <file> <records>` reads that gzip (what the Worker holds: the
 *   raw attachment) and runs the parse pipeline over it, printing the peak RSS (KB,
 *   `process.resourceUsage().maxRSS`) after reading and after parsing.
 * Generating in another process keeps the generator's own memory out of the parse's figures.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipReport } from './generate-report';
import { pipelineParse } from './parse-pipeline';

export interface GeneratedReport {
  xmlBytes: number;
  gzBytes: number;
  records: number;
}

export interface MemoryResult extends GeneratedReport {
  xmlMB: number;
  /** Peak RSS once the gzip is read and held (what the Worker also holds). */
  baselineMaxRssKB: number;
  /** Peak RSS once the parse is done: the parse's own growth is the difference. */
  peakMaxRssKB: number;
  parseMs: number;
  heapUsedAfterKB: number;
}

const [mode, a, b] = process.argv.slice(2);
if (mode === 'generate' && Number(a) > 0 && b) {
  const mb = Number(a);
  const report = await gzipReport({ xmlBytes: mb * 1_000_000, seed: 1000 + mb, reportId: `bench-memory-${mb}` });
  writeFileSync(b, report.gz);
  process.stdout.write(`${JSON.stringify({ xmlBytes: report.xmlBytes, gzBytes: report.gz.byteLength, records: report.records } satisfies GeneratedReport)}\n`);
} else if (mode === 'parse' && a && Number(b) >= 0) {
  const gz = new Uint8Array(readFileSync(a));
  const baselineMaxRssKB = process.resourceUsage().maxRSS;
  const run = await pipelineParse(gz);
  const peakMaxRssKB = process.resourceUsage().maxRSS;
  if (run.records !== Number(b)) throw new Error(`parsed ${run.records} records of ${b}`);
  process.stdout.write(
    `${JSON.stringify({ baselineMaxRssKB, peakMaxRssKB, parseMs: run.ms, heapUsedAfterKB: Math.round(process.memoryUsage().heapUsed / 1024) })}\n`,
  );
} else {
  console.error('usage: tsx bench/memory-child.ts generate <MB of XML> <file> | parse <file> <records>');
  process.exit(2);
}
