import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import worker from '../../src/index';
import { migrate } from '../ingest/helpers';
import { ADMIN, alertsOf, owningGroup, type Owner } from './helpers';

/** The /alerts page, rendered by the Worker as the signed-in person (here: a bearer token). */
async function ui(path: string, token: string, form?: string) {
  const headers: Record<string, string> = { Authorization: `Bearer ${token}`, 'CF-Connecting-IP': '192.0.2.243' };
  if (form !== undefined) headers['Content-Type'] = 'application/x-www-form-urlencoded';
  const response = await worker.fetch(new Request(`https://mailcheck.test${path}`, { method: form === undefined ? 'GET' : 'POST', headers, body: form }), env, createExecutionContext());
  return { status: response.status, location: response.headers.get('Location'), html: await response.text() };
}

let owner: Owner;
let other: Owner;

beforeAll(async () => {
  await migrate();
  owner = await owningGroup('Page owners', ['page.alerts.example']);
  other = await owningGroup('Page others', ['other-page.alerts.example']);
  await env.DB.prepare(
    `INSERT INTO alerts (domain, kind, subject, severity, title, detail) VALUES
     ('page.alerts.example', 'reports_stopped', '', 'warning', 'No aggregate reports since 2026-11-01', '{"message":"page.alerts.example had aggregate reports for 13 of the 14 days."}'),
     ('other-page.alerts.example', 'new_source', '192.0.2.9', 'warning', 'New sending source 192.0.2.9', '{"message":"not yours"}')`,
  ).run();
});

describe('/alerts', () => {
  it('lists the open alerts of the caller\'s domains with a button to acknowledge each', async () => {
    const page = await ui('/alerts', owner.token);
    expect(page.status).toBe(200);
    expect(page.html).toContain('No aggregate reports since 2026-11-01');
    expect(page.html).toContain('action="/alerts/');
    expect(page.html).not.toContain('New sending source 192.0.2.9');
    expect(page.html).toMatch(/<a href="\/alerts" aria-current="page">Alerts<\/a>/);
    // Preferences are for administrators.
    expect(page.html).not.toContain('id="preferences"');
  });

  it('acknowledges with post-redirect-get; another group cannot', async () => {
    const [alert] = await alertsOf('page.alerts.example');
    expect((await ui(`/alerts/${alert!.id}/acknowledge`, other.token, '')).status).toBe(404);
    const posted = await ui(`/alerts/${alert!.id}/acknowledge`, owner.token, '');
    expect(posted).toMatchObject({ status: 303, location: '/alerts?notice=acknowledged' });
    expect((await alertsOf('page.alerts.example'))[0]!.state).toBe('acknowledged');
    const after = await ui('/alerts?notice=acknowledged', owner.token);
    expect(after.html).toContain('Alert acknowledged');
    expect(after.html).not.toContain('No aggregate reports since 2026-11-01');
    expect((await ui('/alerts?state=acknowledged', owner.token)).html).toContain('No aggregate reports since 2026-11-01');
  });

  it('lets an administrator choose which alerts a group is sent, and where', async () => {
    const page = await ui(`/alerts?group=${owner.groupId}`, ADMIN);
    expect(page.html).toContain('id="preferences"');
    const saved = await ui(`/alerts/preferences/${owner.groupId}`, ADMIN, 'webhook_format=teams&webhook_kinds=new_source&webhook_kinds=reports_stopped&email_kinds=certificate_expiring');
    expect(saved).toMatchObject({ status: 303, location: `/alerts?group=${owner.groupId}&notice=preferences-saved#preferences` });
    const settings = await env.DB.prepare('SELECT webhook_format, webhook_kinds, email_kinds FROM group_alert_settings WHERE group_id = ?').bind(owner.groupId).first();
    expect(settings).toEqual({ webhook_format: 'teams', webhook_kinds: 'new_source,reports_stopped', email_kinds: 'certificate_expiring' });
    const shown = await ui(`/alerts?group=${owner.groupId}`, ADMIN);
    expect(shown.html).toMatch(/id="webhook-new_source" name="webhook_kinds" value="new_source" checked/);
    expect((await ui(`/alerts/preferences/${owner.groupId}`, owner.token, 'webhook_format=json')).status).toBe(403);
  });
});
