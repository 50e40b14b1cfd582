/**
 * CertificateFacts for each DER certificate, parsed with PeculiarVentures' X.509 ASN.1 schemas
 * (@peculiar/asn1-x509, the parser under @peculiar/x509, without its DI container and polyfill, which
 * cost the command ~0.1 s of start-up); digests and the self-signature check with node:crypto.
 */
import { createHash, X509Certificate as NodeX509 } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_subjectAltName,
  type RDNSequence,
  SubjectAlternativeName,
} from '@peculiar/asn1-x509';
import { RSAPublicKey } from '@peculiar/asn1-rsa';
import type { CertificateFacts } from '../../../src/tls/probe-result.ts';

const SIGNATURE_ALGORITHMS: Record<string, string> = {
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'rsassaPss',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.113549.1.1.14': 'sha224WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10045.4.3.1': 'ecdsa-with-SHA224',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.3.101.112': 'ED25519',
  '1.3.101.113': 'ED448',
  '1.2.840.10040.4.3': 'dsa-with-SHA1',
  '2.16.840.1.101.3.4.3.2': 'dsa_with_SHA256',
};

const KEY_TYPES: Record<string, string> = {
  '1.2.840.113549.1.1.1': 'RSA',
  '1.2.840.113549.1.1.10': 'RSA-PSS',
  '1.2.840.10045.2.1': 'EC',
  '1.3.101.112': 'Ed25519',
  '1.3.101.113': 'Ed448',
  '1.2.840.10040.4.1': 'DSA',
};

const CURVE_BITS: Record<string, number> = {
  '1.2.840.10045.3.1.1': 192,
  '1.3.132.0.33': 224,
  '1.2.840.10045.3.1.7': 256,
  '1.3.132.0.10': 256,
  '1.3.132.0.34': 384,
  '1.3.132.0.35': 521,
  '1.3.36.3.3.2.8.1.1.7': 256,
  '1.3.36.3.3.2.8.1.1.11': 384,
  '1.3.36.3.3.2.8.1.1.13': 512,
};

const EKU_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};

const ATTRIBUTE_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.5': 'serialNumber',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

function escapeValue(value: string): string {
  return value
    .replace(/[\\,+"<>;=]/g, (c) => `\\${c}`)
    .replace(/^[ #]/, (c) => `\\${c}`)
    .replace(/ $/, '\\ ');
}

/** RFC 4514: the last RDN first, attributes of one RDN joined by '+'. */
export function rfc4514(name: RDNSequence): string {
  return [...name]
    .reverse()
    .map((rdn) =>
      [...rdn]
        .map((atv) => {
          const type = ATTRIBUTE_NAMES[atv.type] ?? atv.type;
          return `${type}=${escapeValue(atv.value.toString())}`;
        })
        .join('+'),
    )
    .join(',');
}

function hex(bytes: Uint8Array | ArrayBuffer): string {
  return Buffer.from(bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes).toString('hex');
}

function bitLength(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  return i === bytes.length ? 0 : (bytes.length - i - 1) * 8 + (32 - Math.clz32(bytes[i]!));
}

function keyFacts(cert: Certificate): { key_type: string; key_bits: number } {
  const spki = cert.tbsCertificate.subjectPublicKeyInfo;
  const oid = spki.algorithm.algorithm;
  const key_type = KEY_TYPES[oid] ?? oid;
  if (key_type === 'RSA' || key_type === 'RSA-PSS') {
    const key = AsnConvert.parse(spki.subjectPublicKey, RSAPublicKey);
    return { key_type, key_bits: bitLength(new Uint8Array(key.modulus)) };
  }
  if (key_type === 'EC' && spki.algorithm.parameters) {
    return { key_type, key_bits: CURVE_BITS[decodeOid(new Uint8Array(spki.algorithm.parameters))] ?? 0 };
  }
  if (key_type === 'Ed25519') return { key_type, key_bits: 256 };
  if (key_type === 'Ed448') return { key_type, key_bits: 456 };
  return { key_type, key_bits: 0 };
}

/** Decodes a DER OBJECT IDENTIFIER (the EC namedCurve parameter, RFC 5480). */
function decodeOid(der: Uint8Array): string {
  if (der[0] !== 0x06 || der.length < 3) return '';
  const body = der.subarray(2, 2 + der[1]!);
  const arcs: number[] = [Math.floor(body[0]! / 40), body[0]! % 40];
  let value = 0;
  for (const b of body.subarray(1)) {
    value = value * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      arcs.push(value);
      value = 0;
    }
  }
  return arcs.join('.');
}

/** The parsed value of an extension, or null when absent or unparseable. */
function extension<T>(cert: Certificate, oid: string, type: new () => T): T | null {
  const found = cert.tbsCertificate.extensions?.find((e) => e.extnID === oid);
  if (!found) return null;
  try {
    return AsnConvert.parse(found.extnValue.buffer, type);
  } catch {
    return null;
  }
}

/** Everything the contract records about one certificate. */
export function certificateFacts(der: Uint8Array): CertificateFacts {
  const asn = AsnConvert.parse(der, Certificate);
  const tbs = asn.tbsCertificate;
  const node = new NodeX509(der);
  const spkiDer = AsnConvert.serialize(tbs.subjectPublicKeyInfo);
  const san = extension(asn, id_ce_subjectAltName, SubjectAlternativeName);
  const basic = extension(asn, id_ce_basicConstraints, BasicConstraints);
  const eku = extension(asn, id_ce_extKeyUsage, ExtendedKeyUsage);
  const subject = rfc4514(tbs.subject);
  const issuer = rfc4514(tbs.issuer);
  let selfSigned = false;
  try {
    selfSigned = subject === issuer && node.verify(node.publicKey);
  } catch {
    // A key algorithm OpenSSL cannot verify with: not provably self-signed.
  }
  return {
    subject,
    issuer,
    not_before: tbs.validity.notBefore.getTime().toISOString(),
    not_after: tbs.validity.notAfter.getTime().toISOString(),
    sha256: createHash('sha256').update(der).digest('hex'),
    spki_sha256: createHash('sha256').update(new Uint8Array(spkiDer)).digest('hex'),
    der: Buffer.from(der).toString('base64'),
    serial: hex(tbs.serialNumber),
    san_dns: san ? san.flatMap((n) => (n.dNSName !== undefined ? [n.dNSName] : [])) : [],
    ...keyFacts(asn),
    signature_algorithm: SIGNATURE_ALGORITHMS[asn.signatureAlgorithm.algorithm] ?? asn.signatureAlgorithm.algorithm,
    self_signed: selfSigned,
    is_ca: basic?.cA ?? false,
    extended_key_usage: eku ? eku.map((u) => EKU_NAMES[String(u)] ?? String(u)) : [],
  };
}

export { hex as toHex };
