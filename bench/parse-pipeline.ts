/**
 * The two in-process measurements of `npm run bench`: the floor (the bare decompress + parse that
 * any ingest has to do) and our pure pipeline on the same bytes. Shared with memory-child.ts.
 */
import { gunzipSync } from 'fflate';
import { XMLParser } from 'fast-xml-parser';
import { streamAggregateReport } from '../src/reports/aggregate/index';
import { readInbound } from '../src/reports/read-inbound';

/** Same batch size as the queue consumer (src/ingest/persist-aggregate.ts RECORDS_PER_BATCH). */
export const PARSE_BATCH_SIZE = 1000;

export interface ParseRun {
  records: number;
  messages: number;
  ms: number;
}

/**
 * Floor: fflate's one-shot gunzip, UTF-8 decode, fast-xml-parser over the whole document. Nothing
 * bounded, nothing checked, no normalisation: as fast as reading a report gets in JS.
 */
export function floorParse(gz: Uint8Array): ParseRun {
  const started = performance.now();
  const xml = new TextDecoder().decode(gunzipSync(gz));
  const doc = new XMLParser().parse(xml) as { feedback?: { record?: unknown } };
  const record = doc.feedback?.record;
  const records = Array.isArray(record) ? record.length : record ? 1 : 0;
  const ms = performance.now() - started;
  let messages = 0;
  if (Array.isArray(record)) for (const r of record as { row?: { count?: unknown } }[]) messages += Number(r.row?.count ?? 0);
  return { records, messages, ms };
}

/**
 * Ours: readInbound (sniffing, bomb caps, streamed gunzip) → part.text() (streamed UTF-8 decode) →
 * streamAggregateReport (cut at <record>, parse and normalise each record), every event consumed.
 */
export async function pipelineParse(raw: Uint8Array, hint = { filename: 'bench.xml.gz' }): Promise<ParseRun> {
  const started = performance.now();
  const content = await readInbound(raw, hint);
  if (!content.ok) throw new Error(`readInbound refused the report: ${content.code}: ${content.reason}`);
  let records = 0;
  let messages = 0;
  let ended = false;
  for (const part of content.parts) {
    if (part.kind !== 'aggregate') continue;
    for await (const event of streamAggregateReport(part.text(), { batchSize: PARSE_BATCH_SIZE })) {
      if (event.type === 'records') records += event.records.length;
      else if (event.type === 'end') {
        ended = true;
        messages += event.messageCount;
        if (event.recordCount !== records) throw new Error(`end event says ${event.recordCount} records, saw ${records}`);
      }
    }
  }
  if (!ended) throw new Error('no aggregate report was parsed');
  return { records, messages, ms: performance.now() - started };
}
