import { createExecutionContext, createMessageBatch, getQueueResult, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { gzipSync } from 'fflate';
import { expect } from 'vitest';
import { reportXml } from '../../bench/generate-report';
import worker from '../../src/index';
import type { IngestMessage } from '../../src/ingest/ingest-message';
import { parseAggregateReport } from '../../src/reports/aggregate/parse';
import { emailMessage, reportEmail, scalar } from '../ingest/helpers';
import { capturingQueue, envWith } from './faulty-bindings';

/**
 * A generated report (bench/generate-report.ts: skewed counts, several header-from domains, DKIM/SPF
 * results, overrides) moved to its own policy domain, so each scenario's roll-ups are its own.
 */
export function generatedReport(domain: string, records: number, reportId = `fault-${domain}`): { xml: string; gz: Uint8Array; email: Uint8Array } {
  let xml = '';
  for (const chunk of reportXml({ records, reportId, seed: records })) xml += chunk.replaceAll('bench.example.org', domain);
  const gz = gzipSync(new TextEncoder().encode(xml));
  return { xml, gz, email: reportEmail([{ filename: `${domain}.xml.gz`, contentType: 'application/gzip', bytes: gz }]) };
}

/** What D1 must hold for the report, computed from the XML by the pure parser, not by the pipeline. */
export async function expectedFrom(xml: string) {
  const report = await parseAggregateReport(xml);
  const byHeaderFrom = new Map<string, { messages: number; dmarc_pass: number; dkim_pass: number; spf_pass: number }>();
  const bySource = new Map<string, number>();
  let messages = 0;
  let dkim = 0;
  let spf = 0;
  let overrides = 0;
  for (const r of report.records) {
    messages += r.count;
    dkim += r.dkim_results.length;
    spf += r.spf_results.length;
    overrides += r.reasons.length;
    const key = (r.header_from ?? report.policy.domain).toLowerCase();
    const row = byHeaderFrom.get(key) ?? { messages: 0, dmarc_pass: 0, dkim_pass: 0, spf_pass: 0 };
    row.messages += r.count;
    if (r.dkim === 'pass' || r.spf === 'pass') row.dmarc_pass += r.count;
    if (r.dkim === 'pass') row.dkim_pass += r.count;
    if (r.spf === 'pass') row.spf_pass += r.count;
    byHeaderFrom.set(key, row);
    bySource.set(r.source_ip, (bySource.get(r.source_ip) ?? 0) + r.count);
  }
  return { reportId: report.report_id, domain: report.policy.domain, records: report.records.length, messages, dkim, spf, overrides, byHeaderFrom, bySource };
}

/**
 * Nothing lost, nothing counted twice: exactly one report row, complete, with every record and every
 * auth result of the XML once, and roll-ups equal to sums computed independently of the pipeline.
 */
export async function expectStoredExactlyOnce(xml: string): Promise<number> {
  const want = await expectedFrom(xml);
  const reports = await env.DB.prepare('SELECT id, status, record_count, message_count, records_ingested FROM aggregate_reports WHERE report_id = ?')
    .bind(want.reportId)
    .all<{ id: number; status: string; record_count: number; message_count: number; records_ingested: number }>();
  expect(reports.results).toHaveLength(1);
  const report = reports.results[0]!;
  expect(report).toMatchObject({ status: 'complete', record_count: want.records, message_count: want.messages, records_ingested: want.records });
  const id = report.id;
  expect(await scalar('SELECT count(*) AS v FROM aggregate_records WHERE report_id = ?', id)).toBe(want.records);
  // Ordinals 0..n-1 each once: a resumed batch neither skipped nor repeated a record.
  expect(await scalar('SELECT count(DISTINCT ordinal) AS v FROM aggregate_records WHERE report_id = ? AND ordinal BETWEEN 0 AND ?', id, want.records - 1)).toBe(want.records);
  expect(await scalar('SELECT sum(count) AS v FROM aggregate_records WHERE report_id = ?', id)).toBe(want.messages);
  expect(await scalar('SELECT count(*) AS v FROM record_dkim_results WHERE report_id = ?', id)).toBe(want.dkim);
  expect(await scalar('SELECT count(*) AS v FROM record_spf_results WHERE report_id = ?', id)).toBe(want.spf);
  expect(await scalar('SELECT count(*) AS v FROM record_policy_overrides WHERE report_id = ?', id)).toBe(want.overrides);

  const daily = await env.DB.prepare('SELECT header_from, reports, messages, dmarc_pass, dkim_pass, spf_pass FROM aggregate_daily WHERE domain = ? ORDER BY header_from')
    .bind(want.domain)
    .all<{ header_from: string; reports: number; messages: number; dmarc_pass: number; dkim_pass: number; spf_pass: number }>();
  const wantDaily = [...want.byHeaderFrom.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([header_from, v]) => ({ header_from, reports: 1, ...v }));
  expect(daily.results).toEqual(wantDaily);
  const sources = await env.DB.prepare('SELECT source_ip, messages FROM aggregate_daily_sources WHERE domain = ?').bind(want.domain).all<{ source_ip: string; messages: number }>();
  expect(new Map(sources.results.map((s) => [s.source_ip, s.messages]))).toEqual(want.bySource);
  return id;
}

/** Hands an email to the real email() handler; what it queues is captured, not consumed in the background. */
export async function receive(raw: Uint8Array): Promise<{ inboundId: number; queued: IngestMessage[] }> {
  const captured = capturingQueue();
  const { message, rejections } = emailMessage(raw);
  const ctx = createExecutionContext();
  await worker.email(message, envWith({ INGEST_QUEUE: captured.queue }));
  await waitOnExecutionContext(ctx);
  expect(rejections).toEqual([]);
  expect(captured.sent).toHaveLength(1);
  return { inboundId: captured.sent[0]!.inboundId, queued: captured.sent };
}

let seq = 0;

/**
 * Runs the real queue() handler on one delivery of `body`, with `environment` (faulty bindings), as
 * the queue would after `attempts - 1` retries. Continuations it sends land in `captured`.
 */
export async function deliver(body: IngestMessage, environment: Env, options: { attempts?: number; queue?: string } = {}) {
  const batch = createMessageBatch<IngestMessage>(options.queue ?? 'mailcheck-ingest', [
    { id: `fault-${++seq}`, timestamp: new Date(), attempts: options.attempts ?? 1, body },
  ]);
  const ctx = createExecutionContext();
  await worker.queue(batch, environment);
  return getQueueResult(batch, ctx);
}

export async function inboundStatus(id: number): Promise<{ status: string; attempts: number; last_error: string | null; reason: string | null; reason_code: string | null }> {
  const row = await env.DB.prepare('SELECT status, attempts, last_error, reason, reason_code FROM inbound_messages WHERE id = ?').bind(id).first<{ status: string; attempts: number; last_error: string | null; reason: string | null; reason_code: string | null }>();
  if (!row) throw new Error(`no inbound ${id}`);
  return row;
}
