/**
 * DNSSEC check, read from a validating resolver's answers: the AD bit on the domain's SOA answer
 * says the chain of trust holds (validated); SERVFAIL below a delegation that publishes a DS says the
 * chain is broken (bogus); an answer without AD and no DS says the domain is not signed (unsigned).
 * Only as good as the resolver: it must validate (the DoH client sets the DO bit and reads AD).
 */
import type { DnsAnswer, Resolver } from '../resolver.ts';
import { describeFailure, isDnsFailure, normaliseHost } from './dns.ts';
import { findingMaker, rulesList, type CheckResult, type RuleTable } from './finding.ts';

const RFC4035 = 'https://www.rfc-editor.org/rfc/rfc4035';

const RULES = {
  'dnssec.dns-failure': {
    severity: 'error',
    title: 'The DNSSEC check could not be completed',
    advice:
      'The DNS query for {name} ended in {status} without a sign of a DNSSEC failure, so it is not known whether {domain} is signed. If it persists, check that every name server of the zone answers.',
    reference: RFC4035,
  },
  'dnssec.unsigned': {
    severity: 'info',
    title: 'DNSSEC not enabled',
    advice:
      '{domain} is not DNSSEC-signed ({detail}), so resolvers cannot tell forged answers, such as a false MX, from real ones, and DANE cannot be used. If your DNS provider offers DNSSEC, turn on signing and publish the DS record it gives you at your registrar. MTA-STS protects mail delivery without DNSSEC.',
    reference: RFC4035,
  },
  'dnssec.bogus': {
    severity: 'error',
    title: 'DNSSEC validation fails (bogus)',
    advice:
      '{zone} publishes a DS record in its parent, but the answers for {name} do not validate against it ({status}), so validating resolvers treat the whole domain as unreachable: mail to it is deferred and bounced. Make the DS record at your registrar match the zone\'s current key (re-publish it after a key change or a move of DNS provider), or remove the DS to turn DNSSEC off, and check the zone\'s signatures have not expired.',
    reference: `${RFC4035}#section-5.5`,
  },
} as const satisfies RuleTable<string>;

export type DnssecRuleId = keyof typeof RULES;
export const DNSSEC_RULES = rulesList(RULES);
const finding = findingMaker(RULES);

export interface DnssecFacts {
  status: 'validated' | 'unsigned' | 'bogus' | 'unknown';
  /** The SOA answer was vouched for by the validating resolver (AD). */
  authenticated: boolean;
  /**
   * The nearest name, from the domain upward, whose DS query answered, and whether a DS is there; both
   * null when the answers validated (the chain of trust is proven, so no DS lookup is made).
   */
  dsName: string | null;
  dsPresent: boolean | null;
  soaStatus: string;
  /** The resolver's Extended DNS Error, when it gave one. */
  extendedError?: string;
}

export type DnssecResult = CheckResult<'dnssec', DnssecFacts>;

export async function checkDnssec(resolver: Resolver, domain: string): Promise<DnssecResult> {
  const name = normaliseHost(domain);
  const soa = await resolver.query(name, 'SOA');
  const facts: DnssecFacts = { status: 'unknown', authenticated: soa.authenticated, dsName: null, dsPresent: false, soaStatus: soa.status };
  if (soa.error) facts.extendedError = soa.error;
  const result: DnssecResult = { area: 'dnssec', record: null, facts, findings: [] };

  if (!isDnsFailure(soa.status)) {
    if (soa.authenticated) {
      facts.status = 'validated';
      facts.dsPresent = null;
      return result;
    }
    const ds = await resolver.query(name, 'DS');
    facts.dsName = name;
    facts.dsPresent = hasDs(ds);
    facts.status = 'unsigned';
    const why = facts.dsPresent ? 'a DS record exists, but the answers are not validated' : `answers carry no DNSSEC validation and ${name} has no DS record`;
    result.findings.push(finding('dnssec.unsigned', { domain: name, detail: why }));
    return result;
  }

  // The domain's own answers fail. Look for the nearest signed delegation at or above it: the DS
  // query for a zone's apex is answered by its parent, so it still answers when the zone is bogus.
  const labels = name.split('.');
  let ds: DnsAnswer | undefined;
  for (let i = 0; i < labels.length - 1; i++) {
    const candidate = labels.slice(i).join('.');
    const answer = await resolver.query(candidate, 'DS');
    if (isDnsFailure(answer.status)) continue;
    ds = answer;
    facts.dsName = candidate;
    facts.dsPresent = hasDs(answer);
    break;
  }
  const bogusEde = /DNSSEC|signature|DNSKEY|RRSIG|NSEC/i.test(soa.error ?? '');
  if (soa.status === 'SERVFAIL' && (facts.dsPresent || bogusEde)) {
    facts.status = 'bogus';
    result.findings.push(
      finding('dnssec.bogus', { zone: facts.dsPresent && facts.dsName ? facts.dsName : name, name, status: soa.error ? `SERVFAIL: ${soa.error}` : 'SERVFAIL' }, describeFailure(soa)),
    );
    return result;
  }
  result.findings.push(
    finding('dnssec.dns-failure', { name, status: soa.status, domain: name }, [describeFailure(soa), ds ? describeFailure(ds) : ''].filter(Boolean).join('; ')),
  );
  return result;
}

function hasDs(answer: DnsAnswer): boolean {
  return answer.status === 'NOERROR' && answer.records.some((r) => r.type === 'DS');
}
