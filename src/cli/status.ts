/** What the CLI needs of stderr: a stream that may be a terminal. */
export interface StatusStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface StatusOptions {
  /** Files to be read, for `parsed 120/900 files`. */
  total: number;
  /** Show the progress line. */
  progress: boolean;
  now?: () => number;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * Everything the CLI says on stderr: per-file errors and warnings, the progress line, the summary.
 * On a terminal the progress line is redrawn in place (at most 4 times a second) and cleared before
 * any other message; elsewhere (`--progress` into a log) it is a new line at most once a second.
 */
export class Status {
  files = 0;
  reports = 0;
  errors = 0;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private drawn = false;
  private readonly tty: boolean;
  private readonly now: () => number;

  constructor(
    private readonly stream: StatusStream,
    private readonly options: StatusOptions,
  ) {
    this.tty = stream.isTTY === true;
    this.now = options.now ?? Date.now;
  }

  error(file: string, reason: string, code: string): void {
    this.errors++;
    this.say(`error: ${file}: ${reason} (${code})`);
  }

  warning(file: string, message: string): void {
    this.say(`warning: ${file}: ${message}`);
  }

  note(message: string): void {
    this.say(`note: ${message}`);
  }

  /** One more file read (whatever the outcome); redraws the progress line when due. */
  fileDone(): void {
    this.files++;
    if (!this.options.progress) return;
    const now = this.now();
    if (now - this.lastDraw < (this.tty ? 250 : 1000)) return;
    this.lastDraw = now;
    const line = `parsed ${this.files}/${this.options.total} files, ${plural(this.errors, 'error')}`;
    if (this.tty) {
      this.stream.write(`\r${line}\x1b[K`);
      this.drawn = true;
    } else {
      this.stream.write(`${line}\n`);
    }
  }

  /** Clears the progress line and, when more than one file was given, prints the summary. */
  finish(options: { summary?: boolean } = {}): void {
    this.clear();
    if (options.summary !== false && this.options.total > 1) {
      this.stream.write(
        `${plural(this.files, 'file')}, ${plural(this.reports, 'report')}, ${plural(this.errors, 'error')}\n`,
      );
    }
  }

  private say(line: string): void {
    this.clear();
    this.stream.write(`${line}\n`);
  }

  private clear(): void {
    if (!this.drawn) return;
    this.stream.write('\r\x1b[K');
    this.drawn = false;
    // Redraw on the next file rather than now: messages often come in a burst.
    this.lastDraw = Number.NEGATIVE_INFINITY;
  }
}
