/** ISO 8601 weeks (`2026-W47`): Monday to Sunday, UTC. Pure. */
import { addDays, dayToMs, isoWeek, msToDay } from '../stats/date-range';

export interface Week {
  week: string;
  /** Monday. */
  from: string;
  /** Sunday. */
  to: string;
}

const WEEK = /^(\d{4})-W(\d{2})$/;

/** The week a `YYYY-Www` label names, or null (malformed, or week 53 of a year that has 52). */
export function parseWeek(label: string): Week | null {
  const match = WEEK.exec(label);
  if (!match) return null;
  const year = Number(match[1]);
  const n = Number(match[2]);
  if (n < 1 || n > 53) return null;
  // 4 January is always in week 1.
  const jan4 = msToDay(Date.UTC(year, 0, 4));
  const monday = addDays(isoWeek(jan4).start, (n - 1) * 7);
  if (isoWeek(monday).week !== label) return null;
  return { week: label, from: monday, to: addDays(monday, 6) };
}

export function weekOf(day: string): Week {
  const { start, week } = isoWeek(day);
  return { week, from: start, to: addDays(start, 6) };
}

/** The last complete week before `now`: what a digest sent on Monday covers. */
export function previousWeek(now: Date): Week {
  const today = msToDay(now.getTime());
  return weekOf(addDays(weekOf(today).from, -1));
}

export const isDay = (text: string) => dayToMs(text) !== null;
