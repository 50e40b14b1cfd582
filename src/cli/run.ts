import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { packageVersion, parseCommandLine, USAGE, UsageError, type Command, type ParseCommand } from './args';
import { discoverFiles } from './discover';
import { runDnsCommand } from './dns-commands';
import { CsvFormatter } from './format/csv';
import type { Formatter } from './format/formatter';
import { JsonFormatter, NdjsonFormatter } from './format/json';
import type { AggregateHead } from './objects';
import { readReportFile, type ReadOptions } from './read-file';
import { OutputError, Sink } from './sink';
import { Status, type StatusStream } from './status';

export interface CliIo {
  stdout: Writable;
  stderr: StatusStream;
}

/** More files than this on a terminal turn the progress line on by themselves. */
export const PROGRESS_THRESHOLD = 20;

/** Runs the CLI on `argv` (arguments after the script name); resolves to the exit code. */
export async function run(
  argv: readonly string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr },
  readOptions: ReadOptions = {},
): Promise<number> {
  let command: Command;
  try {
    command = parseCommandLine(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`mailcheck-edge: ${error.message}\nTry 'mailcheck-edge --help' for usage.\n`);
    return 2;
  }
  switch (command.command) {
    case 'help':
      io.stdout.write(command.usage ?? USAGE);
      return 0;
    case 'check':
    case 'spf':
      return runDnsCommand(command, io);
    case 'version':
      io.stdout.write(`${packageVersion()}\n`);
      return 0;
    case 'parse':
      return parseFiles(command, io, readOptions);
  }
}

function formatterFor(format: ParseCommand['format']): Formatter {
  switch (format) {
    case 'json':
      return new JsonFormatter();
    case 'ndjson':
      return new NdjsonFormatter();
    case 'csv':
      return new CsvFormatter();
  }
}

async function parseFiles(command: ParseCommand, io: CliIo, readOptions: ReadOptions): Promise<number> {
  // Listed before the output is opened, and without it: `--out` may point into a walked folder.
  const files = await discoverFiles(command.paths, command.out ? { exclude: resolve(command.out) } : {});

  let sink: Sink;
  if (command.out) {
    try {
      sink = await Sink.toFile(command.out);
    } catch (error) {
      io.stderr.write(`error: ${command.out}: cannot write: ${(error as Error).message}\n`);
      return 1;
    }
  } else {
    sink = Sink.toStream(io.stdout);
  }

  const formatter = formatterFor(command.format);
  const status = new Status(io.stderr, {
    total: files.length,
    progress: command.progress || (files.length > PROGRESS_THRESHOLD && io.stderr.isTTY === true),
  });
  if (files.length === 0) status.note('no files found');

  try {
    await sink.write(formatter.begin());
    for (const input of files) {
      if (input.error) {
        status.error(input.path, input.error.reason, input.error.code);
      } else {
        let head: AggregateHead | null = null;
        for await (const event of readReportFile(input.path, readOptions)) {
          switch (event.type) {
            case 'aggregate-start':
              head = event.head;
              status.reports++;
              await sink.write(formatter.aggregateStart(event.head));
              break;
            case 'aggregate-records':
              await sink.write(formatter.aggregateRecords(event.records));
              break;
            case 'aggregate-end':
              await sink.write(formatter.aggregateEnd(event.warnings));
              // CSV has no place for them; JSON and NDJSON carry them in the report's `warnings`.
              if (command.format === 'csv' && head) {
                for (const warning of event.warnings) status.warning(input.path, `report ${head.report_id}: ${warning}`);
              }
              break;
            case 'aggregate-abort':
              await sink.write(formatter.aggregateEnd([], event.error));
              status.error(input.path, event.error.reason, event.error.code);
              break;
            case 'report':
              status.reports++;
              await sink.write(formatter.report(event.report));
              break;
            case 'error':
              status.error(input.path, event.error.reason, event.error.code);
              break;
            case 'warning':
              status.warning(input.path, event.message);
              break;
          }
        }
      }
      status.fileDone();
    }
    await sink.write(formatter.end());
    await sink.close();
  } catch (error) {
    if (!(error instanceof OutputError)) throw error;
    // A reader that went away (`| head`) is not worth a message; anything else is.
    if ((error.cause as NodeJS.ErrnoException).code === 'EPIPE') {
      status.finish({ summary: false });
      return status.errors > 0 ? 1 : 0;
    }
    status.error(command.out ?? 'standard output', `cannot write: ${error.message}`, 'output');
    status.finish();
    return 1;
  }

  if (formatter instanceof CsvFormatter) {
    const { smtp_tls, failure } = formatter.skipped;
    const left = [
      smtp_tls > 0 ? `${smtp_tls} SMTP TLS report${smtp_tls === 1 ? '' : 's'}` : '',
      failure > 0 ? `${failure} failure report${failure === 1 ? '' : 's'}` : '',
    ].filter(Boolean);
    if (left.length > 0) {
      status.note(`CSV holds aggregate records only; left out ${left.join(' and ')} (use --format json or ndjson)`);
    }
  }
  status.finish();
  return status.errors > 0 ? 1 : 0;
}
