/**
 * Scans every set-up of the Postfix lab (test/lab/smtp, docs/smtp-lab.md) and checks the result
 * against what the set-up is configured to do, and against sslscan's view of the same server.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { inject } from 'vitest';
import { describe, expect, it } from 'vitest';
import { createDohResolver } from '../../src/dns/doh-client.ts';
import { PROTOCOLS, type ProbeTargetResult, type ProtocolName } from '../../src/tls/probe-result.ts';
import { parsePemBundle } from '../../probe-agent/src/certificates/chain.ts';
import { scanTarget } from '../../probe-agent/src/scan/scan-target.ts';
import { labSetup, smtpLab, type SetupName } from '../lab/smtp/lab.ts';

const POSTFIX: SetupName[] = ['modern', 'legacy', 'expired', 'wrongname', 'selfsigned'];

async function scan(name: SetupName): Promise<ProbeTargetResult> {
  const setup = labSetup(name);
  return scanTarget(
    { host: setup.host, ip: setup.ip, port: setup.port },
    {
      allowTargets: ['127.0.25.0/24'],
      extraTrustAnchors: parsePemBundle(readFileSync(smtpLab().ca_file, 'utf8')),
      daneResolver: createDohResolver({ url: inject('dohUrl') }),
      timeoutMs: 5000,
      ehloName: 'probe.lab.mailcheck.test',
    },
  );
}

/** sslscan's protocols and accepted suite ids per protocol (its XML names TLS 1.0 "TLSv1.0"). */
function sslscan(ip: string, port: number): { protocols: Set<ProtocolName>; suites: Map<string, Set<string>> } {
  const xml = execFileSync('sslscan', ['--starttls-smtp', '--no-colour', '--xml=-', `${ip}:${port}`], { encoding: 'utf8', timeout: 60_000 });
  const protocols = new Set<ProtocolName>();
  for (const m of xml.matchAll(/<protocol type="(ssl|tls)" version="([\d.]+)" enabled="1"/g)) {
    protocols.add((m[1] === 'ssl' ? `SSLv${m[2]}` : `TLSv${m[2]}`) as ProtocolName);
  }
  const suites = new Map<string, Set<string>>();
  for (const m of xml.matchAll(/<cipher status="(?:accepted|preferred)" sslversion="([^"]+)"[^>]* id="(0x[0-9A-Fa-f]+)"/g)) {
    const protocol = m[1] === 'TLSv1.0' || m[1] === 'TLSv1' ? 'TLSv1.0' : m[1]!;
    if (!suites.has(protocol)) suites.set(protocol, new Set());
    suites.get(protocol)!.add(m[2]!.toUpperCase().replace('0X', '0x'));
  }
  return { protocols, suites };
}

const enabled = (r: ProbeTargetResult) => PROTOCOLS.filter((p) => r.protocols[p]);

describe.each(POSTFIX)('the %s Postfix', (name) => {
  it('scans to what it is configured to do, within 40 connections', async () => {
    const setup = labSetup(name);
    const r = await scan(name);
    expect(r.status).toBe('ok');
    expect(r.complete).toBe(true);
    expect(r.connections).toBeLessThanOrEqual(40);
    expect(enabled(r)).toEqual(PROTOCOLS.filter((p) => setup.protocols.includes(p)));
    for (const protocol of setup.protocols) {
      const want = (setup.cipher_suites[protocol] ?? []).map((s) => s.id);
      const got = (r.cipher_suites[protocol] ?? []).map((s) => s.id);
      if (setup.server_preference) expect(got, protocol).toEqual(want);
      else expect([...got].sort(), protocol).toEqual([...want].sort());
      expect(r.cipher_suites[protocol]!.map((s) => s.name)).toEqual(got.map((id) => setup.cipher_suites[protocol]!.find((s) => s.id === id)!.name));
      if (got.length >= 2) expect(r.server_preference[protocol], protocol).toBe(setup.server_preference);
    }
    expect([...r.groups].sort()).toEqual([...setup.groups].sort());
    expect(r.key_exchange.dh_bits).toBe(setup.dh_bits);
    expect(r.smtp.starttls_offered).toBe(true);
    expect(r.smtp.starttls_injection).toBe(false);
    expect(r.fallback_scsv).toBe(true);

    const cert = setup.certificate!;
    expect(r.certificates).toHaveLength(cert.chain_length);
    const leaf = r.certificates[0]!;
    expect(leaf.subject).toMatch(new RegExp(`^CN=${cert.subject_cn.replace(/\./g, '\\.')}(,|$)`));
    expect(leaf.san_dns).toEqual(cert.san_dns);
    expect(leaf.not_before).toBe(new Date(cert.not_before).toISOString());
    expect(leaf.not_after).toBe(new Date(cert.not_after).toISOString());
    expect(leaf.self_signed).toBe(cert.self_signed);
    // The leaf as sent is byte for byte the one in the set-up's chain file.
    expect(leaf.sha256).toBe(parsePemBundle(readFileSync(cert.file, 'utf8'))[0]!.fingerprint256.replace(/:/g, '').toLowerCase());
    expect(r.chain?.trusted).toBe(cert.trusted_by_lab_ca);

    if (setup.dane) {
      expect(r.dane).toMatchObject({ name: setup.dane.name, dns_status: 'NOERROR', authenticated: true, matched: setup.dane.matches });
      expect(r.dane!.records.map((t) => `${t.usage} ${t.selector} ${t.matching_type} ${t.data}`)).toEqual(setup.dane.records);
    } else expect(r.dane?.records ?? []).toEqual([]);
  });

  it("finds the same protocols and suites as sslscan", async () => {
    const setup = labSetup(name);
    const r = await scan(name);
    const theirs = sslscan(setup.ip, setup.port);
    expect(new Set(enabled(r))).toEqual(theirs.protocols);
    for (const protocol of enabled(r)) {
      expect(new Set((r.cipher_suites[protocol] ?? []).map((s) => s.id)), protocol).toEqual(theirs.suites.get(protocol) ?? new Set());
    }
  });
});

