/**
 * The whole scan against real TLS servers we start: a small SMTP front with STARTTLS in front of
 * Node's OpenSSL, configured per test. The server counts TCP connections, so the result's count is
 * checked against what actually arrived.
 */
import { X509Certificate } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createScanCache, scanTarget, type ScanOptions } from '../../probe-agent/src/scan/scan-target.ts';
import { parsePemBundle } from '../../probe-agent/src/certificates/chain.ts';
import { createTestPki, type TestPki } from './support/pki.ts';
import { startSmtpTlsServer, type SmtpTlsServer, type SmtpTlsServerOptions } from './support/smtp-tls-server.ts';

let pki: TestPki;
let servers: SmtpTlsServer[] = [];
const HOST = 'mx.scan.test.example';

beforeAll(() => {
  pki = createTestPki();
});
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function serve(options: SmtpTlsServerOptions) {
  const server = await startSmtpTlsServer(options);
  servers.push(server);
  return server;
}

function options(extra: ScanOptions = {}): ScanOptions {
  return { allowTargets: ['127.0.0.0/8'], extraTrustAnchors: parsePemBundle(pki.rootPem), timeoutMs: 5000, ehloName: 'probe.test.example', ...extra };
}

const ids = (list: { id: string }[] | undefined) => (list ?? []).map((s) => s.id);

