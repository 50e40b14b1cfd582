import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { dispatchDeliveries } from '../../src/alerts/deliver';
import { runDailyAlerts } from '../../src/alerts/hooks';
import { deliverEmail, migrate, reportEmail, settle } from '../ingest/helpers';
import { aggregateXml, alertsOf, day, owningGroup, received, tlsReportJson } from './helpers';

/**
 * The alerts raised from reports: new sending sources, the DMARC pass rate, reports that stopped and
 * TLS-RPT failures. Reports go through the real pipeline (email() → R2 → queue → D1 → alerts); the
 * history a rule compares with is inserted as roll-up rows, where the numbers matter.
 */

async function ingestAggregate(reportId: string, domain: string, onDay: string, rows: { ip: string; count: number; pass: boolean }[]) {
  const { inboundId } = await deliverEmail(reportEmail([{ filename: `${reportId}.xml`, contentType: 'text/xml', bytes: aggregateXml(reportId, domain, onDay, rows) }]));
  expect((await settle(inboundId)).status).toBe('parsed');
}

async function ingestTls(reportId: string, domain: string, onDay: string, ok: number, failed: number) {
  const { inboundId } = await deliverEmail(reportEmail([{ filename: `${reportId}.json`, contentType: 'application/tlsrpt+json', bytes: tlsReportJson(reportId, domain, onDay, ok, failed) }]));
  expect((await settle(inboundId)).status).toBe('parsed');
}

/** Daily roll-up rows for `domain` on the given days ago, as earlier reports would have left them. */
async function dailyHistory(domain: string, daysAgo: number[], messages: number, pass: number) {
  await env.DB.batch(
    daysAgo.map((n) => env.DB.prepare('INSERT INTO aggregate_daily (domain, header_from, day, reports, messages, dmarc_pass) VALUES (?, ?, ?, 1, ?, ?)').bind(domain, domain, day(n), messages, pass)),
  );
}

async function sourceHistory(domain: string, ip: string, daysAgo: number[], messages: number) {
  await env.DB.batch(
    daysAgo.map((n) => env.DB.prepare('INSERT INTO aggregate_daily_sources (domain, day, source_ip, messages, dmarc_pass) VALUES (?, ?, ?, ?, ?)').bind(domain, day(n), ip, messages, messages)),
  );
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

beforeAll(migrate);

describe('a new sending source', () => {
  const DOMAIN = 'sources.alerts.example';
  const HOOK = '/alerts-sources';

  beforeAll(async () => {
    await owningGroup('Sources agency', [DOMAIN, 'fresh-sources.alerts.example'], { webhookPath: HOOK, webhookKinds: ['new_source'] });
    // A month of the usual sender: the domain has a baseline.
    await sourceHistory(DOMAIN, '192.0.2.10', range(5, 20), 100);
  });

  it('fires once for a source not seen in 30 days above the volume threshold, not for the usual one or a trickle', async () => {
    await ingestAggregate('src-1', DOMAIN, day(1), [
      { ip: '192.0.2.10', count: 500, pass: true },
      { ip: '198.51.100.7', count: 80, pass: false },
      { ip: '203.0.113.9', count: 10, pass: false },
    ]);
    const alerts = await alertsOf(DOMAIN);
    expect(alerts.map((a) => [a.kind, a.subject, a.state, a.severity])).toEqual([['new_source', '198.51.100.7', 'open', 'warning']]);
    expect(alerts[0]!.detail).toMatchObject({ ip: '198.51.100.7', messages: 80, dmarc_pass: 0, first_day: day(1) });
    const sent = await received<{ type: string; event: string; alert: { kind: string; subject: string; domain: string }; text: string }>(HOOK);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ type: 'mailcheck.alert', event: 'opened', group: 'Sources agency', alert: { kind: 'new_source', subject: '198.51.100.7', domain: DOMAIN } });
    expect(sent[0]!.text).toContain('198.51.100.7 sent 80 messages');
  });

  it('stays one alert when later reports show the source again', async () => {
    await ingestAggregate('src-2', DOMAIN, day(1), [{ ip: '198.51.100.7', count: 40, pass: false }]);
    const alerts = await alertsOf(DOMAIN);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.detail.messages).toBe(120);
    expect(await received(HOOK)).toHaveLength(1);
  });

  it('does not call every source new on a domain whose reports just started', async () => {
    await ingestAggregate('src-fresh', 'fresh-sources.alerts.example', day(1), [{ ip: '198.51.100.8', count: 1000, pass: true }]);
    expect(await alertsOf('fresh-sources.alerts.example')).toEqual([]);
  });

  it('resolves when the source has been quiet for a week of reports, and says so to the webhook', async () => {
    await sourceHistory(DOMAIN, '192.0.2.10', [-7], 100);
    await runDailyAlerts(env);
    expect((await alertsOf(DOMAIN)).map((a) => a.state)).toEqual(['resolved']);
    const sent = await received<{ event: string }>(HOOK);
    expect(sent.map((s) => s.event)).toEqual(['opened', 'resolved']);
  });
});

