import type { AggregateRecord } from '../../reports/model';
import type { AggregateHead, FailureOutput, ReportError, SmtpTlsOutput } from '../objects';
import type { Formatter } from './formatter';

/** `value` as pretty JSON (2 spaces) whose continuation lines are pushed right by `indent`. */
function pretty(value: unknown, indent: string): string {
  return JSON.stringify(value, null, 2).replace(/\n/g, `\n${indent}`);
}

function members(object: object, indent: string): string {
  return Object.entries(object)
    .filter(([, value]) => value !== undefined) // as JSON.stringify does
    .map(([key, value]) => `${indent}${JSON.stringify(key)}: ${pretty(value, indent)}`)
    .join(',\n');
}

/**
 * `--format json`: one array, pretty-printed exactly like `JSON.stringify(reports, null, 2)` plus a
 * final newline, but produced report by report and record batch by record batch.
 */
export class JsonFormatter implements Formatter {
  private reports = 0;
  private records = 0;

  begin(): string {
    return '[';
  }

  private next(): string {
    return this.reports++ === 0 ? '\n' : ',\n';
  }

  aggregateStart(head: AggregateHead): string {
    this.records = 0;
    return `${this.next()}  {\n${members(head, '    ')},\n    "records": [`;
  }

  aggregateRecords(records: AggregateRecord[]): string {
    let text = '';
    for (const record of records) {
      text += `${this.records++ === 0 ? '\n' : ',\n'}      ${pretty(record, '      ')}`;
    }
    return text;
  }

  aggregateEnd(warnings: string[], error?: ReportError): string {
    const tail = error ? { warnings, error } : { warnings };
    return `${this.records > 0 ? '\n    ]' : ']'},\n${members(tail, '    ')}\n  }`;
  }

  report(report: SmtpTlsOutput | FailureOutput): string {
    return `${this.next()}  ${pretty(report, '  ')}`;
  }

  end(): string {
    return this.reports > 0 ? '\n]\n' : ']\n';
  }
}

/** `--format ndjson`: one compact JSON object per line (an aggregate report still streams). */
export class NdjsonFormatter implements Formatter {
  private records = 0;

  begin(): string {
    return '';
  }

  aggregateStart(head: AggregateHead): string {
    this.records = 0;
    return `${JSON.stringify(head).slice(0, -1)},"records":[`;
  }

  aggregateRecords(records: AggregateRecord[]): string {
    let text = '';
    for (const record of records) text += (this.records++ === 0 ? '' : ',') + JSON.stringify(record);
    return text;
  }

  aggregateEnd(warnings: string[], error?: ReportError): string {
    const tail = error ? { warnings, error } : { warnings };
    return `],${JSON.stringify(tail).slice(1)}\n`;
  }

  report(report: SmtpTlsOutput | FailureOutput): string {
    return `${JSON.stringify(report)}\n`;
  }

  end(): string {
    return '';
  }
}
