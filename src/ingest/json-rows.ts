/**
 * Rows go to D1 as one JSON text parameter per statement (read back with json_each), which keeps
 * every statement far from D1's 100 bound parameters and 100 KB of SQL. D1 caps a string at 2 MB
 * (bytes); a JavaScript length counts UTF-16 units, and one unit is at most 3 UTF-8 bytes, so
 * 600,000 units is at most 1.8 MB whatever the script of the text.
 */
export const JSON_PARAM_MAX_CHARS = 600_000;

/** Splits rows into runs whose JSON stays under the cap; each run keeps its offset in `rows`. */
export function* jsonSlices<T>(rows: T[], maxChars = JSON_PARAM_MAX_CHARS): Generator<{ offset: number; rows: T[]; json: string }> {
  let start = 0;
  let chars = 2;
  for (let i = 0; i < rows.length; i++) {
    const size = JSON.stringify(rows[i]).length + 1;
    if (size + 2 > maxChars) throw new RangeError(`one row is ${size} characters of JSON, over the ${maxChars} a D1 parameter may hold`);
    if (i > start && chars + size > maxChars) {
      const slice = rows.slice(start, i);
      yield { offset: start, rows: slice, json: JSON.stringify(slice) };
      start = i;
      chars = 2;
    }
    chars += size;
  }
  if (start < rows.length) {
    const slice = rows.slice(start);
    yield { offset: start, rows: slice, json: JSON.stringify(slice) };
  }
}
