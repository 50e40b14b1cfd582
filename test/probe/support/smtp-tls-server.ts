/**
 * A small SMTP server with STARTTLS in front of Node's TLS server, on loopback, for scanner tests:
 * real sockets, real OpenSSL handshakes, a configuration the test chooses. It counts connections.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface SmtpTlsServerOptions {
  /** Node TLS server options (cert, key, minVersion, maxVersion, ciphers, honorCipherOrder, ecdhCurve, …). */
  tls?: tls.SecureContextOptions & { honorCipherOrder?: boolean };
  starttls?: boolean;
  /** Keep plaintext pipelined after STARTTLS and answer it inside TLS (CVE-2011-0411). */
  injectable?: boolean;
  /** Refuse a command pipelined after STARTTLS and hang up, as Postfix 3.9 does by default. */
  forbidPipelining?: boolean;
  /** Close every connection right after accepting it. */
  drop?: boolean;
  /** Answer the greeting with this instead of 220. */
  greeting?: string;
  /** Loopback address to listen on (default 127.0.0.1; '::1' for IPv6). */
  host?: string;
  /** Never say anything. */
  silent?: boolean;
  /** Greet with 421 from this connection on (a server that starts rate-limiting mid-scan). */
  busyFrom?: number;
}

export interface SmtpTlsServer {
  ip: string;
  port: number;
  connections: number;
  close(): Promise<void>;
}

export async function startSmtpTlsServer(options: SmtpTlsServerOptions): Promise<SmtpTlsServer> {
  const context = options.tls ? tls.createSecureContext(options.tls) : null;
  const sockets = new Set<net.Socket>();
  const state = { connections: 0 };
  const server = net.createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (options.drop) return socket.destroy();
    if (options.silent) return;
    if (options.busyFrom !== undefined && state.connections >= options.busyFrom) return socket.end('421 4.7.0 Too many connections\r\n');
    socket.write(`${options.greeting ?? '220 mx.test.example ESMTP test'}\r\n`);
    if (options.greeting && !options.greeting.startsWith('220')) return socket.end();
    let buffer = '';
    const onData = (d: Buffer) => {
      buffer += d.toString('latin1');
      let end: number;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const verb = line.split(' ')[0]!.toUpperCase();
        if (verb === 'EHLO') socket.write(`250-mx.test.example\r\n250-PIPELINING\r\n${options.starttls === false ? '' : '250-STARTTLS\r\n'}250 8BITMIME\r\n`);
        else if (verb === 'QUIT') socket.end('221 2.0.0 Bye\r\n');
        else if (verb === 'STARTTLS' && options.starttls !== false && context) {
          if (options.forbidPipelining && buffer.length) return socket.end('554 5.5.0 Error: SMTP protocol synchronization\r\n');
          socket.write('220 2.0.0 Ready to start TLS\r\n');
          socket.removeListener('data', onData);
          const pending = options.injectable ? buffer : '';
          buffer = '';
          upgrade(socket, pending);
          return;
        } else socket.write('250 2.0.0 Ok\r\n');
      }
    };
    socket.on('data', onData);
  });

  function upgrade(socket: net.Socket, pending: string) {
    const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: context! });
    secure.on('error', () => socket.destroy());
    let buffer = pending;
    const answer = () => {
      let end: number;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const verb = buffer.slice(0, end).split(' ')[0]!.toUpperCase();
        buffer = buffer.slice(end + 2);
        if (verb === 'EHLO') secure.write('250-mx.test.example\r\n250 PIPELINING\r\n');
        else if (verb === 'QUIT') return secure.end('221 2.0.0 Bye\r\n');
        else secure.write('250 2.0.0 Ok\r\n');
      }
    };
    secure.on('secure', answer);
    secure.on('data', (d: Buffer) => {
      buffer += d.toString('latin1');
      answer();
    });
  }

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    ip: host,
    port,
    get connections() {
      return state.connections;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
