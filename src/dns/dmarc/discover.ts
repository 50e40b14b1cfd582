import type { Resolver } from '../resolver';
import { ancestorWithLabels, isPublicSuffix, labelCount, organisationalDomainOf, type SuffixList } from './domain';
import { isFailure, TxtLookup, type DmarcQuery } from './lookup';
import { parseDmarcRecord } from './parse';

/**
 * Where receivers find a domain's DMARC policy, by both methods in use:
 * - RFC 7489 §6.6.3: `_dmarc.<domain>`, then `_dmarc.<Organisational Domain>` from the Public Suffix List;
 * - RFC 9989 §4.10: the DNS tree walk, at most eight queries, which also finds public-suffix (psd=y) policies.
 *
 * NXDOMAIN and NODATA (NOERROR, no records) both mean "no record here": some DNS providers never send
 * NXDOMAIN ("black lies"), so nothing may depend on telling them apart. Any other status leaves the
 * answer open, and the discovery says so (`temperror`) rather than "no record".
 */
export type DiscoveryStatus = 'found' | 'none' | 'multiple' | 'temperror';

export interface Rfc7489Discovery {
  method: 'rfc7489';
  /** `multiple`: several DMARC records at the name where the search stopped; RFC 7489 then applies none. */
  status: DiscoveryStatus;
  policy_domain: string | null;
  record: string | null;
  /** The policy came from the Organisational Domain, not the domain itself. */
  inherited: boolean;
  /** From the PSL; null when the domain is itself a public suffix. */
  organisational_domain: string | null;
  queries: DmarcQuery[];
}

export interface TreeWalkDiscovery {
  method: 'treewalk';
  status: Exclude<DiscoveryStatus, 'multiple'>;
  policy_domain: string | null;
  record: string | null;
  /** Whose record applies: the domain's own, its organisational domain's, or a public suffix operator's. */
  source: 'domain' | 'organisational' | 'public-suffix' | null;
  /** RFC 9989 §4.10.2 selection; null when a failed query left it open. */
  organisational_domain: string | null;
  /** Where a psd=y record was found, if anywhere. */
  public_suffix_domain: string | null;
  /** Names where several DMARC records were found (the walk discards them and goes on). */
  discarded_multiple: string[];
  queries: DmarcQuery[];
}

export interface DmarcDiscovery {
  rfc7489: Rfc7489Discovery;
  treewalk: TreeWalkDiscovery;
  /** Plain-language differences between the two; empty when they agree or either is incomplete. */
  differences: string[];
}

export interface DiscoveryOptions {
  publicSuffixList?: SuffixList;
}

/** RFC 9989 §4.10: the whole name, then at most seven labels, then one label fewer each time. */
export const TREE_WALK_MAX_QUERIES = 8;

export function treeWalkNames(domain: string): string[] {
  const total = labelCount(domain);
  const names = [domain];
  let next = total >= TREE_WALK_MAX_QUERIES ? TREE_WALK_MAX_QUERIES - 1 : total - 1;
  for (; next >= 1; next--) names.push(ancestorWithLabels(domain, next));
  return names;
}

export async function discoverRfc7489(
  lookup: TxtLookup,
  domain: string,
  options: DiscoveryOptions = {},
): Promise<Rfc7489Discovery> {
  const organisational = organisationalDomainOf(domain, options.publicSuffixList);
  const result: Rfc7489Discovery = {
    method: 'rfc7489',
    status: 'none',
    policy_domain: null,
    record: null,
    inherited: false,
    organisational_domain: organisational,
    queries: [],
  };
  const targets = [domain];
  // The original MailCheck and RFC 7489 fall back only for a name below its organisational domain.
  if (organisational !== null && organisational !== domain) targets.push(organisational);
  for (const target of targets) {
    const query = await lookup.dmarc(target);
    result.queries.push(query);
    if (isFailure(query.status)) return { ...result, status: 'temperror' };
    if (query.dmarc_records.length > 1) return { ...result, status: 'multiple' };
    if (query.dmarc_records.length === 1) {
      return {
        ...result,
        status: 'found',
        policy_domain: target,
        record: query.dmarc_records[0]!,
        inherited: target !== domain,
      };
    }
  }
  return result;
}

function psdOf(record: string): 'y' | 'n' | 'u' {
  return parseDmarcRecord(record).policy.psd;
}

/** RFC 9989 §4.10.2: choose the Organisational Domain from the single records found, longest name first. */
export function selectOrganisationalDomain(start: string, found: { domain: string; record: string }[]): string {
  for (const { domain, record } of found) {
    const psd = psdOf(record);
    if (psd === 'n') return domain;
    if (psd === 'y' && domain !== start) return ancestorWithLabels(start, labelCount(domain) + 1);
  }
  const fewest = found[found.length - 1];
  return fewest ? fewest.domain : start;
}

