import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkMtaSts, mxMatchesPattern, parseMtaStsPolicy, parseMtaStsRecord } from '../../../src/dns/checks/mta-sts.ts';
import type { Resolver } from '../../../src/dns/resolver.ts';
import { failingResolver, ids, labResolver, ZONE } from './lab.ts';

/** What the lab's HTTPS server answers for mta-sts.<name>.ZONE: status, content type, body. */
const POLICIES: Record<string, { status?: number; type?: string; body: string; headers?: Record<string, string> }> = {
  'sts-enforce': { body: `version: STSv1\r\nmode: enforce\r\nmx: mx1.hosts.${ZONE}\r\nmx: *.hosts.${ZONE}\r\nmax_age: 604800\r\n` },
  'sts-testing': { body: `version: STSv1\nmode: testing\nmx: *.hosts.${ZONE}\nmax_age: 86400\n` },
  'sts-none': { body: 'version: STSv1\nmode: none\nmax_age: 86400\n' },
  'sts-uncovered': { body: `version: STSv1\nmode: enforce\nmx: mx1.hosts.${ZONE}\nmax_age: 604800\n` },
  'sts-short': { body: `version: STSv1\nmode: enforce\nmx: mx1.hosts.${ZONE}\nmax_age: 3600\n` },
  'sts-invalid': { body: 'version: STSv2\nmode: strict\n' },
  'sts-html': { type: 'text/html', body: `version: STSv1\nmode: enforce\nmx: mx1.hosts.${ZONE}\nmax_age: 604800\n` },
  'sts-redirect': { status: 301, body: '', headers: { location: `https://mta-sts.sts-enforce.${ZONE}/.well-known/mta-sts.txt` } },
  'sts-big': { body: `version: STSv1\nmode: enforce\nmx: mx1.hosts.${ZONE}\nmax_age: 604800\n${'# padding\n'.repeat(7000)}` },
  'sts-404': { status: 404, type: 'text/html', body: 'not here' },
  'sts-bad-record': { body: `version: STSv1\nmode: enforce\nmx: *.hosts.${ZONE}\nmax_age: 604800\n` },
};

/** A lab CA and a server certificate for every mta-sts.<name>.ZONE, made with openssl. */
function makeCertificates(dir: string): { ca: string; key: string; cert: string } {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=MailCheck lab CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  run('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=mta-sts lab server');
  const names = [...Object.keys(POLICIES), 'sts-unreachable'].map((n) => `DNS:mta-sts.${n}.${ZONE}`).join(',');
  writeFileSync(join(dir, 'ext.cnf'), `subjectAltName=${names}\nextendedKeyUsage=serverAuth\n`);
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'ext.cnf');
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  return { ca: read('ca.pem'), key: read('server.key'), cert: read('server.pem') };
}

/**
 * A fetch for the test only: looks the host up in the DNS lab (A record), connects to that address
 * on the lab server's port instead of 443, and trusts only the lab CA. No redirects are followed.
 */
function labFetch(resolver: Resolver, port: number, ca: string | undefined): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const answer = await resolver.query(url.hostname, 'A');
    const address = answer.records.find((r) => r.type === 'A');
    if (address?.type !== 'A') throw new TypeError('fetch failed', { cause: new Error(`getaddrinfo ENOTFOUND ${url.hostname} (${answer.status})`) });
    return new Promise<Response>((resolve, reject) => {
      const req = request(
        { host: address.address, port, servername: url.hostname, path: url.pathname, method: 'GET', ca, headers: { host: url.hostname }, signal: init?.signal ?? undefined },
        (res) => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
          const nullBody = [204, 301, 302, 303, 304, 307, 308].includes(res.statusCode ?? 0);
          if (nullBody) res.resume();
          resolve(new Response(nullBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), { status: res.statusCode ?? 0, headers }));
        },
      );
      req.on('error', (e) => reject(new TypeError('fetch failed', { cause: e })));
      req.end();
    });
  };
}

