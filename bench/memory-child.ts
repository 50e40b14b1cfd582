/**
 * One memory measurement, in a fresh process: `tsx bench/memory-child.ts <MB of XML>`.
 * Generates the report inside this process as gzip, streamed record by record (the XML is never
 * whole), then runs the parse pipeline over it and prints one JSON line with the peak RSS (KB,
 * `process.resourceUsage().maxRSS`) after generation and after parsing.
 */
import { gzipReport } from './generate-report';
import { pipelineParse } from './parse-pipeline';

export interface MemoryResult {
  xmlMB: number;
  xmlBytes: number;
  gzBytes: number;
  records: number;
  /** Peak RSS of the process once the gzip is generated and held (what the Worker also holds). */
  baselineMaxRssKB: number;
  /** Peak RSS of the process once the parse is done: the parse's own growth is the difference. */
  peakMaxRssKB: number;
  parseMs: number;
  heapUsedAfterKB: number;
}

const mb = Number(process.argv[2]);
if (!(mb > 0)) {
  console.error('usage: tsx bench/memory-child.ts <MB of XML>');
  process.exit(2);
}

const report = await gzipReport({ xmlBytes: mb * 1_000_000, seed: 1000 + mb, reportId: `bench-memory-${mb}` });
const baselineMaxRssKB = process.resourceUsage().maxRSS;
const run = await pipelineParse(report.gz);
const peakMaxRssKB = process.resourceUsage().maxRSS;
if (run.records !== report.records) throw new Error(`parsed ${run.records} records of ${report.records}`);

const result: MemoryResult = {
  xmlMB: mb,
  xmlBytes: report.xmlBytes,
  gzBytes: report.gz.byteLength,
  records: report.records,
  baselineMaxRssKB,
  peakMaxRssKB,
  parseMs: run.ms,
  heapUsedAfterKB: Math.round(process.memoryUsage().heapUsed / 1024),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
