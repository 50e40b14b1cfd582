import { describe, expect, it } from 'vitest';
import { jsonSlices } from '../../src/ingest/json-rows';

describe('jsonSlices', () => {
  it('keeps rows that fit in one slice, serialised once', () => {
    const rows = [[1, 'a'], [2, 'b']];
    expect([...jsonSlices(rows)]).toEqual([{ offset: 0, rows, json: '[[1,"a"],[2,"b"]]' }]);
  });

  it('splits rows over the cap into slices that each fit, with their offsets, in order', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => [i, 'x'.repeat(50)]);
    const slices = [...jsonSlices(rows, 10_000)];
    expect(slices.length).toBeGreaterThan(5);
    expect(slices.every((s) => s.json.length <= 10_000 && JSON.stringify(s.rows) === s.json)).toBe(true);
    expect(slices.flatMap((s) => s.rows)).toEqual(rows);
    for (const s of slices) expect(rows[s.offset]).toBe(s.rows[0]);
  });

  it('refuses a single row too large for a D1 parameter', () => {
    expect(() => [...jsonSlices([['x'.repeat(700_000)]])]).toThrow(RangeError);
  });

  it('yields nothing for no rows', () => {
    expect([...jsonSlices([])]).toEqual([]);
  });
});
