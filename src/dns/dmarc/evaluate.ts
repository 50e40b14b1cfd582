import type { Resolver } from '../resolver';
import { discoverDmarc, type DmarcDiscovery } from './discover';
import { isPublicSuffix, normaliseDomain, organisationalDomainOf, type SuffixList } from './domain';
import { checkReportDestinations, type ReportDestination } from './external';
import { isFailure, TxtLookup, type TxtQuery } from './lookup';
import { parseDmarcRecord, POLICY_STRENGTH, suggestRecord, type ParsedDmarcRecord, type PolicyValue } from './parse';
import { evaluateRecord, normaliseMailto, placeholderRua } from './record-rules';
import { makeFinding, type DmarcFinding } from './rules';

export interface DmarcEvaluationOptions {
  /**
   * The aggregate-report mailbox this service runs (e.g. `mailto:dmarc-rua@dmarc.service.gov.uk` in the
   * original MailCheck). When set, records are checked to send reports there, and advice suggests it.
   */
  expectedRua?: string;
  /** Which sections of the Public Suffix List make up suffixes (default: both). */
  publicSuffixList?: SuffixList;
  /** Query `_report._dmarc` authorisations of external report addresses (default true). */
  checkReportDestinations?: boolean;
}

export interface DmarcFacts {
  domain: string;
  /** By the Public Suffix List; null when the domain is a public suffix. */
  organisational_domain: string | null;
  /** By the RFC 9989 tree walk; null when undetermined. */
  treewalk_organisational_domain: string | null;
  is_public_suffix: boolean;
  is_organisational_domain: boolean;
  policy_domain: string | null;
  /** The record that applies was found at another domain. */
  inherited: boolean;
  /** The policy for mail from this domain: p of its own record, sp of an inherited one. */
  applied_policy: PolicyValue | null;
  p: PolicyValue | null;
  sp: PolicyValue | null;
  np: PolicyValue | null;
  pct: number | null;
  testing: boolean | null;
  adkim: 'r' | 's' | null;
  aspf: 'r' | 's' | null;
  rua: string[];
  ruf: string[];
  report_destinations: ReportDestination[];
  /** Distinct DNS queries made. */
  dns_queries: number;
  /** Names whose query failed (SERVFAIL, REFUSED, TIMEOUT, ERROR). */
  failed_queries: string[];
}

export interface DmarcEvaluation {
  domain: string;
  /** `temperror`: some query failed, so part of the check could not be done; findings say which. */
  status: 'ok' | 'temperror' | 'invalid-domain';
  /** The record that applies to the domain (its own, or its organisational domain's); null if none. */
  record: string | null;
  parsed: ParsedDmarcRecord | null;
  policy_domain: string | null;
  discovery: DmarcDiscovery | null;
  facts: DmarcFacts;
  findings: DmarcFinding[];
}

function emptyFacts(domain: string): DmarcFacts {
  return {
    domain,
    organisational_domain: null,
    treewalk_organisational_domain: null,
    is_public_suffix: false,
    is_organisational_domain: false,
    policy_domain: null,
    inherited: false,
    applied_policy: null,
    p: null,
    sp: null,
    np: null,
    pct: null,
    testing: null,
    adkim: null,
    aspf: null,
    rua: [],
    ruf: [],
    report_destinations: [],
    dns_queries: 0,
    failed_queries: [],
  };
}

function describeQueries(queries: TxtQuery[]): string {
  return queries
    .map((q) => `${q.name}: ${q.status}${q.status === 'NOERROR' ? (q.records.length === 0 ? ', no records' : ', no record starting with v=DMARC1') : ''}`)
    .join('; ');
}

interface Selection {
  record: string | null;
  policyDomain: string | null;
  findings: DmarcFinding[];
}

