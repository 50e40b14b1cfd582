import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AggregateReport } from '../../src/reports/model';
import { MAX_CLASSIFIED_SOURCES } from '../../src/stats/reject-path-data';
import { api, migrate, sample } from '../ingest/helpers';
import { ADMIN, ingestXml, reverseDnsRow, storeCheck, syntheticReport } from './helpers';

/**
 * GET /api/aggregatereport/:domain/reject-path on data ingested through the real pipeline: a real
 * sample report (all passing) and synthetic failing records beside it, with hand-inserted reverse
 * DNS and sender-map rows for a known service. Categories and shares are checked against counts made
 * here from the parsed XML, record by record.
 */

type Path = {
  messages: number;
  dmarc_fail: number;
  categories: Record<'legitimate' | 'forwarded' | 'unknown', { sources: number; dmarc_fail: number; would_be_rejected: number }>;
  impact: { quarantine: { messages: number; share: number }; reject: { messages: number; share: number } };
  sources: { source_ip: string; category: string; reason: string; service: { name: string } | null }[];
  omitted_sources: number;
  current: { record: string | null; source: string; p: string; pct: number; since: string | null };
  next_step: { step: { p: string; pct: number } | null; ready: boolean; record: string; conditions: { id: string; met: boolean; text: string }[] };
};

async function path(domain: string, to: string): Promise<Path> {
  const response = await api(`/api/aggregatereport/${domain}/reject-path?to=${to}`, { token: ADMIN });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as Path;
}

/** What each source IP should be, and why (the test's own judgement of the data below). */
const EXPECTED: Record<string, { category: string; reason: string }> = {
  '198.51.100.10': { category: 'legitimate', reason: 'known-service' },
  '198.51.100.20': { category: 'forwarded', reason: 'receiver-override' },
  '198.51.100.21': { category: 'forwarded', reason: 'dkim-survived' },
  '203.0.113.66': { category: 'unknown', reason: 'no-identity' },
  '203.0.113.67': { category: 'unknown', reason: 'not-looked-up' },
};

const window: AggregateReport[] = [];
const large: AggregateReport[] = [];

beforeAll(async () => {
  await migrate();
  window.push(await ingestXml(new TextDecoder().decode(sample('extract_report/nice-input.xml'))));
  window.push(
    await ingestXml(
      syntheticReport('rp-1', 'example.com', '2024-06-14', [
        { ip: '198.51.100.10', count: 30, disposition: 'none', dkim: 'fail', spf: 'fail' },
        { ip: '198.51.100.10', count: 5, disposition: 'quarantine', dkim: 'fail', spf: 'fail' },
        { ip: '198.51.100.20', count: 12, disposition: 'none', dkim: 'fail', spf: 'fail', reason: 'forwarded' },
        { ip: '198.51.100.21', count: 20, disposition: 'none', dkim: 'pass', spf: 'fail' },
        { ip: '198.51.100.21', count: 6, disposition: 'none', dkim: 'fail', spf: 'fail' },
        { ip: '203.0.113.66', count: 40, disposition: 'none', dkim: 'fail', spf: 'fail' },
        { ip: '203.0.113.67', count: 9, disposition: 'reject', dkim: 'fail', spf: 'fail' },
      ]),
    ),
  );
  await env.DB.batch([
    reverseDnsRow('198.51.100.10', 'ok', 'out1.mailer.example', 'mailer.example'),
    env.DB.prepare("INSERT OR REPLACE INTO sender_map (base_domain, name, type, source) VALUES ('mailer.example', 'Test Mailer', 'Marketing', 'admin')"),
    reverseDnsRow('203.0.113.66', 'no-ptr', null, null),
  ]);
  await storeCheck('example.com', 'v=DMARC1; p=none; rua=mailto:dmarc@example.com; ruf=mailto:forensic@example.com; adkim=s; aspf=r; fo=1');
  large.push(await ingestXml(new TextDecoder().decode(sample('aggregate/!large-example.com!1711897200!1711983600.xml'))));
});

/** Per source IP, counted from the parsed reports. */
function count(reports: AggregateReport[]) {
  const bySource = new Map<string, { messages: number; fail: number; notRejected: number; quarantined: number }>();
  let messages = 0;
  for (const report of reports) {
    for (const r of report.records) {
      const s = bySource.get(r.source_ip) ?? { messages: 0, fail: 0, notRejected: 0, quarantined: 0 };
      s.messages += r.count;
      messages += r.count;
      if (r.dkim !== 'pass' && r.spf !== 'pass') {
        s.fail += r.count;
        if (r.disposition !== 'reject') s.notRejected += r.count;
        if (r.disposition === 'quarantine') s.quarantined += r.count;
      }
      bySource.set(r.source_ip, s);
    }
  }
  return { messages, bySource };
}

