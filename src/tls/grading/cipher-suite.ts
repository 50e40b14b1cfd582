/**
 * What an IANA cipher-suite name says about the suite: key exchange, authentication, bulk cipher and
 * its mode, MAC, and from those forward secrecy and AEAD. Parsed from the name (the registry's names
 * are systematic: `TLS_<kx>_<auth>_WITH_<cipher>_<mode>_<mac>`, TLS 1.3 `TLS_<cipher>_<mode>_<hash>`),
 * so a suite the agent reports that no list here names is still understood.
 */

export type KeyExchange = 'ECDHE' | 'DHE' | 'RSA' | 'ECDH' | 'DH' | 'PSK' | 'SRP' | 'KRB5' | 'NULL' | 'TLS13' | 'OTHER';

export interface SuiteProperties {
  name: string;
  /** `TLS13`: TLS 1.3 suites leave key exchange to the (always ephemeral) key_share. */
  keyExchange: KeyExchange;
  /** `RSA`, `ECDSA`, `DSS`, `PSK`, `anon`, `any` (TLS 1.3: the certificate decides). */
  authentication: string;
  /** `AES`, `CHACHA20`, `3DES`, `DES`, `RC4`, `RC2`, `CAMELLIA`, `ARIA`, `SEED`, `IDEA`, `NULL`, … */
  cipher: string;
  /** Key bits of the bulk cipher (3DES: 112, its effective strength); 0 for NULL. */
  cipherBits: number;
  /** `GCM`, `CCM`, `CCM_8`, `POLY1305`, `CBC`, `STREAM` (RC4), `NONE` (NULL), `OTHER`. */
  mode: string;
  /** HMAC hash for non-AEAD suites (`SHA`, `SHA256`, `SHA384`, `MD5`); for AEAD the PRF hash or `AEAD`. */
  mac: string;
  export: boolean;
  forwardSecrecy: boolean;
  aead: boolean;
  /** A signalling value (TLS_EMPTY_RENEGOTIATION_INFO_SCSV, TLS_FALLBACK_SCSV), not a suite. */
  signalling: boolean;
}

const MAC_TOKENS = new Set(['SHA', 'SHA1', 'SHA256', 'SHA384', 'SHA512', 'MD5', 'SM3', 'OMAC', 'IMIT', 'NULL']);
const CIPHER_BITS: Record<string, number> = { '3DES': 112, DES: 56, DES40: 40, IDEA: 128, SEED: 128, CHACHA20: 256, NULL: 0, SM4: 128, KUZNYECHIK: 256, MAGMA: 256, '28147': 256 };
const KEY_EXCHANGES = new Set<KeyExchange>(['ECDHE', 'DHE', 'RSA', 'ECDH', 'DH', 'PSK', 'SRP', 'KRB5', 'NULL']);

export function suiteProperties(ianaName: string): SuiteProperties {
  const name = ianaName.trim().toUpperCase().replace(/^(TLS|SSL)_/, '').replace(/^CK_/, '');
  const withAt = name.indexOf('_WITH_');
  if (name.endsWith('_SCSV')) {
    return { name: ianaName, keyExchange: 'OTHER', authentication: 'none', cipher: 'NULL', cipherBits: 0, mode: 'NONE', mac: 'NULL', export: false, forwardSecrecy: false, aead: false, signalling: true };
  }
  let keyExchange: KeyExchange;
  let authentication: string;
  let exported = false;
  let bulk: string[];
  if (withAt < 0) {
    // TLS 1.3 (RFC 8446 B.4): TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256, TLS_AES_128_CCM_8_SHA256.
    // (SSLv2 names such as SSL_CK_RC4_128_WITH_MD5 have a WITH and no key exchange: RSA below.)
    keyExchange = 'TLS13';
    authentication = 'any';
    bulk = name.split('_');
  } else {
    const left = name.slice(0, withAt).split('_').filter((t) => {
      if (t.startsWith('EXPORT')) exported = true;
      return !t.startsWith('EXPORT');
    });
    bulk = name.slice(withAt + '_WITH_'.length).split('_');
    // SSLv2 "RC4_128_WITH_MD5": the cipher is on the left, the MAC on the right, RSA key transport.
    if (left.length > 0 && /^(RC4|RC2|DES|IDEA|DES)/.test(left[0]!) && !KEY_EXCHANGES.has(left[0] as KeyExchange)) {
      bulk = [...left, ...bulk];
      left.splice(0, left.length, 'RSA');
    }
    const first = (left[0] ?? 'OTHER') as KeyExchange;
    keyExchange = KEY_EXCHANGES.has(first) ? first : 'OTHER';
    // RSA_PSK: RSA key transport of a PSK; SRP_SHA_RSA: SRP authenticated by an RSA signature.
    const rest = left.slice(1).filter((t) => t !== 'SHA');
    if (keyExchange === 'RSA' && rest[0] === 'PSK') {
      keyExchange = 'PSK';
      authentication = 'PSK';
    } else authentication = rest[0] === 'ANON' ? 'anon' : (rest[0] ?? (keyExchange === 'RSA' ? 'RSA' : keyExchange === 'PSK' ? 'PSK' : keyExchange));
  }

  let cipher = bulk[0] ?? 'NULL';
  let index = 1;
  let cipherBits = CIPHER_BITS[cipher] ?? 0;
  if (cipher === '3DES' && bulk[1] === 'EDE') index = 2;
  const bits = bulk[index];
  if (bits !== undefined && /^\d+$/.test(bits)) {
    cipherBits = Number(bits);
    index++;
  }
  let mode = 'OTHER';
  const modeToken = bulk[index];
  if (cipher === 'RC4') mode = 'STREAM';
  else if (cipher === 'NULL') mode = 'NONE';
  if (modeToken === 'GCM' || modeToken === 'CBC' || modeToken === 'CTR' || modeToken === 'POLY1305') {
    mode = modeToken;
    index++;
  } else if (modeToken === 'CCM') {
    mode = bulk[index + 1] === '8' ? 'CCM_8' : 'CCM';
    index += mode === 'CCM_8' ? 2 : 1;
  }
  // RC2_CBC_40: the bits come after the mode.
  const trailingBits = bulk[index];
  if (trailingBits !== undefined && /^\d+$/.test(trailingBits)) {
    cipherBits = Number(trailingBits);
    index++;
  }
  const aead = mode === 'GCM' || mode === 'CCM' || mode === 'CCM_8' || mode === 'POLY1305';
  const macToken = bulk[bulk.length - 1];
  const mac = bulk.length > index && macToken !== undefined && MAC_TOKENS.has(macToken) ? macToken : aead ? 'AEAD' : 'NULL';
  if (cipher === 'DES40') cipher = 'DES';
  return {
    name: ianaName,
    keyExchange,
    authentication,
    cipher,
    cipherBits,
    mode,
    mac,
    export: exported || (cipherBits > 0 && cipherBits <= 56 && cipher !== 'DES') || cipherBits === 40,
    forwardSecrecy: keyExchange === 'ECDHE' || keyExchange === 'DHE' || keyExchange === 'TLS13',
    aead,
    signalling: false,
  };
}
