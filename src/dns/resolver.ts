/**
 * The resolver every DNS check is written against (injected, so tests pass a resolver of their
 * choosing: the DoH client against the lab, or a static one built from zone data). Outcomes stay
 * distinct: a transient failure must never turn a domain's record into "missing".
 */
export type RRType = 'A' | 'AAAA' | 'TXT' | 'SPF' | 'MX' | 'CNAME' | 'PTR' | 'NS' | 'SOA' | 'DS' | 'DNSKEY' | 'TLSA' | 'CAA';

/**
 * NOERROR with no records is NODATA. SERVFAIL covers DNSSEC-bogus answers from a validating
 * resolver. TIMEOUT and ERROR (transport, malformed answer) are the resolver's trouble, not the domain's.
 */
export type DnsStatus = 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED' | 'TIMEOUT' | 'ERROR';

export type DnsRecord =
  | { type: 'A' | 'AAAA'; name: string; ttl: number; address: string }
  /** `text` is the character-strings joined with nothing between them (RFC 7208 §3.3). */
  | { type: 'TXT' | 'SPF'; name: string; ttl: number; text: string; strings: string[] }
  | { type: 'MX'; name: string; ttl: number; preference: number; exchange: string }
  | { type: 'CNAME' | 'PTR' | 'NS'; name: string; ttl: number; target: string }
  | { type: 'SOA' | 'DS' | 'DNSKEY' | 'TLSA' | 'CAA'; name: string; ttl: number; data: unknown };

export interface DnsAnswer {
  name: string;
  type: RRType;
  status: DnsStatus;
  /** Records of the asked type, after following CNAMEs; empty for NODATA and every failure. */
  records: DnsRecord[];
  /** The AD bit: the validating resolver vouched for the answer with DNSSEC. */
  authenticated: boolean;
  /** Names the answer went through by CNAME, in order (empty when none). */
  cnames: string[];
  /** Why, for ERROR and TIMEOUT: shown to operators. */
  error?: string;
}

export interface Resolver {
  query(name: string, type: RRType): Promise<DnsAnswer>;
}