describe('checkMtaSts against the DNS lab and a lab HTTPS server', () => {
  let dir = '';
  let server: Server;
  let port = 0;
  let ca = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mta-sts-lab-'));
    const certs = makeCertificates(dir);
    ca = certs.ca;
    server = createServer({ key: certs.key, cert: certs.cert }, (req, res) => {
      const name = (req.headers.host ?? '').replace(/^mta-sts\./, '').replace(`.${ZONE}`, '');
      const policy = POLICIES[name];
      if (!policy || req.url !== '/.well-known/mta-sts.txt') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(policy.status ?? 200, { 'content-type': policy.type ?? 'text/plain; charset=utf-8', ...policy.headers }).end(policy.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const check = (name: string, options: { ca?: string | null; fetch?: typeof fetch; timeoutMs?: number } = {}) => {
    const resolver = labResolver();
    return checkMtaSts(resolver, `${name}.${ZONE}`, {
      fetch: options.fetch ?? labFetch(resolver, port, options.ca === null ? undefined : ca),
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    });
  };

  it('enforce: reads the record and policy, every MX covered, no findings', async () => {
    const result = await check('sts-enforce');
    expect(result.findings).toEqual([]);
    expect(result.record).toBe('v=STSv1; id=20240101T000000');
    expect(result.facts).toMatchObject({
      id: '20240101T000000',
      mode: 'enforce',
      maxAge: 604800,
      mxPatterns: [`mx1.hosts.${ZONE}`, `*.hosts.${ZONE}`],
      policyUrl: `https://mta-sts.sts-enforce.${ZONE}/.well-known/mta-sts.txt`,
    });
    expect(result.facts.mx).toEqual([
      { host: `mx1.hosts.${ZONE}`, covered: true },
      { host: `mx2.hosts.${ZONE}`, covered: true },
    ]);
  });

  it.each([
    ['sts-testing', ['mta_sts.mode-testing']],
    ['sts-none', ['mta_sts.mode-none']],
    ['sts-uncovered', ['mta_sts.mx-not-covered']],
    ['sts-short', ['mta_sts.max-age-short']],
    ['sts-invalid', ['mta_sts.invalid-policy', 'mta_sts.invalid-policy', 'mta_sts.invalid-policy', 'mta_sts.invalid-policy']],
    ['sts-html', ['mta_sts.invalid-policy']],
    ['sts-big', ['mta_sts.invalid-policy']],
    ['sts-redirect', ['mta_sts.policy-unreachable']],
    ['sts-404', ['mta_sts.policy-unreachable']],
    ['sts-unreachable', ['mta_sts.policy-unreachable']],
    ['sts-bad-record', ['mta_sts.invalid-record']],
    ['sts-two-records', ['mta_sts.multiple-records']],
    ['sts-dane', ['mta_sts.no-record-dane']],
    ['mx-good', ['mta_sts.no-record']],
    ['mx-null', []],
    ['bogus', ['mta_sts.dns-failure']],
  ])('%s → %j', async (name, expected) => {
    expect(ids((await check(name)).findings)).toEqual(expected);
  });

  it('names the uncovered MX host in the advice', async () => {
    const result = await check('sts-uncovered');
    expect(result.findings[0]?.advice).toContain(`mail.elsewhere.${ZONE}`);
    expect(result.facts.mx).toEqual([
      { host: `mx1.hosts.${ZONE}`, covered: true },
      { host: `mail.elsewhere.${ZONE}`, covered: false },
    ]);
  });

  it('says why a policy is unreachable: redirect, status, missing host, untrusted certificate, timeout', async () => {
    expect((await check('sts-redirect')).findings[0]?.detail).toMatch(/HTTP 301 redirect/);
    expect((await check('sts-404')).findings[0]?.detail).toBe('HTTP 404');
    expect((await check('sts-unreachable')).findings[0]?.detail).toMatch(/ENOTFOUND/);
    const untrusted = await check('sts-enforce', { ca: null });
    expect(ids(untrusted.findings)).toEqual(['mta_sts.policy-unreachable']);
    expect(untrusted.findings[0]?.detail).toMatch(/certificate/i);
    const hang: typeof fetch = (_input, init) => new Promise((_r, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
    const slow = await check('sts-enforce', { fetch: hang, timeoutMs: 100 });
    expect(slow.findings.map((f) => [f.id, f.detail])).toEqual([['mta_sts.policy-unreachable', 'no answer within 100 ms']]);
  });

  it('a resolver failure is a DNS failure, not "no MTA-STS"', async () => {
    const result = await checkMtaSts(failingResolver('ERROR'), `sts-enforce.${ZONE}`, { fetch: () => Promise.reject(new Error('not called')) });
    expect(ids(result.findings)).toEqual(['mta_sts.dns-failure']);
  });
});

describe('MTA-STS parsing', () => {
  it('parses a policy with CRLF and unknown keys', () => {
    expect(parseMtaStsPolicy('version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 86400\r\nextra: 1\r\n')).toEqual({
      version: 'STSv1',
      mode: 'enforce',
      mx: ['mail.example.com', '*.example.net'],
      maxAge: 86400,
      errors: [],
    });
  });

  it('rejects bad values, repeats and missing lines', () => {
    expect(parseMtaStsPolicy('version: STSv1\nmode: enforce\nmax_age: 31557601\nmx: a.example').errors).toEqual([
      'max_age "31557601" is not a number of seconds up to 31557600',
    ]);
    expect(parseMtaStsPolicy('version: STSv1\nmode: testing\nmode: enforce\nmx: a.example\nmax_age: 1').errors).toEqual(['mode appears more than once']);
    expect(parseMtaStsPolicy('version: STSv1\nmode: enforce\nmax_age: 86400').errors).toEqual(['there is no mx line']);
    expect(parseMtaStsPolicy('').errors).toEqual(['the version line is missing', 'the mode line is missing', 'the max_age line is missing', 'there is no mx line']);
    expect(parseMtaStsPolicy('version: STSv1\nmode: enforce\nmx: *.*.example\nmax_age: 1').errors).toEqual(['mx "*.*.example" is not a host name or "*." pattern', 'there is no mx line']);
  });

  it('matches MX hosts: exact names, and "*." standing for exactly one label', () => {
    expect(mxMatchesPattern('mail.example.com', 'mail.example.com')).toBe(true);
    expect(mxMatchesPattern('MAIL.example.com.', 'mail.EXAMPLE.com')).toBe(true);
    expect(mxMatchesPattern('mx1.example.com', '*.example.com')).toBe(true);
    expect(mxMatchesPattern('a.mx1.example.com', '*.example.com')).toBe(false);
    expect(mxMatchesPattern('example.com', '*.example.com')).toBe(false);
    expect(mxMatchesPattern('mail.example.com', 'example.com')).toBe(false);
  });

  it('parses the TXT record', () => {
    expect(parseMtaStsRecord('v=STSv1; id=20190429T010101;')).toEqual({ id: '20190429T010101', errors: [] });
    expect(parseMtaStsRecord('v=STSv1').errors).toEqual(['the id tag is missing']);
    expect(parseMtaStsRecord('v=STSv1; id=' + 'a'.repeat(33)).errors).toHaveLength(1);
  });
});
