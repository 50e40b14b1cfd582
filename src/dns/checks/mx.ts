/**
 * MX check (RFC 5321 §5.1, RFC 7505): the hosts that receive the domain's mail, in order of
 * preference, with their IPv4 and IPv6 addresses (the TLS probe connects to these), null MX, and the
 * mistakes that make a host unusable: a CNAME as MX target, an IP address written as a host name, a
 * host with no address.
 */
import type { DnsAnswer, Resolver } from '../resolver.ts';
import { describeFailure, isDnsFailure, normaliseHost } from './dns.ts';
import { findingMaker, rulesList, type CheckResult, type RuleTable } from './finding.ts';

const RFC5321 = 'https://www.rfc-editor.org/rfc/rfc5321#section-5.1';
const RFC7505 = 'https://www.rfc-editor.org/rfc/rfc7505';

const RULES = {
  'mx.dns-failure': {
    severity: 'error',
    title: 'The MX check could not be completed',
    advice:
      'The DNS query for {name} ended in {status}, so it is not known where mail for {domain} goes; senders meeting the same failure defer mail. If it persists, check that every name server of the zone answers, and, if the zone is DNSSEC-signed, that its signatures and DS record are valid.',
    reference: RFC5321,
  },
  'mx.domain-not-found': {
    severity: 'error',
    title: 'The domain does not exist',
    advice: '{domain} does not exist in DNS (NXDOMAIN), so no mail can be delivered to it. Check the spelling, or register and publish the domain.',
    reference: RFC5321,
  },
  'mx.none': {
    severity: 'warning',
    title: 'No MX record',
    advice:
      '{domain} publishes no MX record, so senders fall back to its address records{implicit}. If {domain} receives mail, publish an MX record naming your mail server, e.g. "{domain}. MX 10 mail.{domain}.". If it never receives mail, publish a null MX: "{domain}. MX 0 ." (RFC 7505).',
    reference: RFC5321,
  },
  'mx.null-mx': {
    severity: 'info',
    title: 'Null MX: the domain accepts no mail',
    advice:
      '{domain} says with a null MX that it receives no mail, and senders reject mail to it at once. If it does not send mail either, also publish "v=spf1 -all" and a DMARC record with p=reject so nobody can send in its name.',
    reference: RFC7505,
  },
  'mx.null-mx-mixed': {
    severity: 'error',
    title: 'Null MX beside other MX records',
    advice:
      'A null MX ("MX 0 .") must be the only MX record of a domain. {domain} has it beside {others}. Remove the null MX if {domain} receives mail, or the other MX records if it does not.',
    reference: `${RFC7505}#section-3`,
  },
  'mx.cname': {
    severity: 'warning',
    title: 'MX target is a CNAME',
    advice:
      'The MX host {host} is an alias (CNAME) for {target}. An MX must name a host with its own address records; some senders refuse or mishandle aliases. Change the MX record to point at {target}.',
    reference: 'https://www.rfc-editor.org/rfc/rfc2181#section-10.3',
  },
  'mx.ip-literal': {
    severity: 'error',
    title: 'MX target is an IP address',
    advice:
      'The MX record names {host}, which is an IP address written as a host name. An MX must name a host; senders look up its address and find none. Publish an A record, e.g. "mail.{domain}. A {host}", and point the MX at mail.{domain}.',
    reference: RFC5321,
  },
  'mx.host-unresolvable': {
    severity: 'error',
    title: 'MX host has no address',
    advice:
      'The MX host {host} has no A or AAAA record ({status}), so mail cannot be delivered to it. Publish its address records, or remove it from the MX records of {domain}.',
    reference: RFC5321,
  },
  'mx.host-dns-failure': {
    severity: 'warning',
    title: 'The address of an MX host could not be looked up',
    advice:
      'The address lookup of the MX host {host} ended in {status}, so senders meeting the same failure defer mail to it. Check that the name servers of {host} answer, and that its zone\'s DNSSEC signatures are valid.',
    reference: RFC5321,
  },
} as const satisfies RuleTable<string>;

export type MxRuleId = keyof typeof RULES;
export const MX_RULES = rulesList(RULES);
const finding = findingMaker(RULES);

export interface MxHost {
  host: string;
  preference: number;
  addresses: { v4: string[]; v6: string[] };
  /** Names the host's address lookup went through by CNAME (empty when it is a proper host name). */
  cnames: string[];
  ipLiteral: boolean;
}

export interface MxFacts {
  status: DnsAnswer['status'];
  authenticated: boolean;
  nullMx: boolean;
  /** Sorted by preference, then host name. Excludes the null MX's root ("."). */
  hosts: MxHost[];
  /** When there is no MX: the domain's own addresses, to which senders fall back (RFC 5321 §5.1). */
  implicit?: { v4: string[]; v6: string[] };
}

export type MxResult = CheckResult<'mx', MxFacts>;

