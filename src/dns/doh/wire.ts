/**
 * DNS wire format through `dns-packet`, the one place that touches it (and its Node `Buffer`, which
 * workerd provides with the `nodejs_compat` flag). The rest of the client sees plain objects.
 */
import { Buffer } from 'node:buffer';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, RecordType } from 'dns-packet';
import type { DnsRecord, RRType } from '../resolver.ts';

/** What the client needs from a response message. */
export interface DecodedResponse {
  id: number;
  /** The RCODE's name (NOERROR, NXDOMAIN, …). */
  rcode: string;
  authenticated: boolean;
  truncated: boolean;
  /** The question as echoed, lower-case, without the trailing dot. */
  question?: { name: string; type: string };
  /** Answer-section records, in order: CNAMEs and records of the asked type (RRSIGs dropped). */
  answers: DnsRecord[];
  /** The authority section carries an SOA: the answer is a final negative one (RFC 2308). */
  negative: boolean;
  /** How long a negative answer may be cached: min(SOA TTL, SOA minimum), RFC 2308 §5. */
  negativeTtl?: number;
  /** The resolver's Extended DNS Error (RFC 8914), e.g. "DNSSEC Bogus (EDE 6): …". */
  extendedError?: string;
}

/** An RFC 8484 query: id 0, RD, and EDNS0 with the DO bit so a validating resolver sets AD. */
export function encodeQuery(name: string, type: RRType): Uint8Array {
  const invalid = invalidName(name);
  if (invalid) throw new Error(invalid);
  const message = dnsPacket.encode({
    type: 'query',
    id: 0,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.AUTHENTIC_DATA,
    // dns-packet knows SPF (99) though its type definitions leave it out.
    questions: [{ type: type as RecordType, name, class: 'IN' }],
    additionals: [
      { type: 'OPT', name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: dnsPacket.DNSSEC_OK, flag_do: true, options: [] },
    ],
  });
  return new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
}

/** Throws on a malformed message (the caller reports ERROR with the text). */
export function decodeResponse(bytes: Uint8Array): DecodedResponse {
  const packet = dnsPacket.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) as DecodedPacket & {
    rcode?: string;
  };
  if (!packet.flag_qr) throw new Error('the message is a query, not a response');
  const question = packet.questions?.[0];
  const soa = (packet.authorities ?? []).find((a) => a.type === 'SOA');
  const extendedError = readExtendedError(packet.additionals ?? []);
  const negativeTtl = soa && soa.type === 'SOA' ? Math.min(soa.ttl ?? 0, soa.data.minimum ?? 0) : undefined;
  return {
    id: packet.id ?? 0,
    rcode: packet.rcode ?? 'NOERROR',
    authenticated: packet.flag_ad,
    truncated: packet.flag_tc,
    ...(question ? { question: { name: normaliseName(question.name), type: question.type } } : {}),
    answers: (packet.answers ?? []).flatMap((a) => toRecord(a) ?? []),
    negative: soa !== undefined,
    ...(negativeTtl !== undefined ? { negativeTtl } : {}),
    ...(extendedError !== undefined ? { extendedError } : {}),
  };
}

function invalidName(name: string): string | undefined {
  if (name === '.') return undefined;
  if (name.length > 253) return 'the name is longer than 253 characters';
  const labels = name.split('.');
  if (labels.some((l) => l.length === 0)) return 'the name has an empty label';
  if (labels.some((l) => new TextEncoder().encode(l).length > 63)) return 'the name has a label longer than 63 octets';
  return undefined;
}

/** RFC 8914 §5.2 names, for the codes a validating resolver gives most. */
const EDE_NAMES: Readonly<Record<number, string>> = {
  0: 'Other', 1: 'Unsupported DNSKEY Algorithm', 2: 'Unsupported DS Digest Type', 3: 'Stale Answer', 4: 'Forged Answer',
  5: 'DNSSEC Indeterminate', 6: 'DNSSEC Bogus', 7: 'Signature Expired', 8: 'Signature Not Yet Valid', 9: 'DNSKEY Missing',
  10: 'RRSIGs Missing', 11: 'No Zone Key Bit Set', 12: 'NSEC Missing', 13: 'Cached Error', 14: 'Not Ready', 15: 'Blocked',
  16: 'Censored', 17: 'Filtered', 18: 'Prohibited', 19: 'Stale NXDOMAIN Answer', 20: 'Not Authoritative', 21: 'Not Supported',
  22: 'No Reachable Authority', 23: 'Network Error', 24: 'Invalid Data',
};

