/**
 * The NCSC-NL TLS guidelines' four bands (IT Security Guidelines for TLS, v2.1), used for every
 * configuration choice the probe sees, and the server grade built from them.
 */
import { suiteProperties, type SuiteProperties } from './cipher-suite.ts';

export const BANDS = ['good', 'sufficient', 'phase_out', 'insufficient'] as const;
export type Band = (typeof BANDS)[number];

export type ServerGrade = Band | 'inconclusive' | 'no_tls';

export function worseBand(a: Band, b: Band): Band {
  return BANDS.indexOf(a) >= BANDS.indexOf(b) ? a : b;
}

export function worstBand(bands: Iterable<Band>): Band {
  let worst: Band = 'good';
  for (const band of bands) worst = worseBand(worst, band);
  return worst;
}

/**
 * NCSC-NL v2.1 appendix, by the suite's parts:
 * - insufficient: no encryption or no authentication (NULL, anon), export-grade, DES, RC4, RC2, IDEA,
 *   MD5 MACs, static (EC)DH, and PSK/SRP/Kerberos (a public MX has no shared secret with strangers);
 * - phase out: RSA key transport (no forward secrecy), 3DES (64-bit blocks, Sweet32), CCM_8 (64-bit
 *   tags), and Camellia/ARIA/SEED, which the guidelines do not list: no known break, but no sender
 *   needs them either;
 * - sufficient: DHE with AES or ChaCha20, ECDHE with AES-CBC, TLS 1.3 AES-CCM;
 * - good: ECDHE with AES-GCM or ChaCha20-Poly1305, TLS 1.3 AES-GCM and ChaCha20-Poly1305.
 */
export function suiteBand(suite: SuiteProperties | string): Band {
  const s = typeof suite === 'string' ? suiteProperties(suite) : suite;
  if (s.signalling) return 'good';
  const insecureCipher = ['NULL', 'DES', 'RC4', 'RC2', 'IDEA'].includes(s.cipher) || s.cipherBits < 112;
  if (insecureCipher || s.export || s.authentication === 'anon' || s.authentication === 'NULL' || s.mac === 'MD5') return 'insufficient';
  if (!['ECDHE', 'DHE', 'RSA', 'TLS13'].includes(s.keyExchange)) return 'insufficient';
  if (s.keyExchange === 'RSA' || s.cipher === '3DES' || s.mode === 'CCM_8' || !['AES', 'CHACHA20'].includes(s.cipher)) return 'phase_out';
  if (s.keyExchange === 'DHE' || s.mode === 'CBC' || s.mode === 'CCM') return 'sufficient';
  if (s.mode === 'GCM' || s.mode === 'POLY1305') return 'good';
  return 'phase_out';
}

const GOOD_GROUPS = new Set(['x25519', 'x448', 'secp256r1', 'secp384r1', 'secp521r1', 'x25519mlkem768', 'secp256r1mlkem768', 'secp384r1mlkem1024', 'mlkem768', 'mlkem1024', 'x25519kyber768draft00']);
/** Field sizes of the legacy curves the registry still lists (RFC 8422 deprecated all but three). */
const CURVE_BITS: Record<string, number> = { secp160k1: 160, secp160r1: 160, secp160r2: 160, secp192k1: 192, secp192r1: 192, secp224k1: 224, secp224r1: 224, secp256k1: 256, sect163k1: 163, sect163r1: 163, sect163r2: 163, sect193r1: 193, sect193r2: 193, sect233k1: 233, sect233r1: 233, sect239k1: 239, sect283k1: 283, sect283r1: 283, sect409k1: 409, sect409r1: 409, sect571k1: 571, sect571r1: 571, brainpoolp256r1: 256, brainpoolp384r1: 384, brainpoolp512r1: 512 };

/** Finite-field DH sizes (RFC 7919 groups or the server's own): NCSC-NL ≥ 3072 sufficient, 2048 phase out. */
export function dhBand(bits: number): Band {
  if (bits >= 3072) return 'sufficient';
  if (bits >= 2048) return 'phase_out';
  return 'insufficient';
}

/**
 * Named groups: X25519, X448, the NIST P-curves and the ML-KEM hybrids good; ffdhe by size; legacy
 * curves under 224 bits insufficient, 224-255 bits phase out, others (brainpool, larger binary
 * curves) sufficient: not broken, but not what the guidelines ask for.
 */
export function groupBand(group: string): Band {
  const g = group.toLowerCase();
  if (GOOD_GROUPS.has(g)) return 'good';
  const ffdhe = /^ffdhe(\d+)$/.exec(g);
  if (ffdhe) return dhBand(Number(ffdhe[1]));
  const bits = CURVE_BITS[g];
  if (bits === undefined) return 'sufficient';
  if (bits < 224) return 'insufficient';
  if (bits < 256) return 'phase_out';
  return 'sufficient';
}

/** Signature schemes (RFC 8446 names, or `<hash>WithRSAEncryption` style): MD5 insufficient, SHA-1 phase out (RFC 9155). */
export function signatureBand(algorithm: string): Band {
  const a = algorithm.toLowerCase();
  if (a.includes('md5')) return 'insufficient';
  if (/sha-?1(?!\d)|sha224/.test(a)) return 'phase_out';
  return 'good';
}
