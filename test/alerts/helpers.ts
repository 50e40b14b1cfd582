import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { inject } from 'vitest';
import type { AlertKind, WebhookFormat } from '../../src/alerts/kinds';
import worker from '../../src/index';

export const ADMIN = 'test-admin-token-0123456789abcdef';
export const webhookBase = inject('webhookUrl');

export async function call<T = Record<string, unknown>>(method: string, path: string, token: string, body?: unknown) {
  const response = await worker.fetch(
    new Request(`https://mailcheck.test${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'CF-Connecting-IP': '192.0.2.242' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
    env,
    createExecutionContext(),
  );
  const text = await response.text();
  return { status: response.status, json: (text ? JSON.parse(text) : null) as T };
}

export interface Owner {
  groupId: number;
  /** A read token of a member of the group. */
  token: string;
}

/**
 * A group owning `domains`, with a member (read token) and the alert preferences given. The webhook
 * is set in D1 directly: the API takes https only, the test sink is plain HTTP on loopback.
 */
export async function owningGroup(
  name: string,
  domains: string[],
  options: { webhookPath?: string; webhook?: string; email?: string; format?: WebhookFormat; webhookKinds?: AlertKind[]; emailKinds?: AlertKind[] } = {},
): Promise<Owner> {
  const group = (await call<{ id: number }>('POST', '/api/admin/groups', ADMIN, { name })).json;
  for (const domain of domains) {
    const created = await call<{ id: number }>('POST', '/api/admin/domains', ADMIN, { name: domain, group_ids: [group.id] });
    if (created.status !== 201) throw new Error(`domain ${domain}: ${created.status} ${JSON.stringify(created.json)}`);
  }
  const user = (await call<{ id: number }>('POST', '/api/admin/users', ADMIN, { email: `member@${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.example` })).json;
  await call('PUT', `/api/admin/groups/${group.id}/members/${user.id}`, ADMIN);
  const token = (await call<{ token: string }>('POST', '/api/admin/tokens', ADMIN, { name, scopes: ['read'], user_id: user.id })).json.token;
  const put = await call('PUT', `/api/admin/groups/${group.id}/notifications`, ADMIN, {
    webhook: null,
    email: options.email ?? null,
    webhook_format: options.format ?? 'json',
    alerts: { webhook: options.webhookKinds ?? [], email: options.emailKinds ?? [] },
  });
  if (put.status !== 200) throw new Error(`notifications: ${put.status} ${JSON.stringify(put.json)}`);
  const webhook = options.webhook ?? (options.webhookPath ? `${webhookBase}${options.webhookPath}` : null);
  if (webhook) await env.DB.prepare('UPDATE groups SET notify_webhook = ? WHERE id = ?').bind(webhook, group.id).run();
  return { groupId: group.id, token };
}

export interface AlertRow {
  id: number;
  domain: string;
  kind: string;
  subject: string;
  state: string;
  severity: string;
  title: string;
  detail: Record<string, unknown>;
}

/** Every alert of a domain, oldest first, straight from D1. */
export async function alertsOf(domain: string): Promise<AlertRow[]> {
  const { results } = await env.DB.prepare('SELECT id, domain, kind, subject, state, severity, title, detail FROM alerts WHERE domain = ? ORDER BY id').bind(domain).all<Omit<AlertRow, 'detail'> & { detail: string }>();
  return results.map((r) => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> }));
}

/** What the sink received on `path`. */
export async function received<T = Record<string, unknown>>(path: string): Promise<T[]> {
  const all = (await (await fetch(`${webhookBase}/received`)).json()) as { path: string; body: T }[];
  return all.filter((r) => r.path === path).map((r) => r.body);
}

/** YYYY-MM-DD, `days` before `from` (default today, UTC). */
export function day(daysAgo: number, from = new Date()): string {
  return new Date(from.getTime() - daysAgo * 86_400_000).toISOString().slice(0, 10);
}

/** An aggregate report (XML) for one day and domain, with the given rows. */
export function aggregateXml(reportId: string, domain: string, onDay: string, rows: { ip: string; count: number; pass: boolean }[]): Uint8Array {
  const begin = Date.parse(`${onDay}T00:00:00Z`) / 1000;
  const records = rows
    .map(
      (r) =>
        `<record><row><source_ip>${r.ip}</source_ip><count>${r.count}</count><policy_evaluated><disposition>none</disposition><dkim>${r.pass ? 'pass' : 'fail'}</dkim><spf>${r.pass ? 'pass' : 'fail'}</spf></policy_evaluated></row><identifiers><header_from>${domain}</header_from></identifiers><auth_results><spf><domain>${r.pass ? domain : 'elsewhere.example'}</domain><result>${r.pass ? 'pass' : 'fail'}</result></spf></auth_results></record>`,
    )
    .join('');
  return new TextEncoder().encode(
    `<feedback><report_metadata><org_name>Receiver</org_name><email>r@receiver.example</email><report_id>${reportId}</report_id><date_range><begin>${begin}</begin><end>${begin + 86_399}</end></date_range></report_metadata><policy_published><domain>${domain}</domain><p>none</p></policy_published>${records}</feedback>`,
  );
}

/** An SMTP TLS report (RFC 8460 JSON) for one day and domain. */
export function tlsReportJson(reportId: string, domain: string, onDay: string, ok: number, failed: number): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({
      'organization-name': 'Sender Inc',
      'date-range': { 'start-datetime': `${onDay}T00:00:00Z`, 'end-datetime': `${onDay}T23:59:59Z` },
      'contact-info': 'tls@sender.example',
      'report-id': reportId,
      policies: [
        {
          policy: { 'policy-type': 'sts', 'policy-string': ['version: STSv1', 'mode: enforce'], 'policy-domain': domain, 'mx-host': [`mx.${domain}`] },
          summary: { 'total-successful-session-count': ok, 'total-failure-session-count': failed },
          ...(failed > 0 ? { 'failure-details': [{ 'result-type': 'certificate-expired', 'sending-mta-ip': '198.51.100.1', 'receiving-mx-hostname': `mx.${domain}`, 'failed-session-count': failed }] } : {}),
        },
      ],
    }),
  );
}
