import { ReportRejection, type AggregateRecord, type AggregateReport, type AggregateReportHeader } from '../model';
import { streamAggregateReport, type TextSource } from './stream';

/** Parses a whole aggregate report into memory; for reports of any size use streamAggregateReport. */
export async function parseAggregateReport(text: string | TextSource): Promise<AggregateReport> {
  let header: AggregateReportHeader | null = null;
  const records: AggregateRecord[] = [];
  for await (const event of streamAggregateReport(typeof text === 'string' ? [text] : text)) {
    if (event.type === 'header') header = event.header;
    else if (event.type === 'records') records.push(...event.records);
    else if (header) return { ...header, records, warnings: event.warnings };
  }
  throw new ReportRejection('invalid-report', 'not a usable DMARC aggregate report: it has no header');
}
