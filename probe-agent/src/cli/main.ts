/**
 * `mailcheck-probe`: `scan` (one-off scans, here) and `run` (the daemon, probe-agent/src/run/).
 */
import { runCommand } from '../run/command.ts';
import { scanCommand, SCAN_USAGE } from './scan-command.ts';

const USAGE = `usage: mailcheck-probe <command>

  scan <host[:port]...> [options]   scan mail servers' STARTTLS now (mailcheck-probe scan --help)
  run --api URL --token T           lease scan jobs from the Worker and post results
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const io = { stdout: (t: string) => void process.stdout.write(t), stderr: (t: string) => void process.stderr.write(t) };
  if (command === 'scan') return scanCommand(rest, io);
  if (command === 'run') return runCommand(rest, process.env);
  if (command === '--help' || command === '-h' || command === 'help') {
    io.stdout(USAGE);
    return 0;
  }
  io.stderr(`${command ? `mailcheck-probe: unknown command "${command}"\n\n` : ''}${USAGE}${command ? '' : `\n${SCAN_USAGE}`}`);
  return 2;
}

process.exitCode = await main(process.argv.slice(2));
