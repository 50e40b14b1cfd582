/**
 * Reads the server's answer to a hand-built ClientHello, record by record, until it says what the
 * probe wants to know: an alert, a HelloRetryRequest, a TLS 1.3 ServerHello (the rest is encrypted),
 * or a TLS ≤ 1.2 flight up to ServerHelloDone (ServerHello, Certificate as sent, ServerKeyExchange).
 * Also the SSLv2 SERVER-HELLO. Pure: feed bytes, read the result.
 */
import { cipherSuite } from '../../../src/tls/cipher-suites.ts';
import { ALERTS } from './registry.ts';

const HRR_RANDOM = 'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c';

export type KeyExchangeSeen =
  | { kind: 'ecdhe'; group: number; signatureScheme: number | null }
  | { kind: 'dhe'; primeBits: number; signatureScheme: number | null }
  | { kind: 'other'; signatureScheme: number | null };

export interface ServerFlight {
  /** What ended the exchange. */
  outcome: 'server_hello' | 'hello_retry_request' | 'alert' | 'sslv2_server_hello' | 'not_tls' | 'incomplete';
  alert: { level: number; description: number; name: string } | null;
  /** The negotiated version (supported_versions when present, else the legacy field). */
  version: number | null;
  cipherSuite: number | null;
  compressionMethod: number | null;
  /** TLS 1.3: the key_share group (selected_group in a HelloRetryRequest). */
  keyShareGroup: number | null;
  /** renegotiation_info extension present in the ServerHello (RFC 5746). */
  renegotiationInfo: boolean;
  /** DER certificates of the Certificate message, as sent (TLS ≤ 1.2 only). */
  certificates: Uint8Array[];
  keyExchange: KeyExchangeSeen | null;
  /** SSLv2 SERVER-HELLO cipher kinds (three-byte). */
  sslv2CipherSpecs: number[];
}

export interface ServerFlightReader {
  /** Adds received bytes; true once the flight says enough (stop reading, close the connection). */
  push(bytes: Uint8Array): boolean;
  result(): ServerFlight;
}