describe('the DMARC pass rate', () => {
  const DOMAIN = 'passrate.alerts.example';
  const HOOK = '/alerts-passrate-slack';

  beforeAll(async () => {
    await owningGroup('Pass rate agency', [DOMAIN, 'steady.alerts.example', 'small.alerts.example'], { webhookPath: HOOK, format: 'slack', webhookKinds: ['pass_rate_drop'] });
    // A week at 98%.
    for (const domain of [DOMAIN, 'steady.alerts.example', 'small.alerts.example']) await dailyHistory(domain, range(2, 8), 200, 196);
  });

  it('fires when the latest day is 15 points or more below the 7-day baseline, in Slack shape', async () => {
    await ingestAggregate('pr-1', DOMAIN, day(1), [
      { ip: '192.0.2.20', count: 90, pass: true },
      { ip: '192.0.2.21', count: 60, pass: false },
    ]);
    const alerts = await alertsOf(DOMAIN);
    expect(alerts.map((a) => [a.kind, a.state])).toEqual([['pass_rate_drop', 'open']]);
    expect(alerts[0]!.detail).toMatchObject({ day: day(1), rate: 60, baseline: 98, drop_points: 38, messages: 150, baseline_messages: 1400 });
    const sent = await received<{ text: string; blocks: { type: string; text?: { text: string } }[] }>(HOOK);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.text).toBe(`${DOMAIN}: DMARC pass rate fell to 60%`);
    expect(sent[0]!.blocks.map((b) => b.type)).toEqual(['header', 'section', 'context']);
    expect(sent[0]!.blocks[1]!.text!.text).toContain('38 points lower');
  });

  it('does not fire on a small dip or on too few messages', async () => {
    await ingestAggregate('pr-steady', 'steady.alerts.example', day(1), [
      { ip: '192.0.2.20', count: 140, pass: true },
      { ip: '192.0.2.21', count: 10, pass: false },
    ]);
    await ingestAggregate('pr-small', 'small.alerts.example', day(1), [
      { ip: '192.0.2.20', count: 5, pass: true },
      { ip: '192.0.2.21', count: 15, pass: false },
    ]);
    expect(await alertsOf('steady.alerts.example')).toEqual([]);
    expect(await alertsOf('small.alerts.example')).toEqual([]);
  });

  it('stays one alert while the rate stays low, and resolves once it is back near the baseline', async () => {
    await ingestAggregate('pr-2', DOMAIN, day(1), [{ ip: '192.0.2.21', count: 10, pass: false }]);
    expect(await alertsOf(DOMAIN)).toHaveLength(1);
    await ingestAggregate('pr-3', DOMAIN, day(1), [{ ip: '192.0.2.20', count: 1000, pass: true }]);
    const [alert] = await alertsOf(DOMAIN);
    expect(alert!.state).toBe('resolved');
    expect(alert!.detail.resolved_because).toMatch(/within 7.5 points/);
    // The open alert was refreshed by the second report (90 of 160 passing), so it resolves under its latest title.
    expect((await received<{ text: string }>(HOOK)).map((s) => s.text)).toEqual([`${DOMAIN}: DMARC pass rate fell to 60%`, `Resolved: ${DOMAIN}: DMARC pass rate fell to 56.3%`]);
  });
});

