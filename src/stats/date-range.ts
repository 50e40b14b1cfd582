/** The date range of a statistics request: inclusive UTC days `YYYY-MM-DD`. */
export interface DayRange {
  from: string;
  to: string;
}

export const DEFAULT_RANGE_DAYS = 30;
export const MAX_RANGE_DAYS = 400;

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const MS_PER_DAY = 86_400_000;

/** Milliseconds since the epoch of a valid day, or null (wrong shape, or no such date like 2024-02-30). */
export function dayToMs(day: string): number | null {
  const match = DAY.exec(day);
  if (!match) return null;
  const ms = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return new Date(ms).toISOString().slice(0, 10) === day ? ms : null;
}

export function msToDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function addDays(day: string, days: number): string {
  return msToDay(dayToMs(day)! + days * MS_PER_DAY);
}

/** Days from `from` to `to`, both included. */
export function daysBetween(from: string, to: string): number {
  return Math.round((dayToMs(to)! - dayToMs(from)!) / MS_PER_DAY) + 1;
}

/**
 * `from` and `to` from the query: both optional; `to` defaults to today (UTC), `from` to 29 days
 * before `to` (30 days in all). Answers an error message for a malformed, inverted or too long range.
 */
export function readDayRange(query: { from?: string; to?: string }, now = new Date()): DayRange | string {
  const { from: fromText, to: toText } = query;
  if (fromText !== undefined && dayToMs(fromText) === null) return 'from must be a date: YYYY-MM-DD';
  if (toText !== undefined && dayToMs(toText) === null) return 'to must be a date: YYYY-MM-DD';
  const to = toText ?? msToDay(now.getTime());
  const from = fromText ?? addDays(to, -(DEFAULT_RANGE_DAYS - 1));
  if (from > to) return 'from must not be after to';
  if (daysBetween(from, to) > MAX_RANGE_DAYS) return `The range may span at most ${MAX_RANGE_DAYS} days`;
  return { from, to };
}

/** Monday of the ISO week a day falls in, and the week's ISO label (`2024-W13`). */
export function isoWeek(day: string): { start: string; week: string } {
  const ms = dayToMs(day)!;
  const weekday = (new Date(ms).getUTCDay() + 6) % 7; // Monday 0 .. Sunday 6
  const start = ms - weekday * MS_PER_DAY;
  const thursday = new Date(start + 3 * MS_PER_DAY);
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * MS_PER_DAY)) + 1;
  return { start: msToDay(start), week: `${year}-W${String(week).padStart(2, '0')}` };
}
