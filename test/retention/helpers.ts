import { env } from 'cloudflare:workers';
import { api, deliverEmail, reportEmail, settle } from '../ingest/helpers';

export const ADMIN = 'test-admin-token-0123456789abcdef';

/** An aggregate report for `domain` on `day` (YYYY-MM-DD) with one record per source IP, each with DKIM and SPF results. */
export function aggregateXml(reportId: string, domain: string, day: string, sources: string[] = ['192.0.2.1', '192.0.2.2']): Uint8Array {
  const begin = Date.parse(`${day}T00:00:00Z`) / 1000;
  const records = sources
    .map(
      (ip, i) =>
        `<record><row><source_ip>${ip}</source_ip><count>${i + 3}</count><policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>fail</spf></policy_evaluated></row>` +
        `<identifiers><header_from>${domain}</header_from></identifiers><auth_results><dkim><domain>${domain}</domain><selector>s1</selector><result>pass</result></dkim><spf><domain>${domain}</domain><result>fail</result></spf></auth_results></record>`,
    )
    .join('');
  return new TextEncoder().encode(
    `<feedback><report_metadata><org_name>Receiver</org_name><email>r@receiver.example</email><report_id>${reportId}</report_id><date_range><begin>${begin}</begin><end>${begin + 86399}</end></date_range></report_metadata><policy_published><domain>${domain}</domain><p>none</p></policy_published>${records}</feedback>`,
  );
}

export function tlsJson(reportId: string, day: string, domains: string[]): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({
      'organization-name': 'TLS Sender',
      'date-range': { 'start-datetime': `${day}T00:00:00Z`, 'end-datetime': `${day}T23:59:59Z` },
      'contact-info': 'tls@sender.example',
      'report-id': reportId,
      policies: domains.map((domain) => ({
        policy: { 'policy-type': 'sts', 'policy-string': ['version: STSv1', 'mode: testing'], 'policy-domain': domain, 'mx-host': [`mx.${domain}`] },
        summary: { 'total-successful-session-count': 10, 'total-failure-session-count': 2 },
        'failure-details': [{ 'result-type': 'certificate-expired', 'sending-mta-ip': '198.51.100.7', 'receiving-mx-hostname': `mx.${domain}`, 'failed-session-count': 2 }],
      })),
    }),
  );
}

/** Delivers one file through the real pipeline (email handler, R2, queue consumer) until it settles. */
export async function ingestFile(name: string, bytes: Uint8Array, contentType = 'text/xml') {
  const { inboundId } = await deliverEmail(reportEmail([{ filename: name, contentType, bytes }]));
  const row = await settle(inboundId);
  if (row.status !== 'parsed' && row.status !== 'duplicate') throw new Error(`${name}: ${row.status} ${row.reason}`);
  return { inboundId, row };
}

export async function adminApi<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const response = await api(path, { method, token: ADMIN, headers: body === undefined ? {} : { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, json: (text ? JSON.parse(text) : null) as T };
}

export async function count(table: string, where = '1', ...params: unknown[]): Promise<number> {
  const row = await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${where}`).bind(...params).first<{ n: number }>();
  return row?.n ?? 0;
}

export async function reportIdOf(domain: string, reportId: string): Promise<number> {
  const row = await env.DB.prepare('SELECT id FROM aggregate_reports WHERE domain = ? AND report_id = ?').bind(domain, reportId).first<{ id: number }>();
  if (!row) throw new Error(`no report ${reportId} for ${domain}`);
  return row.id;
}

export async function recordsOf(reportId: number) {
  return {
    records: await count('aggregate_records', 'report_id = ?', reportId),
    dkim: await count('record_dkim_results', 'report_id = ?', reportId),
    spf: await count('record_spf_results', 'report_id = ?', reportId),
  };
}
