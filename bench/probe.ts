/**
 * Mail-server TLS scan benchmark (docs/benchmarks.md): `mailcheck-probe scan` against sslscan and
 * testssl.sh on the SMTP lab's modern and legacy Postfix (docs/smtp-lab.md), in one run. For each tool and
 * server: wall time of the whole command, TCP connections to the server, and whether its protocols and
 * suites agree with the lab's configuration and with the other tools. Prints; never fails on a target.
 *
 * Every tool scans a counting TCP forwarder in front of the server (its own loopback address, a fresh
 * port per run), so connections are counted the same way for all three, whatever each says of itself.
 *
 *   BENCH_PROBE_TARGETS=modern,legacy   lab set-ups to scan
 *   BENCH_PROBE_ROUNDS=3                runs of ours and sslscan per server (the median is kept)
 *   BENCH_PROBE_TESTSSL=full            `full` (--full: the default run plus suites per protocol),
 *                                       `ciphers` (-p -E only, faster), or `skip`
 *   BENCH_PROBE_CMD                     the scanner command (default: probe-agent's bin, else `npx mailcheck-probe`)
 *
 * Standalone: `npx tsx bench/probe.ts`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { PROTOCOLS, type ProbeTargetResult, type ProtocolName } from '../src/tls/probe-result.ts';
import type { LabSetup, SmtpLab } from '../test/lab/smtp/lab.ts';

const ROOT = resolve(import.meta.dirname, '..');
const FORWARD_HOST = '127.0.26.1';
const TESTSSL_TARGET = 100;
const SSLSCAN_TARGET = 1;
const CONNECTION_BUDGET = 40;

/** What a tool found: accepted protocols and, per protocol, accepted suites by IANA id ("0xC02F"). */
interface Findings {
  protocols: ProtocolName[];
  suites: Partial<Record<ProtocolName, string[]>>;
}

export interface ToolRun {
  tool: string;
  version: string;
  wallMs: number;
  /** Accepted by the forwarder. */
  connections: number;
  /** Most connections open at once. */
  peakConcurrent: number;
  findings: Findings | null;
  error: string | null;
  /** Our scanner's own figures (duration_ms, connections), for comparison with the outside view. */
  selfReported?: { durationMs: number; connections: number; complete: boolean };
}

export interface ServerBench {
  setup: string;
  expected: Findings;
  ours: ToolRun;
  sslscan: ToolRun;
  testssl: ToolRun | null;
}

export interface ProbeBenchResult {
  rounds: number;
  testsslMode: string;
  servers: ServerBench[];
}

// --- the counting forwarder ------------------------------------------------------------------

interface Forwarder {
  port: number;
  counts: () => { connections: number; peakConcurrent: number };
  close: () => Promise<void>;
}

