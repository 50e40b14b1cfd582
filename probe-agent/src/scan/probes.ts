/**
 * The two kinds of connection a scan makes: a raw probe (STARTTLS, one hand-built hello, read the
 * server's answer, hang up: no handshake completed) and a full handshake with Node's TLS (for the
 * STARTTLS injection test and, on a TLS 1.3-only server, the certificate chain).
 */
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { SmtpFacts } from '../../../src/tls/probe-result.ts';
import { createServerFlightReader, type ServerFlight } from '../wire/server-flight.ts';
import { startTls, type ConnectionBudget, type Endpoint, type SessionFailure, type SessionOptions } from '../smtp/session.ts';

export type RawProbeResult = { flight: ServerFlight; smtp: SmtpFacts } | { failure: SessionFailure; smtp: SmtpFacts };

/** One connection: STARTTLS, send `hello`, read until the answer is clear (or the server stops). */
export async function rawProbe(endpoint: Endpoint, budget: ConnectionBudget, options: SessionOptions, hello: Uint8Array): Promise<RawProbeResult> {
  const session = await startTls(endpoint, budget, options);
  if ('failure' in session) return session;
  const { connection, smtp } = session;
  const reader = createServerFlightReader();
  connection.write(hello);
  await connection.read((bytes) => reader.push(bytes), options.timeoutMs);
  connection.destroy();
  // A close or a timeout after the hello is the server's answer (many close instead of alerting).
  return { flight: reader.result(), smtp };
}

export interface NodeHandshake {
  smtp: SmtpFacts;
  /** Protocol, e.g. "TLSv1.3"; null when the handshake failed. */
  protocol: string | null;
  cipher: string | null;
  /** Ephemeral key of the handshake: { type: 'ECDH', name: 'X25519', size: 253 } or DH. */
  ephemeral: { type?: string; name?: string; size?: number } | null;
  /** DER chain as Node's OpenSSL rebuilt it (leaf first), not necessarily as sent. */
  chain: Uint8Array[];
  sharedSigalgs: string[];
  error: string | null;
}

/**
 * A complete handshake with Node's TLS on a STARTTLS connection where `STARTTLS\r\nNOOP\r\n` was sent
 * in one write. Inside TLS it sends EHLO and QUIT: a server that kept the pipelined NOOP answers three
 * replies instead of two (CVE-2011-0411 class), with no timing involved.
 */
export async function nodeHandshake(
  endpoint: Endpoint & { host: string },
  budget: ConnectionBudget,
  options: SessionOptions,
  injectionTest = true,
): Promise<NodeHandshake | { failure: SessionFailure; smtp: SmtpFacts }> {
  const session = await startTls(endpoint, budget, { ...options, pipelineNoop: injectionTest });
  if ('failure' in session) {
    // A server that refuses the pipelined NOOP after STARTTLS (Postfix ≥ 3.9 disconnects) is not injectable.
    if (injectionTest && session.smtp.starttls_offered && /STARTTLS/.test(session.failure.reason)) session.smtp.starttls_injection = false;
    return session;
  }
  const { connection, smtp } = session;
  const socket = connection.detach();
  const result: NodeHandshake = { smtp, protocol: null, cipher: null, ephemeral: null, chain: [], sharedSigalgs: [], error: null };
  await new Promise<void>((resolve) => {
    const secure = tls.connect({
      socket,
      // Facts, not trust: verification is done on the chain as sent, elsewhere.
      rejectUnauthorized: false,
      minVersion: 'TLSv1',
      ciphers: 'ALL:@SECLEVEL=0',
      servername: isIP(endpoint.host) ? undefined : endpoint.host,
    });
    const timer = setTimeout(() => finish(`no TLS handshake within ${options.timeoutMs} ms`), options.timeoutMs);
    let text = '';
    let replies = 0;
    let settled = false;
    function finish(error: string | null) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error && !result.protocol) result.error = error;
      secure.destroy();
      resolve();
    }
    secure.once('secureConnect', () => {
      result.protocol = secure.getProtocol();
      result.cipher = secure.getCipher()?.standardName ?? null;
      const key = secure.getEphemeralKeyInfo();
      result.ephemeral = key && Object.keys(key).length ? (key as NodeHandshake['ephemeral']) : null;
      result.sharedSigalgs = secure.getSharedSigalgs?.() ?? [];
      // The chain Node exposes is the one OpenSSL built from what was sent, linked by issuer; a
      // trailing self-signed root may come from the local store rather than the wire.
      let cert = secure.getPeerCertificate(true);
      const seen = new Set<string>();
      while (cert?.raw && !seen.has(cert.fingerprint256)) {
        seen.add(cert.fingerprint256);
        result.chain.push(new Uint8Array(cert.raw));
        cert = cert.issuerCertificate;
      }
      if (injectionTest) secure.write(`EHLO ${options.ehloName}\r\nQUIT\r\n`);
      else finish(null);
    });
    secure.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      // Count complete replies; QUIT's 221 ends the exchange.
      const lines = text.split('\r\n');
      text = lines.pop() ?? '';
      for (const line of lines) {
        if (line.length >= 3 && line[3] !== '-') replies++;
        if (line.startsWith('221')) {
          smtp.starttls_injection = replies > 2;
          finish(null);
        }
      }
    });
    secure.on('error', (e) => finish(e.message));
    secure.on('close', () => {
      if (injectionTest && result.protocol && smtp.starttls_injection === null) smtp.starttls_injection = replies > 2;
      finish('the connection closed during the TLS handshake');
    });
  });
  return result;
}

