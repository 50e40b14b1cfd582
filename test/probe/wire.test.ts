/**
 * Hand-built ClientHello records against a real OpenSSL (Node's TLS server on loopback, no SMTP), and
 * the parser on the bytes it answers with.
 */
import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildClientHello, buildSslv2ClientHello, type ClientHelloOptions } from '../../probe-agent/src/wire/client-hello.ts';
import { createServerFlightReader, type ServerFlight } from '../../probe-agent/src/wire/server-flight.ts';
import { SSLV2_CIPHER_SPECS, cipherSuite, cipherSuiteId, cipherSuiteName } from '../../src/tls/cipher-suites.ts';
import { candidateSuites } from '../../probe-agent/src/scan/candidates.ts';
import { createTestPki, type TestPki } from './support/pki.ts';

let pki: TestPki;
const servers: net.Server[] = [];

async function tlsServer(options: tls.TlsOptions): Promise<number> {
  const server = tls.createServer(options, (s) => s.end());
  server.on('tlsClientError', () => {});
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** Sends one record and reads the answer until the parser has enough, the server closes, or 5 s pass. */
function exchange(port: number, hello: Uint8Array): Promise<ServerFlight> {
  return new Promise((resolve) => {
    const reader = createServerFlightReader();
    const socket = net.connect(port, '127.0.0.1', () => socket.write(hello));
    const done = () => {
      socket.destroy();
      resolve(reader.result());
    };
    socket.on('data', (d) => reader.push(d) && done());
    socket.on('close', done);
    socket.on('error', done);
    setTimeout(done, 5000);
  });
}

const hello = (o: Partial<ClientHelloOptions> & Pick<ClientHelloOptions, 'version'>) =>
  buildClientHello({ suites: candidateSuites(o.version), groups: [0x001d, 0x0017, 0x0018], keyShares: [], ...o });

beforeAll(() => {
  pki = createTestPki();
});
afterAll(() => servers.forEach((s) => s.close()));

describe('cipher suite registry', () => {
  it('names IANA code points', () => {
    expect(cipherSuiteName(0xc02f)).toBe('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256');
    expect(cipherSuiteName(0x1301)).toBe('TLS_AES_128_GCM_SHA256');
    expect(cipherSuiteName(0x000a)).toBe('TLS_RSA_WITH_3DES_EDE_CBC_SHA');
    expect(cipherSuiteName(0x0005)).toBe('TLS_RSA_WITH_RC4_128_SHA');
    expect(cipherSuiteId(0xc02f)).toBe('0xC02F');
    expect(cipherSuite(0x1301)?.protocols).toEqual(['TLSv1.3']);
    expect(cipherSuite(0xc02f)?.protocols).toEqual(['TLSv1.2']);
    expect(cipherSuite(0x0005)?.protocols).toContain('SSLv3');
  });

  it('offers suites Node will not: RC4, 3DES, EXPORT, NULL, anonymous', () => {
    const legacy = candidateSuites('TLSv1.0');
    for (const id of [0x0005, 0x000a, 0x0003, 0x0002, 0x0034]) expect(legacy).toContain(id);
    expect(candidateSuites('TLSv1.3')).not.toContain(0xc02f);
    expect(legacy).not.toContain(0x0000);
    expect(SSLV2_CIPHER_SPECS.length).toBeGreaterThan(5);
  });
});

describe('ClientHello against OpenSSL', () => {
  it('TLS 1.2: ServerHello, the Certificate as sent (leaf and intermediate), ServerKeyExchange with the group', async () => {
    const leaf = pki.leaf('wire.test.example');
    const port = await tlsServer({ key: leaf.key, cert: leaf.cert + pki.intermediatePem, maxVersion: 'TLSv1.2', ecdhCurve: 'P-256' });
    const flight = await exchange(port, hello({ version: 'TLSv1.2', serverName: 'wire.test.example' }));
    expect(flight.outcome).toBe('server_hello');
    expect(flight.version).toBe(0x0303);
    expect(cipherSuiteName(flight.cipherSuite!)).toMatch(/^TLS_ECDHE_RSA_/);
    expect(flight.renegotiationInfo).toBe(true);
    expect(flight.compressionMethod).toBe(0);
    expect(flight.certificates.map((der) => new X509Certificate(der).fingerprint256)).toEqual([
      new X509Certificate(leaf.cert).fingerprint256,
      new X509Certificate(pki.intermediatePem).fingerprint256,
    ]);
    expect(flight.keyExchange).toMatchObject({ kind: 'ecdhe', group: 0x0017 });
    expect(flight.keyExchange?.signatureScheme).not.toBeNull();
  });

  it('TLS 1.3 without a key share: HelloRetryRequest naming the suite and the group', async () => {
    const leaf = pki.leaf('wire.test.example', { ec: true });
    const port = await tlsServer({ key: leaf.key, cert: leaf.cert, minVersion: 'TLSv1.3', ecdhCurve: 'P-384:X25519' });
    const flight = await exchange(port, hello({ version: 'TLSv1.3', groups: [0x001d, 0x0018] }));
    expect(flight.outcome).toBe('hello_retry_request');
    expect(flight.version).toBe(0x0304);
    expect(cipherSuite(flight.cipherSuite!)?.protocols).toEqual(['TLSv1.3']);
    expect([0x001d, 0x0018]).toContain(flight.keyShareGroup);
  });

  it('a version the server refuses: an alert, and a lower version than offered when it has one', async () => {
    const leaf = pki.leaf('wire.test.example');
    const port = await tlsServer({ key: leaf.key, cert: leaf.cert, minVersion: 'TLSv1.2' });
    const refused = await exchange(port, hello({ version: 'TLSv1.1' }));
    expect(refused.outcome).toBe('alert');
    expect(refused.alert?.name).toBe('protocol_version');
    const sslv3 = await exchange(port, hello({ version: 'SSLv3' }));
    expect(sslv3.cipherSuite).toBeNull();
    const sslv2 = await exchange(port, buildSslv2ClientHello(SSLV2_CIPHER_SPECS.map((s) => s.id)));
    expect(sslv2.outcome).not.toBe('sslv2_server_hello');
  });

  it('TLS_FALLBACK_SCSV below the highest version: inappropriate_fallback', async () => {
    const leaf = pki.leaf('wire.test.example');
    const port = await tlsServer({ key: leaf.key, cert: leaf.cert, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
    const flight = await exchange(port, hello({ version: 'TLSv1.2', fallbackScsv: true }));
    expect(flight.alert?.name).toBe('inappropriate_fallback');
  });

  it('DHE: the prime size from ServerKeyExchange', async () => {
    const leaf = pki.leaf('wire.test.example');
    const port = await tlsServer({ key: leaf.key, cert: leaf.cert, maxVersion: 'TLSv1.2', ciphers: 'DHE-RSA-AES128-GCM-SHA256', dhparam: 'auto' });
    const flight = await exchange(port, hello({ version: 'TLSv1.2' }));
    expect(cipherSuiteName(flight.cipherSuite!)).toBe('TLS_DHE_RSA_WITH_AES_128_GCM_SHA256');
    expect(flight.keyExchange).toMatchObject({ kind: 'dhe', primeBits: 2048 });
  });

  it('records split across TCP segments and handshake messages split across records are reassembled', async () => {
    const leaf = pki.leaf('wire.test.example');
    const port = await tlsServer({ key: leaf.key, cert: leaf.cert + pki.intermediatePem, maxVersion: 'TLSv1.2' });
    const whole = createServerFlightReader();
    const bytes: Buffer[] = [];
    await new Promise<void>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write(hello({ version: 'TLSv1.2' })));
      socket.on('data', (d) => {
        bytes.push(d);
        if (whole.push(d)) {
          socket.destroy();
          resolve();
        }
      });
      socket.on('close', () => resolve());
    });
    const all = Buffer.concat(bytes);
    const byteByByte = createServerFlightReader();
    for (const b of all) byteByByte.push(Uint8Array.of(b));
    expect(byteByByte.result()).toEqual(whole.result());
    expect(whole.result().certificates).toHaveLength(2);
  });
});