function forwarder(target: { ip: string; port: number }): Promise<Forwarder> {
  let connections = 0;
  let open = 0;
  let peakConcurrent = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    connections++;
    open++;
    peakConcurrent = Math.max(peakConcurrent, open);
    const upstream = connect({ host: target.ip, port: target.port });
    for (const s of [client, upstream]) sockets.add(s);
    client.pipe(upstream);
    upstream.pipe(client);
    // A reset or error on one side ends the other too, as a direct connection would.
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    // A connection stops counting as open when the tool ends it (its FIN) or it closes, whichever is first.
    let counted = true;
    const uncount = () => {
      if (counted) open--;
      counted = false;
    };
    client.once('end', uncount);
    client.once('close', () => {
      uncount();
      upstream.destroy();
      sockets.delete(client);
    });
    upstream.once('close', () => {
      client.end();
      sockets.delete(upstream);
    });
  });
  return new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen({ host: FORWARD_HOST, port: 0 }, () => {
      const address = server.address();
      if (!address || typeof address === 'string') return reject(new Error('forwarder has no port'));
      resolveListen({
        port: address.port,
        counts: () => ({ connections, peakConcurrent }),
        close: () =>
          new Promise((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

// --- running a tool --------------------------------------------------------------------------

function runCommand(cmd: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((done) => {
    const began = performance.now();
    const [bin, ...args] = cmd as [string, ...string[]];
    const child = spawn(bin, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr, ms: performance.now() - began });
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      done({ code: null, stdout, stderr: `${stderr}${error.message}`, ms: performance.now() - began });
    });
  });
}

async function throughForwarder(
  setup: LabSetup,
  tool: string,
  version: string,
  command: (target: string) => string[],
  read: (stdout: string) => { findings: Findings; selfReported?: ToolRun['selfReported'] },
  timeoutMs: number,
  cleanup?: () => void,
): Promise<ToolRun> {
  const fwd = await forwarder(setup);
  try {
    const out = await runCommand(command(`${FORWARD_HOST}:${fwd.port}`), timeoutMs);
    const { connections, peakConcurrent } = fwd.counts();
    const base = { tool, version, wallMs: out.ms, connections, peakConcurrent };
    if (out.code !== 0 && !out.stdout.trim()) {
      return { ...base, findings: null, error: `exit ${out.code}: ${(out.stderr.trim() || 'no output').split('\n').slice(-3).join(' | ')}` };
    }
    try {
      return { ...base, ...read(out.stdout), error: null };
    } catch (error) {
      return { ...base, findings: null, error: `unreadable output: ${error instanceof Error ? error.message : String(error)}` };
    }
  } finally {
    await fwd.close();
    cleanup?.();
  }
}

const hexId = (n: number) => `0x${n.toString(16).toUpperCase().padStart(4, '0')}`;
const normaliseId = (id: string) => hexId(Number.parseInt(id.replace(/^0?x/i, ''), 16));

function scannerCommand(): string[] {
  if (process.env.BENCH_PROBE_CMD) return process.env.BENCH_PROBE_CMD.split(' ').filter(Boolean);
  const bin = join(ROOT, 'node_modules/.bin/mailcheck-probe');
  return existsSync(bin) ? [bin] : ['npx', '--no-install', 'mailcheck-probe'];
}

function ours(setup: LabSetup, lab: SmtpLab, dohUrl: string): Promise<ToolRun> {
  return throughForwarder(
    setup,
    'mailcheck-probe',
    '',
    (target) => [
      ...scannerCommand(), 'scan', target, '--format', 'json', '--allow-targets', '127.0.0.0/8', '--ca-file', lab.ca_file,
      ...(dohUrl ? ['--doh', dohUrl] : []),
    ],
    (stdout) => {
      const results = JSON.parse(stdout) as ProbeTargetResult[];
      const r = results[0];
      if (!r) throw new Error('no result');
      const protocols = PROTOCOLS.filter((p) => r.protocols[p]);
      const suites: Findings['suites'] = {};
      for (const p of protocols) suites[p] = (r.cipher_suites[p] ?? []).map((s) => normaliseId(s.id));
      return { findings: { protocols, suites }, selfReported: { durationMs: r.duration_ms, connections: r.connections, complete: r.complete } };
    },
    120_000,
  );
}

function sslscan(setup: LabSetup, version: string): Promise<ToolRun> {
  return throughForwarder(
    setup,
    'sslscan',
    version,
    (target) => ['sslscan', '--starttls-smtp', '--xml=-', '--no-colour', target],
    (stdout) => {
      const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['protocol', 'cipher'].includes(name) })
        .parse(stdout.slice(stdout.indexOf('<?xml')));
      const test = xml.document.ssltest;
      const protocols: ProtocolName[] = [];
      for (const p of test.protocol ?? []) {
        if (p.enabled === '1') protocols.push((p.type === 'ssl' ? `SSLv${p.version}` : `TLSv${p.version}`) as ProtocolName);
      }
      const suites: Findings['suites'] = {};
      for (const c of test.cipher ?? []) (suites[c.sslversion as ProtocolName] ??= []).push(normaliseId(String(c.id)));
      return { findings: { protocols, suites } };
    },
    300_000,
  );
}

const TESTSSL_PROTOCOLS: Record<string, ProtocolName> = {
  SSLv2: 'SSLv2', SSLv3: 'SSLv3', TLS1: 'TLSv1.0', TLS1_1: 'TLSv1.1', TLS1_2: 'TLSv1.2', TLS1_3: 'TLSv1.3',
  ssl2: 'SSLv2', ssl3: 'SSLv3', tls1: 'TLSv1.0', tls1_1: 'TLSv1.1', tls1_2: 'TLSv1.2', tls1_3: 'TLSv1.3',
};

function testssl(setup: LabSetup, version: string, mode: string): Promise<ToolRun> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-testssl-'));
  const json = join(dir, 'out.json');
  const checks = mode === 'full' ? ['--full'] : ['-p', '-E'];
  return throughForwarder(
    setup,
    'testssl.sh',
    version,
    // --nodns none: no lookups of the target (nothing leaves the machine); --warnings off: no prompts.
    (target) => ['testssl', '--starttls', 'smtp', '--quiet', '--warnings', 'off', '--color', '0', '--nodns', 'none', ...checks, '--jsonfile', json, target],
    () => {
      const items = JSON.parse(readFileSync(json, 'utf8')) as { id: string; finding: string }[];
      const protocols: ProtocolName[] = [];
      const suites: Findings['suites'] = {};
      for (const item of items) {
        const proto = TESTSSL_PROTOCOLS[item.id];
        if (proto && /^offered/.test(item.finding)) protocols.push(proto);
        const cipher = /^cipher-(ssl2|ssl3|tls1|tls1_1|tls1_2|tls1_3)_x([0-9a-f]+)$/i.exec(item.id);
        const p = cipher && TESTSSL_PROTOCOLS[cipher[1] as string];
        if (cipher && p) (suites[p] ??= []).push(normaliseId(cipher[2] as string));
      }
      return { findings: { protocols, suites } };
    },
    30 * 60_000,
    () => rmSync(dir, { recursive: true, force: true }),
  );
}

