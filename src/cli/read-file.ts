import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { streamAggregateReport } from '../reports/aggregate/index';
import { ReportRejection, type AggregateRecord } from '../reports/model';
import { readInbound, type ReportPart } from '../reports/read-inbound';
import { parseSmtpTlsReport } from '../reports/tlsrpt';
import { fsError } from './discover';
import {
  aggregateHead,
  aggregateRecord,
  failureOutput,
  smtpTlsOutput,
  type AggregateHead,
  type FailureOutput,
  type ReportError,
  type SmtpTlsOutput,
} from './objects';

/**
 * What reading one file produces, in output order. An aggregate report arrives as start, records
 * batches and end, so a huge report never has to be held whole; smaller ones are buffered and
 * come out in one go, and only then can a report that breaks half-way leave nothing behind.
 */
export type FileEvent =
  | { type: 'aggregate-start'; head: AggregateHead }
  | { type: 'aggregate-records'; records: AggregateRecord[] }
  | { type: 'aggregate-end'; warnings: string[] }
  /** The aggregate report being streamed broke: close what was written and mark it. */
  | { type: 'aggregate-abort'; error: ReportError }
  | { type: 'report'; report: SmtpTlsOutput | FailureOutput }
  /** The file, or one report in it, could not be read; the file counts as failed. */
  | { type: 'error'; error: ReportError }
  /** Something about the file itself worth knowing (e.g. an attachment that was skipped). */
  | { type: 'warning'; message: string };

export interface ReadOptions {
  /**
   * Records an aggregate report may hold before it is streamed out instead of buffered. Below it,
   * a report that fails part-way writes nothing; above it, memory stays bounded.
   */
  bufferRecords?: number;
  /** Records per batch asked of the streaming parser. */
  batchSize?: number;
}

export const DEFAULT_BUFFER_RECORDS = 20_000;

export async function* readReportFile(file: string, options: ReadOptions = {}): AsyncGenerator<FileEvent> {
  let raw: Uint8Array;
  try {
    raw = await readFile(file);
  } catch (error) {
    yield { type: 'error', error: fsError(error) };
    return;
  }

  let inbound;
  try {
    inbound = await readInbound(raw, { filename: basename(file) });
  } catch (error) {
    yield { type: 'error', error: reportError(error) };
    return;
  }
  if (!inbound.ok) {
    yield { type: 'error', error: { code: inbound.code, reason: inbound.reason } };
    return;
  }
  for (const message of inbound.warnings) yield { type: 'warning', message };
  if (inbound.parts.length === 0 && inbound.failures.length === 0) {
    yield { type: 'error', error: { code: 'no-report', reason: 'no report found in the file' } };
    return;
  }

  for (const part of inbound.parts) {
    const label = partLabel(file, part);
    if (part.kind === 'smtp_tls') {
      try {
        let json = '';
        for await (const chunk of part.text()) json += chunk;
        yield { type: 'report', report: smtpTlsOutput(file, label, parseSmtpTlsReport(json)) };
      } catch (error) {
        yield { type: 'error', error: reportError(error, label) };
      }
    } else {
      yield* readAggregate(file, part, label, options);
    }
  }
  for (const facts of inbound.failures) yield { type: 'report', report: failureOutput(file, facts) };
}

async function* readAggregate(
  file: string,
  part: ReportPart,
  label: string | null,
  options: ReadOptions,
): AsyncGenerator<FileEvent> {
  const limit = options.bufferRecords ?? DEFAULT_BUFFER_RECORDS;
  let head: AggregateHead | null = null;
  let buffered: AggregateRecord[][] = [];
  let bufferedCount = 0;
  let streaming = false;
  try {
    const stream = streamAggregateReport(part.text(), { batchSize: options.batchSize ?? 500 });
    for await (const event of stream) {
      if (event.type === 'header') {
        head = aggregateHead(file, label, event.header);
      } else if (event.type === 'records') {
        const records = event.records.map(aggregateRecord);
        if (streaming) {
          yield { type: 'aggregate-records', records };
        } else {
          buffered.push(records);
          bufferedCount += records.length;
          if (bufferedCount > limit && head) {
            streaming = true;
            yield { type: 'aggregate-start', head };
            for (const batch of buffered) yield { type: 'aggregate-records', records: batch };
            buffered = [];
          }
        }
      } else {
        if (!head) throw new Error('the parser ended an aggregate report without its header');
        if (!streaming) {
          yield { type: 'aggregate-start', head };
          for (const batch of buffered) yield { type: 'aggregate-records', records: batch };
        }
        yield { type: 'aggregate-end', warnings: event.warnings };
        return;
      }
    }
    throw new Error('the parser stopped before the end of the aggregate report');
  } catch (error) {
    const e = reportError(error, label);
    yield streaming ? { type: 'aggregate-abort', error: e } : { type: 'error', error: e };
  }
}

/**
 * The part's name when it tells more than the file name does (an attachment, a zip entry): shown in
 * the output's `part` and before a part's error. Null when the report is the file itself.
 */
function partLabel(file: string, part: ReportPart): string | null {
  if (part.name === null || part.name === basename(file)) return null;
  return part.name;
}

/** Any thrown value as `{ code, reason }`; parser rejections keep their stable code. */
export function reportError(error: unknown, label: string | null = null): ReportError {
  const prefix = label ? `${label}: ` : '';
  if (error instanceof ReportRejection) return { code: error.code, reason: prefix + error.message };
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'internal-error', reason: prefix + message };
}
