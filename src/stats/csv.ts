/** One CSV field per RFC 4180: quoted when it holds a comma, a quote, CR or LF; quotes doubled. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A header row and one line per row, CRLF line ends (RFC 4180). */
export function toCsv(columns: readonly string[], rows: readonly object[]): string {
  const lines = [columns.map(csvField).join(',')];
  for (const row of rows) lines.push(columns.map((column) => csvField((row as Record<string, unknown>)[column])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