/** Which record governs the domain: its own, else the RFC 7489 organisational one, else the tree walk's. */
function selectRecord(domain: string, discovery: DmarcDiscovery, options: DmarcEvaluationOptions): Selection {
  const list = options.publicSuffixList ?? 'all';
  const { rfc7489, treewalk } = discovery;
  const own = rfc7489.queries[0]!;
  const organisational = rfc7489.organisational_domain;
  const rua = options.expectedRua ? `mailto:${normaliseMailto(options.expectedRua)}` : placeholderRua(organisational ?? domain);
  if (isFailure(own.status)) return { record: null, policyDomain: null, findings: [] };

  const valid = own.dmarc_records;
  const misplaced = own.misplaced_records;
  if (valid.length > 1 || (valid.length === 0 && misplaced.length > 1)) {
    return { record: null, policyDomain: null, findings: [multipleRecords(domain, [...valid, ...misplaced])] };
  }
  // A stray record with v=DMARC1 further in is ignored by receivers, but it is still a mistake to delete.
  if (valid.length === 1) {
    const extra = misplaced.length > 0 ? [multipleRecords(domain, [...valid, ...misplaced])] : [];
    return { record: valid[0]!, policyDomain: domain, findings: extra };
  }
  if (misplaced.length === 1) return { record: misplaced[0]!, policyDomain: domain, findings: [] };

  if (rfc7489.status === 'found') return { record: rfc7489.record, policyDomain: rfc7489.policy_domain, findings: [] };
  if (rfc7489.status === 'multiple') {
    const at = rfc7489.queries[rfc7489.queries.length - 1]!;
    return { record: null, policyDomain: null, findings: [multipleRecords(at.domain, at.dmarc_records)] };
  }
  if (rfc7489.status === 'temperror') return { record: null, policyDomain: null, findings: [] };
  if (treewalk.status === 'found' && treewalk.source === 'organisational' && !isPublicSuffix(treewalk.policy_domain!, list)) {
    return { record: treewalk.record, policyDomain: treewalk.policy_domain, findings: [] };
  }
  if (treewalk.status === 'temperror') return { record: null, policyDomain: null, findings: [] };
  // A public suffix has no organisational domain to protect it; the original MailCheck did not ask it for a record.
  if (isPublicSuffix(domain, list)) return { record: null, policyDomain: null, findings: [] };

  const target = organisational ?? domain;
  const psdNote =
    treewalk.source === 'public-suffix'
      ? ` Only the public suffix operator's policy at _dmarc.${treewalk.policy_domain} applies, for RFC 9989 receivers.`
      : '';
  return {
    record: null,
    policyDomain: null,
    findings: [
      makeFinding('dmarc.no-record', `${describeQueries(rfc7489.queries)}.${psdNote}`, {
        name: `_dmarc.${target}`,
        suggested: suggestRecord(null, { p: 'none', rua }),
        scope: target !== domain ? ` (a record at the organisational domain ${target} also covers ${domain} and the other subdomains)` : '',
      }),
    ],
  };
}

function multipleRecords(domain: string, records: string[]): DmarcFinding {
  const first = parseDmarcRecord(records[0]!);
  return makeFinding('dmarc.multiple-records', records.map((r) => `"${r}"`).join(' and '), {
    name: `_dmarc.${domain}`,
    count: records.length,
    suggested: suggestRecord(first),
  });
}

/**
 * A domain's own p against what its nearest ancestor with a DMARC record asks of subdomains (sp, else
 * p), from the records discovery already fetched: no extra query.
 */
function weakerThanParent(domain: string, parsed: ParsedDmarcRecord, discovery: DmarcDiscovery): DmarcFinding | null {
  const own = parsed.policy.p;
  if (!own) return null;
  const ancestors = [...discovery.treewalk.queries, ...discovery.rfc7489.queries]
    .filter((q) => q.domain !== domain && domain.endsWith(`.${q.domain}`) && q.dmarc_records.length === 1)
    .sort((a, b) => b.domain.length - a.domain.length);
  const parent = ancestors[0];
  if (!parent) return null;
  const parentRecord = parseDmarcRecord(parent.dmarc_records[0]!);
  const policy = parentRecord.policy;
  const forSubdomains = policy.sp ?? policy.p;
  if (!forSubdomains || POLICY_STRENGTH[own] >= POLICY_STRENGTH[forSubdomains]) return null;
  return makeFinding('dmarc.policy-weaker-than-parent', `p=${own} at _dmarc.${domain}; ${parentRecord.explicit.sp ? 'sp' : 'p'}=${forSubdomains} at _dmarc.${parent.domain}`, {
    domain,
    own,
    parent: parent.domain,
    parentPolicy: forSubdomains,
  });
}

function discoveryDiffers(domain: string, discovery: DmarcDiscovery): DmarcFinding | null {
  if (discovery.differences.length === 0) return null;
  const own = discovery.rfc7489.queries[0]!;
  const organisational = discovery.rfc7489.organisational_domain;
  const fix =
    own.dmarc_records.length > 1
      ? `Keep a single DMARC record at _dmarc.${domain}: both kinds of receiver then apply it.`
      : own.dmarc_records.length === 0
        ? `Publish a DMARC record at _dmarc.${domain}: both kinds of receiver then apply it.`
        : `To make both agree on ${organisational}, publish a DMARC record at _dmarc.${organisational} and do not use psd=n below it.`;
  return makeFinding('dmarc.discovery-differs', discovery.differences.join(' '), { differences: discovery.differences.join(' '), fix });
}

function dnsFailure(query: TxtQuery): DmarcFinding {
  const detail = `${query.name}: ${query.status}${query.error ? ` (${query.error})` : ''}`;
  return makeFinding('dmarc.dns-failure', detail, { name: query.name, status: query.status });
}

/**
 * Checks the DMARC record of `domain` as a domain owner needs it checked: where receivers find the
 * policy (both RFC 7489 and RFC 9989), whether the record is valid, and what to change.
 */
