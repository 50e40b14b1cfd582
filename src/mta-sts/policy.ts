/**
 * Hosted MTA-STS policies (RFC 8461), pure: the policy text for a domain's MX hosts and mode, its id,
 * and the DNS records the owner publishes. docs/mta-sts-hosting.md.
 */
import { sha256Hex } from '../lib/digest';

export type HostedMode = 'testing' | 'enforce';

/**
 * max_age per mode. Testing: one day, so a mistake (a missing MX) is forgotten by senders quickly
 * while reports are still being read. Enforce: a week (RFC 8461 §3.2 allows up to a year and suggests
 * weeks): long enough that a sender remembers the policy between visits, short enough that a wrong
 * policy does not bounce mail for long. The domain check warns below a day.
 */
export const MAX_AGE: Record<HostedMode, number> = { testing: 86_400, enforce: 604_800 };

/**
 * The policy: `version: STSv1`, `mode:`, one `mx:` line per MX host (exact names, in the MX order
 * the check saw), `max_age:`, CRLF line ends (RFC 8461 §3.2 takes CRLF or LF; CRLF suits every parser).
 * `undefined` when there is no MX host to name: a policy in testing or enforce mode needs at least one.
 */
export function buildPolicy(mxHosts: readonly string[], mode: HostedMode): string | undefined {
  const hosts = [...new Set(mxHosts.map((h) => h.toLowerCase().replace(/\.$/, '')).filter((h) => h !== ''))];
  if (hosts.length === 0) return undefined;
  return ['version: STSv1', `mode: ${mode}`, ...hosts.map((h) => `mx: ${h}`), `max_age: ${MAX_AGE[mode]}`, ''].join('\r\n');
}

/**
 * The `id=` of `_mta-sts` TXT: derived from the policy text, so it changes exactly when the policy
 * does (senders re-fetch the policy when the id differs from the one they cached). 20 hex characters
 * (RFC 8461 allows 1 to 32 letters and digits).
 */
export async function policyId(policy: string): Promise<string> {
  return (await sha256Hex(new TextEncoder().encode(policy))).slice(0, 20);
}

/** The first address of REPORT_ADDRESSES: where TLS-RPT reports for hosted domains go. */
export function tlsReportAddress(reportAddresses: string | undefined): string | null {
  const first = (reportAddresses ?? '')
    .split(',')
    .map((a) => a.trim())
    .find((a) => a.includes('@'));
  return first ?? null;
}

export interface DnsRecord {
  name: string;
  type: 'CNAME' | 'TXT';
  /** null: cannot be given yet (no policy, no report address or no CNAME target configured); `note` says why. */
  value: string | null;
  purpose: string;
  note?: string;
}

export function recordsToPublish(domain: string, options: { id: string | null; cnameTarget: string; reportAddress: string | null }): DnsRecord[] {
  const target = options.cnameTarget.trim().replace(/\.$/, '');
  return [
    {
      name: `mta-sts.${domain}`,
      type: 'CNAME',
      value: target ? `${target}.` : null,
      purpose: 'Sends the policy requests (https://mta-sts.<domain>/.well-known/mta-sts.txt) to this service.',
      ...(target ? {} : { note: 'MTA_STS_CNAME_TARGET is not set: ask the operator which host name to point at.' }),
    },
    {
      name: `_mta-sts.${domain}`,
      type: 'TXT',
      value: options.id ? `v=STSv1; id=${options.id}` : null,
      purpose: 'Announces the policy; the id changes whenever the policy does, so update this record then.',
      ...(options.id ? {} : { note: 'No policy yet: the domain has no MX hosts in its latest check, or has not been checked.' }),
    },
    {
      name: `_smtp._tls.${domain}`,
      type: 'TXT',
      value: options.reportAddress ? `v=TLSRPTv1; rua=mailto:${options.reportAddress}` : null,
      purpose: 'Asks senders for daily TLS reports (RFC 8460), delivered to this service and shown under Reports.',
      ...(options.reportAddress ? {} : { note: 'REPORT_ADDRESSES is empty: the operator has not configured the report address.' }),
    },
  ];
}