/** The EDNS option 15 payload: a 16-bit INFO-CODE, then optional UTF-8 EXTRA-TEXT. */
function readExtendedError(additionals: Answer[]): string | undefined {
  for (const a of additionals) {
    if (a.type !== 'OPT') continue;
    for (const option of (a.options ?? []) as Array<{ code: number; data?: Uint8Array }>) {
      if (option.code !== 15 || !option.data || option.data.length < 2) continue;
      const code = (option.data[0]! << 8) | option.data[1]!;
      const text = utf8.decode(option.data.subarray(2)).replace(/\0+$/, '');
      return `${EDE_NAMES[code] ?? 'Extended DNS Error'} (EDE ${code})${text ? `: ${text}` : ''}`;
    }
  }
  return undefined;
}

/** Lower-case, one trailing dot dropped; the root stays '.'. */
export function normaliseName(name: string): string {
  const lower = name.trim().toLowerCase();
  if (lower === '' || lower === '.') return '.';
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

const RR_TYPES: ReadonlySet<string> = new Set<RRType>(['A', 'AAAA', 'TXT', 'SPF', 'MX', 'CNAME', 'PTR', 'NS', 'SOA', 'DS', 'DNSKEY', 'TLSA', 'CAA']);
const utf8 = new TextDecoder('utf-8');

function toRecord(answer: Answer): DnsRecord | undefined {
  if (!RR_TYPES.has(answer.type) || !('data' in answer)) return undefined;
  const name = normaliseName(answer.name);
  const ttl = answer.ttl ?? 0;
  switch (answer.type) {
    case 'A':
    case 'AAAA':
      return { type: answer.type, name, ttl, address: answer.data };
    case 'CNAME':
    case 'PTR':
    case 'NS':
      return { type: answer.type, name, ttl, target: normaliseName(answer.data) };
    case 'MX':
      return { type: 'MX', name, ttl, preference: answer.data.preference ?? 0, exchange: normaliseName(answer.data.exchange) };
    case 'TXT':
      return textRecord('TXT', name, ttl, Array.isArray(answer.data) ? answer.data : [answer.data]);
    case 'SOA':
      return { type: 'SOA', name, ttl, data: { ...answer.data, mname: normaliseName(answer.data.mname), rname: normaliseName(answer.data.rname) } };
    case 'DS':
      return { type: 'DS', name, ttl, data: { keyTag: answer.data.keyTag, algorithm: answer.data.algorithm, digestType: answer.data.digestType, digest: toHex(answer.data.digest) } };
    case 'DNSKEY':
      return { type: 'DNSKEY', name, ttl, data: { flags: answer.data.flags, algorithm: answer.data.algorithm, key: answer.data.key.toString('base64') } };
    case 'TLSA':
      return {
        type: 'TLSA',
        name,
        ttl,
        data: { usage: answer.data.usage, selector: answer.data.selector, matchingType: answer.data.matchingType, certificate: toHex(answer.data.certificate) },
      };
    case 'CAA':
      return { type: 'CAA', name, ttl, data: { flags: answer.data.flags ?? 0, tag: answer.data.tag, value: answer.data.value } };
    default: {
      // SPF (type 99) has TXT's RDATA, but dns-packet hands it over undecoded: decode it as TXT.
      const data: unknown = answer.data;
      if ((answer.type as string) === 'SPF' && Buffer.isBuffer(data)) {
        const length = Buffer.alloc(2);
        length.writeUInt16BE(data.length);
        return textRecord('SPF', name, ttl, txtCodec().decode(Buffer.concat([length, data])));
      }
      return undefined;
    }
  }
}

function textRecord(type: 'TXT' | 'SPF', name: string, ttl: number, parts: Array<string | Buffer>): DnsRecord {
  const strings = parts.map((p) => (typeof p === 'string' ? p : utf8.decode(p)));
  return { type, name, ttl, text: strings.join(''), strings };
}

/** dns-packet's TXT RDATA codec (exported by the package, absent from its type definitions). */
function txtCodec(): { decode(buf: Buffer): Buffer[] } {
  return (dnsPacket as unknown as { txt: { decode(buf: Buffer): Buffer[] } }).txt;
}

function toHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}
