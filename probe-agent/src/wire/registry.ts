/**
 * Code points the hand-built ClientHello offers, with IANA names (TLS Supported Groups and
 * TLS SignatureScheme registries). Pure data.
 */
import type { ProtocolName } from '../../../src/tls/probe-result.ts';

export const VERSION_CODE: Record<ProtocolName, number> = {
  SSLv2: 0x0002,
  SSLv3: 0x0300,
  'TLSv1.0': 0x0301,
  'TLSv1.1': 0x0302,
  'TLSv1.2': 0x0303,
  'TLSv1.3': 0x0304,
};

export function protocolOfVersion(code: number): ProtocolName | null {
  for (const [name, value] of Object.entries(VERSION_CODE)) if (value === code) return name as ProtocolName;
  return null;
}

export interface GroupInfo {
  id: number;
  name: string;
  /** Strength of the (EC)DH part in bits, as OpenSSL reports it (x25519: 253); null for hybrids. */
  bits: number | null;
  kind: 'ec' | 'ff' | 'hybrid';
  /** Allowed in TLS 1.3 (RFC 8446 §4.2.7 removed the old binary and small prime curves). */
  tls13: boolean;
}

// Strongest and most common first, so a server that picks by the client's order picks a real one.
export const GROUPS: readonly GroupInfo[] = [
  { id: 0x11ec, name: 'X25519MLKEM768', bits: null, kind: 'hybrid', tls13: true },
  { id: 0x11eb, name: 'SecP256r1MLKEM768', bits: null, kind: 'hybrid', tls13: true },
  { id: 0x11ed, name: 'SecP384r1MLKEM1024', bits: null, kind: 'hybrid', tls13: true },
  { id: 0x001d, name: 'x25519', bits: 253, kind: 'ec', tls13: true },
  { id: 0x0017, name: 'secp256r1', bits: 256, kind: 'ec', tls13: true },
  { id: 0x001e, name: 'x448', bits: 448, kind: 'ec', tls13: true },
  { id: 0x0018, name: 'secp384r1', bits: 384, kind: 'ec', tls13: true },
  { id: 0x0019, name: 'secp521r1', bits: 521, kind: 'ec', tls13: true },
  { id: 0x001f, name: 'brainpoolP256r1tls13', bits: 256, kind: 'ec', tls13: true },
  { id: 0x0020, name: 'brainpoolP384r1tls13', bits: 384, kind: 'ec', tls13: true },
  { id: 0x0021, name: 'brainpoolP512r1tls13', bits: 512, kind: 'ec', tls13: true },
  { id: 0x0100, name: 'ffdhe2048', bits: 2048, kind: 'ff', tls13: true },
  { id: 0x0101, name: 'ffdhe3072', bits: 3072, kind: 'ff', tls13: true },
  { id: 0x0102, name: 'ffdhe4096', bits: 4096, kind: 'ff', tls13: true },
  { id: 0x0103, name: 'ffdhe6144', bits: 6144, kind: 'ff', tls13: true },
  { id: 0x0104, name: 'ffdhe8192', bits: 8192, kind: 'ff', tls13: true },
  { id: 0x001a, name: 'brainpoolP256r1', bits: 256, kind: 'ec', tls13: false },
  { id: 0x001b, name: 'brainpoolP384r1', bits: 384, kind: 'ec', tls13: false },
  { id: 0x001c, name: 'brainpoolP512r1', bits: 512, kind: 'ec', tls13: false },
  { id: 0x0016, name: 'secp256k1', bits: 256, kind: 'ec', tls13: false },
  { id: 0x0015, name: 'secp224r1', bits: 224, kind: 'ec', tls13: false },
  { id: 0x0014, name: 'secp224k1', bits: 224, kind: 'ec', tls13: false },
  { id: 0x0013, name: 'secp192r1', bits: 192, kind: 'ec', tls13: false },
  { id: 0x0012, name: 'secp192k1', bits: 192, kind: 'ec', tls13: false },
  { id: 0x0011, name: 'secp160r2', bits: 160, kind: 'ec', tls13: false },
  { id: 0x0010, name: 'secp160r1', bits: 160, kind: 'ec', tls13: false },
  { id: 0x000f, name: 'secp160k1', bits: 160, kind: 'ec', tls13: false },
  { id: 0x000e, name: 'sect571r1', bits: 571, kind: 'ec', tls13: false },
  { id: 0x000d, name: 'sect571k1', bits: 571, kind: 'ec', tls13: false },
  { id: 0x000c, name: 'sect409r1', bits: 409, kind: 'ec', tls13: false },
  { id: 0x000b, name: 'sect409k1', bits: 409, kind: 'ec', tls13: false },
  { id: 0x000a, name: 'sect283r1', bits: 283, kind: 'ec', tls13: false },
  { id: 0x0009, name: 'sect283k1', bits: 283, kind: 'ec', tls13: false },
  { id: 0x0008, name: 'sect239k1', bits: 239, kind: 'ec', tls13: false },
  { id: 0x0007, name: 'sect233r1', bits: 233, kind: 'ec', tls13: false },
  { id: 0x0006, name: 'sect233k1', bits: 233, kind: 'ec', tls13: false },
  { id: 0x0005, name: 'sect193r2', bits: 193, kind: 'ec', tls13: false },
  { id: 0x0004, name: 'sect193r1', bits: 193, kind: 'ec', tls13: false },
  { id: 0x0003, name: 'sect163r2', bits: 163, kind: 'ec', tls13: false },
  { id: 0x0002, name: 'sect163r1', bits: 163, kind: 'ec', tls13: false },
  { id: 0x0001, name: 'sect163k1', bits: 163, kind: 'ec', tls13: false },
];