// --- comparing -------------------------------------------------------------------------------

function expectedFindings(setup: LabSetup): Findings {
  const suites: Findings['suites'] = {};
  for (const p of setup.protocols) suites[p] = (setup.cipher_suites[p] ?? []).map((s) => normaliseId(s.id));
  return { protocols: [...setup.protocols], suites };
}

/** Differences of `seen` from `truth`, in words; empty when they agree (order of suites aside). */
export function differences(truth: Findings, seen: Findings): string[] {
  const out: string[] = [];
  for (const p of PROTOCOLS) {
    const want = truth.protocols.includes(p);
    const got = seen.protocols.includes(p);
    if (want !== got) out.push(`${p} ${got ? 'reported, not offered' : 'offered, not reported'}`);
    if (!want || !got) continue;
    const a = new Set(truth.suites[p] ?? []);
    const b = new Set(seen.suites[p] ?? []);
    const missing = [...a].filter((id) => !b.has(id));
    const extra = [...b].filter((id) => !a.has(id));
    if (missing.length) out.push(`${p} missing ${missing.join(' ')}`);
    if (extra.length) out.push(`${p} extra ${extra.join(' ')}`);
  }
  return out;
}

function median(runs: ToolRun[]): ToolRun {
  const sorted = [...runs].sort((a, b) => a.wallMs - b.wallMs);
  return sorted[Math.floor((sorted.length - 1) / 2)] as ToolRun;
}

