import type { AggregateRecord, AggregateReportHeader } from '../model';
import { WarningLog } from '../warnings';
import { readAggregateHeader } from './header';
import { readAggregateRecord } from './record';
import { countOfSkippedRecord } from './resume-scan';
import { RecordSplitter, type Fragment } from './split';

export interface AggregateStreamOptions {
  /** Records per `records` event; default 500. */
  batchSize?: number;
  /**
   * Resume: records whose index is below this are counted (in `recordCount` and `messageCount`)
   * but neither parsed nor emitted.
   */
  skipRecords?: number;
}

export type AggregateEvent =
  | { type: 'header'; header: AggregateReportHeader }
  | {
      type: 'records';
      /**
       * 0-based index (document order of `<record>` elements) of the first record in this batch.
       * A batch is always contiguous: `records[i]` is the record at `index + i`. A record that
       * had to be skipped ends the batch, so indexes stay exact for resuming.
       */
      index: number;
      records: AggregateRecord[];
    }
  | {
      type: 'end';
      /** Records accepted, including those skipped by `skipRecords`; not those dropped with a warning. */
      recordCount: number;
      /** Sum of `count` over the accepted records. */
      messageCount: number;
      warnings: string[];
    };

export type TextSource = AsyncIterable<string> | Iterable<string>;

export const DEFAULT_BATCH_SIZE = 500;

/**
 * Streams a DMARC aggregate report: first its header, then its records in batches, then a summary.
 * Memory is bounded by one batch plus one record's text, whatever the report's size.
 *
 * Throws ReportRejection: `invalid-report` (no report_id, domain or date_range; not a `<feedback>`
 * document; a header or record over 1 MiB), `xml-entities` (any DTD). Everything else a reporter
 * gets wrong becomes a warning in the `end` event.
 */
export async function* streamAggregateReport(
  text: TextSource,
  options: AggregateStreamOptions = {},
): AsyncGenerator<AggregateEvent, void, undefined> {
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? DEFAULT_BATCH_SIZE));
  const skipRecords = Math.max(0, Math.floor(options.skipRecords ?? 0));
  const warnings = new WarningLog();
  const splitter = new RecordSplitter();
  let recordCount = 0;
  let messageCount = 0;
  let batch: AggregateRecord[] = [];
  let batchIndex = 0;
  let headerIsWholeDocument = false;

  function* handle(fragments: Fragment[]): Generator<AggregateEvent, void, undefined> {
    for (const fragment of fragments) {
      if (fragment.kind === 'header') {
        headerIsWholeDocument = fragment.wholeDocument;
        yield { type: 'header', header: readAggregateHeader(fragment.xml, warnings, fragment.wholeDocument) };
      } else if (fragment.kind === 'record') {
        const record =
          fragment.index < skipRecords
            ? countOfSkippedRecord(fragment.xml)
            : readAggregateRecord(fragment.xml, fragment.index, warnings);
        if (record === null) {
          // Keep batches contiguous: the record after a dropped one starts a new batch.
          if (batch.length > 0) yield flush();
          continue;
        }
        recordCount++;
        if (typeof record === 'number') {
          messageCount += record;
          continue;
        }
        messageCount += record.count;
        if (batch.length === 0) batchIndex = fragment.index;
        batch.push(record);
        if (batch.length >= batchSize) yield flush();
      } else {
        if (batch.length > 0) yield flush();
        if (fragment.danglingRecord !== null) {
          warnings.add(`the report is truncated: record ${fragment.danglingRecord} has no end and was dropped`, 'truncated');
        } else if (!fragment.rootClosed && !headerIsWholeDocument) {
          warnings.add('the report ends without </feedback>; it may be truncated', 'truncated');
        }
        if (fragment.strayContent) warnings.add('content after or between the records was ignored');
        if (recordCount === 0) warnings.add('the report has no records');
        yield { type: 'end', recordCount, messageCount, warnings: warnings.list() };
      }
    }
  }

  function flush(): AggregateEvent {
    const event: AggregateEvent = { type: 'records', index: batchIndex, records: batch };
    batch = [];
    return event;
  }

  for await (const chunk of text) yield* handle(splitter.push(chunk));
  yield* handle(splitter.finish());
}