const GROUP_BY_ID = new Map(GROUPS.map((g) => [g.id, g]));
export function groupInfo(id: number): GroupInfo | undefined {
  return GROUP_BY_ID.get(id);
}
export function groupName(id: number): string {
  return GROUP_BY_ID.get(id)?.name ?? `0x${id.toString(16).padStart(4, '0')}`;
}

/** SignatureScheme code points; the legacy hash/signature pairs of TLS 1.2 (RFC 5246 §7.4.1.4.1) too. */
export const SIGNATURE_SCHEMES: ReadonlyMap<number, string> = new Map([
  [0x0804, 'rsa_pss_rsae_sha256'],
  [0x0805, 'rsa_pss_rsae_sha384'],
  [0x0806, 'rsa_pss_rsae_sha512'],
  [0x0403, 'ecdsa_secp256r1_sha256'],
  [0x0503, 'ecdsa_secp384r1_sha384'],
  [0x0603, 'ecdsa_secp521r1_sha512'],
  [0x0807, 'ed25519'],
  [0x0808, 'ed448'],
  [0x0809, 'rsa_pss_pss_sha256'],
  [0x080a, 'rsa_pss_pss_sha384'],
  [0x080b, 'rsa_pss_pss_sha512'],
  [0x081a, 'ecdsa_brainpoolP256r1tls13_sha256'],
  [0x081b, 'ecdsa_brainpoolP384r1tls13_sha384'],
  [0x081c, 'ecdsa_brainpoolP512r1tls13_sha512'],
  [0x0401, 'rsa_pkcs1_sha256'],
  [0x0501, 'rsa_pkcs1_sha384'],
  [0x0601, 'rsa_pkcs1_sha512'],
  [0x0301, 'rsa_pkcs1_sha224'],
  [0x0303, 'ecdsa_sha224'],
  [0x0201, 'rsa_pkcs1_sha1'],
  [0x0203, 'ecdsa_sha1'],
  [0x0402, 'dsa_sha256'],
  [0x0502, 'dsa_sha384'],
  [0x0602, 'dsa_sha512'],
  [0x0302, 'dsa_sha224'],
  [0x0202, 'dsa_sha1'],
  [0x0101, 'rsa_pkcs1_md5'],
]);
export const TLS13_SIGNATURE_SCHEMES = [0x0804, 0x0805, 0x0806, 0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0809, 0x080a, 0x080b, 0x081a, 0x081b, 0x081c, 0x0401, 0x0501, 0x0601, 0x0201, 0x0203];
export function signatureSchemeName(id: number): string {
  return SIGNATURE_SCHEMES.get(id) ?? `0x${id.toString(16).padStart(4, '0')}`;
}

export const ALERTS: ReadonlyMap<number, string> = new Map([
  [0, 'close_notify'],
  [10, 'unexpected_message'],
  [20, 'bad_record_mac'],
  [22, 'record_overflow'],
  [40, 'handshake_failure'],
  [42, 'bad_certificate'],
  [47, 'illegal_parameter'],
  [50, 'decode_error'],
  [51, 'decrypt_error'],
  [70, 'protocol_version'],
  [71, 'insufficient_security'],
  [80, 'internal_error'],
  [86, 'inappropriate_fallback'],
  [90, 'user_canceled'],
  [109, 'missing_extension'],
  [110, 'unsupported_extension'],
  [112, 'unrecognized_name'],
]);

export const TLS_FALLBACK_SCSV = 0x5600;
export const TLS_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00ff;
