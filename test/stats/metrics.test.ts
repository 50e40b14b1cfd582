import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { Hono } from 'hono';
import { beforeAll, describe, expect, it } from 'vitest';
import { metricsRoutes } from '../../src/api/metrics-routes';
import { hashToken } from '../../src/auth/api-tokens';
import { authenticate, type AppEnv } from '../../src/auth/authenticate';
import type { Principal } from '../../src/auth/principal';
import { computeMetrics, monthOf, previousMonth, SERVICE_PRINCIPAL, snapshotMetrics } from '../../src/stats/metrics';
import { migrate } from '../ingest/helpers';

/**
 * Metrics over hand-made check results (minimal DomainCheck-shaped JSON) and aggregate_daily rows,
 * against counts worked out by hand below. The router is mounted on a local app behind the real
 * authenticate() until app.ts mounts it.
 */
const local = new Hono<AppEnv>().use('/api/*', authenticate()).route('/api', metricsRoutes);

const ADMIN = 'test-admin-token-0123456789abcdef';
const MEMBER = 'mce_metrics-member-token-0123456789abcdefghijklmnop';
let addressCounter = 0;

async function get(path: string, token = ADMIN) {
  const headers = new Headers({ 'CF-Connecting-IP': `198.18.7.${++addressCounter % 250}`, Authorization: `Bearer ${token}` });
  return local.fetch(new Request(`https://mailcheck.test${path}`, { headers }), env, createExecutionContext());
}

