import { describe, expect, it } from 'vitest';
import { parseAggregateReport, streamAggregateReport, type AggregateEvent } from '../../src/reports/aggregate';
import { aggregateXml, collect, fixedChunks, MiB, randomChunks, recordXml, rssGrowth, sampleText } from './helpers';

const RECORDS = 200_000;

function ipOf(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

/** count of record i; the total over 200,000 records is computed independently below. */
function countOf(i: number): number {
  return (i % 7) + 1;
}

/** A 200,000-record report (~80 MB of XML) produced piece by piece, never as one string. */
function* generatedReport(records = RECORDS): Generator<string> {
  yield '<?xml version="1.0" encoding="UTF-8"?>\n<feedback>\n<version>1.0</version>\n<report_metadata><org_name>Big Reporter</org_name>' +
    '<email>dmarc@big.example</email><report_id>big-1</report_id><date_range><begin>1700000000</begin>' +
    '<end>1700086399</end></date_range></report_metadata>\n<policy_published><domain>example.org</domain>' +
    '<p>none</p></policy_published>\n';
  let buffer = '';
  for (let i = 0; i < records; i++) {
    buffer += recordXml(ipOf(i), countOf(i)) + '\n';
    if (buffer.length > 50_000) {
      yield buffer;
      buffer = '';
    }
  }
  yield buffer + '</feedback>\n';
}

// 200,000 / 7 = 28,571 full cycles of 1..7 (28 each) plus records 199,997..199,999 with counts 1, 2, 3.
const EXPECTED_MESSAGES = 28_571 * 28 + 1 + 2 + 3;

describe('streamAggregateReport on a 200,000-record report', () => {
  it('counts every record and message in bounded memory', async () => {
    let end: Extract<AggregateEvent, { type: 'end' }> | undefined;
    let headerSeen = 0;
    let emitted = 0;
    let nextIndex = 0;
    const growth = await rssGrowth(async () => {
      for await (const event of streamAggregateReport(generatedReport(), { batchSize: 1000 })) {
        if (event.type === 'header') headerSeen++;
        if (event.type === 'records') {
          expect(event.index).toBe(nextIndex);
          expect(event.records.length).toBeLessThanOrEqual(1000);
          nextIndex += event.records.length;
          emitted += event.records.length;
        }
        if (event.type === 'end') end = event;
      }
    });
    expect(headerSeen).toBe(1);
    expect(emitted).toBe(RECORDS);
    expect(end).toEqual({ type: 'end', recordCount: RECORDS, messageCount: EXPECTED_MESSAGES, warnings: [] });
    expect(growth).toBeLessThan(300 * MiB);
  });

  it('resumes exactly at skipRecords, still counting the skipped ones', async () => {
    const skip = 150_123;
    const events = await collect(streamAggregateReport(generatedReport(), { batchSize: 500, skipRecords: skip }));
    const batches = events.filter((e) => e.type === 'records');
    expect(batches[0]?.index).toBe(skip);
    expect(batches[0]?.records[0]).toMatchObject({ source_ip: ipOf(skip), count: countOf(skip) });
    expect(batches.reduce((n, b) => n + b.records.length, 0)).toBe(RECORDS - skip);
    expect(batches.at(-1)?.records.at(-1)?.source_ip).toBe(ipOf(RECORDS - 1));
    expect(events.at(-1)).toEqual({ type: 'end', recordCount: RECORDS, messageCount: EXPECTED_MESSAGES, warnings: [] });
  });
});

describe('chunk boundaries', () => {
  const samples = [
    'aggregate/example.net!example.com!1529366400!1529452799.xml',
    'aggregate/invalid_xml.xml',
    'aggregate/rfc9990-sample.xml',
    'extract_report/nice-input.xml',
  ];

  for (const sample of samples) {
    it(`${sample}: one character at a time gives the same report`, async () => {
      const text = sampleText(sample);
      const whole = await parseAggregateReport(text);
      expect(await parseAggregateReport(fixedChunks(text, 1))).toEqual(whole);
    });
  }

  it('the 909 KB sample in random-sized pieces gives the same report', async () => {
    const text = sampleText('aggregate/!large-example.com!1711897200!1711983600.xml');
    const whole = await parseAggregateReport(text);
    for (const seed of [1, 2, 3]) {
      expect(await parseAggregateReport(randomChunks(text, seed, 200))).toEqual(whole);
    }
    expect(await parseAggregateReport(fixedChunks(text, 7))).toEqual(whole);
  });

  it('accepts an async iterable as well as a sync one', async () => {
    const text = sampleText('extract_report/nice-input.xml');
    async function* slowly() {
      for (const chunk of fixedChunks(text, 1000)) yield chunk;
    }
    expect(await parseAggregateReport(slowly())).toEqual(await parseAggregateReport(text));
  });
});

describe('batches', () => {
  it('emits the header first, then batches of batchSize, then end', async () => {
    const records = Array.from({ length: 7 }, (_, i) => recordXml(`192.0.2.${i + 1}`, i + 1)).join('\n');
    const events = await collect(streamAggregateReport([aggregateXml(records)], { batchSize: 3 }));
    expect(events.map((e) => e.type)).toEqual(['header', 'records', 'records', 'records', 'end']);
    const batches = events.filter((e) => e.type === 'records');
    expect(batches.map((b) => [b.index, b.records.length])).toEqual([
      [0, 3],
      [3, 3],
      [6, 1],
    ]);
    expect(events.at(-1)).toMatchObject({ recordCount: 7, messageCount: 28 });
  });

  it('ends a batch at a skipped record so that records[i] is always the record at index + i', async () => {
    const records = [
      recordXml('192.0.2.1', 1),
      recordXml('192.0.2.2', 2),
      recordXml('192.0.2.3', 'lots'),
      recordXml('192.0.2.4', 4),
    ].join('');
    const events = await collect(streamAggregateReport([aggregateXml(records)], { batchSize: 10 }));
    const batches = events.filter((e) => e.type === 'records');
    expect(batches.map((b) => [b.index, b.records.map((r) => r.source_ip)])).toEqual([
      [0, ['192.0.2.1', '192.0.2.2']],
      [3, ['192.0.2.4']],
    ]);
    expect(events.at(-1)).toMatchObject({
      recordCount: 3,
      messageCount: 7,
      warnings: ['record 2 was skipped: count "lots" is not a whole number'],
    });
  });

  it('counts skipped-for-resume records by the same acceptance rule as parsed ones', async () => {
    const records = [recordXml('192.0.2.1', 1), recordXml('not-an-ip', 5), recordXml('192.0.2.3', 3), recordXml('192.0.2.4', 4)].join('');
    const fresh = (await collect(streamAggregateReport([aggregateXml(records)]))).at(-1);
    const resumed = (await collect(streamAggregateReport([aggregateXml(records)], { skipRecords: 3 }))).at(-1);
    expect(fresh).toMatchObject({ recordCount: 3, messageCount: 8 });
    expect(resumed).toMatchObject({ recordCount: 3, messageCount: 8 });
  });

  it('stops reading when the consumer stops (return() after the header)', async () => {
    let pulled = 0;
    function* source() {
      for (const chunk of fixedChunks(sampleText('extract_report/nice-input.xml'), 100)) {
        pulled++;
        yield chunk;
      }
    }
    const events = streamAggregateReport(source(), { batchSize: 1 });
    const first = await events.next();
    expect(first.value).toMatchObject({ type: 'header' });
    await events.return(undefined);
    expect(pulled).toBeLessThan(20);
  });
});