describe('the path to reject on ingested reports', () => {
  it('sorts the failing senders into legitimate, forwarded and unknown, counted as the XML says', async () => {
    const result = await path('example.com', '2024-06-20');
    const { messages, bySource } = count(window);
    expect(result.messages).toBe(messages);
    const failing = [...bySource].filter(([, s]) => s.fail > 0);
    expect(result.sources.map((s) => s.source_ip).sort()).toEqual(failing.map(([ip]) => ip).sort());
    for (const s of result.sources) expect({ ip: s.source_ip, category: s.category, reason: s.reason }).toEqual({ ip: s.source_ip, ...EXPECTED[s.source_ip] });
    expect(result.sources.find((s) => s.source_ip === '198.51.100.10')?.service?.name).toBe('Test Mailer');
    for (const category of ['legitimate', 'forwarded', 'unknown'] as const) {
      const mine = failing.filter(([ip]) => EXPECTED[ip]!.category === category);
      expect(result.categories[category]).toEqual({
        sources: mine.length,
        dmarc_fail: mine.reduce((n, [, s]) => n + s.fail, 0),
        would_be_rejected: mine.reduce((n, [, s]) => n + s.notRejected, 0),
      });
    }
    const rejectImpact = failing.reduce((n, [, s]) => n + s.notRejected, 0);
    const quarantineImpact = failing.reduce((n, [, s]) => n + s.notRejected - s.quarantined, 0);
    expect(result.impact.reject).toEqual({ messages: rejectImpact, share: rejectImpact / messages });
    expect(result.impact.quarantine).toEqual({ messages: quarantineImpact, share: quarantineImpact / messages });
  });

  it('proposes the next step with the other tags kept, and says what is missing', async () => {
    const result = await path('example.com', '2024-06-20');
    expect(result.current).toMatchObject({ source: 'check', p: 'none', pct: 100, since: '2024-06-13' });
    expect(result.next_step.step).toEqual({ p: 'quarantine', pct: 25 });
    expect(result.next_step.record).toBe('v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com; ruf=mailto:forensic@example.com; adkim=s; aspf=r; fo=1; pct=25');
    // Two days of reports, and a known service failing: not yet.
    expect(result.next_step.ready).toBe(false);
    const unmet = result.next_step.conditions.filter((c) => !c.met);
    expect(unmet.map((c) => c.id)).toEqual(['volume', 'no-legitimate-failing']);
    expect(unmet[1]!.text).toContain('Test Mailer');
  });

  it('classifies the first sources one by one and counts the rest as unknown, for a report with thousands', async () => {
    const result = await path('example.com', '2024-04-01');
    const { messages, bySource } = count(large);
    const failing = [...bySource.values()].filter((s) => s.fail > 0);
    expect(result.messages).toBe(messages);
    expect(failing.length).toBeGreaterThan(MAX_CLASSIFIED_SOURCES);
    expect(result.sources).toHaveLength(MAX_CLASSIFIED_SOURCES);
    expect(result.omitted_sources).toBe(failing.length - MAX_CLASSIFIED_SOURCES);
    expect(result.categories.unknown).toEqual({
      sources: failing.length,
      dmarc_fail: failing.reduce((n, s) => n + s.fail, 0),
      would_be_rejected: failing.reduce((n, s) => n + s.notRejected, 0),
    });
    // The policy comes from the check (p=none) and the old reports show it too.
    expect(result.current.since).toBe('2024-03-31');
  });

  it('answers 404 for a domain the caller may not see, and 400 for a bad day', async () => {
    const other = (await (await api('/api/admin/groups', { method: 'POST', token: ADMIN, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'Elsewhere' }) })).json()) as { id: number };
    const user = (await (await api('/api/admin/users', { method: 'POST', token: ADMIN, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: 'rp@elsewhere.example' }) })).json()) as { id: number };
    await api(`/api/admin/groups/${other.id}/members/${user.id}`, { method: 'PUT', token: ADMIN });
    const token = ((await (await api('/api/admin/tokens', { method: 'POST', token: ADMIN, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'rp', scopes: ['read'], user_id: user.id }) })).json()) as { token: string }).token;
    expect((await api('/api/aggregatereport/example.com/reject-path', { token })).status).toBe(404);
    expect((await api('/api/aggregatereport/example.com/reject-path?to=2024-02-30', { token: ADMIN })).status).toBe(400);
  });
});
