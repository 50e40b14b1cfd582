/**
 * Rows go to D1 as one JSON text parameter per statement (read back with json_each), which keeps
 * every statement far from D1's 100 bound parameters and 100 KB of SQL. D1 caps a string at 2 MB
 * (bytes); a JavaScript length counts UTF-16 units, and one unit is at most 3 UTF-8 bytes, so
 * 600,000 units is at most 1.8 MB whatever the script of the text.
 */
export const JSON_PARAM_MAX_CHARS = 600_000;

/**
 * Splits rows into runs whose JSON stays under the cap; each run keeps its offset in `rows`. The
 * common case, everything fits, serialises once; only an oversized run is halved and tried again.
 */
export function* jsonSlices<T>(rows: T[], maxChars = JSON_PARAM_MAX_CHARS, offset = 0): Generator<{ offset: number; rows: T[]; json: string }> {
  if (rows.length === 0) return;
  const json = JSON.stringify(rows);
  if (json.length <= maxChars) {
    yield { offset, rows, json };
    return;
  }
  if (rows.length === 1) throw new RangeError(`one row is ${json.length} characters of JSON, over the ${maxChars} a D1 parameter may hold`);
  const half = Math.ceil(rows.length / 2);
  yield* jsonSlices(rows.slice(0, half), maxChars, offset);
  yield* jsonSlices(rows.slice(half), maxChars, offset + half);
}
