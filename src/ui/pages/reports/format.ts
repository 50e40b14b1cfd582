/** Number formatting shared by the reports and metrics pages: en-GB grouping, percentages to one decimal. */

const whole = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 1, minimumFractionDigits: 1 });

export function count(n: number): string {
  return whole.format(n);
}

/** `part` as a percentage of `total` ("–" when there is nothing to divide by). */
export function percentOf(part: number, total: number): string {
  return total > 0 ? `${oneDecimal.format((100 * part) / total)}%` : '–';
}

/** A fraction 0..1 as a percentage; null (no data) as "–". */
export function percent(fraction: number | null | undefined): string {
  return fraction === null || fraction === undefined ? '–' : `${oneDecimal.format(100 * fraction)}%`;
}

/** `2024-06-13` → `13 Jun 2024`, in UTC like the reports' days. */
export function dayText(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? day : date.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
}

/** `2025-03` → `March 2025`. */
export function monthText(month: string): string {
  const date = new Date(`${month}-01T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? month : date.toLocaleDateString('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' });
}

/** An ISO timestamp as `25 Nov 2026, 10:05 UTC`; null as "–". */
export function timeText(at: string | null | undefined): string {
  if (!at) return '–';
  const date = new Date(at);
  if (Number.isNaN(date.getTime())) return at;
  return `${date.toLocaleString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: 'UTC' })} UTC`;
}
