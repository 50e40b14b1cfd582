/**
 * The socket edge: one TCP connection to a mail server, the SMTP dialogue up to STARTTLS's 220, then
 * raw bytes. Every connection is taken from the caller's budget, so the count in the result is honest.
 * Trouble at the SMTP stage (4xx, 421, resets, timeouts) is reported as `inconclusive`, never as a
 * fact about the server's TLS.
 */
import net from 'node:net';
import type { SmtpFacts } from '../../../src/tls/probe-result.ts';
import { ehloKeywords, takeReplies, type SmtpReply } from './reply.ts';

export interface Endpoint {
  ip: string;
  port: number;
}

export interface SessionOptions {
  ehloName: string;
  /** For each wait on the server (connect, each reply, the TLS answer). */
  timeoutMs: number;
}

/** Counts TCP connections and refuses past the limit. */
export class ConnectionBudget {
  used = 0;
  constructor(readonly limit: number) {}
  get left() {
    return this.limit - this.used;
  }
  take(): boolean {
    if (this.used >= this.limit) return false;
    this.used++;
    return true;
  }
}

export class BudgetExhausted extends Error {
  constructor() {
    super('connection budget exhausted');
  }
}

export type SessionFailure = { kind: 'no_starttls' | 'inconclusive'; reason: string };

/** A connected socket with a byte queue, read with timeouts. */
export class Connection {
  private chunks: Buffer[] = [];
  private waiter: (() => void) | null = null;
  closed: string | null = null;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.wake();
    });
    socket.on('end', () => this.close('the server closed the connection'));
    socket.on('close', () => this.close('the connection closed'));
    socket.on('error', (e: NodeJS.ErrnoException) => this.close(e.code === 'ECONNRESET' ? 'connection reset by the server' : e.message));
  }

  private close(why: string) {
    this.closed ??= why;
    this.wake();
  }

  private wake() {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  static open(endpoint: Endpoint, budget: ConnectionBudget, timeoutMs: number): Promise<Connection> {
    if (!budget.take()) return Promise.reject(new BudgetExhausted());
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: endpoint.ip, port: endpoint.port });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no TCP connection within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new Connection(socket));
      });
      socket.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new Error(e.code === 'ECONNREFUSED' ? 'connection refused' : e.message));
      });
    });
  }

  /** Waits for more bytes; false on timeout or close. */
  private wait(timeoutMs: number): Promise<boolean> {
    if (this.chunks.length) return Promise.resolve(true);
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        resolve(false);
      }, timeoutMs);
      this.waiter = () => {
        clearTimeout(timer);
        resolve(this.chunks.length > 0);
      };
    });
  }

  /** Everything received so far. */
  take(): Buffer {
    const out = Buffer.concat(this.chunks);
    this.chunks = [];
    return out;
  }

  /** Bytes as they come, until `consume` says stop, the deadline passes or the connection closes. */
  async read(consume: (bytes: Uint8Array) => boolean, timeoutMs: number): Promise<'done' | 'timeout' | 'closed'> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.chunks.length && consume(this.take())) return 'done';
      const left = deadline - Date.now();
      if (left <= 0) return 'timeout';
      if (!(await this.wait(left))) return this.closed && !this.chunks.length ? 'closed' : this.chunks.length ? 'done' : 'timeout';
    }
  }

  private text = '';
  /** The next SMTP reply. */
  async reply(timeoutMs: number): Promise<SmtpReply | { error: string }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { replies, rest } = takeReplies(this.text);
      if (replies.length) {
        // Keep any further replies for the next call.
        this.text = replies
          .slice(1)
          .flatMap((r) => r.lines.map((l) => `${l}\r\n`))
          .join('') + rest;
        return replies[0]!;
      }
      const left = deadline - Date.now();
      if (left <= 0) return { error: `no reply within ${timeoutMs} ms` };
      if (!(await this.wait(left))) return { error: this.closed ?? `no reply within ${timeoutMs} ms` };
      this.text += this.take().toString('latin1');
    }
  }

  write(data: string | Uint8Array) {
    this.socket.write(data);
  }

  destroy() {
    this.socket.destroy();
  }

  /** Hands the socket over (to Node's TLS): this reader lets go of it. */
  detach(): net.Socket {
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('end');
    this.socket.removeAllListeners('close');
    this.socket.removeAllListeners('error');
    return this.socket;
  }
}

function describe(reply: SmtpReply): string {
  return reply.lines.join(' / ');
}

/**
 * Greeting, EHLO, STARTTLS. On success the connection is ready for a TLS ClientHello. `pipelineNoop`
 * sends `STARTTLS\r\nNOOP\r\n` in one write for the command-injection test.
 */
export async function startTls(
  endpoint: Endpoint,
  budget: ConnectionBudget,
  options: SessionOptions & { pipelineNoop?: boolean },
): Promise<{ connection: Connection; smtp: SmtpFacts } | { failure: SessionFailure; smtp: SmtpFacts }> {
  const smtp: SmtpFacts = { greeting: null, ehlo_extensions: [], starttls_offered: false, starttls_injection: null, error: null };
  let connection: Connection;
  try {
    connection = await Connection.open(endpoint, budget, options.timeoutMs);
  } catch (e) {
    if (e instanceof BudgetExhausted) throw e;
    return { failure: { kind: 'inconclusive', reason: (e as Error).message }, smtp };
  }
  const fail = (reason: string, kind: SessionFailure['kind'] = 'inconclusive') => {
    connection.destroy();
    return { failure: { kind, reason }, smtp };
  };

  const greeting = await connection.reply(options.timeoutMs);
  if ('error' in greeting) return fail(`greeting: ${greeting.error}`);
  smtp.greeting = greeting.lines[0] ?? '';
  if (greeting.code !== 220) {
    smtp.error = describe(greeting);
    return fail(`the server greeted with ${greeting.code}: ${describe(greeting)}`);
  }

  connection.write(`EHLO ${options.ehloName}\r\n`);
  const ehlo = await connection.reply(options.timeoutMs);
  if ('error' in ehlo) return fail(`EHLO: ${ehlo.error}`);
  if (ehlo.code !== 250) {
    smtp.error = describe(ehlo);
    // Without EHLO there is no extension, so no STARTTLS; a 4xx is the server's trouble, not a fact.
    return ehlo.code >= 500 ? fail(`EHLO refused: ${describe(ehlo)}`, 'no_starttls') : fail(`EHLO answered ${describe(ehlo)}`);
  }
  smtp.ehlo_extensions = ehloKeywords(ehlo);
  smtp.starttls_offered = smtp.ehlo_extensions.includes('STARTTLS');
  if (!smtp.starttls_offered) {
    connection.write('QUIT\r\n');
    return fail('the server does not offer STARTTLS', 'no_starttls');
  }

  connection.write(options.pipelineNoop ? 'STARTTLS\r\nNOOP\r\n' : 'STARTTLS\r\n');
  const ready = await connection.reply(options.timeoutMs);
  if ('error' in ready) return fail(`STARTTLS: ${ready.error}`);
  if (ready.code !== 220) {
    smtp.error = describe(ready);
    return fail(`STARTTLS answered ${describe(ready)}`);
  }
  return { connection, smtp };
}
