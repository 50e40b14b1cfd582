import { env } from 'cloudflare:workers';
import { Gzip, Zip, ZipDeflate, gzipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { processInbound } from '../../src/ingest/process-inbound';
import { retryDelaySeconds } from '../../src/ingest/queue-consumer';
import { rawKey } from '../../src/ingest/raw-store';
import { requeueStalled } from '../../src/ingest/sweep-stalled';
import { WorkBudget } from '../../src/ingest/work-budget';
import { api, consume, deliverEmail, inboundRow, migrate, reportEmail, sample, scalar, settle } from './helpers';

beforeAll(migrate);

async function deliver(raw: Uint8Array) {
  return (await deliverEmail(raw)).inboundId;
}

/**
 * A bomb's payload: a valid report opening and one record, then `megabytes` of white space between
 * records (which the parser skips), streamed through the compressor without ever being held. It
 * parses; only its compression ratio gives it away.
 */
function compressBomb(push: (chunk: Uint8Array, final: boolean) => void, megabytes: number) {
  const encoder = new TextEncoder();
  push(encoder.encode(reportXml('bomb', recordXml(1) + '\u0000', 'bomb.example').split('\u0000')[0]!), false);
  const spaces = new Uint8Array(1024 * 1024).fill(0x20);
  for (let i = 0; i < megabytes; i++) push(spaces, i === megabytes - 1);
}

function collect(): { chunks: Uint8Array[]; bytes(): Uint8Array } {
  const chunks: Uint8Array[] = [];
  return {
    chunks,
    bytes() {
      const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let offset = 0;
      for (const c of chunks) {
        out.set(c, offset);
        offset += c.length;
      }
      return out;
    },
  };
}

function gzipBomb(megabytes: number): Uint8Array {
  const out = collect();
  const gzip = new Gzip({ level: 9 }, (chunk) => out.chunks.push(chunk));
  compressBomb((c, final) => gzip.push(c, final), megabytes);
  return out.bytes();
}

function zipBomb(megabytes: number): Uint8Array {
  const out = collect();
  const zip = new Zip((error, chunk) => {
    if (error) throw error;
    out.chunks.push(chunk);
  });
  const entry = new ZipDeflate('report.xml', { level: 9 });
  zip.add(entry);
  compressBomb((c, final) => entry.push(c, final), megabytes);
  zip.end();
  return out.bytes();
}

const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE feedback [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<feedback><report_metadata><org_name>&lol9;</org_name><email>a@b.example</email><report_id>1</report_id>
<date_range><begin>1</begin><end>2</end></date_range></report_metadata>
<policy_published><domain>example.com</domain><p>none</p></policy_published></feedback>`;

describe('hostile and broken input is rejected with a reason', () => {
  const cases: Array<[string, () => Uint8Array, string, string]> = [
    ['a gzip bomb', () => gzipBomb(300), 'report.xml.gz', 'decompression-bomb'],
    ['a zip bomb', () => zipBomb(300), 'report.zip', 'decompression-bomb'],
    ['XML entity expansion', () => new TextEncoder().encode(billionLaughs), 'report.xml', 'xml-entities'],
    ['a truncated gzip', () => { const gz = gzipSync(sample('extract_report/nice-input.xml')); return gz.subarray(0, Math.floor(gz.length / 2)); }, 'report.xml.gz', 'corrupt-archive'],
  ];
  for (const [label, make, filename, code] of cases) {
    it(`rejects ${label}`, async () => {
      const id = await deliver(reportEmail([{ filename, contentType: 'application/octet-stream', bytes: make() }]));
      const row = await settle(id);
      expect(row.status).toBe('rejected');
      expect(row.reason_code).toBe(code);
      expect(row.reason).toBeTruthy();
    });
  }

  it('keeps no half of a report whose gzip breaks after its first records', async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => recordXml(i)).join('');
    const xml = reportXml('truncated-after-records', rows);
    const gz = gzipSync(new TextEncoder().encode(xml));
    const id = await deliver(reportEmail([{ filename: 'r.xml.gz', contentType: 'application/gzip', bytes: gz.subarray(0, gz.length - 200) }]));
    const row = await settle(id);
    expect(row.status).toBe('rejected');
    expect(await scalar("SELECT count(*) AS v FROM aggregate_reports WHERE report_id = 'truncated-after-records'")).toBe(0);
  });
});

function recordXml(i: number): string {
  const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const pass = i % 3 === 0 ? 'fail' : 'pass';
  return `<record><row><source_ip>${ip}</source_ip><count>${(i % 7) + 1}</count><policy_evaluated><disposition>none</disposition><dkim>${pass}</dkim><spf>pass</spf></policy_evaluated></row><identifiers><header_from>big.example</header_from></identifiers><auth_results><dkim><domain>big.example</domain><selector>s${i % 5}</selector><result>${pass}</result></dkim><spf><domain>big.example</domain><result>pass</result></spf></auth_results></record>\n`;
}

function reportXml(reportId: string, records: string, domain = 'big.example'): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<feedback><report_metadata><org_name>Big Receiver</org_name><email>dmarc@big-receiver.example</email><report_id>${reportId}</report_id>
<date_range><begin>1735689600</begin><end>1735775999</end></date_range></report_metadata>
<policy_published><domain>${domain}</domain><p>none</p></policy_published>
${records}</feedback>`;
}

/** Gzips a generated report record by record, never holding its XML whole. */
function generatedReportGz(reportId: string, records: number): { gz: Uint8Array; messages: number } {
  const out = collect();
  const gzip = new Gzip({ level: 6 }, (chunk) => out.chunks.push(chunk));
  const encoder = new TextEncoder();
  const [head, tail] = reportXml(reportId, '\u0000').split('\u0000') as [string, string];
  gzip.push(encoder.encode(head));
  let messages = 0;
  const step = 1000;
  for (let i = 0; i < records; i += step) {
    let chunk = '';
    for (let k = i; k < Math.min(records, i + step); k++) {
      chunk += recordXml(k);
      messages += (k % 7) + 1;
    }
    gzip.push(encoder.encode(chunk));
  }
  gzip.push(encoder.encode(tail), true);
  return { gz: out.bytes(), messages };
}

describe('large reports, bounded memory, checkpoints', () => {
  it('ingests a generated report of 200,000 records end to end, every record counted', async () => {
    const records = 200_000;
    const { gz, messages } = generatedReportGz('large-200k', records);
    const id = await deliver(reportEmail([{ filename: 'big.example.xml.gz', contentType: 'application/gzip', bytes: gz }]));
    const row = await settle(id);
    expect(row.status).toBe('parsed');
    const report = await env.DB.prepare("SELECT * FROM aggregate_reports WHERE report_id = 'large-200k'").first<{ id: number; record_count: number; message_count: number; status: string }>();
    expect(report).toMatchObject({ record_count: records, message_count: messages, status: 'complete' });
    expect(await scalar('SELECT count(*) AS v FROM aggregate_records WHERE report_id = ?', report!.id)).toBe(records);
    expect(await scalar('SELECT count(*) AS v FROM record_dkim_results WHERE report_id = ?', report!.id)).toBe(records);
    expect(await scalar("SELECT sum(messages) AS v FROM aggregate_daily WHERE domain = 'big.example'")).toBe(messages);
    expect(await scalar("SELECT count(*) AS v FROM aggregate_daily_sources WHERE domain = 'big.example'")).toBe(records);
  });

  it('resumes from its checkpoint after an invocation ends mid-way, storing each record once', async () => {
    const records = 7_500;
    const { gz, messages } = generatedReportGz('resume-7500', records);
    const id = await deliver(reportEmail([{ filename: 'resume.xml.gz', contentType: 'application/gzip', bytes: gz }]));
    const small = { maxRecords: 3_000, maxQueries: 1_000, maxMillis: 600_000 };
    expect(await processInbound(env, id, new WorkBudget(small))).toEqual({ status: 'continue', delaySeconds: 0 });
    const checkpoint = await scalar<number>("SELECT records_ingested AS v FROM aggregate_reports WHERE report_id = 'resume-7500'");
    expect(checkpoint).toBeGreaterThanOrEqual(3_000);
    expect(checkpoint).toBeLessThan(records);
    // A crash after a batch landed but before the checkpoint moved on: replaying it must add nothing.
    await env.DB.prepare("UPDATE aggregate_reports SET records_ingested = 1000 WHERE report_id = 'resume-7500'").run();
    let result = await processInbound(env, id, new WorkBudget(small));
    while (result.status === 'continue') result = await processInbound(env, id, new WorkBudget(small));
    expect(result.status).toBe('parsed');
    const report = await env.DB.prepare("SELECT id, record_count, message_count FROM aggregate_reports WHERE report_id = 'resume-7500'").first<{ id: number; record_count: number; message_count: number }>();
    expect(report).toMatchObject({ record_count: records, message_count: messages });
    expect(await scalar('SELECT count(*) AS v FROM aggregate_records WHERE report_id = ?', report!.id)).toBe(records);
    expect(await scalar('SELECT sum(count) AS v FROM aggregate_records WHERE report_id = ?', report!.id)).toBe(messages);
  });
});

describe('nothing lost: retries, dead letters, replay', () => {
  it('retries a poison message with backoff, dead-letters it as failed, then replays it after a fix', async () => {
    const raw = reportEmail([{ filename: 'rfc9990.xml', contentType: 'text/xml', bytes: sample('aggregate/rfc9990-sample.xml') }]);
    const id = await deliver(raw);
    const key = rawKey(await scalar<string>('SELECT sha256 AS v FROM inbound_messages WHERE id = ?', id));
    // The poison: its raw copy is gone (say, a bucket mishap).
    await env.RAW_REPORTS.delete(key);
    const first = await consume(id, 1);
    expect(first.explicitAcks).toEqual([]);
    expect(first.retryMessages).toHaveLength(1);
    const later = await consume(id, 4);
    expect(later.retryMessages).toHaveLength(1);
    // Backoff doubles from 30 s and is capped at the queue's 15-minute maximum.
    expect([1, 2, 3, 4, 5, 6].map(retryDelaySeconds)).toEqual([30, 60, 120, 240, 480, 900]);
    let row = await inboundRow(id);
    expect(row).toMatchObject({ status: 'received', attempts: 4 });
    expect(row.last_error).toMatch(/missing from R2/);

    // After the last retry the queue moves it to the dead-letter queue.
    const dead = await consume(id, 1, 'mailcheck-ingest-dlq');
    expect(dead.explicitAcks).toHaveLength(1);
    row = await inboundRow(id);
    expect(row.status).toBe('failed');
    expect(row.reason).toMatch(/missing from R2/);

    const failed = (await (await api('/api/inbound?status=failed', { token: 'test-admin-token-0123456789abcdef' })).json()) as { items: { id: number }[] };
    expect(failed.items.map((i) => i.id)).toContain(id);

    // The fix: the raw copy is restored. Replay re-processes it from R2.
    await env.RAW_REPORTS.put(key, raw);
    const replay = await api('/api/admin/replay', { method: 'POST', token: 'test-admin-token-0123456789abcdef', body: JSON.stringify({ status: 'failed' }) });
    expect(replay.status).toBe(202);
    expect(((await replay.json()) as { replayed: number[] }).replayed).toContain(id);
    row = await settle(id);
    expect(row.status).toBe('parsed');
    expect(await scalar("SELECT message_count AS v FROM aggregate_reports WHERE report_id = '3v98abbp8ya9n3va8yr8oa3ya'")).toBe(123);
  });
  it('re-queues a message whose queue message was lost, from the cron sweep', async () => {
    const raw = reportEmail([{ filename: 'example.net.xml', contentType: 'text/xml', bytes: sample('aggregate/example.net!example.com!1529366400!1529452799.xml') }]);
    const id = await deliver(raw);
    await env.DB.prepare("UPDATE inbound_messages SET updated_at = '2020-01-01T00:00:00Z' WHERE id = ?").bind(id).run();
    expect(await requeueStalled(env)).toEqual([id]);
    expect(await scalar<string>('SELECT updated_at AS v FROM inbound_messages WHERE id = ?', id)).not.toBe('2020-01-01T00:00:00Z');
    // Fresh rows are left alone.
    expect(await requeueStalled(env)).toEqual([]);
    expect((await settle(id)).status).toBe('parsed');
  });
});

describe('HTTP upload and read API', () => {
  it('refuses uploads without a valid token and takes them with the ingest token', async () => {
    expect((await api('/api/reports', { method: 'POST', body: 'x' })).status).toBe(401);
    expect((await api('/api/reports', { method: 'POST', body: 'x', token: 'wrong' })).status).toBe(401);
    expect((await api('/api/reports', { method: 'POST', body: '', token: 'test-ingest-token-0123456789abcdef' })).status).toBe(400);
    const response = await api('/api/reports?filename=rfc8460.json', { method: 'POST', body: sample('smtp_tls/rfc8460.json'), token: 'test-ingest-token-0123456789abcdef' });
    expect(response.status).toBe(202);
    const receipt = (await response.json()) as { inbound_id: number; status: string };
    expect(receipt.status).toBe('received');
    expect((await settle(receipt.inbound_id)).status).toBe('parsed');
    expect(await scalar("SELECT count(*) AS v FROM tls_report_failures f JOIN tls_reports r ON r.id = f.tls_report_id WHERE r.org_name = 'Company-X'")).toBe(3);
    // The ingest token may not read.
    expect((await api('/api/reports', { token: 'test-ingest-token-0123456789abcdef' })).status).toBe(403);
    const tls = (await (await api('/api/tls-reports', { token: 'test-admin-token-0123456789abcdef' })).json()) as { items: { org_name: string; policies: { total_failure_session_count: number }[] }[] };
    expect(tls.items.find((r) => r.org_name === 'Company-X')?.policies[0]?.total_failure_session_count).toBe(303);
  });

  it('lists reports with keyset pagination and shows records with their auth results', async () => {
    const upload = await api('/api/reports', { method: 'POST', body: sample('aggregate/!large-example.com!1711897200!1711983600.xml'), token: 'test-ingest-token-0123456789abcdef' });
    const { inbound_id } = (await upload.json()) as { inbound_id: number };
    expect((await settle(inbound_id)).status).toBe('parsed');

    const first = (await (await api('/api/reports?limit=1', { token: 'test-admin-token-0123456789abcdef' })).json()) as { items: { id: number }[]; next_cursor: string | null };
    expect(first.items).toHaveLength(1);
    expect(first.next_cursor).not.toBeNull();
    const second = (await (await api(`/api/reports?limit=1&cursor=${first.next_cursor}`, { token: 'test-admin-token-0123456789abcdef' })).json()) as { items: { id: number }[] };
    expect(second.items[0]!.id).toBeLessThan(first.items[0]!.id);
    expect((await api('/api/reports?limit=0', { token: 'test-admin-token-0123456789abcdef' })).status).toBe(400);

    const list = (await (await api('/api/reports?domain=example.com&limit=500', { token: 'test-admin-token-0123456789abcdef' })).json()) as { items: { id: number; record_count: number; org_name: string }[] };
    const large = list.items.find((r) => r.record_count === 2286)!;
    expect(large).toBeDefined();
    const page1 = (await (await api(`/api/reports/${large.id}?limit=100`, { token: 'test-admin-token-0123456789abcdef' })).json()) as { records: { ordinal: number; source_ip: string; dkim_results: unknown[] }[]; next_cursor: string };
    expect(page1.records).toHaveLength(100);
    const page2 = (await (await api(`/api/reports/${large.id}?limit=100&cursor=${page1.next_cursor}`, { token: 'test-admin-token-0123456789abcdef' })).json()) as { records: { ordinal: number }[] };
    expect(page2.records[0]!.ordinal).toBe(100);
    expect((await api('/api/reports/999999', { token: 'test-admin-token-0123456789abcdef' })).status).toBe(404);

    // The report covers 2024-03-31T15:00Z to 2024-04-01T15:00Z: it counts once, on the day it starts.
    const stats = (await (await api('/api/stats/daily?domain=example.com&since=2024-03-31&until=2024-03-31', { token: 'test-admin-token-0123456789abcdef' })).json()) as { days: { day: string; messages: number; reports: number }[] };
    expect(stats.days.reduce((n, d) => n + d.messages, 0)).toBe(2286);
    expect(stats.days.every((d) => d.day === '2024-03-31' && d.reports === 1)).toBe(true);
    const nextDay = (await (await api('/api/stats/daily?domain=example.com&since=2024-04-01&until=2024-04-01', { token: 'test-admin-token-0123456789abcdef' })).json()) as { days: unknown[] };
    expect(nextDay.days).toEqual([]);
  });
});
