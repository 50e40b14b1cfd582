import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';

/** The output went away (a closed pipe, a full disk): stop producing. */
export class OutputError extends Error {
  constructor(override readonly cause: Error) {
    super(cause.message);
    this.name = 'OutputError';
  }
}

/**
 * Collects output text in chunks of about 64 KiB and writes them with back-pressure, so a slow
 * reader (a pipe to `less`) holds the parser back instead of the text piling up in memory.
 */
export class Sink {
  private pending: string[] = [];
  private pendingLength = 0;
  private failure: Error | null = null;

  private constructor(
    private readonly stream: Writable,
    private readonly owned: boolean,
  ) {
    stream.on('error', (error: Error) => {
      this.failure ??= error;
    });
  }

  static toStream(stream: Writable): Sink {
    return new Sink(stream, false);
  }

  /** Opens (creates or truncates) `path`; rejects if it cannot be written. */
  static async toFile(path: string): Promise<Sink> {
    const stream = createWriteStream(path);
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
    return new Sink(stream, true);
  }

  async write(text: string): Promise<void> {
    if (this.failure) throw new OutputError(this.failure);
    if (text === '') return;
    this.pending.push(text);
    this.pendingLength += text.length;
    if (this.pendingLength >= 65_536) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.failure) throw new OutputError(this.failure);
    if (this.pending.length === 0) return;
    const chunk = this.pending.join('');
    this.pending = [];
    this.pendingLength = 0;
    if (!this.stream.write(chunk)) await this.drained();
    if (this.failure) throw new OutputError(this.failure);
  }

  /** Flushes; a file is then closed, standard output only drained. */
  async close(): Promise<void> {
    await this.flush();
    if (!this.owned) return;
    await new Promise<void>((resolve, reject) => {
      this.stream.once('error', reject);
      this.stream.end(() => resolve());
    });
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.stream.off('drain', done);
        this.stream.off('error', done);
        this.stream.off('close', done);
        resolve();
      };
      this.stream.on('drain', done);
      this.stream.on('error', done);
      this.stream.on('close', done);
    });
  }
}
