import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseDnsCommandLine, type CheckCommand, type SpfCommand } from './dns-args';
import { UsageError } from './usage-error';

export type OutputFormat = 'json' | 'ndjson' | 'csv';
export const FORMATS: readonly OutputFormat[] = ['json', 'ndjson', 'csv'];

export interface ParseCommand {
  command: 'parse';
  paths: string[];
  format: OutputFormat;
  out: string | null;
  /** `--progress`: force the progress line even off a terminal or for few files. */
  progress: boolean;
}

export type Command = ParseCommand | CheckCommand | SpfCommand | { command: 'help'; usage?: string } | { command: 'version' };

export { UsageError };

export const USAGE = `Usage: mailcheck-edge parse [options] <file or folder>...
       mailcheck-edge check [options] <domain>...       (mailcheck-edge check --help)
       mailcheck-edge spf <domain> --ip <address>       (mailcheck-edge spf --help)

Parse DMARC aggregate reports, SMTP TLS reports (RFC 8460) and DMARC failure
reports (plain XML or JSON, gzip, zip, or whole emails) and write them out as
JSON, NDJSON or CSV. Folders are walked recursively in name order; hidden files
and folders are skipped.

Options:
  -f, --format <format>  json (default, a pretty-printed array), ndjson (one
                         object per line) or csv (one row per aggregate record)
  -o, --out <file>       write to <file> instead of standard output
      --progress         show a progress line on stderr (automatic on a
                         terminal when more than 20 files are read)
  -h, --help             show this help
  -v, --version          print the version

Exit status: 0 every file parsed, 1 at least one file failed (the other
reports are still written), 2 usage error.
Documentation: docs/cli.md
`;

/** Turns argv (without `node` and the script) into a command; throws {@link UsageError}. */
export function parseCommandLine(argv: readonly string[]): Command {
  if (argv[0] === 'check' || argv[0] === 'spf') return parseDnsCommandLine(argv[0], argv.slice(1));
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        format: { type: 'string', short: 'f' },
        out: { type: 'string', short: 'o' },
        progress: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error) {
    // parseArgs already explains unknown options and missing option values clearly.
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: 'help' };
  if (values.version) return { command: 'version' };

  const [command, ...paths] = positionals;
  if (command === undefined) throw new UsageError('missing command (try: mailcheck-edge parse <file or folder>...)');
  if (command === 'help') return { command: 'help' };
  if (command !== 'parse') throw new UsageError(`unknown command '${command}' (the commands are parse, check and spf)`);
  if (paths.length === 0) throw new UsageError('parse: no file or folder given');

  const format = values.format ?? 'json';
  if (!(FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not '${format}'`);
  }
  if (values.out === '') throw new UsageError('--out needs a file name');
  return { command: 'parse', paths, format: format as OutputFormat, out: values.out ?? null, progress: values.progress ?? false };
}

/** The version in package.json (the CLI is run from source, so the file is always beside it). */
export function packageVersion(): string {
  const url = new URL('../../package.json', import.meta.url);
  const pkg = JSON.parse(readFileSync(url, 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}
