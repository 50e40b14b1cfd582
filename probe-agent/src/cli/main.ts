/**
 * `mailcheck-probe`: `scan` (one-off scans, here) and `run` (the daemon, probe-agent/src/run/).
 */
import { scanCommand, SCAN_USAGE } from './scan-command.ts';

const USAGE = `usage: mailcheck-probe <command>

  scan <host[:port]...> [options]   scan mail servers' STARTTLS now (mailcheck-probe scan --help)
  run --api URL --token T           lease scan jobs from the Worker and post results
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const io = { stdout: (t: string) => void process.stdout.write(t), stderr: (t: string) => void process.stderr.write(t) };
  if (command === 'scan') return scanCommand(rest, io);
  if (command === 'run') {
    // The daemon lives in src/run/; loaded only when asked for.
    const runModule = '../run/command.ts';
    try {
      const mod = (await import(runModule)) as { runCommand?: (argv: string[], env: NodeJS.ProcessEnv) => Promise<number> };
      if (mod.runCommand) return mod.runCommand(rest, process.env);
    } catch (e) {
      io.stderr(`mailcheck-probe run: ${(e as Error).message}\n`);
      return 1;
    }
    io.stderr('mailcheck-probe run: not available in this build\n');
    return 1;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    io.stdout(USAGE);
    return 0;
  }
  io.stderr(`${command ? `mailcheck-probe: unknown command "${command}"\n\n` : ''}${USAGE}${command ? '' : `\n${SCAN_USAGE}`}`);
  return 2;
}

process.exitCode = await main(process.argv.slice(2));
