import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import worker from '../../src/index';
import type { IngestMessage } from '../../src/ingest/ingest-message';
import { purgeExpiredData } from '../../src/retention/purge';
import { emailMessage, migrate, reportEmail, sample, scalar } from '../ingest/helpers';
import { D1_LIMITS, limitedD1, type LimitedD1 } from './d1-limits';
import { capturingQueue, envWith } from './faulty-bindings';
import { deliver, expectStoredExactlyOnce, generatedReport } from './harness';

/**
 * docs/faults.md: deployed D1 refuses a statement with more than 100 bound parameters, more than
 * 100,000 bytes of SQL or a value over 2 MB; local D1 does not, so the code's own sizing (JSON
 * parameters of at most 600,000 characters, id lists of 90) is checked here by running the largest
 * paths on a D1 that refuses what deployed D1 refuses (./d1-limits.ts). Each scenario also shows the
 * path came near a limit, so the check is not vacuous.
 */
beforeAll(migrate);

const ADMIN = 'test-admin-token-0123456789abcdef';
/** Queues whose sends are dropped: the scenarios drive the consumer themselves, and 10,000 new domains must not start 10,000 checks. */
const quiet = () => ({ MONITOR_QUEUE: capturingQueue().queue as unknown as Queue, SENDER_QUEUE: capturingQueue().queue as unknown as Queue });

/** email() then the consumer, continuations included, every step on the limited D1, until the row settles. */
async function ingest(raw: Uint8Array, limited: LimitedD1): Promise<{ inboundId: number; status: string; deliveries: number }> {
  const captured = capturingQueue();
  const environment = envWith({ DB: limited.db, INGEST_QUEUE: captured.queue, ...quiet() });
  const { message, rejections } = emailMessage(raw);
  await worker.email(message, environment);
  expect(rejections).toEqual([]);
  const pending: IngestMessage[] = captured.take();
  expect(pending).toHaveLength(1);
  const inboundId = pending[0]!.inboundId;
  let deliveries = 0;
  while (pending.length > 0 && deliveries < 100) {
    const body = pending.shift()!;
    const result = await deliver(body, environment);
    deliveries++;
    expect(result.retryMessages, limited.violations.join('\n')).toEqual([]);
    pending.push(...captured.take());
  }
  const status = await scalar<string>('SELECT status AS v FROM inbound_messages WHERE id = ?', inboundId);
  return { inboundId, status, deliveries };
}

/** A report built to make the stored rows large: many DKIM results per record, long names, long reason comments. */
function heavyReport(domain: string, records: number): string {
  const label = (n: number, width: number) => `${n.toString(36)}${'x'.repeat(width)}`.slice(0, width);
  const longDomain = (n: number) => `${label(n, 63)}.${label(n + 1, 63)}.${label(n + 2, 63)}.${label(n + 3, 50)}.example`;
  const parts = [
    '<?xml version="1.0"?>\n<feedback><report_metadata><org_name>heavy.example</org_name><email>r@heavy.example</email>',
    `<report_id>heavy-${domain}</report_id><date_range><begin>1711929600</begin><end>1712015999</end></date_range></report_metadata>`,
    `<policy_published><domain>${domain}</domain><p>none</p></policy_published>`,
  ];
  for (let i = 0; i < records; i++) {
    const dkim = Array.from({ length: 12 }, (_, k) => `<dkim><domain>${longDomain(i * 12 + k)}</domain><selector>${label(k, 63)}</selector><result>fail</result><human_result>${'h'.repeat(200)}</human_result></dkim>`).join('');
    const spf = Array.from({ length: 4 }, (_, k) => `<spf><domain>${longDomain(i + k)}</domain><scope>mfrom</scope><result>softfail</result></spf>`).join('');
    const reasons = Array.from({ length: 3 }, () => `<reason><type>local_policy</type><comment>${'c'.repeat(400)}</comment></reason>`).join('');
    parts.push(
      `<record><row><source_ip>10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}</source_ip><count>${1 + (i % 7)}</count>`,
      `<policy_evaluated><disposition>none</disposition><dkim>fail</dkim><spf>fail</spf>${reasons}</policy_evaluated></row>`,
      `<identifiers><header_from>${domain}</header_from></identifiers><auth_results>${dkim}${spf}</auth_results></record>`,
    );
  }
  parts.push('</feedback>\n');
  return parts.join('');
}

describe('the limited D1', () => {
  it('refuses what deployed D1 refuses, and passes what it takes', async () => {
    const limited = limitedD1(env.DB);
    const params = (n: number) => `SELECT ${Array.from({ length: n }, () => '?').join(' + ')} AS v`;
    // Inside an async function, as the code calls it: a refusal at bind() is a rejected call, as at run().
    const attempt = (call: () => Promise<unknown>) => (async () => call())();
    await expect(attempt(() => limited.db.prepare(params(101)).bind(...Array.from({ length: 101 }, () => 1)).first())).rejects.toThrow(/101 bound parameters/);
    expect(await limited.db.prepare(params(100)).bind(...Array.from({ length: 100 }, () => 1)).first('v')).toBe(100);
    await expect(attempt(() => limited.db.prepare(`SELECT 1 /* ${'x'.repeat(100_000)} */`).first())).rejects.toThrow(/bytes of SQL/);
    await expect(attempt(() => limited.db.batch([limited.db.prepare('SELECT length(?) AS v').bind('é'.repeat(1_000_001))]))).rejects.toThrow(/2000002-byte value/);
    expect(limited.violations).toHaveLength(3);
  });
});