async function json<T = Record<string, unknown>>(path: string, token = ADMIN): Promise<T> {
  const response = await get(path, token);
  if (response.status !== 200) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

interface Fixture {
  dmarcRecord?: string | null;
  applied?: string | null;
  p?: string | null;
  spfRecord?: string | null;
  spfSeverities?: string[];
  mode?: string | null;
  dnssec?: string;
}

/** Only the parts of a DomainCheck the metrics read. */
function check(domain: string, f: Fixture) {
  return JSON.stringify({
    domain,
    checked_at: '2025-03-01T00:00:00Z',
    complete: true,
    dmarc: { record: f.dmarcRecord ?? null, facts: { applied_policy: f.applied ?? null, p: f.p ?? null }, findings: [] },
    spf: {
      record: f.spfRecord ?? null,
      dns_lookups: 1,
      void_lookups: 0,
      findings: (f.spfSeverities ?? []).map((severity, i) => ({ id: `spf.test-${i}`, severity, title: 't', detail: 'd' })),
    },
    mta_sts: { record: null, facts: { mode: f.mode ?? null }, findings: [] },
    dnssec: { record: null, facts: { status: f.dnssec ?? 'unknown' }, findings: [] },
    findings: [],
  });
}

async function run(query: string, ...params: unknown[]) {
  await env.DB.prepare(query).bind(...params).run();
}

async function addResult(domain: string, f: Fixture, latest = true) {
  const row = await env.DB.prepare('INSERT INTO domain_check_results (domain, max_severity, result) VALUES (?, ?, ?) RETURNING id')
    .bind(domain, 'none', check(domain, f))
    .first<{ id: number }>();
  if (latest) {
    await run(
      `INSERT INTO domain_check_state (domain, latest_result_id) VALUES (?, ?)
       ON CONFLICT (domain) DO UPDATE SET latest_result_id = excluded.latest_result_id`,
      domain,
      row!.id,
    );
  }
}

async function addDaily(domain: string, day: string, messages: number, dmarcPass: number) {
  await run('INSERT INTO aggregate_daily (domain, header_from, day, messages, dmarc_pass) VALUES (?, ?, ?, ?, ?)', domain, domain, day, messages, dmarcPass);
}

let memberId = 0;
const member = (): Principal => ({ kind: 'token', actor: 'test', userId: memberId, email: 'm@example.org', scopes: new Set(['read']), allDomains: false, ambient: false });

beforeAll(async () => {
  await migrate();
  // Group A: a.example, b.example. Group B: c, d, e, f.
  await run(`INSERT INTO groups (id, name) VALUES (1, 'Group A'), (2, 'Group B')`);
  await run(`INSERT INTO domains (id, name) VALUES (1, 'a.example'), (2, 'b.example'), (3, 'c.example'), (4, 'd.example'), (5, 'e.example'), (6, 'f.example')`);
  await run(`INSERT INTO group_domains (group_id, domain_id) VALUES (1, 1), (1, 2), (2, 3), (2, 4), (2, 5), (2, 6)`);
  const user = await env.DB.prepare(`INSERT INTO users (email, role) VALUES ('m@example.org', 'member') RETURNING id`).first<{ id: number }>();
  memberId = user!.id;
  await run('INSERT INTO group_members (group_id, user_id) VALUES (1, ?)', memberId);
  await run(
    `INSERT INTO api_tokens (name, token_hash, prefix, scopes, user_id, created_by) VALUES ('member', ?, 'mce_me', 'read', ?, 'test')`,
    await hashToken(MEMBER),
    memberId,
  );

  // a: reject, SPF valid (a warning is not an error), MTA-STS enforce, DNSSEC validated.
  await addResult('a.example', { dmarcRecord: 'v=DMARC1; p=reject', applied: 'reject', p: 'reject', spfRecord: 'v=spf1 -all', spfSeverities: ['warning'], mode: 'enforce', dnssec: 'validated' });
  // b: an inherited record whose sp=quarantine applies; SPF with an error; MTA-STS testing; unsigned.
  await addResult('b.example', { dmarcRecord: 'v=DMARC1; p=reject; sp=quarantine', applied: 'quarantine', p: 'reject', spfRecord: 'v=spf1 +all', spfSeverities: ['info', 'error'], mode: 'testing', dnssec: 'unsigned' });
  // c: an older result said reject; the latest says none. No SPF record. DNSSEC validated.
  await addResult('c.example', { dmarcRecord: 'v=DMARC1; p=reject', applied: 'reject', p: 'reject', spfRecord: 'v=spf1 -all' }, true);
  await addResult('c.example', { dmarcRecord: 'v=DMARC1; p=none', applied: 'none', p: 'none', dnssec: 'validated' });
  // d: no DMARC record; SPF valid, no findings.
  await addResult('d.example', { spfRecord: 'v=spf1 mx -all', dnssec: 'bogus' });
  // e: never checked. f: attempted, but no complete result yet.
  await run(`INSERT INTO domain_check_state (domain, latest_result_id, last_error) VALUES ('f.example', NULL, 'SERVFAIL')`);

  // March 2025: a.example 100/90, its sub-domain 10/5, c.example 50/10, an unmonitored domain 40/40;
  // 1 April is outside the month.
  await addDaily('a.example', '2025-03-05', 100, 90);
  await addDaily('mail.a.example', '2025-03-10', 10, 5);
  await addDaily('c.example', '2025-03-31', 50, 10);
  await addDaily('x.example', '2025-03-02', 40, 40);
  await addDaily('c.example', '2025-04-01', 999, 0);
  await addDaily('a.example', '2025-02-28', 7, 7);

  // Mail-server TLS: a.example's MX servers are good and phase_out (worst: phase_out); b.example's good
  // and inconclusive (inconclusive ignored: good); c.example's only server inconclusive; d.example's
  // offers no TLS; e and f have no scanned server.
  await run(`INSERT INTO tls_servers (ip, port, latest_result_id, scanned_at, grade) VALUES
    ('192.0.2.1', 25, 1, '2025-03-01T00:00:00Z', 'good'), ('192.0.2.2', 25, 2, '2025-03-01T00:00:00Z', 'phase_out'),
    ('192.0.2.3', 25, 3, '2025-03-01T00:00:00Z', 'inconclusive'), ('192.0.2.4', 25, 4, '2025-03-01T00:00:00Z', 'no_tls')`);
  await run(`INSERT INTO mx_addresses (domain, host, ip, preference) VALUES
    ('a.example', 'mx1.a.example', '192.0.2.1', 10), ('a.example', 'mx2.a.example', '192.0.2.2', 20),
    ('b.example', 'mx1.a.example', '192.0.2.1', 10), ('b.example', 'mx.b.example', '192.0.2.3', 20),
    ('c.example', 'mx.b.example', '192.0.2.3', 10), ('d.example', 'mx.d.example', '192.0.2.4', 10)`);
});

const zero = { count: 0, fraction: 0 };

describe('computeMetrics', () => {
  it('counts every monitored domain for a principal who sees all', async () => {
    const m = await computeMetrics(env.DB, SERVICE_PRINCIPAL, '2025-03');
    expect(m).toEqual({
      month: '2025-03',
      domains: 6,
      checked: 4,
      not_checked_yet: 2,
      dmarc: {
        reject: { count: 1, fraction: 0.25 },
        quarantine: { count: 1, fraction: 0.25 },
        none: { count: 1, fraction: 0.25 },
        missing: { count: 1, fraction: 0.25 },
      },
      spf_valid: { count: 2, fraction: 0.5 },
      mta_sts_enforce: { count: 1, fraction: 0.25 },
      dnssec_validated: { count: 2, fraction: 0.5 },
      tls: {
        good: { count: 1, fraction: 1 / 6 },
        sufficient: zero,
        phase_out: { count: 1, fraction: 1 / 6 },
        insufficient: zero,
        no_tls: { count: 1, fraction: 1 / 6 },
        inconclusive: { count: 1, fraction: 1 / 6 },
        not_scanned: { count: 2, fraction: 2 / 6 },
      },
      reports: { messages: 200, dmarc_pass: 145, dmarc_pass_rate: 145 / 200 },
    });
  });

  it("counts only the member's group's domains (and their sub-domains' reports)", async () => {
    const m = await computeMetrics(env.DB, member(), '2025-03');
    expect(m).toEqual({
      month: '2025-03',
      domains: 2,
      checked: 2,
      not_checked_yet: 0,
      dmarc: {
        reject: { count: 1, fraction: 0.5 },
        quarantine: { count: 1, fraction: 0.5 },
        none: { count: 0, fraction: 0 },
        missing: { count: 0, fraction: 0 },
      },
      spf_valid: { count: 1, fraction: 0.5 },
      mta_sts_enforce: { count: 1, fraction: 0.5 },
      dnssec_validated: { count: 1, fraction: 0.5 },
      tls: {
        good: { count: 1, fraction: 0.5 },
        sufficient: zero,
        phase_out: { count: 1, fraction: 0.5 },
        insufficient: zero,
        no_tls: zero,
        inconclusive: zero,
        not_scanned: zero,
      },
      reports: { messages: 110, dmarc_pass: 95, dmarc_pass_rate: 95 / 110 },
    });
  });

  it('gives zeros and a null pass rate where there is nothing', async () => {
    const nobody: Principal = { ...member(), userId: 987654 };
    const m = await computeMetrics(env.DB, nobody, '2024-01');
    expect(m.domains).toBe(0);
    expect(m.dmarc.reject).toEqual({ count: 0, fraction: 0 });
    expect(m.reports).toEqual({ messages: 0, dmarc_pass: 0, dmarc_pass_rate: null });
  });
});

describe('snapshots and GET /api/metrics', () => {
  it('writes a snapshot, upserts it, refreshes last month early in the next, and serves it to admins', async () => {
    await snapshotMetrics(env, new Date('2025-03-20T04:00:00Z'));
    await addDaily('b.example', '2025-03-30', 20, 20);
    await snapshotMetrics(env, new Date('2025-03-31T04:00:00Z'));
    const rows = await env.DB.prepare(`SELECT month, scope, computed_at, data FROM metrics_snapshots ORDER BY month`).all<{ month: string; scope: string; computed_at: string; data: string }>();
    expect(rows.results.map((r) => [r.month, r.scope, r.computed_at])).toEqual([['2025-03', 'all', '2025-03-31T04:00:00Z']]);
    expect(JSON.parse(rows.results[0]!.data).reports).toEqual({ messages: 220, dmarc_pass: 165, dmarc_pass_rate: 165 / 220 });

    // A late report for March, then the cron on 2 April: March's report figures are brought up to date.
    await addDaily('a.example', '2025-03-31', 30, 30);
    await snapshotMetrics(env, new Date('2025-04-02T04:00:00Z'));
    const body = await json<{ snapshots_available: boolean; items: Array<{ month: string; source: string; domains: number; reports: { messages: number } }> }>(
      `/api/metrics?from=2025-02&to=${monthOf(new Date())}`,
    );
    expect(body.snapshots_available).toBe(true);
    expect(body.items.map((i) => [i.month, i.source])).toEqual([
      ['2025-03', 'snapshot'],
      ['2025-04', 'snapshot'],
      [monthOf(new Date()), 'live'],
    ]);
    expect(body.items[0]).toMatchObject({ domains: 6, dmarc: { reject: { count: 1 } }, reports: { messages: 250, dmarc_pass: 195 } });
    expect(body.items[1]!.reports.messages).toBe(999);
    expect(body.items[2]!.domains).toBe(6);
  });

  it('gives a member only the live current month over their domains', async () => {
    const current = monthOf(new Date());
    const body = await json<{ snapshots_available: boolean; note?: string; items: Array<{ month: string; source: string; domains: number }> }>(
      `/api/metrics?from=2025-01&to=${current}`,
      MEMBER,
    );
    expect(body.snapshots_available).toBe(false);
    expect(body.note).toBeTruthy();
    expect(body.items).toEqual([expect.objectContaining({ month: current, source: 'live', domains: 2 })]);
    const past = await json<{ items: unknown[] }>('/api/metrics?from=2025-01&to=2025-03', MEMBER);
    expect(past.items).toEqual([]);
    // Without parameters: the current month.
    const plain = await json<{ from: string; to: string; items: Array<{ month: string }> }>('/api/metrics', MEMBER);
    expect(plain).toMatchObject({ from: current, to: current, items: [{ month: current }] });
  });

  it('rejects bad ranges with 400 problems', async () => {
    const next = new Date();
    next.setUTCMonth(next.getUTCMonth() + 1, 1);
    for (const query of ['from=2025-13', 'to=25-01', 'from=2025-03&to=2025-02', `to=${monthOf(next)}`, 'from=2000-01&to=2025-01']) {
      const response = await get(`/api/metrics?${query}`);
      expect(response.status, query).toBe(400);
      expect(response.headers.get('Content-Type')).toContain('application/problem+json');
    }
    expect((await get('/api/metrics', 'mce_not-a-real-token-0123456789abcdefghijklmnopqrstu')).status).toBe(401);
  });

  it('previousMonth crosses the year', () => {
    expect(previousMonth('2025-01')).toBe('2024-12');
    expect(previousMonth('2025-10')).toBe('2025-09');
  });
});
