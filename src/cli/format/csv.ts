import type { AggregateRecord } from '../../reports/model';
import type { AggregateHead, FailureOutput, SmtpTlsOutput } from '../objects';
import type { Formatter } from './formatter';

type Cell = string | number | null;

/**
 * `--format csv` columns, in order: one row per aggregate record, the report's own columns
 * repeated on each row. Lists (reasons, DKIM and SPF results) become parallel `;`-joined columns:
 * the n-th entry of `dkim_domains`, `dkim_selectors` and `dkim_results` describe the same
 * signature (an absent value is an empty entry). Documented in docs/cli.md.
 */
export const CSV_COLUMNS = [
  'file',
  'part',
  'report_id',
  'org_name',
  'org_email',
  'begin',
  'end',
  'policy_domain',
  'policy_p',
  'policy_sp',
  'policy_np',
  'policy_adkim',
  'policy_aspf',
  'policy_pct',
  'policy_fo',
  'policy_testing',
  'policy_discovery_method',
  'source_ip',
  'count',
  'disposition',
  'dkim',
  'spf',
  'header_from',
  'envelope_from',
  'envelope_to',
  'reason_types',
  'reason_comments',
  'dkim_domains',
  'dkim_selectors',
  'dkim_results',
  'spf_domains',
  'spf_scopes',
  'spf_results',
] as const;

/** RFC 4180: a field with a comma, double quote, CR or LF is quoted, its quotes doubled. */
export function csvField(value: Cell): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV line, CRLF-terminated as RFC 4180 asks. */
export function csvRow(cells: readonly Cell[]): string {
  return `${cells.map(csvField).join(',')}\r\n`;
}

function joined(values: readonly (string | null)[]): string | null {
  return values.length === 0 ? null : values.map((v) => v ?? '').join(';');
}

function headCells(h: AggregateHead): Cell[] {
  const p = h.policy;
  return [
    h.file,
    h.part,
    h.report_id,
    h.org_name,
    h.org_email,
    h.begin,
    h.end,
    p.domain,
    p.p,
    p.sp,
    p.np,
    p.adkim,
    p.aspf,
    p.pct,
    p.fo,
    p.testing,
    p.discovery_method,
  ];
}

function recordCells(r: AggregateRecord): Cell[] {
  return [
    r.source_ip,
    r.count,
    r.disposition,
    r.dkim,
    r.spf,
    r.header_from,
    r.envelope_from,
    r.envelope_to,
    joined(r.reasons.map((x) => x.type)),
    joined(r.reasons.map((x) => x.comment)),
    joined(r.dkim_results.map((x) => x.domain)),
    joined(r.dkim_results.map((x) => x.selector)),
    joined(r.dkim_results.map((x) => x.result)),
    joined(r.spf_results.map((x) => x.domain)),
    joined(r.spf_results.map((x) => x.scope)),
    joined(r.spf_results.map((x) => x.result)),
  ];
}

/**
 * CSV holds aggregate records only: SMTP TLS and failure reports have other shapes, and one CSV
 * file is one table. They are counted in `skipped` and the CLI says so on stderr.
 */
export class CsvFormatter implements Formatter {
  readonly skipped = { smtp_tls: 0, failure: 0 };
  private head: string = '';

  begin(): string {
    return csvRow(CSV_COLUMNS);
  }

  aggregateStart(head: AggregateHead): string {
    this.head = headCells(head).map(csvField).join(',');
    return '';
  }

  aggregateRecords(records: AggregateRecord[]): string {
    let text = '';
    for (const record of records) text += `${this.head},${csvRow(recordCells(record))}`;
    return text;
  }

  aggregateEnd(): string {
    return '';
  }

  report(report: SmtpTlsOutput | FailureOutput): string {
    this.skipped[report.kind]++;
    return '';
  }

  end(): string {
    return '';
  }
}