describe('the lab servers without TLS', () => {
  it('no STARTTLS: no_starttls in one connection', async () => {
    const r = await scan('nostarttls');
    expect(r).toMatchObject({ status: 'no_starttls', connections: 1, protocols: { 'TLSv1.2': false, 'TLSv1.3': false } });
    expect(r.smtp.greeting).toMatch(/^220 /);
  });

  it('a reset and a 421 are inconclusive', async () => {
    const dropped = await scan('drop');
    const busy = await scan('busy');
    expect(dropped.status).toBe('inconclusive');
    expect(busy.status).toBe('inconclusive');
    expect(busy.smtp.error).toMatch(/^421 /);
    expect(dropped.connections + busy.connections).toBe(2);
  });
});

describe('mailcheck-probe scan (the command)', () => {
  const run = (args: string[]) => spawnSync('npx', ['mailcheck-probe', 'scan', ...args], { encoding: 'utf8', timeout: 120_000 });

  it('prints one JSON object per IP of a host name, with the public keys', () => {
    const setup = labSetup('modern');
    const out = run([setup.host, '--format', 'json', '--allow-targets', '127.0.25.0/24', '--ca-file', smtpLab().ca_file, '--doh', inject('dohUrl')]);
    expect(out.status, out.stderr).toBe(0);
    const results = JSON.parse(out.stdout) as ProbeTargetResult[];
    expect(results).toHaveLength(1);
    const r = results[0]!;
    expect(Object.keys(r)).toEqual(expect.arrayContaining(['host', 'ip', 'port', 'status', 'protocols', 'cipher_suites', 'groups', 'certificates', 'connections', 'findings']));
    expect(r).toMatchObject({ host: setup.host, ip: setup.ip, port: 25, status: 'ok' });
    expect(Object.keys(r.protocols)).toEqual([...PROTOCOLS]);
    expect(r.cipher_suites['TLSv1.3']![0]).toEqual({ id: '0x1302', name: 'TLS_AES_256_GCM_SHA384' });
    expect(Object.keys(r.certificates[0]!)).toEqual(expect.arrayContaining(['subject', 'issuer', 'not_before', 'not_after', 'sha256']));
  });

  it('prints a readable summary with --format text', () => {
    const setup = labSetup('legacy');
    const out = run([setup.ip, '--allow-targets', '127.0.25.0/24', '--ca-file', smtpLab().ca_file]);
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toContain(`${setup.ip} ${setup.ip}:25  ok`);
    expect(out.stdout).toContain('protocols:    SSLv2 no, SSLv3 no, TLSv1.0 yes, TLSv1.1 yes, TLSv1.2 yes, TLSv1.3 no');
    expect(out.stdout).toContain("TLSv1.2 suites (client's order):");
    expect(out.stdout).toContain('0x0034 TLS_DH_anon_WITH_AES_128_CBC_SHA');
    expect(out.stdout).toContain('DH size:      1024 bits');
    expect(out.stdout).toMatch(/\d+ connection\(s\), \d+ ms\n/);
  });

  it('exit codes: 3 when a target is refused by the SSRF guard, 2 for bad input', () => {
    const refused = run(['127.0.25.1', '--format', 'json']);
    expect(refused.status).toBe(3);
    expect(JSON.parse(refused.stdout)[0]).toMatchObject({ status: 'refused', connections: 0 });
    expect(run(['127.0.25.1', '--format', 'xml']).status).toBe(2);
    expect(run(['127.0.25.1', '--allow-targets', 'nonsense']).stderr).toMatch(/CIDR/);
    expect(run([]).status).toBe(2);
    expect(run(['127.0.25.1', '--max-connections', '0']).status).toBe(2);
  });
});
