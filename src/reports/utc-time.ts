/**
 * One timestamp format for every report: ISO 8601 UTC to the second, `2018-06-19T00:00:00Z`.
 * Reports never carry sub-second precision, and a fixed width sorts as text in the database.
 */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Latest instant the format can write (`9999-12-31T23:59:59Z`). */
const MAX_EPOCH_SECONDS = 253_402_300_799;

/** Epoch seconds → ISO, or null when out of the representable range. */
export function epochSecondsToIso(seconds: number): string | null {
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > MAX_EPOCH_SECONDS) return null;
  return isoSeconds(new Date(Math.floor(seconds) * 1000));
}

/** Any date text `Date` understands (RFC 3339, RFC 5322) → ISO, or null. */
export function parseDateText(text: string): Date | null {
  const ms = Date.parse(text.trim());
  return Number.isFinite(ms) ? new Date(ms) : null;
}

/** `YYYY-MM-DD` of the UTC day. */
export function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}
