/**
 * The SMTP TLS lab itself (test/lab/smtp, docs/smtp-lab.md): every server answers as setups.json says it
 * is configured, seen through OpenSSL's own client and sslscan, and the lab zone publishes the TLSA records
 * it claims, DNSSEC-validated. The scanner's tests assert against the same facts, so if this file fails,
 * the lab is wrong, not the scanner.
 */
import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import * as dnsPacket from 'dns-packet';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, inject, it } from 'vitest';
import { PROTOCOLS, type ProtocolName } from '../../src/tls/probe-result.ts';
import { labSetup, smtpLab, type LabSetup, type SetupName } from '../lab/smtp/lab.ts';

const run = promisify(execFile);
const TLS_SETUPS: SetupName[] = ['modern', 'legacy', 'expired', 'wrongname', 'selfsigned'];

/** What a server sends on connect and in reply to EHLO, until it closes or has answered EHLO. */
function smtpDialogue(ip: string, port: number): Promise<{ text: string; error: string | null }> {
  return new Promise((resolve) => {
    let text = '';
    let sentEhlo = false;
    const socket = connect({ host: ip, port });
    const done = (error: string | null) => {
      socket.destroy();
      resolve({ text, error });
    };
    socket.setTimeout(5000, () => done('timeout'));
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      if (!sentEhlo && /^220 /m.test(text)) {
        sentEhlo = true;
        socket.write('EHLO lab-test.example\r\n');
      } else if (sentEhlo && /^250 /m.test(text.slice(text.indexOf('\r\n') + 2))) {
        socket.write('QUIT\r\n');
        done(null);
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
    socket.on('close', () => done(null));
  });
}

/** OpenSSL's client through STARTTLS: the chain as sent and its verification against the lab CA. */
async function sClient(setup: LabSetup): Promise<{ chain: string[]; verify: string }> {
  const { stdout } = await run(
    'bash',
    ['-c', 'openssl s_client -starttls smtp -connect "$1:$2" -showcerts -CAfile "$3" -verify_hostname "$4" </dev/null 2>/dev/null', '_',
      setup.ip, String(setup.port), smtpLab().ca_file, setup.host],
    { timeout: 20_000 },
  );
  const chain = stdout.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return {
    chain,
    verify: /Verify return code: (.*)/.exec(stdout)?.[1] ?? '',
  };
}

interface SslscanView {
  protocols: Record<ProtocolName, boolean>;
  suites: Partial<Record<ProtocolName, { id: string; preferred: boolean }[]>>;
  groups: string[];
  dhBits: number[];
  subject: string;
  notBefore: string;
  notAfter: string;
}

async function sslscan(setup: LabSetup): Promise<SslscanView> {
  const { stdout } = await run('sslscan', ['--starttls-smtp', '--xml=-', '--no-colour', `${setup.ip}:${setup.port}`], { timeout: 60_000 });
  const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['protocol', 'cipher', 'group', 'certificate'].includes(name) })
    .parse(stdout.slice(stdout.indexOf('<?xml')));
  const test = xml.document.ssltest;
  const protocols = Object.fromEntries(PROTOCOLS.map((p) => [p, false])) as Record<ProtocolName, boolean>;
  for (const p of test.protocol ?? []) {
    const name = (p.type === 'ssl' ? `SSLv${p.version}` : `TLSv${p.version}`) as ProtocolName;
    protocols[name] = p.enabled === '1';
  }
  const suites: SslscanView['suites'] = {};
  const dhBits = new Set<number>();
  for (const c of test.cipher ?? []) {
    (suites[c.sslversion as ProtocolName] ??= []).push({ id: String(c.id).toUpperCase().replace(/^0X/, '0x'), preferred: c.status === 'preferred' });
    if (c.dhebits) dhBits.add(Number(c.dhebits));
  }
  const groups = [...new Set<string>((test.group ?? []).map((g: { name: string }) => g.name.split(' ')[0]))];
  const cert = (test.certificates?.certificate ?? []).find((c: { type: string }) => c.type === 'short') ?? {};
  return { protocols, suites, groups, dhBits: [...dhBits], subject: String(cert.subject ?? ''), notBefore: String(cert['not-valid-before'] ?? ''), notAfter: String(cert['not-valid-after'] ?? '') };
}

/** sslscan's "Jan  1 00:00:00 2046 GMT" as ISO 8601. */
const isoDate = (s: string) => new Date(s.replace(' GMT', ' UTC')).toISOString().replace('.000', '');

