/**
 * The CI variant of the load benchmark (bench/load.ts; `npm run bench` sends 10,000): a few hundred
 * report emails through email() of the real Worker under wrangler's local runtime, then every message
 * accounted for. LOAD_TEST_MESSAGES changes the count.
 */
import { describe, expect, it } from 'vitest';
import { accountingProblems, formatLoad, loadTest } from '../../bench/load';

const MESSAGES = Number.parseInt(process.env.LOAD_TEST_MESSAGES ?? '', 10) || 300;

describe('load: report emails through the local Worker', () => {
  it(`${MESSAGES} messages (plain/gzip/zip, duplicates, broken ones): every one ends parsed, duplicate or rejected with its reason, and the store matches`, { timeout: 15 * 60_000 }, async () => {
    const result = await loadTest(MESSAGES, { progress: (m) => process.stderr.write(`  load: ${m}\n`) });
    process.stderr.write(`${formatLoad(result).join('\n')}\n`);
    expect(accountingProblems(result)).toEqual([]);
    // The mix really had each kind in it, so the accounting covered them.
    for (const kind of ['report', 'resend', 'same-report', 'corrupt-gzip', 'no-report', 'invalid-xml']) expect(result.plan.byKind[kind] ?? 0).toBeGreaterThan(0);
    expect(result.statuses).toMatchObject({ parsed: result.plan.distinctReports });
    expect((result.statuses.parsed ?? 0) + (result.statuses.duplicate ?? 0) + (result.statuses.rejected ?? 0)).toBe(MESSAGES);
    expect(result.statuses.failed ?? 0).toBe(0);
  });
});
