/**
 * Load: many report emails through the real Worker (wrangler's local runtime) by the production path,
 * the `email()` handler (`POST /cdn-cgi/handler/email`), then an account of every one of them.
 *
 * The mix is deterministic (seeded): distinct aggregate reports of skewed sizes as plain XML, gzip or
 * zip attachments; the same bytes sent again (→ `duplicate` at receipt); the same report again in
 * another container (→ `duplicate` after parsing); and a few broken messages (corrupt gzip, no report,
 * XML without a report_id → `rejected` with a reason code). Each sent message is known by its SHA-256,
 * which the inbound row keeps, so every row is checked against what its message should have become,
 * and the stored reports and records are counted in D1 against what was generated.
 *
 * Used by `npm run bench` (10,000 messages) and by test/load/ (a few hundred, in CI).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync, strToU8, zipSync } from 'fflate';
import { healthy, makeSandbox, startProgrammatic, wrangler, type RunningWorker, type Sandbox, type Tokens } from './e2e';
import { prng, reportXml } from './generate-report';

export type Expected = 'parsed' | 'duplicate' | 'rejected';
type Kind = 'report' | 'resend' | 'same-report' | 'corrupt-gzip' | 'no-report' | 'invalid-xml';

export interface LoadMessage {
  raw: Uint8Array;
  sha256: string;
  kind: Kind;
  container: 'xml' | 'gzip' | 'zip' | null;
  expect: Expected;
  /** For `rejected`: the reason code the row must carry. */
  reasonCode?: string;
  /** Records of the report it carries when it is the first copy of that report (0 otherwise). */
  newRecords: number;
  /** The report it carries (report, resend, same-report): of all messages with one key, exactly one ends `parsed`. */
  reportKey?: string;
}

export interface LoadPlan {
  messages: LoadMessage[];
  distinctReports: number;
  records: number;
  bytes: number;
}

export interface LoadResult {
  plan: { messages: number; distinctReports: number; records: number; bytes: number; byKind: Record<string, number>; byContainer: Record<string, number> };
  sendMs: number;
  /** First send → no inbound row left `received`. */
  settleMs: number;
  /** Sum of the rows' processing_ms (consumer wall time, excluding queue waits). */
  processingMs: number;
  sendErrors: string[];
  statuses: Record<string, number>;
  reasonCodes: Record<string, number>;
  rows: number;
  /** Rows whose status (or reason code) is not what their message should have become, and sent messages with no row. */
  mismatches: string[];
  rowsWithoutReason: number;
  stored: { reports: number; records: number; ingesting: number };
  /** Size of the local D1 database file(s) after the run (SQLite pages, indexes included; after the migrations' empty tables). */
  d1Bytes: number;
  /** Raw messages kept in the local R2 bucket, bytes. */
  r2Bytes: number;
  unansweredRequests: number;
  /**
   * Times the local queue consumer stopped taking batches (a dispatch into the Worker never answered:
   * a wrangler local-runtime quirk) and the Worker was restarted on the same state, its `received`
   * rows replayed from R2 through POST /api/admin/replay, as an operator would.
   */
  restarts: number;
  /** 5xx answers from the local email endpoint, each retried (a sending MTA retries a temporary failure). */
  temporaryRefusals: number;
  mode: string;
}

/** Records per report, skewed like real traffic: most reports are a handful of rows, a few are thousands. */
function recordCount(rand: () => number): number {
  const r = rand();
  if (r < 0.6) return 1 + Math.floor(rand() * 10);
  if (r < 0.9) return 10 + Math.floor(rand() * 90);
  if (r < 0.99) return 100 + Math.floor(rand() * 900);
  return 1000 + Math.floor(rand() * 4000);
}

/**
 * Local wrangler's email endpoint answers 400 to a message over 1 MiB (Email Routing takes 25 MiB), so
 * the plan keeps every message under it.
 */
export const LOCAL_EMAIL_LIMIT = 1024 * 1024;

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function base64Lines(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/.{76}/g, '$&\r\n');
}

