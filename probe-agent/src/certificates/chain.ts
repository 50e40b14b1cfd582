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

let publicRoots: X509Certificate[] | null = null;
/** Node's bundled root store, parsed once. */
export function publicTrustAnchors(): X509Certificate[] {
  publicRoots ??= tls.rootCertificates.flatMap((pem) => parsePemBundle(pem));
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

export function verifyChain(sentDer: readonly Uint8Array[], anchors: readonly X509Certificate[], now: Date = new Date()): ChainFacts {
  const sent = sentDer.map((der) => new X509Certificate(der));
  if (!sent.length) return { trusted: false, error: 'no certificate', in_order: true, missing_intermediates: false };
  const inOrder = sent.every((cert, i) => i === sent.length - 1 || issued(cert, sent[i + 1]!));
  const isAnchor = (c: X509Certificate) => anchors.some((a) => a.fingerprint256 === c.fingerprint256);

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
    const anchor = anchors.find((a) => issued(current, a));
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