function toolVersion(cmd: string[], pattern: RegExp): string {
  const out = spawnSync(cmd[0] as string, cmd.slice(1), { encoding: 'utf8' });
  // testssl colours its banner whatever --color says.
  return pattern.exec(`${out.stdout}${out.stderr}`.replace(/\x1b\[[0-9;]*m/g, ''))?.[1] ?? '?';
}

function startLab(script: string): string {
  const out = spawnSync('bash', [join(ROOT, script)], { encoding: 'utf8', timeout: 600_000 });
  if (out.status !== 0) throw new Error(`${script} failed: ${out.stderr.trim().split('\n').slice(-5).join('\n')}`);
  return out.stdout.trim().split('\n').pop() ?? '';
}

export async function probeBench(progress: (message: string) => void = (m) => process.stderr.write(`${m}\n`)): Promise<ProbeBenchResult> {
  const rounds = Math.max(1, Number.parseInt(process.env.BENCH_PROBE_ROUNDS ?? '3', 10) || 3);
  const testsslMode = process.env.BENCH_PROBE_TESTSSL ?? 'full';
  const names = (process.env.BENCH_PROBE_TARGETS ?? 'modern,legacy').split(',').filter(Boolean);

  progress('probe: starting the DNS and SMTP labs…');
  const dohUrl = startLab('test/lab/dns/start.sh');
  const lab = JSON.parse(readFileSync(startLab('test/lab/smtp/start.sh'), 'utf8')) as SmtpLab;
  // The command as a deployed agent runs it: the prebuilt bundle (probe-agent/bin runs it when it is
  // fresher than the sources), not TypeScript compiled by tsx at every start.
  if (!process.env.BENCH_PROBE_CMD) {
    progress('probe: building the mailcheck-probe bundle…');
    const build = spawnSync('npm', ['run', 'build', '-w', 'mailcheck-probe'], { cwd: ROOT, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`npm run build -w mailcheck-probe failed:\n${build.stderr}`);
  }
  const sslscanVersion = toolVersion(['sslscan', '--version'], /(\d+\.\d+\.\d+)/);
  const testsslVersion = toolVersion(['testssl', '--version'], /testssl(?:\.sh)?\s+(\d+\.\d+[.\d]*)/);

  const servers: ServerBench[] = [];
  for (const name of names) {
    const setup = lab.setups.find((s) => s.name === name);
    if (!setup) throw new Error(`no set-up ${name} in the SMTP lab`);
    const oursRuns: ToolRun[] = [];
    const sslscanRuns: ToolRun[] = [];
    // Alternate the two so that neither gets the quieter machine.
    for (let round = 1; round <= rounds; round++) {
      oursRuns.push(await ours(setup, lab, dohUrl));
      sslscanRuns.push(await sslscan(setup, sslscanVersion));
      const o = oursRuns.at(-1) as ToolRun;
      const s = sslscanRuns.at(-1) as ToolRun;
      progress(`probe ${name} round ${round}/${rounds}: ours ${(o.wallMs / 1000).toFixed(2)} s ${o.connections} conns${o.error ? ` (${o.error})` : ''}, sslscan ${(s.wallMs / 1000).toFixed(2)} s ${s.connections} conns`);
    }
    let testsslRun: ToolRun | null = null;
    if (testsslMode !== 'skip') {
      progress(`probe ${name}: testssl.sh ${testsslMode === 'full' ? '--full' : '-p -E'} (minutes)…`);
      testsslRun = await testssl(setup, testsslVersion, testsslMode);
      progress(`probe ${name}: testssl.sh ${(testsslRun.wallMs / 1000).toFixed(1)} s ${testsslRun.connections} conns`);
    }
    servers.push({ setup: name, expected: expectedFindings(setup), ours: median(oursRuns), sslscan: median(sslscanRuns), testssl: testsslRun });
  }
  return { rounds, testsslMode, servers };
}

export function formatProbeBench(result: ProbeBenchResult): string[] {
  const lines: string[] = [];
  const secs = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 1000).toFixed(2)} s`);
  const times = (x: number) => `${x >= 10 ? x.toFixed(0) : x.toFixed(2)} ×`;
  lines.push(
    `mail-server TLS scan (lab Postfix via a counting forwarder; ours and sslscan median of ${result.rounds}, ` +
      `testssl.sh ${result.testsslMode === 'full' ? '--full' : result.testsslMode === 'skip' ? 'skipped' : '-p -E'} once)`,
  );
  // peak: most connections the tool had open at once, as the forwarder saw them (one the tool ended in the
  // same instant as it opened the next may still count).
  lines.push(`  server  tool                 wall      conns  peak  protocols and suites against the lab's configuration`);
  const diffs: string[] = [];
  for (const s of result.servers) {
    const rows = [s.ours, s.sslscan, ...(s.testssl ? [s.testssl] : [])];
    rows.forEach((run, i) => {
      const label = `${run.tool}${run.version ? ` ${run.version}` : ''}`.padEnd(20);
      let verdict: string;
      if (run.error || !run.findings) verdict = `failed: ${run.error}`;
      else {
        const d = differences(s.expected, run.findings);
        verdict = d.length ? `${d.length} difference(s)` : 'same';
        for (const line of d) diffs.push(`  ${s.setup} ${run.tool}: ${line}`);
      }
      lines.push(
        `  ${(i === 0 ? s.setup : '').padEnd(7)} ${label} ${secs(run.wallMs).padStart(8)}  ${String(run.connections).padStart(5)}  ${String(run.peakConcurrent).padStart(4)}  ${verdict}`,
      );
    });
    const self = s.ours.selfReported;
    if (self) {
      lines.push(
        `          (mailcheck-probe's own figures: scan ${secs(self.durationMs)} without process start-up, ${self.connections} connections, complete: ${self.complete})`,
      );
    }
    // Tools against each other, not only against the lab.
    if (s.ours.findings && s.sslscan.findings) {
      for (const line of differences(s.sslscan.findings, s.ours.findings)) diffs.push(`  ${s.setup} ours vs sslscan: ${line}`);
    }
    if (s.ours.findings && s.testssl?.findings) {
      for (const line of differences(s.testssl.findings, s.ours.findings)) diffs.push(`  ${s.setup} ours vs testssl.sh: ${line}`);
    }
  }
  const col = (values: string[]) => values.map((v) => v.padEnd(12)).join('');
  lines.push(`  ${''.padEnd(30)}${col(result.servers.map((s) => s.setup))}target`);
  const ok = result.servers.filter((s) => !s.ours.error);
  const testsslRatios = ok.filter((s) => s.testssl && !s.testssl.error).map((s) => (s.testssl as ToolRun).wallMs / s.ours.wallMs);
  if (result.testsslMode !== 'skip') {
    lines.push(
      `  ${'testssl.sh time / ours'.padEnd(30)}${col(result.servers.map((s) => (s.testssl && !s.ours.error && !s.testssl.error ? times(s.testssl.wallMs / s.ours.wallMs) : '—')))}` +
        `≥ ${TESTSSL_TARGET} ×: ${testsslRatios.length && testsslRatios.length === result.servers.length && testsslRatios.every((r) => r >= TESTSSL_TARGET) ? 'met' : 'not met'}`,
    );
  }
  const sslscanRatios = ok.map((s) => s.sslscan.wallMs / s.ours.wallMs);
  lines.push(
    `  ${'sslscan time / ours'.padEnd(30)}${col(result.servers.map((s) => (s.ours.error ? '—' : times(s.sslscan.wallMs / s.ours.wallMs))))}` +
      `> ${SSLSCAN_TARGET}: ${sslscanRatios.length === result.servers.length && sslscanRatios.every((r) => r > SSLSCAN_TARGET) ? 'met' : 'not met'}`,
  );
  // The agent is a long-running process: per scan it pays the scan, not Node's and tsx's start-up, which
  // the wall times above include (sslscan and testssl.sh start in milliseconds).
  const scanOnly = (s: ServerBench) => (s.ours.selfReported ? s.ours.selfReported.durationMs : null);
  const scanOnlyRatios = ok.map((s) => { const d = scanOnly(s); return d ? s.sslscan.wallMs / d : 0; });
  lines.push(
    `  ${'sslscan time / ours (scan)'.padEnd(30)}${col(result.servers.map((s) => { const d = scanOnly(s); return s.ours.error || !d ? '—' : times(s.sslscan.wallMs / d); }))}` +
      `> ${SSLSCAN_TARGET}: ${scanOnlyRatios.length === result.servers.length && scanOnlyRatios.every((r) => r > SSLSCAN_TARGET) ? 'met' : 'not met'} (ours without process start-up)`,
  );
  if (result.testsslMode !== 'skip') {
    lines.push(
      `  ${'testssl.sh time / ours (scan)'.padEnd(30)}${col(result.servers.map((s) => { const d = scanOnly(s); return s.ours.error || !d || !s.testssl || s.testssl.error ? '—' : times(s.testssl.wallMs / d); }))}`,
    );
  }
  lines.push(
    `  ${'connections ours'.padEnd(30)}${col(result.servers.map((s) => (s.ours.error ? '—' : String(s.ours.connections))))}` +
      `≤ ${CONNECTION_BUDGET}: ${ok.length === result.servers.length && ok.every((s) => s.ours.connections <= CONNECTION_BUDGET) ? 'met' : 'not met'}`,
  );
  const agree = result.servers.every((s) => [s.ours, s.sslscan, s.testssl].every((r) => !r || (r.findings && !differences(s.expected, r.findings).length)));
  lines.push(`  ${'same findings'.padEnd(30)}${agree ? 'all tools agree with the lab' : 'no:'}`);
  lines.push(...diffs);
  return lines.map((line) => line.trimEnd());
}

// `npx tsx bench/probe.ts`
if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  probeBench().then(
    (result) => {
      console.log(`\n${formatProbeBench(result).join('\n')}`);
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