describe('reports that stopped arriving', () => {
  const DOMAIN = 'stopped.alerts.example';

  beforeAll(async () => {
    await owningGroup('Stopped agency', [DOMAIN, 'sporadic.alerts.example', 'current.alerts.example', 'long-gone.alerts.example']);
    await dailyHistory(DOMAIN, range(4, 16), 100, 100);
    await dailyHistory('sporadic.alerts.example', [4, 8, 12], 100, 100);
    await dailyHistory('current.alerts.example', range(1, 14), 100, 100);
    await dailyHistory('long-gone.alerts.example', range(40, 53), 100, 100);
  });

  it('fires daily for a domain that had reports nearly every day and none for more than 3 days, once', async () => {
    await runDailyAlerts(env);
    await runDailyAlerts(env);
    const alerts = await alertsOf(DOMAIN);
    expect(alerts.map((a) => [a.kind, a.state])).toEqual([['reports_stopped', 'open']]);
    expect(alerts[0]!.detail).toMatchObject({ last_day: day(4), days_in_previous_14: 13 });
    for (const quiet of ['sporadic.alerts.example', 'current.alerts.example', 'long-gone.alerts.example']) expect(await alertsOf(quiet)).toEqual([]);
  });

  it('resolves as soon as a report arrives again', async () => {
    await ingestAggregate('stop-1', DOMAIN, day(1), [{ ip: '192.0.2.30', count: 5, pass: true }]);
    expect((await alertsOf(DOMAIN)).map((a) => a.state)).toEqual(['resolved']);
  });
});

describe('TLS-RPT failures', () => {
  const DOMAIN = 'tlsrpt.alerts.example';
  const sentEmails: { from: string; to: string; subject: string; text: string }[] = [];
  const emailEnv = () =>
    ({
      ...env,
      NOTIFY_FROM: 'alerts@notify.example',
      NOTIFY_EMAIL: {
        send: async (message: { from: string; to: string; subject: string; text: string }) => {
          sentEmails.push(message);
          return env.NOTIFY_EMAIL.send(message as unknown as Parameters<SendEmail['send']>[0]);
        },
      } as unknown as SendEmail,
    }) as Env;

  beforeAll(async () => {
    await owningGroup('TLS agency', [DOMAIN, 'tlsok.alerts.example'], { email: 'postmaster@tls-agency.example', emailKinds: ['tlsrpt_failures'] });
    for (const [i, n] of [2, 3, 4].entries()) {
      await ingestTls(`tls-base-${i}`, DOMAIN, day(n), 1000, 2);
      await ingestTls(`tls-ok-base-${i}`, 'tlsok.alerts.example', day(n), 1000, 2);
    }
  });

  it('fires on a jump in failed sessions, not on a few more failures', async () => {
    await ingestTls('tls-jump', DOMAIN, day(1), 800, 200);
    await ingestTls('tls-ok', 'tlsok.alerts.example', day(1), 990, 10);
    const alerts = await alertsOf(DOMAIN);
    expect(alerts.map((a) => [a.kind, a.state])).toEqual([['tlsrpt_failures', 'open']]);
    expect(alerts[0]!.detail).toMatchObject({ day: day(1), failed: 200, sessions: 1000, rate: 20, baseline: 0.2 });
    expect(await alertsOf('tlsok.alerts.example')).toEqual([]);
  });

  it('records a delivery that failed (no sender address configured) and sends it on a later evaluation', async () => {
    const [alert] = await alertsOf(DOMAIN);
    const pending = await env.DB.prepare('SELECT channel, state, attempts, last_error FROM alert_deliveries WHERE alert_id = ?').bind(alert!.id).first();
    expect(pending).toMatchObject({ channel: 'email', state: 'pending', attempts: 1, last_error: expect.stringContaining('not configured') });
    // Before its backoff is over the delivery waits; after it, it goes.
    expect(await dispatchDeliveries(emailEnv(), { limit: 10, domains: [DOMAIN] })).toEqual({ sent: 0, failed: 0 });
    expect(await dispatchDeliveries(emailEnv(), { limit: 10, domains: [DOMAIN], now: new Date(Date.now() + 3_600_000) })).toEqual({ sent: 1, failed: 0 });
    expect(sentEmails).toHaveLength(1);
    expect(sentEmails[0]).toMatchObject({ from: 'alerts@notify.example', to: 'postmaster@tls-agency.example', subject: `MailCheck alert: ${DOMAIN}: TLS failures jumped to 20% of sessions` });
    expect(sentEmails[0]!.text).toContain('200 failed TLS sessions');
    const sent = await env.DB.prepare('SELECT state, attempts, last_error FROM alert_deliveries WHERE alert_id = ?').bind(alert!.id).first();
    expect(sent).toEqual({ state: 'sent', attempts: 2, last_error: null });
  });

  it('resolves when the failure rate is back near the baseline', async () => {
    await ingestTls('tls-recovered', DOMAIN, day(1), 20_000, 0);
    expect((await alertsOf(DOMAIN)).map((a) => a.state)).toEqual(['resolved']);
  });
});
