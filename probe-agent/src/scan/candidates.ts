/**
 * What each probe offers: every registry suite valid for the protocol, strongest first, so a server
 * that follows the client's order shows a sensible list. Pure.
 */
import { CIPHER_SUITES, type CipherSuiteInfo } from '../../../src/tls/cipher-suites.ts';
import type { TlsProtocol } from '../wire/client-hello.ts';

function encryptionBits(enc: string): number {
  const m = /\((\d+)\)/.exec(enc);
  return m ? Number(m[1]) : 0;
}

function strength(s: CipherSuiteInfo): number {
  let score = 0;
  if (s.mac === 'AEAD') score += 4000;
  if (/^ECDH/.test(s.kx) && !/anon/.test(s.name)) score += 2000;
  else if (/^DH/.test(s.kx) && !/anon/.test(s.name)) score += 1000;
  if (s.au === 'None' || /anon/.test(s.name)) score -= 3000;
  if (s.enc === 'None' || s.export) score -= 6000;
  return score + encryptionBits(s.enc);
}

const TLS13_ORDER = [0x1302, 0x1303, 0x1301, 0x1304, 0x1305];

const cache = new Map<TlsProtocol, number[]>();

export function candidateSuites(protocol: TlsProtocol): number[] {
  let list = cache.get(protocol);
  if (!list) {
    const valid = CIPHER_SUITES.filter((s) => s.protocols.includes(protocol) && s.id !== 0x0000);
    list =
      protocol === 'TLSv1.3'
        ? valid.map((s) => s.id).sort((a, b) => (TLS13_ORDER.indexOf(a) + 1 || 99) - (TLS13_ORDER.indexOf(b) + 1 || 99))
        : [...valid].sort((a, b) => strength(b) - strength(a) || a.id - b.id).map((s) => s.id);
    cache.set(protocol, list);
  }
  return list;
}
