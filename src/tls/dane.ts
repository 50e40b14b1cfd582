/**
 * DANE for SMTP (RFC 7672, RFC 6698): the TLSA records at `_25._tcp.<mx host>` and whether a usable
 * one matches the certificate chain. Only WebCrypto and the injected Resolver, so the probe agent and
 * the Worker share it.
 *
 * Usable for SMTP (RFC 7672 §3.1.3): usages DANE-TA(2) and DANE-EE(3); PKIX-TA(0)/PKIX-EE(1) are not.
 * Selectors: 0 full certificate, 1 SubjectPublicKeyInfo. Matching: 0 exact, 1 SHA-256, 2 SHA-512.
 */
import type { Resolver } from '../dns/resolver.ts';
import type { DaneFacts, TlsaRecordFacts } from './probe-result.ts';

/** The certificate fields the matcher needs: the DER, base64 (as in CertificateFacts). */
export interface DaneCertificate {
  der: string;
}

export function tlsaName(mxHost: string, port = 25): string {
  return `_${port}._tcp.${mxHost.replace(/\.$/, '').toLowerCase()}`;
}

export function isUsableTlsa(record: TlsaRecordFacts): boolean {
  return (record.usage === 2 || record.usage === 3) && (record.selector === 0 || record.selector === 1) && record.matching_type >= 0 && record.matching_type <= 2;
}

function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** One DER element at `pos`: where its content starts and where the element ends. */
function derElement(der: Uint8Array, pos: number): { tag: number; start: number; end: number } {
  const tag = der[pos]!;
  let length = der[pos + 1]!;
  let start = pos + 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + der[start + i]!;
    start += n;
  }
  if (start + length > der.length) throw new RangeError('truncated DER');
  return { tag, start, end: start + length };
}

/** The DER SubjectPublicKeyInfo inside a certificate (RFC 5280 §4.1: the seventh TBS field, counting an explicit version). */
export function subjectPublicKeyInfo(certDer: Uint8Array): Uint8Array {
  const cert = derElement(certDer, 0);
  const tbs = derElement(certDer, cert.start);
  let pos = tbs.start;
  let element = derElement(certDer, pos);
  if (element.tag === 0xa0) {
    pos = element.end; // [0] version
    element = derElement(certDer, pos);
  }
  // serialNumber, signature, issuer, validity, subject, then subjectPublicKeyInfo.
  for (let i = 0; i < 5; i++) {
    pos = element.end;
    element = derElement(certDer, pos);
  }
  return certDer.subarray(pos, element.end);
}

async function digest(matchingType: number, data: Uint8Array): Promise<string> {
  if (matchingType === 0) return toHex(data);
  const algorithm = matchingType === 1 ? 'SHA-256' : 'SHA-512';
  return toHex(new Uint8Array(await crypto.subtle.digest(algorithm, data)));
}

/**
 * True when a usable record matches: DANE-EE against the leaf, DANE-TA against any certificate the
 * server sent after the leaf (RFC 7671 §5.2.2: the trust anchor must be in the chain presented).
 * Null when no record is usable.
 */
export async function matchTlsa(records: readonly TlsaRecordFacts[], chain: readonly DaneCertificate[]): Promise<boolean | null> {
  const usable = records.filter(isUsableTlsa);
  if (!usable.length) return null;
  const ders = chain.map((c) => base64ToBytes(c.der));
  for (const record of usable) {
    const candidates = record.usage === 3 ? ders.slice(0, 1) : ders.slice(1);
    for (const der of candidates) {
      let data: Uint8Array;
      try {
        data = record.selector === 0 ? der : subjectPublicKeyInfo(der);
      } catch {
        continue;
      }
      if ((await digest(record.matching_type, data)) === record.data.toLowerCase()) return true;
    }
  }
  return false;
}

/** Looks up the TLSA records for an MX host and matches them. Only a validated (AD) answer counts for DANE. */
export async function daneFacts(resolver: Resolver, mxHost: string, chain: readonly DaneCertificate[], port = 25): Promise<DaneFacts> {
  const name = tlsaName(mxHost, port);
  const answer = await resolver.query(name, 'TLSA');
  const records: TlsaRecordFacts[] = answer.records.flatMap((r) => {
    if (r.type !== 'TLSA') return [];
    const data = r.data as { usage: number; selector: number; matchingType: number; certificate: string };
    return [{ usage: data.usage, selector: data.selector, matching_type: data.matchingType, data: data.certificate.toLowerCase() }];
  });
  const facts: DaneFacts = {
    name,
    dns_status: answer.status,
    authenticated: answer.authenticated,
    records,
    matched: chain.length ? await matchTlsa(records, chain) : records.some(isUsableTlsa) ? false : null,
  };
  if (answer.status === 'SERVFAIL') facts.address_authenticated = await addressAuthenticated(resolver, mxHost);
  return facts;
}

/** The host's A (else AAAA) answer is DNSSEC-validated: a DANE sender then looks for TLSA records. */
async function addressAuthenticated(resolver: Resolver, host: string): Promise<boolean> {
  const a = await resolver.query(host, 'A');
  if (a.status === 'NOERROR' && a.records.length > 0) return a.authenticated;
  const aaaa = await resolver.query(host, 'AAAA');
  return aaaa.status === 'NOERROR' && aaaa.records.length > 0 && aaaa.authenticated;
}