describe('the largest paths stay within deployed D1 limits', () => {
  it('stores the largest real sample report (2,286 records) without a statement over a limit', async () => {
    const limited = limitedD1(env.DB);
    const raw = reportEmail([{ filename: 'large-example.xml', contentType: 'text/xml', bytes: sample('aggregate/!large-example.com!1711897200!1711983600.xml') }]);
    const { status } = await ingest(raw, limited);
    expect(limited.violations).toEqual([]);
    expect(status).toBe('parsed');
    expect(limited.peak.boundParameters).toBeGreaterThan(1);
  });

  it('stores a generated 9,000-record report, resumed over deliveries, exactly once', async () => {
    const limited = limitedD1(env.DB);
    const report = generatedReport('limits-generated.example', 9_000);
    const { status } = await ingest(report.email, limited);
    expect(limited.violations).toEqual([]);
    expect(status).toBe('parsed');
    await expectStoredExactlyOnce(report.xml);
  });

  it('splits a report of very large records (12 long DKIM results, long comments each) into values under 2 MB', async () => {
    const limited = limitedD1(env.DB);
    const xml = heavyReport('limits-heavy.example', 1_500);
    // Each record's auth results are several kB: 2,000 records in one JSON parameter would be ~15 MB.
    expect(xml.length).toBeGreaterThan(10_000_000);
    const raw = reportEmail([{ filename: 'heavy.xml.gz', contentType: 'application/gzip', bytes: (await import('fflate')).gzipSync(new TextEncoder().encode(xml)) }]);
    const { status } = await ingest(raw, limited);
    expect(limited.violations).toEqual([]);
    expect(status).toBe('parsed');
    await expectStoredExactlyOnce(xml);
    // The JSON parameters came near the cap the code sets (600,000 characters), far under 2 MB.
    expect(limited.peak.valueBytes).toBeGreaterThan(300_000);
    expect(limited.peak.valueBytes).toBeLessThanOrEqual(D1_LIMITS.valueBytes);
  });

  it('adds 10,000 domains from one CSV, lists them, replays 1,000 messages, and purges, within the limits', async () => {
    const limited = limitedD1(env.DB);
    const environment = envWith({ DB: limited.db, INGEST_QUEUE: capturingQueue().queue, ...quiet() });
    const call = async (method: string, path: string, body?: string, type = 'application/json') => {
      const headers = new Headers({ Authorization: `Bearer ${ADMIN}`, 'CF-Connecting-IP': '192.0.2.77' });
      if (body !== undefined) headers.set('Content-Type', type);
      const response = await worker.fetch(new Request(`https://mailcheck.test${path}`, { method, headers, body }), environment, createExecutionContext());
      return { status: response.status, json: (await response.json()) as Record<string, unknown> };
    };

    expect((await call('POST', '/api/admin/groups', JSON.stringify({ name: 'Limits group' }))).status).toBe(201);
    const csv = Array.from({ length: 10_000 }, (_, i) => `limits-${i}.example,Limits group`).join('\n');
    const added = await call('POST', '/api/admin/domains/bulk', csv, 'text/csv');
    expect(added.status, JSON.stringify(added.json).slice(0, 500)).toBe(200);
    expect(added.json.added).toHaveLength(10_000);
    expect(added.json.linked).toBe(10_000);
    const listed = await call('GET', '/api/domains?limit=500');
    expect(listed.status).toBe(200);
    expect(await call('GET', '/api/metrics').then((r) => r.status)).toBe(200);

    await env.DB.exec(
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) INSERT INTO inbound_messages (source, sha256, r2_key, size, status, reason) SELECT 'upload', 'limits-' || i, 'limits/' || i, 1, 'failed', 'test' FROM n",
    );
    const ids = (await env.DB.prepare("SELECT id FROM inbound_messages WHERE sha256 LIKE 'limits-%' ORDER BY id").all<{ id: number }>()).results.map((r) => r.id);
    expect(ids).toHaveLength(1_000);
    const replayed = await call('POST', '/api/admin/replay', JSON.stringify({ ids }));
    expect(replayed.status).toBe(202);
    expect(replayed.json.replayed).toHaveLength(1_000);

    // Everything stored so far is past any retention ten years on.
    for (let run = 0; run < 50; run++) if ((await purgeExpiredData(environment, new Date(Date.now() + 3650 * 86_400_000))).complete) break;
    expect(await scalar('SELECT count(*) AS v FROM aggregate_records')).toBe(0);

    expect(limited.violations).toEqual([]);
    // The id lists of the replay and the bulk insert came near the parameter limit.
    expect(limited.peak.boundParameters).toBeGreaterThan(80);
    expect(limited.peak.boundParameters).toBeLessThanOrEqual(D1_LIMITS.boundParameters);
  });
});
