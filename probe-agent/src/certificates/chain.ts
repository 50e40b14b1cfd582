/**
 * Verifies the chain AS SENT against trust anchors (Node's public roots plus any --ca-file), the way
 * an MTA that does not fetch missing intermediates would: each link's signature, validity dates and
 * CA flag. Error texts follow OpenSSL's wording so operators recognise them.
 */
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import type { ChainFacts } from '../../../src/tls/probe-result.ts';

/** Splits a PEM bundle into certificates. */
export function parsePemBundle(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((block) => new X509Certificate(block));
}

/**
 * Trust anchors indexed by the DER of their subject name, parsed into X509Certificate only when a
 * chain names them as issuer. Parsing all ~140 public roots up front cost ~35 ms of a ~170 ms
 * one-off scan (most of the command's time after Node's own start-up); the index costs ~1 ms.
 */
export class TrustAnchors {
  private readonly bySubject = new Map<string, { der: Buffer; cert: X509Certificate | null }[]>();

  static fromPem(pems: readonly string[], extra: readonly X509Certificate[] = []): TrustAnchors {
    const anchors = new TrustAnchors();
    for (const pem of pems) {
      for (const block of pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []) {
        anchors.add(Buffer.from(block.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, ''), 'base64'), null);
      }
    }
    for (const cert of extra) anchors.add(cert.raw, cert);
    return anchors;
  }

  private add(der: Buffer, cert: X509Certificate | null) {
    const key = nameKey(der, 'subject');
    if (key === null) return; // not a certificate we can read: it could never be found as an issuer
    const list = this.bySubject.get(key) ?? [];
    list.push({ der, cert });
    this.bySubject.set(key, list);
  }

  /** Anchors whose subject is the certificate's issuer. */
  issuersOf(cert: X509Certificate): X509Certificate[] {
    const key = nameKey(cert.raw, 'issuer');
    return (key === null ? [] : (this.bySubject.get(key) ?? [])).map((entry) => (entry.cert ??= new X509Certificate(entry.der)));
  }

  /** The certificate itself is an anchor (same DER). */
  contains(cert: X509Certificate): boolean {
    const key = nameKey(cert.raw, 'subject');
    return key !== null && (this.bySubject.get(key) ?? []).some((entry) => entry.der.equals(cert.raw));
  }

  /** The same anchors plus more (e.g. --ca-file), without re-reading these. */
  with(extra: readonly X509Certificate[]): TrustAnchors {
    const copy = new TrustAnchors();
    for (const [key, list] of this.bySubject) copy.bySubject.set(key, [...list]);
    for (const cert of extra) copy.add(cert.raw, cert);
    return copy;
  }
}

/** One DER element: tag, and where its content starts and ends. */
function element(der: Uint8Array, at: number): { tag: number; start: number; end: number } | null {
  if (at + 2 > der.length) return null;
  const tag = der[at]!;
  let length = der[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets < 1 || octets > 4 || start + octets > der.length) return null;
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + der[start + i]!;
    start += octets;
  }
  return start + length <= der.length ? { tag, start, end: start + length } : null;
}

/**
 * The issuer or subject Name of a certificate as hex of its DER (RFC 5280 §4.1: Certificate → tbsCertificate
 * → [0] version?, serialNumber, signature, issuer, validity, subject). Byte equality is how chains
 * name their issuers in practice; OpenSSL's lookup by canonical name would only add case folding.
 */
function nameKey(der: Uint8Array, which: 'issuer' | 'subject'): string | null {
  const certificate = element(der, 0);
  const tbs = certificate && element(der, certificate.start);
  if (!tbs) return null;
  let field = element(der, tbs.start);
  if (field?.tag === 0xa0) field = element(der, field.end); // explicit version
  // serialNumber, signature, issuer, validity, subject
  for (let i = 0; field && i < (which === 'issuer' ? 2 : 4); i++) field = element(der, field.end);
  return field ? Buffer.from(der.subarray(field.start, field.end)).toString('hex') : null;
}

let publicRoots: TrustAnchors | null = null;
/** Node's bundled root store, indexed once. */
export function publicTrustAnchors(): TrustAnchors {
  publicRoots ??= TrustAnchors.fromPem(tls.rootCertificates);
  return publicRoots;
}

function issued(child: X509Certificate, parent: X509Certificate): boolean {
  try {
    return child.checkIssued(parent) && child.verify(parent.publicKey);
  } catch {
    return false;
  }
}

function dateError(cert: X509Certificate, now: Date): string | null {
  if (now < new Date(cert.validFrom)) return 'certificate is not yet valid';
  if (now > new Date(cert.validTo)) return 'certificate has expired';
  return null;
}

export function verifyChain(sentDer: readonly Uint8Array[], trust: TrustAnchors | readonly X509Certificate[], now: Date = new Date()): ChainFacts {
  const anchors = trust instanceof TrustAnchors ? trust : TrustAnchors.fromPem([], trust);
  const sent = sentDer.map((der) => new X509Certificate(der));
  if (!sent.length) return { trusted: false, error: 'no certificate', in_order: true, missing_intermediates: false };
  const inOrder = sent.every((cert, i) => i === sent.length - 1 || issued(cert, sent[i + 1]!));
  const isAnchor = (c: X509Certificate) => anchors.contains(c);

  const path: X509Certificate[] = [sent[0]!];
  let error: string | null = null;
  let missing = false;
  let anchored = false;
  for (let depth = 0; depth < 10; depth++) {
    const current = path[path.length - 1]!;
    if (isAnchor(current)) {
      anchored = true;
      break;
    }
    const anchor = anchors.issuersOf(current).find((a) => issued(current, a));
    if (anchor) {
      path.push(anchor);
      anchored = true;
      break;
    }
    const next = sent.find((c) => !path.includes(c) && c !== current && issued(current, c));
    if (next) {
      path.push(next);
      continue;
    }
    if (issued(current, current)) error = path.length === 1 ? 'self-signed certificate' : 'self-signed certificate in certificate chain';
    else {
      missing = true;
      error = path.length === 1 ? 'unable to verify the first certificate' : 'unable to get local issuer certificate';
    }
    break;
  }
  if (!anchored && !error) error = 'certificate chain too long';
  // A path that ends in an anchor which is not a root took an intermediate from outside the chain sent.
  const last = path[path.length - 1]!;
  if (anchored && !issued(last, last) && !sent.includes(last)) missing = true;
  if (!error) {
    for (const [i, cert] of path.entries()) {
      error = dateError(cert, now);
      if (error) break;
      if (i > 0 && !cert.ca) {
        error = 'invalid CA certificate';
        break;
      }
    }
  }
  return { trusted: anchored && error === null, error, in_order: inOrder, missing_intermediates: missing };
}
