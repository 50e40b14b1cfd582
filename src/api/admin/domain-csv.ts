/**
 * The bulk domain upload's CSV: one domain per line, optionally a group name in a second column,
 * an optional `domain,group` header, blank lines and `#` comments skipped. Fields may be quoted
 * ("Ministry of X, Y"), with "" for a quote inside; a field cannot span lines.
 */
import { normaliseDomain } from './validation';

export const MAX_CSV_ROWS = 10_000;

export interface CsvRow {
  /** 1-based line number in the upload. */
  line: number;
  /** Normalised domain name. */
  domain: string;
  /** Group name as written (trimmed), or null for none. */
  group: string | null;
  /** The line as sent, for a row error found later (an unknown group). */
  value: string;
}

export interface CsvProblem {
  line: number;
  /** The line as sent (trimmed, cut to 300 characters). */
  value: string;
  reason: string;
}

export type CsvResult = { rows: CsvRow[]; invalid: CsvProblem[] } | { tooMany: number };

/** The fields of one line, or null when a quote is not closed. */
export function splitCsvLine(line: string): string[] | null {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  while (i < line.length) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"') {
        if (line[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        field += ch;
      }
    } else if (ch === '"' && field.trim() === '') {
      quoted = true;
      field = '';
    } else if (ch === ',') {
      fields.push(field);
      field = '';
    } else {
      field += ch;
    }
    i++;
  }
  if (quoted) return null;
  fields.push(field);
  return fields.map((f) => f.trim());
}

function isHeader(fields: string[]): boolean {
  const [first, second] = fields.map((f) => f.toLowerCase());
  return first === 'domain' && (second === undefined || second === 'group');
}

export function parseDomainCsv(text: string, maxRows = MAX_CSV_ROWS): CsvResult {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  const rows: CsvRow[] = [];
  const invalid: CsvProblem[] = [];
  let seenData = false;
  let count = 0;
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index]!.trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const line = index + 1;
    const value = raw.length > 300 ? `${raw.slice(0, 300)}…` : raw;
    const fields = splitCsvLine(raw);
    if (!seenData) {
      seenData = true;
      if (fields && isHeader(fields)) continue;
    }
    if (++count > maxRows) return { tooMany: count };
    if (!fields) {
      invalid.push({ line, value, reason: 'a quoted field is not closed' });
      continue;
    }
    while (fields.length > 1 && fields[fields.length - 1] === '') fields.pop();
    if (fields.length > 2) {
      invalid.push({ line, value, reason: 'expected one or two columns: domain[,group]' });
      continue;
    }
    const domain = normaliseDomain(fields[0]!);
    if ('error' in domain) {
      invalid.push({ line, value, reason: `domain ${domain.error}` });
      continue;
    }
    rows.push({ line, domain: domain.name, group: fields[1] ? fields[1] : null, value });
  }
  return { rows, invalid };
}
