import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { Hono } from 'hono';
import { beforeAll, describe, expect, it } from 'vitest';
import { aggregateReportRoutes } from '../../src/api/aggregate-report-routes';
import { authenticate, type AppEnv } from '../../src/auth/authenticate';
import worker from '../../src/index';
import { domainKey } from '../../src/lib/domain-name';
import type { AggregateReport } from '../../src/reports/model';
import { parseAggregateReport } from '../../src/reports/aggregate';
import { isoWeek } from '../../src/stats/date-range';
import { deliverEmail, migrate, reportEmail, sample, settle } from '../ingest/helpers';

/**
 * The statistics routes, fed through the real ingest pipeline, checked against figures counted
 * independently here from the same XML (parsed with the pure parser, summed record by record).
 * The router is mounted on a local app behind the real authenticate() until app.ts mounts it.
 */
const local = new Hono<AppEnv>().use('/api/*', authenticate()).route('/api', aggregateReportRoutes);

const ADMIN = 'test-admin-token-0123456789abcdef';
let addressCounter = 0;
const freshAddress = () => `198.19.${Math.floor(++addressCounter / 250)}.${addressCounter % 250}`;

async function get(path: string, token: string | null = ADMIN) {
  const headers = new Headers({ 'CF-Connecting-IP': freshAddress() });
  if (token) headers.set('Authorization', `Bearer ${token}`);
  return local.fetch(new Request(`https://mailcheck.test${path}`, { headers }), env, createExecutionContext());
}