export async function evaluateDmarc(resolver: Resolver, input: string, options: DmarcEvaluationOptions = {}): Promise<DmarcEvaluation> {
  const normalised = normaliseDomain(input);
  if (!normalised.ok) {
    return {
      domain: input,
      status: 'invalid-domain',
      record: null,
      parsed: null,
      policy_domain: null,
      discovery: null,
      facts: emptyFacts(input),
      findings: [makeFinding('dmarc.invalid-domain', normalised.reason, { domain: input, reason: normalised.reason })],
    };
  }
  const domain = normalised.domain;
  const list = options.publicSuffixList ?? 'all';
  const lookup = new TxtLookup(resolver);
  const discovery = await discoverDmarc(lookup, domain, { publicSuffixList: list });
  const { rfc7489, treewalk } = discovery;
  const findings: DmarcFinding[] = [];

  const selection = selectRecord(domain, discovery, options);
  findings.push(...selection.findings);
  const own = rfc7489.queries[0]!;
  const isSuffix = isPublicSuffix(domain, list);
  if (isSuffix && own.dmarc_records.length + own.misplaced_records.length > 0) {
    const parsedOwn = parseDmarcRecord([...own.dmarc_records, ...own.misplaced_records][0]!);
    findings.push(makeFinding('dmarc.tld-record', `_dmarc.${domain} publishes a record`, { domain, suggested: suggestRecord(parsedOwn, { psd: 'y' }) }));
  }
  const differs = discoveryDiffers(domain, discovery);
  if (differs) findings.push(differs);

  let parsed: ParsedDmarcRecord | null = null;
  let destinations: ReportDestination[] = [];
  const policyDomain = selection.policyDomain;
  if (selection.record !== null && policyDomain !== null) {
    parsed = parseDmarcRecord(selection.record);
    if (policyDomain !== domain) {
      findings.push(
        makeFinding('dmarc.inherited', `policy found at _dmarc.${policyDomain}`, {
          domain,
          name: `_dmarc.${policyDomain}`,
          sp: parsed.policy.sp === null ? 'none stated' : `sp=${parsed.policy.sp}`,
        }),
      );
    }
    findings.push(...evaluateRecord({ parsed, policyDomain, expectedRua: options.expectedRua ?? null, list }));
    if (policyDomain === domain) {
      const weaker = weakerThanParent(domain, parsed, discovery);
      if (weaker) findings.push(weaker);
    }
    if (options.checkReportDestinations !== false) {
      destinations = await checkReportDestinations(lookup, policyDomain, parsed.policy, list);
      const reported = new Set<string>();
      for (const destination of destinations) {
        const key = `${destination.tag} ${destination.host}`;
        if (destination.status !== 'unauthorised' || reported.has(key)) continue;
        reported.add(key);
        findings.push(
          makeFinding('dmarc.external-report-destination-unauthorised', `${destination.query}: ${destination.dns_status}, no v=DMARC1 record`, {
            tag: destination.tag,
            policy_domain: policyDomain,
            host: destination.host,
            query: destination.query!,
            organisational_domain: organisationalDomainOf(policyDomain, list) ?? policyDomain,
          }),
        );
      }
    }
  }

  const failed = [...new Map([...rfc7489.queries, ...treewalk.queries].filter((q) => isFailure(q.status)).map((q) => [q.name, q as TxtQuery])).values()];
  for (const destination of destinations) {
    if (destination.status === 'temperror' && destination.query && !failed.some((q) => q.name === destination.query)) {
      failed.push({ name: destination.query, status: destination.dns_status as TxtQuery['status'], records: [] });
    }
  }
  findings.unshift(...failed.map(dnsFailure));

  const policy = parsed?.policy ?? null;
  const organisational = organisationalDomainOf(domain, list);
  const inherited = policyDomain !== null && policyDomain !== domain;
  const facts: DmarcFacts = {
    ...emptyFacts(domain),
    organisational_domain: organisational,
    treewalk_organisational_domain: treewalk.organisational_domain,
    is_public_suffix: isSuffix,
    is_organisational_domain: organisational === domain,
    policy_domain: policyDomain,
    inherited,
    applied_policy: policy ? (inherited ? policy.sp : policy.p) : null,
    p: policy?.p ?? null,
    sp: policy?.sp ?? null,
    np: policy?.np ?? null,
    pct: policy?.pct ?? null,
    testing: policy ? policy.t === 'y' : null,
    adkim: policy?.adkim ?? null,
    aspf: policy?.aspf ?? null,
    rua: (policy?.rua ?? []).map((u) => u.uri),
    ruf: (policy?.ruf ?? []).map((u) => u.uri),
    report_destinations: destinations,
    dns_queries: lookup.queriesMade,
    failed_queries: failed.map((q) => q.name),
  };
  const order = { error: 0, warning: 1, info: 2 } as const;
  return {
    domain,
    status: failed.length > 0 ? 'temperror' : 'ok',
    record: selection.record,
    parsed,
    policy_domain: policyDomain,
    discovery,
    facts,
    // Errors first; within a severity, the order the rules ran in (stable sort).
    findings: findings.sort((a, b) => order[a.severity] - order[b.severity]),
  };
}