function email(n: number, subject: string, attachment: { name: string; type: string; bytes: Uint8Array } | null, body = 'This is a DMARC aggregate report.'): Uint8Array {
  const head = [
    'From: noreply-dmarc-support@receiver.example',
    'To: dmarc-rua@reports.example.net',
    `Subject: ${subject}`,
    `Date: Thu, 01 Jan 2026 00:00:00 +0000`,
    `Message-ID: <load-${n}@receiver.example>`,
    'MIME-Version: 1.0',
  ];
  if (!attachment) return strToU8([...head, 'Content-Type: text/plain; charset=utf-8', '', body, ''].join('\r\n'));
  return strToU8(
    [
      ...head,
      'Content-Type: multipart/mixed; boundary="b0"',
      '',
      '--b0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      body,
      '--b0',
      `Content-Type: ${attachment.type}; name="${attachment.name}"`,
      `Content-Disposition: attachment; filename="${attachment.name}"`,
      'Content-Transfer-Encoding: base64',
      '',
      base64Lines(attachment.bytes),
      '--b0--',
      '',
    ].join('\r\n'),
  );
}

function wrap(n: number, reportId: string, xml: string, container: 'xml' | 'gzip' | 'zip'): Uint8Array {
  const name = `receiver.example!bench.example.org!${reportId}`;
  const subject = `Report domain: bench.example.org Submitter: receiver.example Report-ID: <${reportId}>`;
  const bytes = strToU8(xml);
  if (container === 'xml') return email(n, subject, { name: `${name}.xml`, type: 'text/xml', bytes });
  if (container === 'gzip') return email(n, subject, { name: `${name}.xml.gz`, type: 'application/gzip', bytes: gzipSync(bytes, { level: 6 }) });
  return email(n, subject, { name: `${name}.zip`, type: 'application/zip', bytes: zipSync({ [`${name}.xml`]: bytes }, { level: 6 }) });
}

/**
 * The messages to send, in order. About 89 % new reports, 5 % resent bytes, 4 % the same report in
 * another container, 2 % broken. Copies refer back at least `gap` messages, so the first copy has
 * usually been stored when the second arrives (a copy that finds it still being stored waits 60 s).
 */
