/**
 * Entry point of `mailcheck-edge` (bin/mailcheck-edge.js loads it through tsx): runs the CLI with
 * the process's arguments and streams. Importing this file runs it; use ./run for a library call.
 */
import { run } from './run';

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`mailcheck-edge: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
}
