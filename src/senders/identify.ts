/**
 * Sender identification, pure: which organisation is behind a source IP, from its reverse DNS.
 * PTR lookup, forward confirmation (the name must resolve back to the IP, so a PTR record alone, which
 * the IP's owner writes freely, never names a sender), base domain by the Public Suffix List folded by
 * parsedmarc's psl_overrides, then the sender map. DNS trouble stays `dns-failure`, never "no PTR".
 */
import ipaddr from 'ipaddr.js';
import type { DnsAnswer, Resolver } from '../dns/resolver';
import { organisationalDomainOf } from '../dns/dmarc/domain';
import { PSL_OVERRIDES } from './psl-overrides.generated';

export type SenderStatus = 'ok' | 'no-ptr' | 'not-confirmed' | 'dns-failure';

export interface SenderService {
  name: string;
  type: string;
}

export interface SenderIdentity {
  /** Canonical form of the address (IPv4-mapped IPv6 folded to IPv4). */
  ip: string;
  /** Every PTR name published for the address (lower case, no trailing dot). */
  ptr: string[];
  /** The PTR names whose A/AAAA records contain the address. */
  confirmed: string[];
  /** Base domain of the first confirmed name; null unless confirmed. */
  base_domain: string | null;
  service: SenderService | null;
  /** The base domain is on the list of domains known to belong to no identifiable organisation. */
  known_unknown: boolean;
  status: SenderStatus;
  /** Why, for `dns-failure` (resolver status and message). */
  error?: string;
}

/** Where reverse names live; tests point these at a lab zone. */
export interface ReverseSuffixes {
  v4: string;
  v6: string;
}

export const DEFAULT_REVERSE_SUFFIXES: ReverseSuffixes = { v4: 'in-addr.arpa', v6: 'ip6.arpa' };

export interface MapEntry {
  service: SenderService | null;
  knownUnknown: boolean;
}

/** Looks a base domain up in the sender map (D1 in the Worker, a Map in tests). */
export type SenderMapLookup = (baseDomain: string) => Promise<MapEntry>;

/** PTR names followed per address: a host with more is unusual and each costs a query. */
export const MAX_PTR_NAMES = 5;

/** Parses and canonicalises an address; null when it is not one. */
export function canonicalIp(input: string): string | null {
  const text = input.trim();
  if (text.includes('%') || !ipaddr.isValid(text)) return null;
  // isValid accepts shorthand IPv4 ("1", "0x7f.1"); only four-part decimal and real IPv6 are addresses here.
  if (!text.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(text)) return null;
  const parsed = ipaddr.process(text);
  return parsed.toString();
}

/** `192.0.2.1` → `1.2.0.192.in-addr.arpa`; `2001:db8::1` → 32 nibbles + `.ip6.arpa`. */
export function reverseName(ip: string, suffixes: ReverseSuffixes = DEFAULT_REVERSE_SUFFIXES): string {
  const canonical = canonicalIp(ip);
  if (canonical === null) throw new Error(`not an IP address: ${ip}`);
  const parsed = ipaddr.parse(canonical);
  const trim = (s: string) => s.replace(/^\.+|\.+$/g, '');
  if (parsed.kind() === 'ipv4') return `${[...parsed.toByteArray()].reverse().join('.')}.${trim(suffixes.v4)}`;
  const nibbles: string[] = [];
  for (const byte of parsed.toByteArray()) nibbles.push((byte >> 4).toString(16), (byte & 15).toString(16));
  return `${nibbles.reverse().join('.')}.${trim(suffixes.v6)}`;
}

/**
 * The base domain of a reverse DNS name, as parsedmarc's get_base_domain: the first override the name
 * ends with (`-foo.com`, `.foo.com` or a bare `foo.com`), stripped of leading/trailing `.` and `-`, else the
 * PSL registrable domain (else the name itself, e.g. for a public suffix).
 */
export function baseDomainOf(name: string, overrides: readonly string[] = PSL_OVERRIDES): string {
  const domain = name.trim().toLowerCase().replace(/\.$/, '');
  for (const override of overrides) {
    if (domain.endsWith(override)) return override.replace(/^[.-]+|[.-]+$/g, '');
  }
  return organisationalDomainOf(domain) ?? domain;
}

const failed = (a: DnsAnswer) => a.status !== 'NOERROR' && a.status !== 'NXDOMAIN';
const why = (a: DnsAnswer) => `${a.type} ${a.name}: ${a.status}${a.error ? ` (${a.error})` : ''}`;

export interface IdentifyOptions {
  map: SenderMapLookup;
  suffixes?: ReverseSuffixes;
  overrides?: readonly string[];
}

export async function identifySender(resolver: Resolver, ip: string, options: IdentifyOptions): Promise<SenderIdentity> {
  const canonical = canonicalIp(ip);
  if (canonical === null) throw new Error(`not an IP address: ${ip}`);
  const result: SenderIdentity = { ip: canonical, ptr: [], confirmed: [], base_domain: null, service: null, known_unknown: false, status: 'no-ptr' };

  const ptr = await resolver.query(reverseName(canonical, options.suffixes), 'PTR');
  if (failed(ptr)) return { ...result, status: 'dns-failure', error: why(ptr) };
  result.ptr = [...new Set(ptr.records.flatMap((r) => (r.type === 'PTR' ? [r.target.toLowerCase().replace(/\.$/, '')] : [])))];
  if (result.ptr.length === 0) return result;

  const forwardType = ipaddr.parse(canonical).kind() === 'ipv4' ? 'A' : 'AAAA';
  const names = result.ptr.slice(0, MAX_PTR_NAMES);
  const answers = await Promise.all(names.map((name) => resolver.query(name, forwardType)));
  const errors: string[] = [];
  names.forEach((name, i) => {
    const answer = answers[i]!;
    if (failed(answer)) errors.push(why(answer));
    else if (answer.records.some((r) => (r.type === 'A' || r.type === 'AAAA') && canonicalIp(r.address) === canonical)) result.confirmed.push(name);
  });
  if (result.confirmed.length === 0) {
    // A forward lookup that failed may have confirmed: that is not the same answer as "does not".
    if (errors.length > 0) return { ...result, status: 'dns-failure', error: errors.join('; ') };
    return { ...result, status: 'not-confirmed' };
  }

  result.status = 'ok';
  result.base_domain = baseDomainOf(result.confirmed[0]!, options.overrides);
  const entry = await options.map(result.base_domain);
  result.service = entry.service;
  result.known_unknown = entry.knownUnknown;
  return result;
}