export async function discoverTreeWalk(lookup: TxtLookup, domain: string): Promise<TreeWalkDiscovery> {
  const queries: DmarcQuery[] = [];
  const found: { domain: string; record: string }[] = [];
  const discarded: string[] = [];
  let failed = false;
  for (const name of treeWalkNames(domain)) {
    const query = await lookup.dmarc(name);
    queries.push(query);
    if (isFailure(query.status)) {
      failed = true;
      // The domain's own query decides alone; above it, a failure leaves the organisational domain open.
      if (name === domain) break;
      continue;
    }
    if (query.dmarc_records.length > 1) discarded.push(name);
    if (query.dmarc_records.length !== 1) continue;
    const record = query.dmarc_records[0]!;
    found.push({ domain: name, record });
    const psd = psdOf(record);
    if (psd === 'y' || psd === 'n') break;
  }

  const own = found.find((f) => f.domain === domain);
  const psdRecord = found.find((f) => f.domain !== domain && psdOf(f.record) === 'y') ?? null;
  const base = {
    method: 'treewalk' as const,
    public_suffix_domain: psdRecord?.domain ?? null,
    discarded_multiple: discarded,
    queries,
  };
  const organisational = failed ? null : selectOrganisationalDomain(domain, found);
  if (own) {
    return { ...base, status: 'found', policy_domain: domain, record: own.record, source: 'domain', organisational_domain: organisational };
  }
  if (failed || organisational === null) {
    return { ...base, status: 'temperror', policy_domain: null, record: null, source: null, organisational_domain: null };
  }
  const atOrganisational = found.find((f) => f.domain === organisational);
  if (atOrganisational) {
    return {
      ...base,
      status: 'found',
      policy_domain: organisational,
      record: atOrganisational.record,
      source: 'organisational',
      organisational_domain: organisational,
    };
  }
  if (psdRecord) {
    return {
      ...base,
      status: 'found',
      policy_domain: psdRecord.domain,
      record: psdRecord.record,
      source: 'public-suffix',
      organisational_domain: organisational,
    };
  }
  return { ...base, status: 'none', policy_domain: null, record: null, source: null, organisational_domain: organisational };
}

function describeRfc7489(d: Rfc7489Discovery): string {
  if (d.status === 'found') return `the record at _dmarc.${d.policy_domain}`;
  if (d.status === 'multiple') return `no policy (several records at _dmarc.${d.queries[d.queries.length - 1]!.domain})`;
  return 'no policy';
}

function describeTreeWalk(d: TreeWalkDiscovery): string {
  if (d.status !== 'found') return 'no policy';
  return d.source === 'public-suffix'
    ? `the public suffix operator's record at _dmarc.${d.policy_domain}`
    : `the record at _dmarc.${d.policy_domain}`;
}

export function compareDiscoveries(rfc7489: Rfc7489Discovery, treewalk: TreeWalkDiscovery, domain: string, list?: SuffixList): string[] {
  if (rfc7489.status === 'temperror' || treewalk.status === 'temperror') return [];
  const differences: string[] = [];
  if (rfc7489.policy_domain !== treewalk.policy_domain) {
    differences.push(
      `Receivers following RFC 7489 apply ${describeRfc7489(rfc7489)}; receivers following RFC 9989 apply ${describeTreeWalk(treewalk)}.`,
    );
  }
  const pslOrganisational = rfc7489.organisational_domain;
  const walkOrganisational = treewalk.organisational_domain;
  // Without a policy anywhere DMARC does not apply, so alignment (the organisational domain's use) is moot.
  if (
    treewalk.status === 'found' &&
    pslOrganisational !== null &&
    walkOrganisational !== null &&
    pslOrganisational !== walkOrganisational &&
    !isPublicSuffix(domain, list)
  ) {
    differences.push(
      `The organisational domain, used for relaxed alignment, is ${pslOrganisational} by the Public Suffix List but ${walkOrganisational} by the RFC 9989 tree walk.`,
    );
  }
  return differences;
}

/** Both discoveries over one shared lookup, so names common to both are asked once. */
export async function discoverDmarc(
  resolver: Resolver | TxtLookup,
  domain: string,
  options: DiscoveryOptions = {},
): Promise<DmarcDiscovery> {
  const lookup = resolver instanceof TxtLookup ? resolver : new TxtLookup(resolver);
  const rfc7489 = await discoverRfc7489(lookup, domain, options);
  const treewalk = await discoverTreeWalk(lookup, domain);
  return { rfc7489, treewalk, differences: compareDiscoveries(rfc7489, treewalk, domain, options.publicSuffixList) };
}
