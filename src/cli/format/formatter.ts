import type { AggregateRecord } from '../../reports/model';
import type { AggregateHead, FailureOutput, ReportError, SmtpTlsOutput } from '../objects';

/**
 * Turns the report stream into text, piece by piece, so the output is written object by object
 * (and an aggregate report record batch by record batch) instead of as one big string. Stateful:
 * one formatter per run. Every method returns the text to append ('' for nothing).
 */
export interface Formatter {
  begin(): string;
  aggregateStart(head: AggregateHead): string;
  aggregateRecords(records: AggregateRecord[]): string;
  /** `error` is set when the report broke after part of it was written. */
  aggregateEnd(warnings: string[], error?: ReportError): string;
  report(report: SmtpTlsOutput | FailureOutput): string;
  end(): string;
}
