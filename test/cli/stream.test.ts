import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { zipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/run';
import type { ReadOptions } from '../../src/cli/read-file';
import { cli, ROOT, tempDir } from './helpers';

// In-process runs of the CLI where the spawned command cannot reach: a tiny buffering threshold to
// exercise a report that breaks after it started streaming out.

const NICE = join(ROOT, 'samples/reports/extract_report/nice-input.xml');
const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function runCli(argv: string[], readOptions: ReadOptions = {}) {
  let stdout = '';
  let stderr = '';
  const out = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      stdout += chunk.toString();
      callback();
    },
  });
  const status = await run(argv, { stdout: out, stderr: { write: (text: string) => (stderr += text) } }, readOptions);
  return { status, stdout, stderr };
}

/** nice-input.xml whose 5th record holds more than the parser accepts for one record (1 MiB). */
function brokenReport(): string {
  const xml = readFileSync(NICE, 'utf8');
  let at = -1;
  for (let i = 0; i < 5; i++) at = xml.indexOf('<record>', at + 1);
  const file = join(dir, 'broken.xml');
  writeFileSync(file, `${xml.slice(0, at)}<record><!-- ${'x'.repeat(1_100_000)} -->${xml.slice(at + '<record>'.length)}`);
  return file;
}

describe('a report that breaks part-way', () => {
  it('leaves nothing in the output when it was still buffered', async () => {
    const file = brokenReport();
    const { status, stdout, stderr } = await runCli(['parse', file, NICE]);
    expect(status).toBe(1);
    const reports = JSON.parse(stdout) as { file: string }[];
    expect(reports.map((r) => r.file)).toEqual([NICE]);
    expect(stderr).toMatch(/^error: .*broken\.xml: .+ \([a-z-]+\)\n2 files, 1 report, 1 error\n$/);
  });

  it('is closed with an error member when it was already streaming, and the JSON stays valid', async () => {
    const file = brokenReport();
    const { status, stdout, stderr } = await runCli(['parse', file, NICE], { bufferRecords: 2, batchSize: 1 });
    expect(status).toBe(1);
    const reports = JSON.parse(stdout) as Record<string, any>[];
    expect(stdout).toBe(`${JSON.stringify(reports, null, 2)}\n`);
    expect(reports).toHaveLength(2);
    expect(reports[0]!.file).toBe(file);
    expect(reports[0]!.records.map((r: { source_ip: string }) => r.source_ip)).toEqual([
      '209.85.220.69',
      '209.85.220.41',
      '54.240.48.90',
      reports[0]!.records[3].source_ip,
    ]);
    expect(reports[0]!.error).toEqual({ code: expect.any(String), reason: expect.any(String) });
    expect(reports[1]!.records).toHaveLength(20);
    expect(stderr).toContain(`error: ${file}: `);

    const nd = await runCli(['parse', '-f', 'ndjson', file], { bufferRecords: 2, batchSize: 1 });
    const lines = nd.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ report_id: '11038226378739404135', error: { code: expect.any(String) } });
  });

  it('streams a large report in batches with the same result as buffering it', async () => {
    const large = join(ROOT, 'samples/reports/aggregate/!large-example.com!1711897200!1711983600.xml');
    const buffered = await runCli(['parse', large]);
    const streamed = await runCli(['parse', large], { bufferRecords: 100, batchSize: 7 });
    expect(streamed.status).toBe(0);
    expect(streamed.stdout).toBe(buffered.stdout);
    const csvBuffered = await runCli(['parse', '-f', 'csv', large]);
    const csvStreamed = await runCli(['parse', '-f', 'csv', large], { bufferRecords: 100, batchSize: 7 });
    expect(csvStreamed.stdout).toBe(csvBuffered.stdout);
  });
});

describe('several reports in one file', () => {
  it('writes one object per report of a zip, named by entry', () => {
    const zip = join(dir, 'two reports.zip');
    writeFileSync(
      zip,
      zipSync({
        'first.xml': readFileSync(NICE),
        'sub/second.xml': readFileSync(join(ROOT, 'samples/reports/aggregate/rfc9990-sample.xml')),
      }),
    );
    const { status, stdout, stderr } = cli(['parse', '-f', 'ndjson', zip]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const reports = stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(reports.map((r) => [r.file, r.part, r.report_id])).toEqual([
      [zip, 'first.xml', '11038226378739404135'],
      [zip, 'sub/second.xml', '3v98abbp8ya9n3va8yr8oa3ya'],
    ]);
  });
});

describe('warnings', () => {
  it('are in the JSON, and on stderr for CSV', () => {
    const large = 'samples/reports/aggregate/!large-example.com!1711897200!1711983600.xml';
    const json = cli(['parse', large]);
    const [report] = JSON.parse(json.stdout) as { warnings: string[]; org_name: string }[];
    expect(report!.warnings.length).toBeGreaterThan(0);
    expect(json.stderr).toBe('');
    const csv = cli(['parse', '-f', 'csv', large]);
    expect(csv.status).toBe(0);
    for (const warning of report!.warnings) {
      expect(csv.stderr).toContain(`warning: ${large}: report example.com:1711897200: ${warning}\n`);
    }
  });
});
