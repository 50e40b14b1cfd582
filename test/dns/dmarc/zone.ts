import type { DnsAnswer, DnsRecord, DnsStatus, Resolver, RRType } from '../../../src/dns/resolver';

/**
 * A small in-memory DNS for tests: names map to TXT records (a string, or an array of records, each
 * a string or its character-strings) or to a failure status. A name not listed but with a listed
 * name below it answers NODATA (an empty non-terminal); any other name answers NXDOMAIN, or NODATA
 * when `blackLies` is on (what some DNS providers answer for names that do not exist).
 */
export type ZoneValue = string | (string | string[])[] | { status: DnsStatus; error?: string };

export interface ZoneOptions {
  blackLies?: boolean;
}

export interface TestResolver extends Resolver {
  /** Every question asked, in order. */
  readonly asked: { name: string; type: RRType }[];
  /** The TXT names asked, in order. */
  txtNames(): string[];
}

function normalise(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

export function zone(entries: Record<string, ZoneValue>, options: ZoneOptions = {}): TestResolver {
  const data = new Map(Object.entries(entries).map(([name, value]) => [normalise(name), value]));
  const asked: { name: string; type: RRType }[] = [];

  const exists = (name: string) => [...data.keys()].some((key) => key === name || key.endsWith(`.${name}`));

  return {
    asked,
    txtNames: () => asked.filter((q) => q.type === 'TXT').map((q) => q.name),
    async query(rawName: string, type: RRType): Promise<DnsAnswer> {
      const name = normalise(rawName);
      asked.push({ name, type });
      const answer = (status: DnsStatus, records: DnsRecord[] = [], error?: string): DnsAnswer => ({
        name,
        type,
        status,
        records,
        authenticated: false,
        cnames: [],
        ...(error ? { error } : {}),
      });
      const value = data.get(name);
      if (value === undefined) return answer(exists(name) || options.blackLies ? 'NOERROR' : 'NXDOMAIN');
      if (typeof value === 'object' && !Array.isArray(value)) return answer(value.status, [], value.error);
      if (type !== 'TXT') return answer('NOERROR');
      const records = (Array.isArray(value) ? value : [value]).map((record): DnsRecord => {
        const strings = Array.isArray(record) ? record : [record];
        return { type: 'TXT', name, ttl: 300, text: strings.join(''), strings };
      });
      return answer('NOERROR', records);
    },
  };
}
