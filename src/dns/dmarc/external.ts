import { isWithin, organisationalDomainOf, type SuffixList } from './domain';
import { isFailure, type TxtLookup } from './lookup';
import type { DmarcPolicy } from './parse';

/**
 * RFC 7489 §7.1 (kept by RFC 9989's reporting documents): a report address outside the policy
 * domain's organisational domain receives reports only if its host publishes
 * `<policy domain>._report._dmarc.<host>` TXT "v=DMARC1".
 */
export interface ReportDestination {
  tag: 'rua' | 'ruf';
  uri: string;
  host: string;
  /** Outside the organisational domain of the policy domain. */
  external: boolean;
  /** The authorisation record's name; null for internal addresses. */
  query: string | null;
  status: 'internal' | 'authorised' | 'unauthorised' | 'temperror';
  /** The DNS status of the authorisation query. */
  dns_status: string | null;
}

export async function checkReportDestinations(
  lookup: TxtLookup,
  policyDomain: string,
  policy: DmarcPolicy,
  list: SuffixList = 'all',
): Promise<ReportDestination[]> {
  const home = organisationalDomainOf(policyDomain, list) ?? policyDomain;
  const destinations: ReportDestination[] = [];
  for (const tag of ['rua', 'ruf'] as const) {
    for (const uri of policy[tag] ?? []) {
      if (uri.scheme !== 'mailto' || uri.host === null) continue;
      const hostHome = organisationalDomainOf(uri.host, list) ?? uri.host;
      const external = hostHome !== home && !isWithin(uri.host, policyDomain);
      if (!external) {
        destinations.push({ tag, uri: uri.uri, host: uri.host, external, query: null, status: 'internal', dns_status: null });
        continue;
      }
      const query = `${policyDomain}._report._dmarc.${uri.host}`;
      const answer = await lookup.txt(query);
      const status = isFailure(answer.status)
        ? 'temperror'
        : answer.records.some((r) => /^\s*v\s*=\s*dmarc1\s*(;|$)/i.test(r))
          ? 'authorised'
          : 'unauthorised';
      destinations.push({ tag, uri: uri.uri, host: uri.host, external, query, status, dns_status: answer.status });
    }
  }
  return destinations;
}