describe('the SMTP TLS lab', () => {
  it('publishes every set-up with a distinct loopback address', () => {
    const lab = smtpLab();
    expect(lab.setups.map((s) => s.name).sort()).toEqual(['busy', 'drop', 'expired', 'legacy', 'modern', 'nostarttls', 'selfsigned', 'wrongname']);
    expect(new Set(lab.setups.map((s) => s.ip)).size).toBe(lab.setups.length);
    for (const s of lab.setups) expect(s.ip).toMatch(/^127\./);
  });

  describe.each(TLS_SETUPS)('%s', (name) => {
    it('offers STARTTLS after EHLO', async () => {
      const setup = labSetup(name);
      const { text, error } = await smtpDialogue(setup.ip, setup.port);
      expect(error).toBeNull();
      expect(text).toMatch(new RegExp(`^220 ${setup.host.replaceAll('.', '\\.')} ESMTP`));
      expect(text).toMatch(/^250[- ]STARTTLS\r$/m);
    });

    it('sends the configured chain, which verifies against the lab CA as described', async () => {
      const setup = labSetup(name);
      const cert = setup.certificate;
      if (!cert) throw new Error(`${name} has no certificate in setups.json`);
      const seen = await sClient(setup);
      expect(seen.chain).toHaveLength(cert.chain_length);
      const leaf = new X509Certificate(seen.chain[0] ?? '');
      expect(leaf.subject).toContain(`CN=${cert.subject_cn}`);
      expect(leaf.subjectAltName).toBe(cert.san_dns.map((d) => `DNS:${d}`).join(', '));
      expect(new Date(leaf.validFrom).toISOString()).toBe(new Date(cert.not_before).toISOString());
      expect(new Date(leaf.validTo).toISOString()).toBe(new Date(cert.not_after).toISOString());
      // The committed file is what the server sends.
      const file = readFileSync(cert.file, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
      expect(seen.chain.map((c) => c.replace(/\s/g, ''))).toEqual(file.map((c) => c.replace(/\s/g, '')));
      // OpenSSL reports one error; which one depends on what is wrong with the certificate.
      const expected = cert.self_signed ? /^18 / : cert.expired ? /^10 / : !cert.name_matches ? /^62 / : /^0 \(ok\)/;
      expect(seen.verify).toMatch(expected);
      expect(leaf.checkHost(setup.host) !== undefined).toBe(cert.name_matches);
    });

    it('accepts exactly the configured protocols, suites and groups (sslscan)', async () => {
      const setup = labSetup(name);
      const view = await sslscan(setup);
      for (const p of PROTOCOLS) expect(view.protocols[p], p).toBe(setup.protocols.includes(p));
      for (const p of setup.protocols) {
        const expected = setup.cipher_suites[p] ?? [];
        const seen = view.suites[p] ?? [];
        expect(seen.map((s) => s.id).sort(), p).toEqual(expected.map((s) => s.id).sort());
        // With server preference the server picks its first suite whatever the client's order.
        if (setup.server_preference) expect(seen.find((s) => s.preferred)?.id, p).toBe(expected[0]?.id);
      }
      expect(Object.keys(view.suites).sort()).toEqual([...setup.protocols].sort());
      expect(view.groups.sort()).toEqual([...setup.groups].sort());
      expect(view.dhBits).toEqual(setup.dh_bits ? [setup.dh_bits] : []);
      expect(view.subject).toBe(setup.certificate?.subject_cn);
      expect(isoDate(view.notBefore)).toBe(setup.certificate?.not_before);
      expect(isoDate(view.notAfter)).toBe(setup.certificate?.not_after);
    });
  });

  it('nostarttls greets and answers EHLO without STARTTLS', async () => {
    const setup = labSetup('nostarttls');
    const { text, error } = await smtpDialogue(setup.ip, setup.port);
    expect(error).toBeNull();
    expect(text).toMatch(/^220 /);
    expect(text).toMatch(/^250 /m);
    expect(text).not.toMatch(/STARTTLS/);
  });

  it('drop accepts the connection and resets it without a byte', async () => {
    const setup = labSetup('drop');
    const { text, error } = await smtpDialogue(setup.ip, setup.port);
    expect(text).toBe('');
    expect([null, 'ECONNRESET']).toContain(error);
  });

  it('busy greets with 421 and closes', async () => {
    const setup = labSetup('busy');
    const { text } = await smtpDialogue(setup.ip, setup.port);
    expect(text).toMatch(/^421 4\.7\.0 /);
  });

  describe('DNS (the tls.lab.mailcheck.test zone of the DNS lab)', () => {
    async function query(name: string, type: 'MX' | 'A' | 'TLSA') {
      const url = inject('dohUrl');
      if (!url) throw new Error(inject('dnsLabError'));
      const wire = dnsPacket.encode({
        type: 'query',
        id: 0,
        flags: dnsPacket.RECURSION_DESIRED,
        questions: [{ type, name, class: 'IN' }],
        additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: dnsPacket.DNSSEC_OK }],
      } as dnsPacket.Packet);
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/dns-message' }, body: wire });
      const answer = dnsPacket.decode(Buffer.from(await res.arrayBuffer()));
      return { ad: ((answer.flags ?? 0) & dnsPacket.AUTHENTIC_DATA) !== 0, answers: (answer.answers ?? []).filter((a) => a.type === type) as { data: unknown }[] };
    }

    it.each(['modern', 'legacy', 'nostarttls', 'expired', 'wrongname', 'selfsigned', 'drop', 'busy'] as SetupName[])(
      '%s: the domain has one MX, its host the set-up address, validated',
      async (name) => {
        const setup = labSetup(name);
        const mx = await query(setup.domain, 'MX');
        expect(mx.ad).toBe(true);
        expect(mx.answers.map((a) => (a.data as { exchange: string }).exchange)).toEqual([setup.host]);
        const a = await query(setup.host, 'A');
        expect(a.answers.map((r) => r.data)).toEqual([setup.ip]);
      },
    );

    it.each(TLS_SETUPS)('%s: TLSA at _25._tcp as described, and it matches the leaf only when it should', async (name) => {
      const setup = labSetup(name);
      const tlsa = await query(`_25._tcp.${setup.host}`, 'TLSA');
      expect(tlsa.ad).toBe(true);
      const records = tlsa.answers.map((a) => {
        const d = a.data as { usage: number; selector: number; matchingType: number; certificate: Buffer };
        return `${d.usage} ${d.selector} ${d.matchingType} ${d.certificate.toString('hex')}`;
      });
      expect(records).toEqual(setup.dane?.records ?? []);
      if (!setup.dane || !setup.certificate) return;
      const leaf = new X509Certificate(readFileSync(setup.certificate.file));
      const spki = createHash('sha256').update(leaf.publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
      expect(records.some((r) => r === `3 1 1 ${spki}`)).toBe(setup.dane.matches);
    });
  });
});
