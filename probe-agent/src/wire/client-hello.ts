/**
 * Hand-built ClientHello records (RFC 5246 §7.4.1.2, RFC 8446 §4.1.2) and the SSLv2 CLIENT-HELLO
 * (draft-hickman-netscape-ssl-00 §2.5), so the probe can offer what Node's OpenSSL will not: SSLv2/3,
 * RC4, 3DES, EXPORT, NULL and anonymous suites, DEFLATE, TLS_FALLBACK_SCSV, and a TLS 1.3 hello with
 * no key share. Pure: bytes in, bytes out.
 */
import type { ProtocolName } from '../../../src/tls/probe-result.ts';
import { TLS_EMPTY_RENEGOTIATION_INFO_SCSV, TLS_FALLBACK_SCSV, TLS13_SIGNATURE_SCHEMES, SIGNATURE_SCHEMES, VERSION_CODE } from './registry.ts';

export type TlsProtocol = Exclude<ProtocolName, 'SSLv2'>;

export interface ClientHelloOptions {
  /** The highest version offered (TLS 1.3 is offered through supported_versions alone). */
  version: TlsProtocol;
  suites: readonly number[];
  /** supported_groups, in preference order (omitted when empty). */
  groups?: readonly number[];
  /** TLS 1.3 key shares; an empty list asks the server to name its group in a HelloRetryRequest. */
  keyShares?: readonly { group: number; key: Uint8Array }[];
  /** Offer DEFLATE (CRIME) before null compression. */
  deflate?: boolean;
  /** Append TLS_FALLBACK_SCSV (RFC 7507). */
  fallbackScsv?: boolean;
  /** Host name for SNI; omitted for IP literals (RFC 6066 §3). */
  serverName?: string;
  /** 32 bytes; random by default. */
  random?: Uint8Array;
}

class Writer {
  private parts: number[] = [];
  u8(v: number) {
    this.parts.push(v & 0xff);
    return this;
  }
  u16(v: number) {
    return this.u8(v >> 8).u8(v);
  }
  u24(v: number) {
    return this.u8(v >> 16).u8(v >> 8).u8(v);
  }
  bytes(b: ArrayLike<number>) {
    for (let i = 0; i < b.length; i++) this.parts.push(b[i]!);
    return this;
  }
  /** Writes what `fill` writes, preceded by its length in `width` bytes. */
  vector(width: 1 | 2 | 3, fill: (w: Writer) => void) {
    const inner = new Writer();
    fill(inner);
    const body = inner.done();
    if (width === 1) this.u8(body.length);
    else if (width === 2) this.u16(body.length);
    else this.u24(body.length);
    return this.bytes(body);
  }
  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

function extension(w: Writer, type: number, fill: (w: Writer) => void) {
  w.u16(type).vector(2, fill);
}

/** A complete TLS record (content type 22) holding one ClientHello. */
export function buildClientHello(options: ClientHelloOptions): Uint8Array {
  const tls13 = options.version === 'TLSv1.3';
  // TLS 1.3 puts 1.2 in legacy_version and the real offer in supported_versions (RFC 8446 §4.2.1).
  const helloVersion = tls13 ? VERSION_CODE['TLSv1.2'] : VERSION_CODE[options.version];
  const suites = [...options.suites];
  if (!tls13) suites.push(TLS_EMPTY_RENEGOTIATION_INFO_SCSV);
  if (options.fallbackScsv) suites.push(TLS_FALLBACK_SCSV);

  const body = new Writer()
    .u16(helloVersion)
    .bytes(options.random ?? randomBytes(32))
    // A 32-byte session id keeps middlebox-compatible servers happy in TLS 1.3 (RFC 8446 §D.4).
    .vector(1, (w) => {
      if (tls13) w.bytes(randomBytes(32));
    })
    .vector(2, (w) => suites.forEach((s) => w.u16(s)))
    .vector(1, (w) => (options.deflate && !tls13 ? w.u8(1).u8(0) : w.u8(0)));

  // SSLv3 predates extensions; some SSLv3-only servers choke on them.
  if (options.version !== 'SSLv3') {
    body.vector(2, (ext) => {
      if (options.serverName) {
        const name = new TextEncoder().encode(options.serverName);
        extension(ext, 0x0000, (w) => w.vector(2, (l) => l.u8(0).vector(2, (n) => n.bytes(name))));
      }
      if (options.groups?.length) extension(ext, 0x000a, (w) => w.vector(2, (l) => options.groups!.forEach((g) => l.u16(g))));
      // ec_point_formats: uncompressed only.
      extension(ext, 0x000b, (w) => w.vector(1, (l) => l.u8(0)));
      const sigalgs = tls13 ? TLS13_SIGNATURE_SCHEMES : [...SIGNATURE_SCHEMES.keys()];
      if (tls13 || options.version === 'TLSv1.2') extension(ext, 0x000d, (w) => w.vector(2, (l) => sigalgs.forEach((s) => l.u16(s))));
      if (tls13) {
        extension(ext, 0x002b, (w) => w.vector(1, (l) => l.u16(VERSION_CODE['TLSv1.3'])));
        // psk_dhe_ke only; we never resume.
        extension(ext, 0x002d, (w) => w.vector(1, (l) => l.u8(1)));
        extension(ext, 0x0033, (w) => w.vector(2, (l) => (options.keyShares ?? []).forEach((k) => l.u16(k.group).vector(2, (kw) => kw.bytes(k.key)))));
      }
    });
  }

  const handshake = new Writer().u8(1).vector(3, (w) => w.bytes(body.done())).done();
  // Record version 3.1 for anything above SSLv3 (what real clients send; some servers reject 3.3 here).
  const recordVersion = options.version === 'SSLv3' ? 0x0300 : 0x0301;
  return new Writer().u8(22).u16(recordVersion).vector(2, (w) => w.bytes(handshake)).done();
}

/** The SSLv2 CLIENT-HELLO with the given three-byte cipher kinds. */
export function buildSslv2ClientHello(cipherSpecs: readonly number[], challenge: Uint8Array = randomBytes(16)): Uint8Array {
  const msg = new Writer()
    .u8(1)
    .u16(VERSION_CODE.SSLv2)
    .u16(cipherSpecs.length * 3)
    .u16(0)
    .u16(challenge.length);
  cipherSpecs.forEach((c) => msg.u24(c));
  msg.bytes(challenge);
  const bytes = msg.done();
  // Two-byte header, high bit set: no padding.
  return new Writer().u16(0x8000 | bytes.length).bytes(bytes).done();
}