export function planLoad(count: number, seed = 10): LoadPlan {
  const rand = prng(seed);
  const messages: LoadMessage[] = [];
  const reports: { reportId: string; xml: string; container: 'xml' | 'gzip' | 'zip'; raw: Uint8Array; big: boolean }[] = [];
  // Copies are drawn from reports already planned; a copy's wait on the first (60 s) is the pipeline's.
  const containers = ['xml', 'gzip', 'zip'] as const;
  const gap = Math.min(50, Math.floor(count / 10));
  let records = 0;
  let bytes = 0;
  const push = (m: Omit<LoadMessage, 'sha256'>) => {
    messages.push({ ...m, sha256: sha(m.raw) });
    bytes += m.raw.byteLength;
  };
  for (let n = 0; n < count; n++) {
    const r = rand();
    const earlier = reports.length > gap ? reports[Math.floor(rand() * (reports.length - gap))] : undefined;
    if (r < 0.05 && earlier) {
      push({ raw: earlier.raw, kind: 'resend', container: earlier.container, expect: 'duplicate', newRecords: 0, reportKey: earlier.reportId });
    } else if (r < 0.09 && earlier) {
      // The next container, but a big report stays compressed, as receivers send it (and the local
      // email endpoint refuses messages over 1 MiB, LOCAL_EMAIL_LIMIT).
      const next = containers[(containers.indexOf(earlier.container) + 1) % 3]!;
      const container = next === 'xml' && earlier.big ? 'gzip' : next;
      push({ raw: wrap(n, earlier.reportId, earlier.xml, container), kind: 'same-report', container, expect: 'duplicate', newRecords: 0, reportKey: earlier.reportId });
    } else if (r < 0.097) {
      // A gzip cut short: the DEFLATE stream ends early.
      const gz = gzipSync(strToU8(`<feedback>${'<record>x</record>'.repeat(200)}</feedback> ${n}`));
      const raw = email(n, `Report ${n}`, { name: `broken-${n}.xml.gz`, type: 'application/gzip', bytes: gz.subarray(0, Math.floor(gz.length / 2)) });
      push({ raw, kind: 'corrupt-gzip', container: 'gzip', expect: 'rejected', reasonCode: 'corrupt-archive', newRecords: 0 });
    } else if (r < 0.104) {
      push({ raw: email(n, `Hello ${n}`, null, `Not a report, message ${n}.`), kind: 'no-report', container: null, expect: 'rejected', reasonCode: 'not-a-report', newRecords: 0 });
    } else if (r < 0.11) {
      const xml = `<?xml version="1.0"?>\n<feedback><report_metadata><org_name>receiver.example</org_name><email>a@receiver.example</email></report_metadata><policy_published><domain>bench.example.org</domain><p>none</p></policy_published><record><row><source_ip>192.0.2.${n % 256}</source_ip><count>1</count></row><identifiers><header_from>bench.example.org</header_from></identifiers></record></feedback>\n`;
      push({ raw: wrap(n, `invalid-${n}`, xml, 'xml'), kind: 'invalid-xml', container: 'xml', expect: 'rejected', reasonCode: 'invalid-report', newRecords: 0 });
    } else {
      const reportId = `load-${seed}-${n}`;
      const stats = { records: 0, messages: 0, xmlBytes: 0 };
      const xml = [...reportXml({ records: recordCount(rand), seed: seed * 100_003 + n, reportId }, stats)].join('');
      // Big reports travel compressed, as receivers send them.
      const big = stats.records > 200;
      const container = big ? (rand() < 0.5 ? 'gzip' : 'zip') : containers[Math.floor(rand() * 3)]!;
      const raw = wrap(n, reportId, xml, container);
      reports.push({ reportId, xml, container, raw, big });
      records += stats.records;
      push({ raw, kind: 'report', container, expect: 'parsed', newRecords: stats.records, reportKey: reportId });
    }
  }
  // The XML is not needed any more once wrapped; let it go before sending.
  for (const report of reports) report.xml = '';
  const over = messages.findIndex((m) => m.raw.byteLength > LOCAL_EMAIL_LIMIT);
  if (over >= 0) throw new Error(`planned message ${over} (${messages[over]!.kind}) is ${messages[over]!.raw.byteLength} bytes, over the local email endpoint's 1 MiB`);
  return { messages, distinctReports: reports.length, records, bytes };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** GET that gives up after `ms` and asks again (the local runtime can leave a request unanswered while its consumer is busy). */
async function getJson<T>(url: string, headers: Record<string, string>, counter: { unanswered: number }, ms = 5000): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await fetch(url, { headers, signal: AbortSignal.timeout(ms) });
      if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
      return (await response.json()) as T;
    } catch (error) {
      if (!(error instanceof Error && error.name === 'TimeoutError') || attempt >= 60) throw error;
      counter.unanswered++;
    }
  }
}

interface InboundRow {
  id: number;
  sha256: string;
  status: string;
  reason: string | null;
  reason_code: string | null;
  processing_ms: number;
}

