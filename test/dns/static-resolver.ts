import type { DnsAnswer, DnsRecord, DnsStatus, Resolver, RRType } from '../../src/dns/resolver.ts';

/**
 * A Resolver answering from zone data held in memory, for tests of anything written against
 * `Resolver`. Names are case-insensitive and a trailing dot is ignored.
 *
 * - A name absent from the zone answers NXDOMAIN; a present name without the asked type, NODATA
 *   (NOERROR with no records).
 * - CNAMEs are followed for every other type (the chain is in `cnames`); a loop answers SERVFAIL.
 * - `fail` makes a name's queries fail: per type, or `'*'` for every type not listed.
 * - `log` records every query, in order, so a test can check what was asked.
 */

export type StaticRecord =
  | { type: 'A' | 'AAAA'; address: string }
  /** One TXT/SPF record: `text` is one character-string, `strings` several. */
  | { type: 'TXT' | 'SPF'; text: string }
  | { type: 'TXT' | 'SPF'; strings: string[] }
  | { type: 'MX'; preference: number; exchange: string }
  | { type: 'CNAME' | 'PTR' | 'NS'; target: string }
  | { type: 'SOA' | 'DS' | 'DNSKEY' | 'TLSA' | 'CAA'; data: unknown };

export type FailureStatus = Exclude<DnsStatus, 'NOERROR' | 'NXDOMAIN'>;

export interface StaticName {
  records?: StaticRecord[];
  fail?: Partial<Record<RRType | '*', FailureStatus>>;
  /** Answer with the AD bit set (default: the resolver's `authenticated` option). */
  authenticated?: boolean;
}

/** Zone data: a name maps to its records, or to a `StaticName` for failures and AD. */
export type StaticZone = Record<string, StaticRecord[] | StaticName>;

export interface StaticResolverOptions {
  ttl?: number;
  authenticated?: boolean;
}

const MAX_CNAME_CHAIN = 16;

const normalize = (name: string) => {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
};

function isComposable(name: string): boolean {
  if (name === '') return true; // the root
  return name.length <= 253 && name.split('.').every((label) => label.length > 0 && label.length <= 63);
}

export class StaticResolver implements Resolver {
  readonly log: Array<{ name: string; type: RRType; status: DnsStatus }> = [];
  private readonly zone = new Map<string, StaticName>();
  private readonly ttl: number;
  private readonly authenticated: boolean;

  constructor(zone: StaticZone = {}, options: StaticResolverOptions = {}) {
    this.ttl = options.ttl ?? 300;
    this.authenticated = options.authenticated ?? false;
    for (const [name, data] of Object.entries(zone)) this.set(name, data);
  }

  /** Add or replace a name's data. */
  set(name: string, data: StaticRecord[] | StaticName): this {
    this.zone.set(normalize(name), Array.isArray(data) ? { records: data } : data);
    return this;
  }

  async query(name: string, type: RRType): Promise<DnsAnswer> {
    const answer = this.answer(name, type);
    this.log.push({ name, type, status: answer.status });
    return answer;
  }

  private answer(asked: string, type: RRType): DnsAnswer {
    const empty = (status: DnsStatus, extra: Partial<DnsAnswer> = {}): DnsAnswer => ({
      name: asked,
      type,
      status,
      records: [],
      authenticated: false,
      cnames: [],
      ...extra,
    });
    let current = normalize(asked);
    if (!isComposable(current)) return empty('ERROR', { error: `cannot compose a query for "${asked}"` });
    const cnames: string[] = [];
    for (;;) {
      const entry = this.zone.get(current);
      if (!entry) return empty('NXDOMAIN', { cnames });
      const failure = entry.fail?.[type] ?? entry.fail?.['*'];
      if (failure) return empty(failure, { cnames, error: `${failure} (static zone)` });
      const records = entry.records ?? [];
      const own = records.filter((record) => record.type === type);
      const cname = records.find((record) => record.type === 'CNAME');
      if (own.length === 0 && cname?.type === 'CNAME' && type !== 'CNAME') {
        const target = normalize(cname.target);
        if (cnames.includes(target) || target === normalize(asked) || cnames.length >= MAX_CNAME_CHAIN) {
          return empty('SERVFAIL', { cnames, error: 'CNAME loop' });
        }
        cnames.push(target);
        current = target;
        continue;
      }
      return {
        name: asked,
        type,
        status: 'NOERROR',
        records: own.map((record) => this.toDnsRecord(current, record)),
        authenticated: entry.authenticated ?? this.authenticated,
        cnames,
      };
    }
  }

  private toDnsRecord(name: string, record: StaticRecord): DnsRecord {
    const ttl = this.ttl;
    switch (record.type) {
      case 'A':
      case 'AAAA':
        return { type: record.type, name, ttl, address: record.address };
      case 'TXT':
      case 'SPF': {
        const strings = 'strings' in record ? record.strings : [record.text];
        return { type: record.type, name, ttl, text: strings.join(''), strings };
      }
      case 'MX':
        return { type: 'MX', name, ttl, preference: record.preference, exchange: record.exchange };
      case 'CNAME':
      case 'PTR':
      case 'NS':
        return { type: record.type, name, ttl, target: record.target };
      default:
        return { type: record.type, name, ttl, data: record.data };
    }
  }
}