const IPV4_LITERAL = /^\[?\d{1,3}(\.\d{1,3}){3}\]?$/;
const IPV6_LITERAL = /^\[?(ipv6:)?[0-9a-f:.]*:[0-9a-f:.]*\]?$/i;

export function isIpLiteral(host: string): boolean {
  return IPV4_LITERAL.test(host) || IPV6_LITERAL.test(host);
}

export async function checkMx(resolver: Resolver, domain: string): Promise<MxResult> {
  const name = normaliseHost(domain);
  const answer = await resolver.query(name, 'MX');
  const facts: MxFacts = { status: answer.status, authenticated: answer.authenticated, nullMx: false, hosts: [] };
  const result: MxResult = { area: 'mx', record: null, facts, findings: [] };
  const findings = result.findings;

  if (isDnsFailure(answer.status)) {
    findings.push(finding('mx.dns-failure', { name, status: answer.status, domain: name }, describeFailure(answer)));
    return result;
  }
  if (answer.status === 'NXDOMAIN') {
    findings.push(finding('mx.domain-not-found', { domain: name }));
    return result;
  }

  const mx = answer.records
    .flatMap((r) => (r.type === 'MX' ? [{ host: normaliseHost(r.exchange), preference: r.preference }] : []))
    .sort((a, b) => a.preference - b.preference || a.host.localeCompare(b.host));
  result.record = mx.length ? mx.map((m) => `${m.preference} ${m.host === '.' || m.host === '' ? '.' : `${m.host}.`}`).join('\n') : null;

  if (mx.length === 0) {
    const implicit = await addresses(resolver, name);
    facts.implicit = { v4: implicit.v4, v6: implicit.v6 };
    if (implicit.failure) {
      // Not known whether it has addresses: never say "it has none".
      findings.push(finding('mx.dns-failure', { name, status: implicit.failure.status, domain: name }, describeFailure(implicit.failure)));
      return result;
    }
    const count = implicit.v4.length + implicit.v6.length;
    findings.push(
      finding('mx.none', {
        domain: name,
        implicit: count ? ` (${[...implicit.v4, ...implicit.v6].join(', ')})` : ', and it has none, so mail to it cannot be delivered',
      }),
    );
    return result;
  }

  const isNull = (host: string) => host === '.' || host === '';
  const real = mx.filter((m) => !isNull(m.host));
  if (real.length < mx.length) {
    facts.nullMx = true;
    if (real.length === 0) {
      findings.push(finding('mx.null-mx', { domain: name }));
      return result;
    }
    findings.push(finding('mx.null-mx-mixed', { domain: name, others: real.map((m) => m.host).join(', ') }));
  }

  facts.hosts = await Promise.all(
    real.map(async ({ host, preference }): Promise<MxHost> => {
      const ipLiteral = isIpLiteral(host);
      const entry: MxHost = { host, preference, addresses: { v4: [], v6: [] }, cnames: [], ipLiteral };
      if (ipLiteral) {
        findings.push(finding('mx.ip-literal', { host, domain: name }));
        return entry;
      }
      const found = await addresses(resolver, host);
      entry.addresses = { v4: found.v4, v6: found.v6 };
      entry.cnames = found.cnames;
      const target = found.cnames[found.cnames.length - 1];
      if (target !== undefined) findings.push(finding('mx.cname', { host, target }, `${host} CNAME ${found.cnames.join(' → ')}`));
      if (found.failure) {
        findings.push(finding('mx.host-dns-failure', { host, status: found.failure.status }, describeFailure(found.failure)));
      } else if (found.v4.length + found.v6.length === 0) {
        findings.push(finding('mx.host-unresolvable', { host, domain: name, status: found.negative }));
      }
      return entry;
    }),
  );
  return result;
}

interface AddressLookup {
  v4: string[];
  v6: string[];
  cnames: string[];
  /** The first lookup that failed, when neither family gave an address. */
  failure?: DnsAnswer;
  /** e.g. "NXDOMAIN" or "no A or AAAA record": why no address, in words. */
  negative: string;
}

async function addresses(resolver: Resolver, host: string): Promise<AddressLookup> {
  const [a, aaaa] = await Promise.all([resolver.query(host, 'A'), resolver.query(host, 'AAAA')]);
  const pick = (answer: DnsAnswer, type: 'A' | 'AAAA') =>
    answer.records.flatMap((r) => (r.type === type ? [r.address] : [])).sort();
  const v4 = pick(a, 'A');
  const v6 = pick(aaaa, 'AAAA');
  const cnames = a.cnames.length ? a.cnames : aaaa.cnames;
  const failed = [a, aaaa].find((x) => isDnsFailure(x.status));
  const lookup: AddressLookup = {
    v4,
    v6,
    cnames: [...cnames],
    negative: a.status === 'NXDOMAIN' || aaaa.status === 'NXDOMAIN' ? 'NXDOMAIN' : 'no A or AAAA record',
  };
  if (failed && v4.length + v6.length === 0) lookup.failure = failed;
  return lookup;
}
