import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import { parseAggregateReport } from '../../src/reports/aggregate';
import type { AggregateReport } from '../../src/reports/model';
import { deliverEmail, reportEmail, settle } from '../ingest/helpers';

export interface Rec {
  ip: string;
  count: number;
  disposition: 'none' | 'quarantine' | 'reject';
  dkim: 'pass' | 'fail';
  spf: 'pass' | 'fail';
  reason?: string;
}

/** A small aggregate report with chosen records (the samples have no failing mail in one window). */
export function syntheticReport(reportId: string, domain: string, day: string, records: Rec[], policy = '<p>none</p>'): string {
  const begin = Date.parse(`${day}T00:00:00Z`) / 1000;
  const rows = records
    .map(
      (r) =>
        `<record><row><source_ip>${r.ip}</source_ip><count>${r.count}</count><policy_evaluated><disposition>${r.disposition}</disposition><dkim>${r.dkim}</dkim><spf>${r.spf}</spf>${
          r.reason ? `<reason><type>${r.reason}</type></reason>` : ''
        }</policy_evaluated></row><identifiers><header_from>${domain}</header_from></identifiers><auth_results><spf><domain>${domain}</domain><result>${r.spf}</result></spf></auth_results></record>`,
    )
    .join('');
  return `<?xml version="1.0"?><feedback><report_metadata><org_name>Synthetic ${reportId}</org_name><email>dmarc@synthetic.example</email><report_id>${reportId}</report_id><date_range><begin>${begin}</begin><end>${begin + 86399}</end></date_range></report_metadata><policy_published><domain>${domain}</domain>${policy}</policy_published>${rows}</feedback>`;
}

/** Ingests XML through the real pipeline (email() handler, queue consumer) and parses it again here, for independent counts. */
export async function ingestXml(text: string): Promise<AggregateReport> {
  const bytes = new TextEncoder().encode(text);
  const { inboundId } = await deliverEmail(reportEmail([{ filename: 'report.xml', contentType: 'text/xml', bytes }]));
  expect((await settle(inboundId)).status).toBe('parsed');
  return parseAggregateReport(text);
}

/** A stored check as the monitor would leave it: the DMARC record and findings the digest and the path read. */
export async function storeCheck(domain: string, record: string | null, findings: { area: string; id: string; severity: string; title: string }[] = []) {
  const result = JSON.stringify({ domain, checked_at: '2024-06-15T00:00:00Z', complete: true, dmarc: { record, findings: [] }, findings });
  const row = await env.DB.prepare("INSERT INTO domain_check_results (domain, checked_at, max_severity, result) VALUES (?, '2024-06-15T00:00:00Z', 'warning', ?) RETURNING id")
    .bind(domain, result)
    .first<{ id: number }>();
  await env.DB.prepare('INSERT OR REPLACE INTO domain_check_state (domain, latest_result_id) VALUES (?, ?)').bind(domain, row!.id).run();
}

/** A reverse-DNS cache row, as the sender lookups would write it. */
export function reverseDnsRow(ip: string, status: string, name: string | null, baseDomain: string | null) {
  return env.DB.prepare("INSERT OR REPLACE INTO reverse_dns (ip, result, status, expires_at) VALUES (?, ?, ?, '2999-01-01T00:00:00Z')").bind(
    ip,
    JSON.stringify({ ip, ptr: name ? [name] : [], confirmed: name && status === 'ok' ? [name] : [], base_domain: baseDomain, service: null, known_unknown: false, status }),
    status,
  );
}

export const ADMIN = 'test-admin-token-0123456789abcdef';
