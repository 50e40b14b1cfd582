import { spawnSync } from 'node:child_process';
import { describe, expect, inject, it } from 'vitest';

/**
 * `mailcheck-edge check` and `spf`, run for real against the DNS lab (test/lab/dns): Knot serving
 * the zones in test/lab/dns/zones behind a validating resolver and a DoH front end on loopback.
 */
const doh = inject('dohUrl');

function cli(...args: string[]) {
  if (!doh) throw new Error(`the DNS lab is not running: ${inject('dnsLabError')}`);
  const result = spawnSync('node', ['bin/mailcheck-edge.js', ...args, '--resolver', doh], { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function json<T>(...args: string[]): T {
  const run = cli(...args, '--format', 'json');
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as T;
}

interface Check {
  domain: string;
  complete: boolean;
  dmarc: { record: string | null; findings: { id: string }[] };
  spf: { record: string | null; dns_lookups: number; void_lookups: number; findings: { id: string }[] };
  mx: { findings: { id: string }[] };
  findings: { id: string; area: string; severity: string; advice: string }[];
}

describe('mailcheck-edge spf', () => {
  it('passes a listed source and fails another, with the exp= explanation expanded', () => {
    expect(json<{ result: string }>('spf', 'good.spf.lab.mailcheck.test', '--ip', '192.0.2.10').result).toBe('pass');
    const fail = json<{ result: string; explanation: string; dns_lookups: number; void_lookups: number }>('spf', 'explained.spf.lab.mailcheck.test', '--ip', '198.51.100.1');
    expect(fail).toMatchObject({ result: 'fail', explanation: "198.51.100.1 is not one of explained.spf.lab.mailcheck.test's designated mail servers", dns_lookups: 0, void_lookups: 0 });
  });

  it('gives permerror when nested includes reach an 11th DNS lookup, and says which', () => {
    // By hand: nest's 2 includes, n1's a, mx, include, n3's a, mx, n2's a, mx, include, n4's a = 11.
    const result = json<{ result: string; dns_lookups: number }>('spf', 'nest.spf.lab.mailcheck.test', '--ip', '198.51.100.1');
    expect(result).toMatchObject({ result: 'permerror', dns_lookups: 11 });
    const text = cli('spf', 'nest.spf.lab.mailcheck.test', '--ip', '198.51.100.1');
    expect(text.stdout).toContain('DNS lookup 11');
  });

  it('refuses a missing --ip with a usage error', () => {
    expect(cli('spf', 'good.spf.lab.mailcheck.test').status).toBe(2);
  });
});

describe('mailcheck-edge check', () => {
  it('counts SPF lookups across the include tree, void lookups and loops, as worked out by hand', () => {
    const [nest, voids, loop] = json<Check[]>('check', 'nest.spf.lab.mailcheck.test', 'void.spf.lab.mailcheck.test', 'loop.spf.lab.mailcheck.test');
    // 2 at the top + n1 (a, mx, include) + n3 (a, mx) + n2 (a, mx, include) + n4 (a, mx, a) = 13.
    expect(nest!.spf).toMatchObject({ dns_lookups: 13, void_lookups: 0 });
    expect(nest!.spf.findings.map((f) => f.id)).toContain('spf.too-many-lookups');
    expect(voids!.spf).toMatchObject({ void_lookups: 3 });
    expect(voids!.spf.findings.map((f) => f.id)).toContain('spf.too-many-void-lookups');
    expect(loop!.spf.findings.map((f) => f.id)).toContain('spf.loop');
  });

  it('reports DMARC findings by id with advice, and every finding with its area', () => {
    const weak = json<Check>('check', 'weak.dmarc.lab.mailcheck.test');
    expect(weak.complete).toBe(true);
    expect(weak.dmarc.record).toBe('v=DMARC1; p=none');
    expect(weak.findings.filter((f) => f.area === 'dmarc').map((f) => f.id)).toEqual(expect.arrayContaining(['dmarc.policy-none', 'dmarc.rua-missing']));
    expect(weak.findings.find((f) => f.id === 'spf.neutral-all')?.area).toBe('spf');
    expect(weak.findings.every((f) => f.advice.length > 20)).toBe(true);
    const broken = json<Check>('check', 'broken.dmarc.lab.mailcheck.test');
    expect(broken.dmarc.findings.map((f) => f.id)).toContain('dmarc.invalid-value');
  });

  it('warns when a subdomain publishes a weaker policy than its parent asks of subdomains', () => {
    const [lax, firm] = json<Check[]>('check', 'lax.parent.dmarc.lab.mailcheck.test', 'firm.parent.dmarc.lab.mailcheck.test');
    expect(lax!.dmarc.findings.map((f) => f.id)).toContain('dmarc.policy-weaker-than-parent');
    expect(firm!.dmarc.findings.map((f) => f.id)).not.toContain('dmarc.policy-weaker-than-parent');
  });

  it('refuses a name that is not a domain before any query, and still checks the others', () => {
    const run = cli('check', 'not a domain', 'weak.dmarc.lab.mailcheck.test', '--format', 'json');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('"not a domain" is not a domain name');
    expect((JSON.parse(run.stdout) as Check).domain).toBe('weak.dmarc.lab.mailcheck.test');
  });

  it('prints a readable report in text, and exits 1 when a DNS failure leaves a check incomplete', () => {
    const text = cli('check', 'weak.dmarc.lab.mailcheck.test');
    expect(text.status).toBe(0);
    expect(text.stdout).toContain('DMARC: could be better');
    expect(text.stdout).toContain('[dmarc.policy-none]');
    // The lab's bogus zone fails DNSSEC validation: SERVFAIL, never "no record".
    const bogus = cli('check', 'www.bogus.lab.mailcheck.test', '--format', 'json');
    expect(bogus.status).toBe(1);
    const result = JSON.parse(bogus.stdout) as Check;
    expect(result.complete).toBe(false);
    expect(result.dmarc.findings.map((f) => f.id)).toContain('dmarc.dns-failure');
    expect(result.dmarc.findings.map((f) => f.id)).not.toContain('dmarc.no-record');
  });
});
