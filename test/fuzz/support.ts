/**
 * Shared pieces of the property-based fuzz tests (fast-check). Deterministic by default: a fixed seed
 * and a modest number of runs, so CI replays the same cases in well under a minute. More:
 * `FUZZ_RUNS=5000` (runs per property), `FUZZ_SEED=<n>` or `FUZZ_SEED=random` (a new seed each run;
 * fast-check prints it with any counterexample, so a failure can be replayed).
 */
import fc from 'fast-check';
import { ReportRejection } from '../../src/reports/model';

const envRuns = Number.parseInt(process.env.FUZZ_RUNS ?? '', 10);
const envSeed = process.env.FUZZ_SEED;
export const SEED = envSeed === 'random' ? Date.now() ^ (Math.random() * 0x7fffffff) : Number.parseInt(envSeed ?? '', 10) || 0x5eed10;

/** Runs for a property: its CI default unless FUZZ_RUNS says otherwise. */
export function runs(ciDefault: number): number {
  return Number.isInteger(envRuns) && envRuns > 0 ? envRuns : ciDefault;
}

/**
 * fast-check parameters: the seed, the runs, and a per-case time limit for async properties (a case
 * over it fails as a hang rather than stalling the suite).
 */
export function params(ciDefault: number, caseTimeoutMs = 5000): fc.Parameters<unknown> {
  return { seed: SEED, numRuns: runs(ciDefault), timeout: caseTimeoutMs, endOnFailure: true };
}

/** The vitest timeout for a test doing `properties` properties of `ciDefault` runs: scales with FUZZ_RUNS. */
export function testTimeout(ciDefault: number, msPerRun = 20, floorMs = 60_000): number {
  return Math.max(floorMs, runs(ciDefault) * msPerRun * 2);
}

/** Rethrows anything that is not the parsers' documented refusal. */
export function onlyRejection(error: unknown): ReportRejection {
  if (error instanceof ReportRejection && error.code && error.message) return error;
  throw error;
}

/**
 * Byte-level mutations of a seed input: truncation, bit flips, random bytes inserted, a range deleted
 * or repeated, a byte overwritten. Positions are taken modulo the length, so every case applies.
 */
export type Mutation =
  | { op: 'truncate'; at: number }
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; length: number }
  | { op: 'repeat'; at: number; length: number; times: number };

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0x00, 0xff, 0x80, 0x7f, 0x3c, 0x3e, 0x26, 0x0a) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ op: fc.constant('repeat' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }), times: fc.integer({ min: 2, max: 8 }) }),
);

export function mutate(input: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let b = input;
  for (const m of mutations) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    switch (m.op) {
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'flip':
      case 'set':
        if (at < b.length) {
          b = Uint8Array.from(b);
          b[at] = m.op === 'flip' ? b[at]! ^ (1 << m.bit) : m.value;
        }
        break;
      case 'insert':
        b = concat(b.subarray(0, at), m.bytes, b.subarray(at));
        break;
      case 'delete':
        b = concat(b.subarray(0, at), b.subarray(at + m.length));
        break;
      case 'repeat': {
        const piece = b.subarray(at, at + m.length);
        b = concat(b.subarray(0, at), ...Array.from({ length: m.times }, () => piece), b.subarray(at + m.length));
        break;
      }
    }
  }
  return b;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Splits text into chunks at the given cut points (stream parsers must not care where chunks end). */
export function chunked(text: string, cuts: readonly number[]): string[] {
  const points = [...new Set(cuts.map((c) => (text.length === 0 ? 0 : c % text.length)))].sort((a, b) => a - b);
  const out: string[] = [];
  let from = 0;
  for (const p of points) {
    if (p > from) out.push(text.slice(from, p));
    from = Math.max(from, p);
  }
  out.push(text.slice(from));
  return out;
}

export const encode = (text: string) => new TextEncoder().encode(text);
export const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
