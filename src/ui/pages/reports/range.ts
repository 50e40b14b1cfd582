/** The reports page's date range: the query as typed, the presets, and the chart interval. */
import { addDays, dayToMs, daysBetween, msToDay } from '../../../stats/date-range';

export interface RangeQuery {
  from?: string;
  to?: string;
  includeSubdomains: boolean;
}

export function readRangeQuery(q: (name: string) => string | undefined): RangeQuery {
  const from = q('from')?.trim() || undefined;
  const to = q('to')?.trim() || undefined;
  return { from, to, includeSubdomains: q('include_subdomains') === 'true' };
}

export interface Preset {
  label: string;
  from: string;
  to: string;
}

/** Last 7, 30 and 90 days up to today (UTC), the days the API counts in. */
export function presets(now = new Date()): Preset[] {
  const today = msToDay(now.getTime());
  return [7, 30, 90].map((days) => ({ label: `Last ${days} days`, from: addDays(today, -(days - 1)), to: today }));
}

/** The 30 days up to a given day: the range to suggest when the latest report is older than the default. */
export function thirtyDaysTo(day: string): Preset | null {
  return dayToMs(day) === null ? null : { label: `30 days to the latest report (${day})`, from: addDays(day, -29), to: day };
}

/** Daily points up to about three months; weekly beyond, so a long range stays readable. */
export function intervalFor(from: string, to: string): 'day' | 'week' {
  if (dayToMs(from) === null || dayToMs(to) === null) return 'day';
  return daysBetween(from, to) > 92 ? 'week' : 'day';
}