describe('scanTarget against Node TLS servers', () => {
  it('a modern server: TLS 1.2 and 1.3, ECDHE-AEAD in its own order, its groups, the chain as sent', async () => {
    const leaf = pki.leaf(HOST);
    const server = await serve({
      tls: {
        key: leaf.key,
        cert: leaf.cert + pki.intermediatePem,
        minVersion: 'TLSv1.2',
        // Node takes the TLS 1.3 suites in the same list.
        ciphers: 'TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256',
        honorCipherOrder: true,
        ecdhCurve: 'X25519:P-256:P-384',
      } as SmtpTlsServerOptions['tls'],
    });
    const r = await scanTarget({ host: HOST, ip: server.ip, port: server.port }, options());
    expect(r.status).toBe('ok');
    expect(r.protocols).toEqual({ SSLv2: false, SSLv3: false, 'TLSv1.0': false, 'TLSv1.1': false, 'TLSv1.2': true, 'TLSv1.3': true });
    expect(ids(r.cipher_suites['TLSv1.2'])).toEqual(['0xC030', '0xCCA8', '0xC02F']);
    expect(ids(r.cipher_suites['TLSv1.3'])).toEqual(['0x1302', '0x1301']);
    expect(r.cipher_suites['TLSv1.2']![0]!.name).toBe('TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384');
    expect(r.server_preference).toEqual({ 'TLSv1.2': true, 'TLSv1.3': true });
    expect([...r.groups].sort()).toEqual(['secp256r1', 'secp384r1', 'x25519']);
    expect(r.key_exchange).toEqual({ groups: r.groups, dh_bits: null, ecdh_bits: 253 });
    expect(r.fallback_scsv).toBe(true);
    expect(r.compression).toBe(false);
    expect(r.secure_renegotiation).toBe(true);
    expect(r.certificates.map((c) => c.sha256)).toEqual([leaf.cert, pki.intermediatePem].map((pem) => new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase()));
    expect(r.certificates[0]!.san_dns).toEqual([HOST]);
    expect(r.chain).toEqual({ trusted: true, error: null, in_order: true, missing_intermediates: false });
    expect(r.smtp).toMatchObject({ greeting: '220 mx.test.example ESMTP test', starttls_offered: true, starttls_injection: false, error: null });
    expect(r.smtp.ehlo_extensions).toContain('STARTTLS');
    expect(r.complete).toBe(true);
    expect(r.connections).toBe(server.connections);
    expect(r.connections).toBeLessThanOrEqual(40);
  });

  it("a legacy server: TLS 1.0 to 1.2, the client's order, DHE with its size, a missing intermediate", async () => {
    const leaf = pki.leaf(HOST);
    const server = await serve({
      tls: {
        key: leaf.key,
        cert: leaf.cert,
        minVersion: 'TLSv1',
        maxVersion: 'TLSv1.2',
        ciphers: 'ECDHE-RSA-AES128-SHA:DHE-RSA-AES256-SHA:AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0',
        honorCipherOrder: false,
        dhparam: 'auto',
        ecdhCurve: 'P-256',
      } as SmtpTlsServerOptions['tls'],
    });
    const r = await scanTarget({ host: HOST, ip: server.ip, port: server.port }, options());
    expect(r.status).toBe('ok');
    expect(r.protocols).toEqual({ SSLv2: false, SSLv3: false, 'TLSv1.0': true, 'TLSv1.1': true, 'TLSv1.2': true, 'TLSv1.3': false });
    expect([...ids(r.cipher_suites['TLSv1.2'])].sort()).toEqual(['0x0039', '0x002F', '0xC013', '0xC02F'].sort());
    for (const p of ['TLSv1.0', 'TLSv1.1'] as const) expect([...ids(r.cipher_suites[p])].sort()).toEqual(['0x0039', '0x002F', '0xC013'].sort());
    expect(r.server_preference['TLSv1.2']).toBe(false);
    expect(r.key_exchange.dh_bits).toBe(2048);
    expect(r.groups).toEqual(['secp256r1']);
    expect(r.fallback_scsv).toBe(true);
    expect(r.chain).toMatchObject({ trusted: false, missing_intermediates: true });
    expect(r.certificates).toHaveLength(1);
    expect(r.complete).toBe(true);
    expect(r.connections).toBe(server.connections);
    expect(r.connections).toBeLessThanOrEqual(40);
  });

  it('a TLS 1.3-only server: the chain comes from the handshake Node completed', async () => {
    const leaf = pki.leaf(HOST, { ec: true });
    const server = await serve({ tls: { key: leaf.key, cert: leaf.cert + pki.intermediatePem, minVersion: 'TLSv1.3' } });
    const r = await scanTarget({ host: HOST, ip: server.ip, port: server.port }, options());
    expect(r.protocols['TLSv1.3']).toBe(true);
    expect(Object.entries(r.protocols).filter(([, v]) => v)).toHaveLength(1);
    expect(ids(r.cipher_suites['TLSv1.3']).sort()).toEqual(['0x1301', '0x1302', '0x1303']);
    expect(r.certificates[0]!.san_dns).toEqual([HOST]);
    expect(r.certificates[0]!.key_type).toBe('EC');
    expect(r.fallback_scsv).toBeNull();
    expect(r.connections).toBe(server.connections);
  });

  it('a TLS 1.0-only server (Node names it "TLSv1"): one protocol, no fallback to test', async () => {
    const leaf = pki.leaf(HOST);
    const server = await serve({ tls: { key: leaf.key, cert: leaf.cert + pki.intermediatePem, minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'AES128-SHA:@SECLEVEL=0' } });
    const r = await scanTarget({ host: HOST, ip: server.ip, port: server.port }, options());
    expect(r.protocols).toEqual({ SSLv2: false, SSLv3: false, 'TLSv1.0': true, 'TLSv1.1': false, 'TLSv1.2': false, 'TLSv1.3': false });
    expect(r.cipher_suites).toEqual({ 'TLSv1.0': [{ id: '0x002F', name: 'TLS_RSA_WITH_AES_128_CBC_SHA' }] });
    expect(r.fallback_scsv).toBeNull();
    expect(r.groups).toEqual([]);
    expect(r.certificates).toHaveLength(2);
    expect(r.connections).toBe(server.connections);
  });

  it('suites Node would not offer (NULL encryption, anonymous DH) are found by the hand-built hellos', async () => {
    const leaf = pki.leaf(HOST);
    const server = await serve({
      tls: { key: leaf.key, cert: leaf.cert + pki.intermediatePem, maxVersion: 'TLSv1.2', ciphers: 'NULL-SHA256:ADH-AES128-SHA:AES128-SHA:@SECLEVEL=0', dhparam: 'auto' },
    });
    const r = await scanTarget({ host: HOST, ip: server.ip, port: server.port }, options());
    expect([...ids(r.cipher_suites['TLSv1.2'])].sort()).toEqual(['0x002F', '0x0034', '0x003B'].sort());
    expect(r.cipher_suites['TLSv1.2']!.map((s) => s.name)).toContain('TLS_RSA_WITH_NULL_SHA256');
    expect(r.connections).toBe(server.connections);
  });

  it('an IPv6 target: refused by the guard unless allowed, then scanned like any other', async () => {
    const leaf = pki.leaf(HOST);
    const server = await serve({ host: '::1', tls: { key: leaf.key, cert: leaf.cert + pki.intermediatePem, minVersion: 'TLSv1.3' } });
    const refused = await scanTarget({ host: HOST, ip: '::1', port: server.port }, options());
    expect(refused.status).toBe('refused');
    const r = await scanTarget({ host: HOST, ip: '::1', port: server.port }, options({ allowTargets: ['::1/128'] }));
    expect(r.status).toBe('ok');
    expect(r.protocols['TLSv1.3']).toBe(true);
    expect(r.connections).toBe(server.connections);
  });

  it('STARTTLS command injection: a server that answers pipelined plaintext inside TLS is caught', async () => {
    const leaf = pki.leaf(HOST);
    const server = await serve({ tls: { key: leaf.key, cert: leaf.cert + pki.intermediatePem }, injectable: true });
    const r = await scanTarget({ host: HOST, ip: server.ip, port: server.port }, options({ maxConnections: 1 }));
    expect(r.smtp.starttls_injection).toBe(true);
    expect(r.connections).toBe(1);
    expect(r.complete).toBe(false);
  });

  it('a server that hangs up on pipelining after STARTTLS is not injectable, and is still scanned', async () => {
    const leaf = pki.leaf(HOST);
    const server = await serve({ forbidPipelining: true, tls: { key: leaf.key, cert: leaf.cert + pki.intermediatePem, minVersion: 'TLSv1.3' } });
    const r = await scanTarget({ host: HOST, ip: server.ip, port: server.port }, options());
    expect(r.status).toBe('ok');
    expect(r.smtp).toMatchObject({ starttls_injection: false, error: null });
    expect(r.protocols['TLSv1.3']).toBe(true);
    // TLS 1.3 only: the chain needed a second completed handshake, without the pipelined command.
    expect(r.certificates.map((c) => c.san_dns[0])).toContain(HOST);
    expect(r.connections).toBe(server.connections);
  });

  it('no STARTTLS: no_starttls after one connection', async () => {
    const server = await serve({ starttls: false });
    const r = await scanTarget({ host: HOST, ip: server.ip, port: server.port }, options());
    expect(r.status).toBe('no_starttls');
    expect(r.smtp.starttls_offered).toBe(false);
    expect(r.connections).toBe(1);
    expect(r.findings.map((f) => f.id)).toContain('tls.no-starttls');
  });

  it('resets and 421 are inconclusive, never a failure', async () => {
    const dropping = await serve({ drop: true });
    const busy = await serve({ greeting: '421 4.7.0 Too many connections' });
    const dropped = await scanTarget({ host: HOST, ip: dropping.ip, port: dropping.port }, options());
    const refused = await scanTarget({ host: HOST, ip: busy.ip, port: busy.port }, options());
    expect(dropped.status).toBe('inconclusive');
    expect(refused.status).toBe('inconclusive');
    expect(refused.smtp.error).toMatch(/^421/);
    expect(dropped.connections + refused.connections).toBe(2);
  });

  it('a silent server times out as inconclusive', async () => {
    const server = await serve({ silent: true });
    const r = await scanTarget({ host: HOST, ip: server.ip, port: server.port }, options({ timeoutMs: 300 }));
    expect(r.status).toBe('inconclusive');
    expect(r.status_reason).toMatch(/greeting: no reply within 300 ms/);
    expect(r.connections).toBe(1);
  });

  it('a server that starts answering 421 mid-scan: what was measured stays, marked incomplete', async () => {
    const leaf = pki.leaf(HOST);
    const server = await serve({ busyFrom: 5, tls: { key: leaf.key, cert: leaf.cert + pki.intermediatePem } });
    const r = await scanTarget({ host: HOST, ip: server.ip, port: server.port }, options());
    expect(r.status).toBe('ok');
    expect(r.complete).toBe(false);
    expect(r.status_reason).toMatch(/^scan stopped early: .*421/);
    expect(r.protocols['TLSv1.3']).toBe(true);
    expect(r.connections).toBe(5);
    expect(server.connections).toBe(5);
  });

  it('the SSRF guard refuses loopback without --allow-targets, before any connection', async () => {
    const server = await serve({ starttls: false });
    const r = await scanTarget({ host: HOST, ip: server.ip, port: server.port }, options({ allowTargets: [] }));
    expect(r.status).toBe('refused');
    expect(r.status_reason).toMatch(/loopback/);
    expect(r.connections).toBe(0);
    expect(server.connections).toBe(0);
  });

  it('a small budget: the connections it allows and no more, marked incomplete', async () => {
    const leaf = pki.leaf(HOST);
    const server = await serve({ tls: { key: leaf.key, cert: leaf.cert + pki.intermediatePem } });
    const r = await scanTarget({ host: HOST, ip: server.ip, port: server.port }, options({ maxConnections: 6 }));
    expect(r.connections).toBe(6);
    expect(server.connections).toBe(6);
    expect(r.complete).toBe(false);
    expect(r.protocols['TLSv1.3']).toBe(true);
  });

  it('the per-IP cache: a second host on the same IP costs no connection', async () => {
    const leaf = pki.leaf(HOST);
    const server = await serve({ tls: { key: leaf.key, cert: leaf.cert + pki.intermediatePem, minVersion: 'TLSv1.3' } });
    const cache = createScanCache({ ttlMs: 60_000 });
    const [a, b] = await Promise.all([
      scanTarget({ host: HOST, ip: server.ip, port: server.port }, options({ cache })),
      scanTarget({ host: 'mx2.scan.test.example', ip: server.ip, port: server.port }, options({ cache })),
    ]);
    expect(server.connections).toBe(a.connections);
    expect(b.host).toBe('mx2.scan.test.example');
    expect(b.protocols).toEqual(a.protocols);
  });
});