/** Sends the plan through the running Worker and accounts for every message. */
export async function runLoad(
  started0: RunningWorker,
  tokens: Tokens,
  plan: LoadPlan,
  options: { concurrency?: number; timeoutMs?: number; progress?: (message: string) => void; restart?: () => Promise<RunningWorker>; stallMs?: number } = {},
): Promise<Omit<LoadResult, 'stored' | 'mode' | 'plan' | 'd1Bytes' | 'r2Bytes'> & { worker: RunningWorker }> {
  let worker = started0;
  const concurrency = options.concurrency ?? 2;
  const stallMs = options.stallMs ?? 90_000;
  let restarts = 0;
  let temporaryRefusals = 0;
  const timeoutMs = options.timeoutMs ?? 60 * 60_000;
  const progress = options.progress ?? (() => undefined);
  const admin = { Authorization: `Bearer ${tokens.admin}` };
  const counter = { unanswered: 0 };
  const url = `${worker.url}/cdn-cgi/handler/email?from=${encodeURIComponent('noreply-dmarc-support@receiver.example')}&to=${encodeURIComponent('dmarc-rua@reports.example.net')}`;
  const sendErrors: string[] = [];

  const started = performance.now();
  let next = 0;
  let lastProgress = started;
  // A refusal (5xx: the handler did not take the message, no row written) is retried, as a sending
  // MTA retries a temporary SMTP failure. A POST that times out is not: a lost answer to one that did
  // arrive would make a second, unplanned row. A message with no row at the end is reported as missing.
  const sender = async () => {
    for (;;) {
      const i = next++;
      const message = plan.messages[i];
      if (!message) return;
      for (let attempt = 1; ; attempt++) {
        try {
          const response = await fetch(url, { method: 'POST', body: message.raw, signal: AbortSignal.timeout(120_000) });
          await response.arrayBuffer();
          if (response.ok) break;
          if (response.status >= 500 && attempt < 5) {
            temporaryRefusals++;
            await sleep(1000 * attempt);
            continue;
          }
          sendErrors.push(`message ${i}: ${response.status}`);
        } catch (error) {
          sendErrors.push(`message ${i}: ${error instanceof Error ? error.message : String(error)}`);
        }
        break;
      }
      if (performance.now() - lastProgress > 15_000) {
        lastProgress = performance.now();
        progress(`sent ${next.toLocaleString('en-US')} of ${plan.messages.length.toLocaleString('en-US')} in ${((lastProgress - started) / 1000).toFixed(0)} s`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, sender));
  const sendMs = performance.now() - started;
  progress(`sent ${plan.messages.length.toLocaleString('en-US')} messages in ${(sendMs / 1000).toFixed(1)} s (${sendErrors.length} send errors); waiting for the consumer`);

  // Settled when no row is left `received`. Polled every second, so settleMs is at most ~1 s late.
  // Progress is the newest row of each settled status: the consumer works oldest first, so while it
  // works, one of them moves. When none has moved for stallMs, the local consumer has stopped.
  let signature = '';
  let lastMove = performance.now();
  for (;;) {
    const body = await getJson<{ items: InboundRow[] }>(`${worker.url}/api/inbound?status=received&limit=500`, admin, counter);
    const elapsed = performance.now() - started;
    if (body.items.length === 0) break;
    if (elapsed > timeoutMs) throw new Error(`${body.items.length}+ inbound rows still received after ${(elapsed / 1000).toFixed(0)} s`);
    const newest = await Promise.all(
      ['parsed', 'duplicate', 'rejected', 'failed'].map((s) => getJson<{ items: InboundRow[] }>(`${worker.url}/api/inbound?status=${s}&limit=1`, admin, counter).then((b) => b.items[0]?.id ?? 0)),
    );
    const now = `${newest.join(',')}/${body.items.length}/${body.items.map((r) => r.processing_ms).join(',')}`;
    if (now !== signature) {
      signature = now;
      lastMove = performance.now();
    } else if (options.restart && performance.now() - lastMove > stallMs) {
      restarts++;
      progress(`no progress for ${stallMs / 1000} s: restarting the Worker on the same state and replaying its received rows (${restarts})`);
      // A Worker with a dispatch that never returns may not stop cleanly either: do not wait for ever.
      await Promise.race([worker.stop().catch(() => undefined), sleep(20_000)]);
      worker = await options.restart();
      const ids: number[] = [];
      for (let cursor: string | null = null; ; ) {
        const page: { items: InboundRow[]; next_cursor: string | null } = await getJson(
          `${worker.url}/api/inbound?status=received&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          admin,
          counter,
        );
        ids.push(...page.items.map((r) => r.id));
        if (!page.next_cursor) break;
        cursor = page.next_cursor;
      }
      ids.sort((a, b) => a - b);
      for (let i = 0; i < ids.length; i += 1000) {
        const response = await fetch(`${worker.url}/api/admin/replay`, {
          method: 'POST',
          headers: { ...admin, 'Content-Type': 'application/json' },
          body: JSON.stringify({ ids: ids.slice(i, i + 1000) }),
        });
        if (!response.ok) throw new Error(`replay refused: ${response.status} ${await response.text()}`);
      }
      lastMove = performance.now();
    }
    if (performance.now() - lastProgress > 15_000) {
      lastProgress = performance.now();
      progress(`${body.items.length === 500 ? '500+' : body.items.length} rows still received after ${(elapsed / 1000).toFixed(0)} s`);
    }
    await sleep(1000);
  }
  const settleMs = performance.now() - started;

  const rows: InboundRow[] = [];
  for (let cursor: string | null = null; ; ) {
    const page: { items: InboundRow[]; next_cursor: string | null } = await getJson(
      `${worker.url}/api/inbound?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      admin,
      counter,
    );
    rows.push(...page.items);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }

  const statuses: Record<string, number> = {};
  const reasonCodes: Record<string, number> = {};
  let processingMs = 0;
  let rowsWithoutReason = 0;
  for (const row of rows) {
    statuses[row.status] = (statuses[row.status] ?? 0) + 1;
    if (row.reason_code) reasonCodes[row.reason_code] = (reasonCodes[row.reason_code] ?? 0) + 1;
    if ((row.status === 'rejected' || row.status === 'failed') && !row.reason) rowsWithoutReason++;
    processingMs += row.processing_ms ?? 0;
  }

  // Match rows to messages by SHA-256, in order: the first row of some bytes is the first send of them.
  const rowsBySha = new Map<string, InboundRow[]>();
  for (const row of [...rows].sort((a, b) => a.id - b.id)) rowsBySha.set(row.sha256, [...(rowsBySha.get(row.sha256) ?? []), row]);
  const mismatches: string[] = [];
  // Copies of one report: whichever copy the consumer takes first stores it (usually the first sent,
  // but a retry can reorder them), so exactly one row of the group is `parsed` and the rest `duplicate`.
  const groups = new Map<string, string[]>();
  plan.messages.forEach((message, i) => {
    const row = rowsBySha.get(message.sha256)?.shift();
    if (!row) return void mismatches.push(`message ${i} (${message.kind}): no inbound row`);
    const detail = `${row.status}${row.reason ? ` (${row.reason_code}: ${row.reason})` : ''}`;
    if (message.reportKey) {
      groups.set(message.reportKey, [...(groups.get(message.reportKey) ?? []), row.status]);
      if (row.status !== 'parsed' && row.status !== 'duplicate') mismatches.push(`message ${i} (${message.kind}, ${message.container}): ${detail}`);
    } else if (row.status !== message.expect) {
      mismatches.push(`message ${i} (${message.kind}, ${message.container}): ${detail}, expected ${message.expect}`);
    } else if (message.reasonCode && row.reason_code !== message.reasonCode) {
      mismatches.push(`message ${i} (${message.kind}): rejected as ${row.reason_code}, expected ${message.reasonCode}`);
    }
  });
  for (const [key, statuses] of groups) {
    const parsed = statuses.filter((s) => s === 'parsed').length;
    if (parsed !== 1) mismatches.push(`report ${key}: ${parsed} of its ${statuses.length} messages parsed (${statuses.join(', ')})`);
  }
  for (const [hash, left] of rowsBySha) for (const row of left) mismatches.push(`inbound ${row.id} (${hash.slice(0, 12)}…): no message was sent for it`);

  return { sendMs, settleMs, processingMs, sendErrors, statuses, reasonCodes, rows: rows.length, mismatches, rowsWithoutReason, unansweredRequests: counter.unanswered, restarts, temporaryRefusals, worker };
}

/** Stored aggregate reports and records, read from the sandbox's D1 once the Worker has stopped. */
export function storedCounts(box: Sandbox): LoadResult['stored'] {
  const out = wrangler(
    ['d1', 'execute', 'DB', '--local', '--persist-to', box.persistTo, '--config', box.config, '--json', '--command',
      "SELECT (SELECT count(*) FROM aggregate_reports WHERE status = 'complete') AS reports, " +
        "(SELECT count(*) FROM aggregate_reports WHERE status <> 'complete') AS ingesting, " +
        '(SELECT count(*) FROM aggregate_records) AS records'],
    box.dir,
  );
  const parsed = JSON.parse(out) as { results: { reports: number; ingesting: number; records: number }[] }[];
  const row = parsed[0]?.results[0];
  if (!row) throw new Error(`unexpected d1 execute output: ${out.slice(0, 500)}`);
  return row;
}

/** Bytes of the files under the sandbox's state whose path matches `pattern` (local D1 is SQLite files, local R2 blobs). */
function bytesUnder(dir: string, pattern: RegExp): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    if (entry.isFile() && pattern.test(path)) total += statSync(path).size;
  }
  return total;
}

function tally<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}

/** The whole run in its own sandbox (temporary D1, R2, Queues), removed at the end. */
export async function loadTest(count: number, options: { seed?: number; concurrency?: number; progress?: (message: string) => void } = {}): Promise<LoadResult> {
  const progress = options.progress ?? (() => undefined);
  const plan = planLoad(count, options.seed);
  progress(`planned ${count.toLocaleString('en-US')} messages: ${plan.distinctReports.toLocaleString('en-US')} distinct reports, ${plan.records.toLocaleString('en-US')} records, ${(plan.bytes / 1e6).toFixed(1)} MB`);
  const box = makeSandbox();
  try {
    const tokens: Tokens = { admin: randomBytes(32).toString('base64url'), ingest: randomBytes(32).toString('base64url') };
    // Sender lookups (PTR over DoH) go to a closed loopback port: they fail at once instead of
    // waiting on a network the machine may not have, and stay out of the measurement's way.
    const start = () => startProgrammatic(box, tokens, { DOH_URL: 'http://127.0.0.1:9/dns-query' });
    let worker = await start();
    let result: Omit<LoadResult, 'stored' | 'mode' | 'plan' | 'd1Bytes' | 'r2Bytes'>;
    try {
      if (!(await healthy(worker.url, 30_000))) throw new Error('the Worker did not answer /health');
      const restart = async () => {
        worker = await start();
        if (!(await healthy(worker.url, 30_000))) throw new Error('the restarted Worker did not answer /health');
        return worker;
      };
      const { worker: last, ...rest } = await runLoad(worker, tokens, plan, { concurrency: options.concurrency, progress, restart });
      worker = last;
      result = rest;
    } finally {
      await worker.stop();
    }
    return {
      ...result,
      stored: storedCounts(box),
      d1Bytes: bytesUnder(box.persistTo, /d1.*\.sqlite(-wal)?$/),
      r2Bytes: bytesUnder(box.persistTo, /r2\/.*blobs\//),
      mode: 'unstable_startWorker',
      plan: {
        messages: count,
        distinctReports: plan.distinctReports,
        records: plan.records,
        bytes: plan.bytes,
        byKind: tally(plan.messages, (m) => m.kind),
        byContainer: tally(plan.messages, (m) => m.container ?? 'none'),
      },
    };
  } finally {
    rmSync(box.dir, { recursive: true, force: true });
  }
}

/** Problems with the accounting; empty when every message is accounted for and the store matches. */
export function accountingProblems(result: LoadResult): string[] {
  const problems: string[] = [];
  const settled = ['parsed', 'duplicate', 'rejected', 'failed'].reduce((n, s) => n + (result.statuses[s] ?? 0), 0);
  if (result.rows !== result.plan.messages) problems.push(`${result.rows} inbound rows for ${result.plan.messages} messages sent`);
  if (settled !== result.rows) problems.push(`${result.rows - settled} rows not settled`);
  if (result.rowsWithoutReason > 0) problems.push(`${result.rowsWithoutReason} rejected/failed rows without a reason`);
  if (result.stored.reports !== result.plan.distinctReports) problems.push(`${result.stored.reports} reports stored, ${result.plan.distinctReports} distinct sent`);
  if (result.stored.records !== result.plan.records) problems.push(`${result.stored.records} records stored, ${result.plan.records} sent`);
  if (result.stored.ingesting > 0) problems.push(`${result.stored.ingesting} reports left half-stored`);
  if (result.sendErrors.length > 0) problems.push(`${result.sendErrors.length} send errors: ${result.sendErrors.slice(0, 3).join('; ')}`);
  if (result.mismatches.length > 0) problems.push(`${result.mismatches.length} rows not what their message should have become: ${result.mismatches.slice(0, 5).join('; ')}`);
  return problems;
}

export function formatLoad(result: LoadResult): string[] {
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const kinds = Object.entries(result.plan.byKind).map(([k, v]) => `${k} ${n(v)}`).join(', ');
  const containers = Object.entries(result.plan.byContainer).map(([k, v]) => `${k} ${n(v)}`).join(', ');
  const statuses = ['parsed', 'duplicate', 'rejected', 'failed', 'received'].map((k) => `${k} ${n(result.statuses[k] ?? 0)}`).join(', ');
  const reasons = Object.entries(result.reasonCodes).map(([k, v]) => `${k} ${n(v)}`).join(', ');
  const problems = accountingProblems(result);
  return [
    `load (${n(result.plan.messages)} report emails through email() of the local Worker, ${(result.plan.bytes / 1e6).toFixed(1)} MB; ${n(result.plan.distinctReports)} distinct reports, ${n(result.plan.records)} records)`,
    `  mix           ${kinds}; containers ${containers}`,
    `  send          ${s(result.sendMs)}  ${n((result.plan.messages / result.sendMs) * 1000)} msg/s accepted by email() (R2 put + inbound row + queue send)`,
    `  settled       ${s(result.settleMs)}  ${n((result.plan.messages / result.settleMs) * 1000)} msg/s, ${n((result.plan.records / result.settleMs) * 1000)} records/s (first send → no row received)`,
    `  consumer      ${s(result.processingMs)} summed processing_ms, ${n((result.plan.records / result.processingMs) * 1000)} records/s of consumer time`,
    `  inbound rows  ${n(result.rows)}: ${statuses}${reasons ? `; reason codes ${reasons}` : ''}`,
    `  stored        ${n(result.stored.reports)} reports (${n(result.plan.distinctReports)} distinct sent), ${n(result.stored.records)} records (${n(result.plan.records)} sent), ${n(result.stored.ingesting)} half-stored`,
    `  footprint     local D1 ${(result.d1Bytes / 1e6).toFixed(1)} MB (${n(result.d1Bytes / Math.max(1, result.stored.records))} bytes per stored record, all tables and indexes); R2 ${(result.r2Bytes / 1e6).toFixed(1)} MB of raw messages`,
    `  accounting    ${problems.length === 0 ? 'every message accounted for; counts add up' : problems.join('; ')}`,
    ...(result.temporaryRefusals > 0 ? [`  ${result.temporaryRefusals} send(s) answered 5xx by the local email endpoint and retried (no row had been written)`] : []),
    ...(result.restarts > 0 ? [`  the local queue consumer stopped taking batches ${result.restarts} time(s) (a dispatch never answered); the Worker was restarted on the same state and its received rows replayed from R2`] : []),
    ...(result.unansweredRequests > 0 ? [`  ${result.unansweredRequests} status request(s) went unanswered for 5 s (local runtime); asked again`] : []),
  ];
}
