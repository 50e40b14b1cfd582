/**
 * Fuzzing the probe agent's reader of a server's TLS answer (probe-agent/src/wire/server-flight.ts)
 * with real flights captured from OpenSSL (fixtures/tls-server-flights.json: TLS 1.2 ECDHE-RSA with a
 * chain, ECDSA, DHE, TLS 1.3, a HelloRetryRequest, an alert), mutated and fed in random pieces, and with
 * random bytes. Property: push() never throws and answers a boolean; once it says done it stays done;
 * result() always has one of the documented outcomes and certificates that are byte arrays.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createServerFlightReader } from '../../probe-agent/src/wire/server-flight.ts';
import { mutate, mutationArb, params, testTimeout } from './support';

const FLIGHTS = Object.fromEntries(
  Object.entries(JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'tls-server-flights.json'), 'utf8')) as Record<string, string>).map(([k, hex]) => [k, Uint8Array.from(Buffer.from(hex, 'hex'))]),
);
const OUTCOMES = new Set(['server_hello', 'hello_retry_request', 'alert', 'sslv2_server_hello', 'not_tls', 'incomplete']);

/** Feeds `bytes` cut at `cuts`; checks the reader's contract at every step. */
function feed(bytes: Uint8Array, cuts: readonly number[]) {
  const reader = createServerFlightReader();
  const points = [...new Set(cuts.map((c) => (bytes.length ? c % bytes.length : 0)))].sort((a, b) => a - b);
  let from = 0;
  let done = false;
  for (const to of [...points, bytes.length]) {
    if (to < from) continue;
    const said = reader.push(bytes.subarray(from, to));
    expect(typeof said).toBe('boolean');
    if (done) expect(said).toBe(true);
    done = said;
    from = to;
  }
  const flight = reader.result();
  expect(OUTCOMES.has(flight.outcome)).toBe(true);
  for (const cert of flight.certificates) expect(cert).toBeInstanceOf(Uint8Array);
  if (flight.outcome === 'alert') expect(flight.alert).not.toBeNull();
  return flight;
}

describe('TLS server flight reader under fuzzing', () => {
  it('reads the captured flights as they are, in any pieces', { timeout: testTimeout(100, 5) }, () => {
    expect(feed(FLIGHTS['tls12-ecdhe-rsa']!, []).certificates.length).toBe(2);
    expect(feed(FLIGHTS['tls12-ecdhe-rsa']!, []).keyExchange?.kind).toBe('ecdhe');
    expect(feed(FLIGHTS['tls12-dhe']!, []).keyExchange?.kind).toBe('dhe');
    expect(feed(FLIGHTS['tls13']!, []).version).toBe(0x0304);
    expect(feed(FLIGHTS['tls13-hrr']!, []).outcome).toBe('hello_retry_request');
    expect(feed(FLIGHTS['alert']!, []).outcome).toBe('alert');
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(FLIGHTS)), fc.array(fc.nat(), { maxLength: 20 }), (name, cuts) => {
        const whole = feed(FLIGHTS[name]!, []);
        const pieces = feed(FLIGHTS[name]!, cuts);
        expect(pieces.outcome).toBe(whole.outcome);
        expect(pieces.certificates.length).toBe(whole.certificates.length);
      }),
      params(100),
    );
  });

  it('mutated flights (flips, truncation, lengths overwritten, repeated records)', { timeout: testTimeout(800, 5) }, () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(FLIGHTS)), fc.array(mutationArb, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 8 }), (name, mutations, cuts) => {
        feed(mutate(FLIGHTS[name]!, mutations), cuts);
      }),
      params(800),
    );
  });

  it('random bytes, with and without a plausible record header', { timeout: testTimeout(500, 5) }, () => {
    const head = fc.constantFrom(new Uint8Array(), Uint8Array.of(22, 3, 3), Uint8Array.of(22, 3, 1, 0x40, 0), Uint8Array.of(21, 3, 3, 0, 2), Uint8Array.of(0x80, 0x40, 4), Uint8Array.of(22, 3, 3, 0xff, 0xff, 11, 0xff, 0xff, 0xff));
    fc.assert(
      fc.property(head, fc.uint8Array({ maxLength: 4096 }), fc.array(fc.nat(), { maxLength: 8 }), (h, tail, cuts) => {
        const bytes = new Uint8Array(h.length + tail.length);
        bytes.set(h);
        bytes.set(tail, h.length);
        feed(bytes, cuts);
      }),
      params(500),
    );
  });
});