async function json<T = Record<string, unknown>>(path: string, token: string | null = ADMIN): Promise<T> {
  const response = await get(path, token);
  if (response.status !== 200) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

async function admin<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await worker.fetch(
    new Request(`https://mailcheck.test${path}`, {
      method,
      headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json', 'CF-Connecting-IP': '192.0.2.250' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
    env,
    createExecutionContext(),
  );
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (response.status === 204 ? null : await response.json()) as T;
}

interface Rec {
  ip: string;
  count: number;
  disposition: string;
  dkim: string;
  spf: string;
  reason?: string;
}

/** A small aggregate report with chosen records, to cover dispositions and overrides the samples lack. */
function syntheticReport(reportId: string, domain: string, begin: number, records: Rec[], org = 'Synthetic Receiver'): string {
  const rows = records
    .map(
      (r) =>
        `<record><row><source_ip>${r.ip}</source_ip><count>${r.count}</count><policy_evaluated><disposition>${r.disposition}</disposition><dkim>${r.dkim}</dkim><spf>${r.spf}</spf>${
          r.reason ? `<reason><type>${r.reason}</type></reason>` : ''
        }</policy_evaluated></row><identifiers><header_from>${domain}</header_from></identifiers><auth_results><spf><domain>${domain}</domain><result>${r.spf}</result></spf></auth_results></record>`,
    )
    .join('');
  return `<?xml version="1.0"?><feedback><report_metadata><org_name>${org}</org_name><email>dmarc@synthetic.example</email><report_id>${reportId}</report_id><date_range><begin>${begin}</begin><end>${begin + 86399}</end></date_range></report_metadata><policy_published><domain>${domain}</domain><p>none</p></policy_published>${rows}</feedback>`;
}

const utc = (iso: string) => Date.parse(iso) / 1000;

/** Every aggregate report ingested, parsed again here: the independent source of truth. */
const parsed: AggregateReport[] = [];

async function ingestXml(name: string, text: string) {
  const bytes = new TextEncoder().encode(text);
  const { inboundId } = await deliverEmail(reportEmail([{ filename: name, contentType: 'text/xml', bytes }]));
  const row = await settle(inboundId);
  expect(row.status).toBe('parsed');
  parsed.push(await parseAggregateReport(text));
}

const SAMPLES = ['extract_report/nice-input.xml', 'aggregate/!large-example.com!1711897200!1711983600.xml', 'aggregate/rfc9990-sample.xml'];

const tokens = { member: '', other: '', subOnly: '' };

beforeAll(async () => {
  await migrate();
  for (const name of SAMPLES) await ingestXml(name.split('/').pop()!, new TextDecoder().decode(sample(name)));
  // Dispositions, overrides and sources the samples lack, on 2024-06-14 (the day after nice-input).
  await ingestXml(
    'dispositions.xml',
    syntheticReport('disp-1', 'example.com', utc('2024-06-14T00:00:00Z'), [
      { ip: '203.0.113.5', count: 7, disposition: 'reject', dkim: 'fail', spf: 'fail' },
      { ip: '203.0.113.6', count: 5, disposition: 'quarantine', dkim: 'fail', spf: 'fail' },
      { ip: '203.0.113.6', count: 3, disposition: 'none', dkim: 'fail', spf: 'fail', reason: 'local_policy' },
      { ip: '203.0.113.7', count: 11, disposition: 'none', dkim: 'pass', spf: 'fail', reason: 'forwarded' },
      { ip: '203.0.113.7', count: 2, disposition: 'none', dkim: 'fail', spf: 'pass' },
    ], 'Other Receiver'),
  );
  // Starts the day before 2024-06-13 (at noon) and ends inside it: counts on 2024-06-12 only.
  await ingestXml(
    'day-before.xml',
    syntheticReport('edge-1', 'example.com', utc('2024-06-12T12:00:00Z'), [{ ip: '203.0.113.9', count: 100, disposition: 'none', dkim: 'fail', spf: 'fail' }]),
  );
  // A sub-domain, and a look-alike that a suffix test must not catch.
  await ingestXml(
    'sub.xml',
    syntheticReport('sub-1', 'mail.example.com', utc('2024-06-13T00:00:00Z'), [{ ip: '198.51.100.1', count: 13, disposition: 'none', dkim: 'pass', spf: 'pass' }]),
  );
  await ingestXml(
    'alike.xml',
    syntheticReport('alike-1', 'notexample.com', utc('2024-06-13T00:00:00Z'), [{ ip: '198.51.100.2', count: 17, disposition: 'none', dkim: 'pass', spf: 'pass' }]),
  );
  // A failure report for example.com (Arrival-Date 2019-04-30) and a TLS report for it on 2024-06-13.
  await settle((await deliverEmail(sample('failure/dmarc_ruf_report_linkedin.eml'))).inboundId);
  const tls = JSON.stringify({
    'organization-name': 'TLS Sender',
    'date-range': { 'start-datetime': '2024-06-13T00:00:00Z', 'end-datetime': '2024-06-13T23:59:59Z' },
    'contact-info': 'tls@sender.example',
    'report-id': 'tls-stats-1',
    policies: [
      { policy: { 'policy-type': 'sts', 'policy-string': ['version: STSv1'], 'policy-domain': 'example.com', 'mx-host': ['mx.example.com'] }, summary: { 'total-successful-session-count': 120, 'total-failure-session-count': 4 } },
      { policy: { 'policy-type': 'no-policy-found', 'policy-string': [], 'policy-domain': 'other-agency.example', 'mx-host': [] }, summary: { 'total-successful-session-count': 9, 'total-failure-session-count': 9 } },
    ],
  });
  const tlsIn = await deliverEmail(reportEmail([{ filename: 'tls.json', contentType: 'application/tlsrpt+json', bytes: new TextEncoder().encode(tls) }]));
  expect((await settle(tlsIn.inboundId)).status).toBe('parsed');
  // A reverse DNS cache entry for one source, mapped to a service through sender_map.
  await env.DB.batch([
    env.DB.prepare("INSERT INTO reverse_dns (ip, result, status, expires_at) VALUES (?, ?, 'ok', '2999-01-01T00:00:00Z')").bind(
      '203.0.113.7',
      JSON.stringify({ ip: '203.0.113.7', ptr: ['out.mail.relay.example'], confirmed: ['out.mail.relay.example'], base_domain: 'relay.example', service: null, known_unknown: false, status: 'ok' }),
    ),
    env.DB.prepare("INSERT OR REPLACE INTO sender_map (base_domain, name, type, source) VALUES ('relay.example', 'Relay, \"Inc\"', 'Email Provider', 'admin')"),
    // A confirmed name whose base domain maps to no service: grouped under its base domain.
    env.DB.prepare("INSERT INTO reverse_dns (ip, result, status, expires_at) VALUES (?, ?, 'ok', '2999-01-01T00:00:00Z')").bind(
      '203.0.113.9',
      JSON.stringify({ ip: '203.0.113.9', ptr: ['vm-9.hoster.example'], confirmed: ['vm-9.hoster.example'], base_domain: 'hoster.example', service: null, known_unknown: false, status: 'ok' }),
    ),
  ]);

  type Created = { id: number };
  type Token = { token: string };
  const own = await admin<Created>('POST', '/api/admin/groups', { name: 'Stats own' });
  const other = await admin<Created>('POST', '/api/admin/groups', { name: 'Stats other' });
  const subGroup = await admin<Created>('POST', '/api/admin/groups', { name: 'Stats sub only' });
  await admin('POST', '/api/admin/domains', { name: 'example.com', group_ids: [own.id] });
  await admin('POST', '/api/admin/domains', { name: 'other-agency.example', group_ids: [other.id] });
  await admin('POST', '/api/admin/domains', { name: 'mail.example.com', group_ids: [subGroup.id] });
  for (const [key, group] of [['member', own], ['other', other], ['subOnly', subGroup]] as const) {
    const user = await admin<Created>('POST', '/api/admin/users', { email: `stats-${key}@agency.example`, role: 'member' });
    await admin('PUT', `/api/admin/groups/${group.id}/members/${user.id}`);
    tokens[key] = (await admin<Token>('POST', '/api/admin/tokens', { name: `stats ${key}`, scopes: ['read'], user_id: user.id })).token;
  }
});

// ---- independent counting ----

const dayOf = (r: AggregateReport) => new Date(r.begin).toISOString().slice(0, 10);

function selected(domain: string, from: string, to: string, subdomains = false) {
  return parsed.filter((r) => {
    const d = domainKey(r.policy.domain);
    const matches = d === domain || (subdomains && d.endsWith(`.${domain}`));
    return matches && dayOf(r) >= from && dayOf(r) <= to;
  });
}

function expected(reports: AggregateReport[]) {
  const e = {
    reports: reports.length,
    messages: 0,
    dmarc_pass: 0,
    dmarc_fail: 0,
    dkim_aligned_pass: 0,
    spf_aligned_pass: 0,
    both_aligned_pass: 0,
    disposition_none: 0,
    disposition_quarantine: 0,
    disposition_reject: 0,
    overridden: 0,
    would_be_blocked_at_reject: 0,
  };
  for (const report of reports) {
    for (const r of report.records) {
      const pass = r.dkim === 'pass' || r.spf === 'pass';
      e.messages += r.count;
      if (pass) e.dmarc_pass += r.count;
      else e.dmarc_fail += r.count;
      if (r.dkim === 'pass') e.dkim_aligned_pass += r.count;
      if (r.spf === 'pass') e.spf_aligned_pass += r.count;
      if (r.dkim === 'pass' && r.spf === 'pass') e.both_aligned_pass += r.count;
      if (r.disposition === 'quarantine') e.disposition_quarantine += r.count;
      else if (r.disposition === 'reject') e.disposition_reject += r.count;
      else e.disposition_none += r.count;
      if (r.reasons.length > 0) e.overridden += r.count;
      if (!pass && r.disposition !== 'reject') e.would_be_blocked_at_reject += r.count;
    }
  }
  return e;
}

function expectedSources(reports: AggregateReport[]) {
  type Source = { source_ip: string; messages: number; dmarc_pass: number; dmarc_fail: number; dkim_pass: number; spf_pass: number; quarantined: number; rejected: number; would_be_blocked_at_reject: number };
  const by = new Map<string, Source>();
  for (const report of reports) {
    for (const r of report.records) {
      const s = by.get(r.source_ip) ?? { source_ip: r.source_ip, messages: 0, dmarc_pass: 0, dmarc_fail: 0, dkim_pass: 0, spf_pass: 0, quarantined: 0, rejected: 0, would_be_blocked_at_reject: 0 };
      s.messages += r.count;
      if (r.dkim === 'pass' || r.spf === 'pass') s.dmarc_pass += r.count;
      else s.dmarc_fail += r.count;
      if (r.dkim === 'pass') s.dkim_pass += r.count;
      if (r.spf === 'pass') s.spf_pass += r.count;
      if (r.disposition === 'quarantine') s.quarantined += r.count;
      if (r.disposition === 'reject') s.rejected += r.count;
      if (r.dkim !== 'pass' && r.spf !== 'pass' && r.disposition !== 'reject') s.would_be_blocked_at_reject += r.count;
      by.set(r.source_ip, s);
    }
  }
  return [...by.values()];
}

/** RFC 4180 reader for the checks: quoted fields, doubled quotes, CRLF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') row.push(field), (field = '');
    else if (ch === '\r' && text[i + 1] === '\n') row.push(field), rows.push(row), (row = []), (field = ''), i++;
    else field += ch;
  }
  return rows;
}

// ---- the tests ----

describe('summary', () => {
  it('matches the reports counted independently, for each sample on its own day', async () => {
    const nice = parsed[0]!;
    expect(dayOf(nice)).toBe('2024-06-13');
    const niceOnly = expected([nice]);
    expect(niceOnly).toMatchObject({ reports: 1, messages: 3047 });
    const body = await json('/api/aggregatereport/example.com/summary?from=2024-06-13&to=2024-06-13');
    expect(body).toMatchObject({ domain: 'example.com', from: '2024-06-13', to: '2024-06-13', ...niceOnly });

    const large = parsed[1]!;
    expect(large.records.length).toBe(2286);
    expect(await json('/api/aggregatereport/example.com/summary?from=2024-03-31&to=2024-03-31')).toMatchObject(expected([large]));
    const rfc = parsed[2]!;
    expect(await json(`/api/aggregatereport/example.com/summary?from=${dayOf(rfc)}&to=${dayOf(rfc)}`)).toMatchObject(expected([rfc]));
  });

  it('sums a range of several reports, dispositions and overrides included', async () => {
    const body = await json('/api/aggregatereport/example.com/summary?from=2024-03-31&to=2024-06-30');
    const want = expected(selected('example.com', '2024-03-31', '2024-06-30'));
    expect(want.reports).toBe(4); // large, day-before, nice, dispositions
    expect(want.disposition_reject).toBe(7);
    expect(want.overridden).toBe(14);
    expect(body).toMatchObject(want);
  });

  it('counts a report on the day its range starts: the day before from is out, the last day is in', async () => {
    const from13 = await json('/api/aggregatereport/example.com/summary?from=2024-06-13&to=2024-06-14');
    expect(from13).toMatchObject(expected(selected('example.com', '2024-06-13', '2024-06-14')));
    expect(from13.reports).toBe(2);
    const from12 = await json('/api/aggregatereport/example.com/summary?from=2024-06-12&to=2024-06-13');
    expect(from12).toMatchObject({ reports: 2, messages: 3047 + 100 });
    const to12 = await json('/api/aggregatereport/example.com/summary?from=2024-06-01&to=2024-06-12');
    expect(to12).toMatchObject({ reports: 1, messages: 100, dmarc_fail: 100 });
    expect(await json('/api/aggregatereport/example.com/summary?from=2024-04-01&to=2024-06-11')).toMatchObject({ reports: 0, messages: 0, dmarc_pass: 0 });
  });

  it('includes sub-domains only when asked, and never look-alike names', async () => {
    const plain = await json('/api/aggregatereport/example.com/summary?from=2024-06-13&to=2024-06-13');
    const withSubs = await json('/api/aggregatereport/example.com/summary?from=2024-06-13&to=2024-06-13&include_subdomains=true');
    expect(withSubs).toMatchObject(expected(selected('example.com', '2024-06-13', '2024-06-13', true)));
    expect(withSubs.messages).toBe((plain.messages as number) + 13);
    expect(withSubs.reports).toBe(2);
  });

  it('adds the failure-report count and the TLS sessions of the range', async () => {
    expect(await json('/api/aggregatereport/example.com/summary?from=2019-04-01&to=2019-04-30')).toMatchObject({ failure_reports: 1, reports: 0 });
    expect(await json('/api/aggregatereport/example.com/summary?from=2019-05-01&to=2019-05-30')).toMatchObject({ failure_reports: 0 });
    const body = await json<{ tls: unknown }>('/api/aggregatereport/example.com/summary?from=2024-06-13&to=2024-06-13');
    expect(body.tls).toEqual({
      reports: 1,
      successful_sessions: 120,
      failed_sessions: 4,
      by_organisation: [{ org_name: 'TLS Sender', reports: 1, successful_sessions: 120, failed_sessions: 4 }],
    });
    expect((await json<{ tls: { reports: number } }>('/api/aggregatereport/example.com/summary?from=2024-06-14&to=2024-06-14')).tls.reports).toBe(0);
  });

  it('defaults to the last 30 days and validates dates', async () => {
    const body = await json('/api/aggregatereport/example.com/summary');
    const today = new Date().toISOString().slice(0, 10);
    expect(body.to).toBe(today);
    expect(body.from).toBe(new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10));
    for (const query of ['from=2024-13-01&to=2024-12-01', 'from=2024-02-30&to=2024-03-01', 'from=20240601&to=2024-06-02', 'from=2024-06-02&to=2024-06-01', 'from=2023-01-01&to=2024-06-01', 'format=xml', 'include_subdomains=yes']) {
      const response = await get(`/api/aggregatereport/example.com/summary?${query}`);
      expect(response.status, query).toBe(400);
      expect(response.headers.get('Content-Type')).toContain('application/problem+json');
    }
    expect((await get('/api/aggregatereport/example.com/summary?from=2023-05-09&to=2024-06-11')).status).toBe(200); // 400 days
  });
});

describe('timeseries', () => {
  it('gives one row per day of the range with the same measures', async () => {
    const body = await json<{ items: Record<string, unknown>[] }>('/api/aggregatereport/example.com/timeseries?from=2024-06-11&to=2024-06-15');
    expect(body.items.map((r) => r.period)).toEqual(['2024-06-11', '2024-06-12', '2024-06-13', '2024-06-14', '2024-06-15']);
    for (const row of body.items) {
      const day = row.period as string;
      expect(row, day).toMatchObject(expected(selected('example.com', day, day)));
    }
    expect(body.items[2]).toMatchObject({ messages: 3047, reports: 1 });
  });

  it('groups by ISO week', async () => {
    const body = await json<{ items: Record<string, unknown>[] }>('/api/aggregatereport/example.com/timeseries?from=2024-03-25&to=2024-06-16&interval=week');
    expect(body.items[0]).toMatchObject({ period: '2024-03-25', week: '2024-W13' });
    expect(body.items).toHaveLength(12);
    const inRange = selected('example.com', '2024-03-25', '2024-06-16');
    for (const row of body.items) {
      const reports = inRange.filter((r) => isoWeek(dayOf(r)).start === row.period);
      expect(row, row.period as string).toMatchObject(expected(reports));
    }
    // 2024-06-12, -13 and -14 all fall in week 24.
    expect(body.items.find((r) => r.week === '2024-W24')).toMatchObject({ reports: 3, messages: 3047 + 100 + 28 });
    expect((await get('/api/aggregatereport/example.com/timeseries?interval=month')).status).toBe(400);
  });
});

describe('sources', () => {
  it('lists every source IP with its figures, by messages, page by page', async () => {
    const want = expectedSources(selected('example.com', '2024-03-31', '2024-06-30'));
    want.sort((a, b) => b.messages - a.messages || (a.source_ip < b.source_ip ? -1 : 1));
    const seen: Record<string, unknown>[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { items: Record<string, unknown>[]; next_cursor: string | null } = await json(
        `/api/aggregatereport/example.com/sources?from=2024-03-31&to=2024-06-30&limit=200${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...page.items);
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBeGreaterThan(1);
    expect(seen.map(({ ptr: _p, base_domain: _b, service: _s, ...r }) => r)).toEqual(want);
  });

  it('names a source from the reverse DNS cache and the sender map, null when unknown', async () => {
    const body = await json<{ items: Record<string, unknown>[] }>('/api/aggregatereport/example.com/sources?from=2024-06-14&to=2024-06-14');
    expect(body.items[0]).toEqual({
      source_ip: '203.0.113.7',
      messages: 13,
      dmarc_pass: 13,
      dmarc_fail: 0,
      dkim_pass: 11,
      spf_pass: 2,
      quarantined: 0,
      rejected: 0,
      would_be_blocked_at_reject: 0,
      ptr: 'out.mail.relay.example',
      base_domain: 'relay.example',
      service: { name: 'Relay, "Inc"', type: 'Email Provider' },
    });
    expect(body.items[1]).toMatchObject({ source_ip: '203.0.113.6', messages: 8, quarantined: 5, ptr: null, base_domain: null, service: null });
  });

  it('ranks the top failing sources by messages failing DMARC', async () => {
    const body = await json<{ items: { source_ip: string; dmarc_fail: number }[] }>('/api/aggregatereport/example.com/sources?from=2024-06-12&to=2024-06-14&failing=true');
    const want = expectedSources(selected('example.com', '2024-06-12', '2024-06-14'))
      .filter((s) => s.dmarc_fail > 0)
      .sort((a, b) => b.dmarc_fail - a.dmarc_fail || (a.source_ip < b.source_ip ? -1 : 1));
    expect(body.items.map((s) => [s.source_ip, s.dmarc_fail])).toEqual(want.map((s) => [s.source_ip, s.dmarc_fail]));
    expect(body.items.map((s) => s.source_ip)).toContain('203.0.113.9');
    expect((await get('/api/aggregatereport/example.com/sources?cursor=nonsense')).status).toBe(400);
    expect((await get('/api/aggregatereport/example.com/sources?limit=0')).status).toBe(400);
  });
});

describe('reporters', () => {
  it('counts reports and messages per reporter', async () => {
    const body = await json<{ items: { org_name: string; reports: number; messages: number }[] }>('/api/aggregatereport/example.com/reporters?from=2024-03-31&to=2024-06-30');
    const want = new Map<string, { reports: number; messages: number }>();
    for (const r of selected('example.com', '2024-03-31', '2024-06-30')) {
      const e = want.get(r.org_name) ?? { reports: 0, messages: 0 };
      e.reports++;
      e.messages += r.records.reduce((n, x) => n + x.count, 0);
      want.set(r.org_name, e);
    }
    expect(new Map(body.items.map((i) => [i.org_name, { reports: i.reports, messages: i.messages }]))).toEqual(want);
    const messages = body.items.map((i) => i.messages);
    expect(messages).toEqual([...messages].sort((a, b) => b - a));
  });
});

describe('services', () => {
  it('groups sources by sending service, the rest by base domain or as unidentified, with the same totals', async () => {
    const body = await json<{ items: Record<string, unknown>[] }>('/api/aggregatereport/example.com/services?from=2024-06-14&to=2024-06-14');
    const want = expectedSources(selected('example.com', '2024-06-14', '2024-06-14'));
    const relay = want.find((s) => s.source_ip === '203.0.113.7')!;
    const rest = want.filter((s) => s !== relay);
    const sum = (rows: typeof want, k: keyof (typeof want)[number]) => rows.reduce((n, r) => n + (r[k] as number), 0);
    expect(body.items).toEqual([
      // By messages: the 15 unidentified before the relay's 13.
      {
        service: null,
        base_domain: null,
        sources: rest.length,
        messages: sum(rest, 'messages'),
        dmarc_pass: sum(rest, 'dmarc_pass'),
        dmarc_fail: sum(rest, 'dmarc_fail'),
        dkim_aligned_pass: sum(rest, 'dkim_pass'),
        spf_aligned_pass: sum(rest, 'spf_pass'),
        would_be_blocked_at_reject: sum(rest, 'would_be_blocked_at_reject'),
      },
      {
        service: { name: 'Relay, "Inc"', type: 'Email Provider' },
        base_domain: null,
        sources: 1,
        messages: relay.messages,
        dmarc_pass: relay.dmarc_pass,
        dmarc_fail: relay.dmarc_fail,
        dkim_aligned_pass: relay.dkim_pass,
        spf_aligned_pass: relay.spf_pass,
        would_be_blocked_at_reject: 0,
      },
    ]);
    // 203.0.113.6: 5 quarantined + 3 overridden to none, all failing and none rejected.
    expect(body.items[0]!.would_be_blocked_at_reject).toBe(8);
    const csv = parseCsv(await (await get('/api/aggregatereport/example.com/services?from=2024-06-14&to=2024-06-14&format=csv')).text());
    expect(csv[0]).toEqual(['service_name', 'service_type', 'base_domain', 'sources', 'messages', 'dmarc_pass', 'dmarc_fail', 'dkim_aligned_pass', 'spf_aligned_pass', 'would_be_blocked_at_reject']);
    expect(csv[2]!.slice(0, 5)).toEqual(['Relay, "Inc"', 'Email Provider', '', '1', '13']);
  });

  it('sums to the summary over a longer range', async () => {
    const body = await json<{ items: { messages: number; would_be_blocked_at_reject: number }[] }>('/api/aggregatereport/example.com/services?from=2024-03-31&to=2024-06-30');
    const want = expected(selected('example.com', '2024-03-31', '2024-06-30'));
    expect(body.items.reduce((n, i) => n + i.messages, 0)).toBe(want.messages);
    expect(body.items.reduce((n, i) => n + i.would_be_blocked_at_reject, 0)).toBe(want.would_be_blocked_at_reject);
    expect(body.items).toContainEqual(expect.objectContaining({ service: null, base_domain: 'hoster.example', sources: 1, messages: 100, would_be_blocked_at_reject: 100 }));
  });
});

describe('tls', () => {
  it('gives TLS-RPT sessions per receiving organisation and policy type', async () => {
    const body = await json<{ items: unknown[] }>('/api/aggregatereport/example.com/tls?from=2024-06-13&to=2024-06-13');
    expect(body.items).toEqual([{ org_name: 'TLS Sender', policy_type: 'sts', reports: 1, successful_sessions: 120, failed_sessions: 4, failure_types: {} }]);
    expect((await json<{ items: unknown[] }>('/api/aggregatereport/other-agency.example/tls?from=2024-06-13&to=2024-06-13')).items).toEqual([
      { org_name: 'TLS Sender', policy_type: 'no-policy-found', reports: 1, successful_sessions: 9, failed_sessions: 9, failure_types: {} },
    ]);
    const csv = parseCsv(await (await get('/api/aggregatereport/example.com/tls?from=2024-06-13&to=2024-06-13&format=csv')).text());
    expect(csv).toEqual([
      ['org_name', 'policy_type', 'reports', 'successful_sessions', 'failed_sessions', 'failure_types'],
      ['TLS Sender', 'sts', '1', '120', '4', ''],
    ]);
  });
});

describe('records', () => {
  it('drills down to the raw records page by page, and by source IP', async () => {
    const reports = selected('example.com', '2024-03-31', '2024-06-30');
    const want = expected(reports);
    let cursor: string | null = null;
    let messages = 0;
    let rows = 0;
    let pages = 0;
    do {
      const page: { items: { count: number; report_id: number; ordinal: number }[]; next_cursor: string | null } = await json(
        `/api/aggregatereport/example.com/records?from=2024-03-31&to=2024-06-30&limit=500${cursor ? `&cursor=${cursor}` : ''}`,
      );
      messages += page.items.reduce((n, r) => n + r.count, 0);
      rows += page.items.length;
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBeGreaterThan(4);
    expect(rows).toBe(reports.reduce((n, r) => n + r.records.length, 0));
    expect(messages).toBe(want.messages);

    const one = await json<{ items: Record<string, unknown>[] }>('/api/aggregatereport/example.com/records?from=2024-06-14&to=2024-06-14&source_ip=203.0.113.6');
    expect(one.items.map((r) => [r.source_ip, r.count, r.disposition])).toEqual([['203.0.113.6', 5, 'quarantine'], ['203.0.113.6', 3, 'none']]);
    expect((await get('/api/aggregatereport/example.com/records?source_ip=x%27')).status).toBe(400);
    expect((await get('/api/aggregatereport/example.com/records?cursor=-1')).status).toBe(400);
  });
});

describe('CSV', () => {
  it('exports every table with a header row and RFC 4180 quoting', async () => {
    const summary = await get('/api/aggregatereport/example.com/summary?from=2024-06-13&to=2024-06-13&format=csv');
    expect(summary.headers.get('Content-Type')).toMatch(/^text\/csv/);
    const text = await summary.text();
    expect(text.endsWith('\r\n')).toBe(true);
    const [header, row] = parseCsv(text);
    const record = Object.fromEntries(header!.map((h, i) => [h, row![i]]));
    expect(record).toMatchObject({ domain: 'example.com', reports: '1', messages: '3047', tls_successful_sessions: '120', tls_failed_sessions: '4' });

    const series = parseCsv(await (await get('/api/aggregatereport/example.com/timeseries?from=2024-06-12&to=2024-06-14&format=csv')).text());
    expect(series[0]!.slice(0, 3)).toEqual(['period', 'reports', 'messages']);
    expect(series.slice(1).map((r) => [r[0], r[2]])).toEqual([['2024-06-12', '100'], ['2024-06-13', '3047'], ['2024-06-14', '28']]);

    const sources = parseCsv(await (await get('/api/aggregatereport/example.com/sources?from=2024-06-14&to=2024-06-14&format=csv')).text());
    expect(sources[0]).toEqual(['source_ip', 'messages', 'dmarc_pass', 'dmarc_fail', 'dkim_pass', 'spf_pass', 'quarantined', 'rejected', 'would_be_blocked_at_reject', 'ptr', 'base_domain', 'service_name', 'service_type']);
    expect(sources[1]).toEqual(['203.0.113.7', '13', '13', '0', '11', '2', '0', '0', '0', 'out.mail.relay.example', 'relay.example', 'Relay, "Inc"', 'Email Provider']);
    expect(sources).toHaveLength(4);
    const rawSources = await (await get('/api/aggregatereport/example.com/sources?from=2024-06-14&to=2024-06-14&format=csv')).text();
    expect(rawSources).toContain('"Relay, ""Inc"""');

    const reporters = parseCsv(await (await get('/api/aggregatereport/example.com/reporters?from=2024-06-13&to=2024-06-14&format=csv')).text());
    expect(reporters).toEqual([['reporter', 'org_name', 'reports', 'messages'], ['google.com', 'google.com', '1', '3047'], ['other receiver', 'Other Receiver', '1', '28']]);
  });
});

describe('access', () => {
  const paths = ['summary', 'timeseries', 'sources', 'reporters', 'services', 'tls', 'records'].map((r) => `/api/aggregatereport/example.com/${r}?from=2024-06-13&to=2024-06-13`);

  it('answers a member of the owning group', async () => {
    for (const path of paths) expect((await get(path, tokens.member)).status, path).toBe(200);
    expect((await json('/api/aggregatereport/example.com/summary?from=2024-06-13&to=2024-06-13', tokens.member)).messages).toBe(3047);
    expect((await get('/api/aggregatereport/mail.example.com/summary', tokens.member)).status).toBe(200);
  });

  it('404s for a member of another group, and for names outside every group', async () => {
    for (const path of paths) expect((await get(path, tokens.other)).status, path).toBe(404);
    for (const path of paths) expect((await get(`${path}&format=csv`, tokens.other)).status, path).toBe(404);
    expect((await get('/api/aggregatereport/notexample.com/summary', tokens.member)).status).toBe(404);
    // Seeing a sub-domain does not open its parent.
    expect((await get('/api/aggregatereport/example.com/summary?include_subdomains=true', tokens.subOnly)).status).toBe(404);
    expect((await json('/api/aggregatereport/mail.example.com/summary?from=2024-06-13&to=2024-06-13', tokens.subOnly)).messages).toBe(13);
  });

  it('401s anonymous callers', async () => {
    for (const path of paths) expect((await get(path, null)).status, path).toBe(401);
  });
});
