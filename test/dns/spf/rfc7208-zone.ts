import type { RRType } from '../../../src/dns/resolver.ts';
import type { FailureStatus, StaticName, StaticRecord, StaticZone } from '../static-resolver.ts';

/**
 * Turns the `zonedata` of an openspf/RFC 7208 suite scenario into a StaticZone, reading it the way
 * pyspf's driver (test/testspf.py) does:
 * - `SPF` entries are served as TXT too, unless the name has a `TXT` entry; `TXT: NONE` is such an
 *   entry that adds no record.
 * - `TIMEOUT` times out every type that has no record listed before it (copied TXT records come
 *   after it).
 */

const ALL_TYPES: RRType[] = ['A', 'AAAA', 'TXT', 'SPF', 'MX', 'CNAME', 'PTR', 'NS', 'SOA', 'DS', 'DNSKEY', 'TLSA', 'CAA'];

type Entry = string | Record<string, unknown>;

function strings(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return [String(value)];
}

function toRecord(type: string, value: unknown): StaticRecord {
  switch (type) {
    case 'A':
    case 'AAAA':
      return { type, address: String(value) };
    case 'TXT':
    case 'SPF':
      return { type, strings: strings(value) };
    case 'MX': {
      const [preference, exchange] = value as [number, string];
      return { type, preference: Number(preference), exchange: String(exchange ?? '') };
    }
    case 'PTR':
    case 'CNAME':
      return { type, target: String(value) };
    default:
      throw new Error(`unsupported zonedata type ${type}`);
  }
}

export function zoneFromSuite(zonedata: Record<string, Entry[]>): StaticZone {
  const zone: StaticZone = {};
  for (const [name, entries] of Object.entries(zonedata)) {
    const hasTxt = entries.some((entry) => typeof entry === 'object' && 'TXT' in entry);
    const records: StaticRecord[] = [];
    const copiedTxt: StaticRecord[] = [];
    const seen = new Set<string>();
    const fail: Partial<Record<RRType | '*', FailureStatus>> = {};
    for (const entry of entries) {
      if (entry === 'TIMEOUT') {
        for (const type of ALL_TYPES) if (!seen.has(type)) fail[type] ??= 'TIMEOUT';
        continue;
      }
      if (typeof entry !== 'object') throw new Error(`unsupported zonedata entry ${String(entry)} at ${name}`);
      for (const [type, value] of Object.entries(entry)) {
        if (value === 'NONE') continue;
        records.push(toRecord(type, value));
        seen.add(type);
        if (type === 'SPF' && !hasTxt) copiedTxt.push(toRecord('TXT', value));
      }
    }
    const data: StaticName = { records: [...records, ...copiedTxt] };
    if (Object.keys(fail).length > 0) data.fail = fail;
    zone[name] = data;
  }
  return zone;
}