class Cursor {
  constructor(
    private readonly b: Uint8Array,
    public pos = 0,
    private readonly end = b.length,
  ) {}
  left() {
    return this.end - this.pos;
  }
  u8() {
    if (this.pos + 1 > this.end) throw new RangeError('short');
    return this.b[this.pos++]!;
  }
  u16() {
    return (this.u8() << 8) | this.u8();
  }
  u24() {
    return (this.u8() << 16) | (this.u8() << 8) | this.u8();
  }
  bytes(n: number) {
    if (this.pos + n > this.end) throw new RangeError('short');
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  sub(n: number) {
    const c = new Cursor(this.b, this.pos, this.pos + n);
    if (this.pos + n > this.end) throw new RangeError('short');
    this.pos += n;
    return c;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function bitLength(b: Uint8Array): number {
  let i = 0;
  while (i < b.length && b[i] === 0) i++;
  if (i === b.length) return 0;
  return (b.length - i - 1) * 8 + (32 - Math.clz32(b[i]!));
}

export function createServerFlightReader(): ServerFlightReader {
  const flight: ServerFlight = {
    outcome: 'incomplete',
    alert: null,
    version: null,
    cipherSuite: null,
    compressionMethod: null,
    keyShareGroup: null,
    renegotiationInfo: false,
    certificates: [],
    keyExchange: null,
    sslv2CipherSpecs: [],
  };
  let buffer: Uint8Array = new Uint8Array(0);
  let handshake: Uint8Array = new Uint8Array(0);
  let done = false;

  function finish(outcome: ServerFlight['outcome']) {
    flight.outcome = outcome;
    done = true;
  }

  function onServerHello(c: Cursor) {
    const legacyVersion = c.u16();
    const random = c.bytes(32);
    c.bytes(c.u8()); // session id
    flight.version = legacyVersion;
    flight.cipherSuite = c.u16();
    flight.compressionMethod = c.u8();
    const hrr = hex(random) === HRR_RANDOM;
    if (c.left() >= 2) {
      const exts = c.sub(c.u16());
      while (exts.left() >= 4) {
        const type = exts.u16();
        const data = exts.sub(exts.u16());
        if (type === 0x002b && data.left() >= 2) flight.version = data.u16();
        else if (type === 0x0033 && data.left() >= 2) flight.keyShareGroup = data.u16();
        else if (type === 0xff01) flight.renegotiationInfo = true;
      }
    }
    if (hrr) finish('hello_retry_request');
    else if (flight.version === 0x0304) finish('server_hello');
  }

  function onServerKeyExchange(c: Cursor) {
    const name = flight.cipherSuite === null ? '' : (cipherSuite(flight.cipherSuite)?.name ?? '');
    const tls12 = flight.version === 0x0303;
    const signature = () => (tls12 && c.left() >= 4 ? c.u16() : null);
    if (/_ECDHE_|_ECDH_anon_/.test(name)) {
      if (c.u8() !== 3) return; // explicit curves: not named, nothing to report
      const group = c.u16();
      c.bytes(c.u8());
      flight.keyExchange = { kind: 'ecdhe', group, signatureScheme: /_anon_/.test(name) ? null : signature() };
    } else if (/_DHE_|_DH_anon_|EDH|ADH/.test(name)) {
      const p = c.bytes(c.u16());
      c.bytes(c.u16()); // g
      c.bytes(c.u16()); // Ys
      flight.keyExchange = { kind: 'dhe', primeBits: bitLength(p), signatureScheme: /_anon_/.test(name) ? null : signature() };
    } else {
      flight.keyExchange = { kind: 'other', signatureScheme: null };
    }
  }

  function onHandshakeMessage(type: number, body: Cursor) {
    if (type === 2) onServerHello(body);
    else if (type === 11) {
      const list = body.sub(body.u24());
      while (list.left() >= 3) flight.certificates.push(Uint8Array.from(list.bytes(list.u24())));
    } else if (type === 12) onServerKeyExchange(body);
    else if (type === 14) finish('server_hello');
  }

  function onSslv2(record: Cursor) {
    if (record.u8() !== 4) return finish('not_tls');
    record.u8(); // session id hit
    record.u8(); // certificate type
    flight.version = record.u16();
    const certLength = record.u16();
    const specsLength = record.u16();
    record.u16(); // connection id length
    const cert = record.bytes(certLength);
    if (cert.length) flight.certificates.push(Uint8Array.from(cert));
    const specs = record.sub(specsLength);
    while (specs.left() >= 3) flight.sslv2CipherSpecs.push(specs.u24());
    finish('sslv2_server_hello');
  }

  function drain() {
    while (!done && buffer.length >= 5) {
      const first = buffer[0]!;
      if (first & 0x80 && flight.version === null && ![20, 21, 22, 23].includes(first)) {
        // SSLv2 record: two-byte header with the high bit set.
        const length = ((first & 0x7f) << 8) | buffer[1]!;
        if (buffer.length < 2 + length) return;
        try {
          onSslv2(new Cursor(buffer, 2, 2 + length));
        } catch {
          finish('not_tls');
        }
        return;
      }
      if (![20, 21, 22, 23].includes(first) || buffer[1] !== 3) return finish('not_tls');
      const length = (buffer[3]! << 8) | buffer[4]!;
      if (buffer.length < 5 + length) return;
      const fragment = buffer.subarray(5, 5 + length);
      buffer = buffer.subarray(5 + length);
      if (first === 21 && fragment.length >= 2) {
        flight.alert = { level: fragment[0]!, description: fragment[1]!, name: ALERTS.get(fragment[1]!) ?? `alert_${fragment[1]}` };
        return finish('alert');
      }
      if (first !== 22) continue;
      handshake = concat(handshake, fragment);
      while (!done && handshake.length >= 4) {
        const msgLength = (handshake[1]! << 16) | (handshake[2]! << 8) | handshake[3]!;
        if (handshake.length < 4 + msgLength) break;
        try {
          onHandshakeMessage(handshake[0]!, new Cursor(handshake, 4, 4 + msgLength));
        } catch {
          return finish('not_tls');
        }
        handshake = handshake.subarray(4 + msgLength);
      }
    }
  }

  return {
    push(bytes) {
      if (done) return true;
      buffer = concat(buffer, bytes);
      drain();
      return done;
    },
    result() {
      return flight;
    },
  };
}
