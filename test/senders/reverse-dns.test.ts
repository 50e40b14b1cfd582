import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { Hono } from 'hono';
import { beforeAll, describe, expect, it } from 'vitest';
import { reverseDnsRoutes } from '../../src/api/reverse-dns-routes';
import worker from '../../src/index';
import { authenticate, type AppEnv } from '../../src/auth/authenticate';
import { createDohResolver } from '../../src/dns/doh-client';
import type { DnsAnswer, Resolver, RRType } from '../../src/dns/resolver';
import { baseDomainOf, canonicalIp, identifySender, reverseName, type SenderIdentity } from '../../src/senders/identify';
import { KNOWN_UNKNOWN_ROWS, PSL_OVERRIDES, SENDER_MAP_ROWS } from '../../src/senders/psl-overrides.generated';
import { consumeSenderBatch, enqueueSenderLookups, type SenderLookupMessage } from '../../src/senders/sender-queue';
import { lookupAndCache, lookupMany, mapEntry, type SenderLookup } from '../../src/senders/store';
import { migrate } from '../ingest/helpers';

/** The lab publishes reverse names here (test/lab/dns/zones/rdns.lab.mailcheck.test.zone). */
const LAB = { v4: 'in-addr.rdns.lab.mailcheck.test', v6: 'ip6.rdns.lab.mailcheck.test' };
/** A zone whose answers are all SERVFAIL (DNSSEC bogus). */
const BOGUS = { v4: 'in-addr.bogus.lab.mailcheck.test', v6: 'ip6.bogus.lab.mailcheck.test' };
const ADMIN = 'test-admin-token-0123456789abcdef';
const labEnv = { ...env, REVERSE_DNS_SUFFIXES: `${LAB.v4},${LAB.v6}` } as Env;
const lab = () => createDohResolver({ url: env.DOH_URL });

/** Counts the queries that reach the resolver, to tell a cached answer from a lookup. */
function counting(inner: Resolver) {
  const asked: string[] = [];
  const resolver: Resolver = { query: (name: string, type: RRType): Promise<DnsAnswer> => (asked.push(`${name} ${type}`), inner.query(name, type)) };
  return { resolver, asked };
}

const testApp = new Hono<AppEnv>().use('/api/*', authenticate()).route('/api', reverseDnsRoutes);
async function call<T>(method: string, path: string, body?: unknown, token = ADMIN) {
  const response = await testApp.fetch(
    new Request(`https://mailcheck.test${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'CF-Connecting-IP': '192.0.2.241' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
    labEnv,
    createExecutionContext(),
  );
  return { status: response.status, json: (await response.json()) as T };
}

beforeAll(async () => {
  await migrate();
  // Every lab name has the base domain mailcheck.test (`test` is not on the PSL): map it like an admin would.
  await env.DB.prepare("INSERT INTO sender_map (base_domain, name, type, source) VALUES ('mailcheck.test', 'MailCheck Lab Mail', 'Email Provider', 'admin')").run();
});

describe('sender map (migration)', () => {
  it('loads every row of the shipped CSV and the known-unknown list', async () => {
    const counts = await env.DB.prepare("SELECT (SELECT count(*) FROM sender_map WHERE source = 'map') AS map, (SELECT count(*) FROM sender_known_unknown) AS unknown").first<{ map: number; unknown: number }>();
    expect(counts).toEqual({ map: 38_628, unknown: 31_882 });
    expect(SENDER_MAP_ROWS).toBe(38_628);
    expect(KNOWN_UNKNOWN_ROWS).toBe(31_882);
    expect(await mapEntry(env.DB, 'mcsv.net')).toEqual({ service: { name: 'Intuit Mailchimp', type: 'Marketing' }, knownUnknown: false });
    expect((await mapEntry(env.DB, 'google.com')).service).toEqual({ name: 'Google (Including Gmail and Google Workspace)', type: 'Email Provider' });
    // Quoted fields with commas and doubled quotes, and apostrophes, survive the CSV → SQL step.
    expect((await mapEntry(env.DB, 'ablogic.ru')).service?.name).toBe('OJSC "Telecommunications FEZ Nakhodka"');
    expect((await mapEntry(env.DB, 'acs-it.fr')).service?.name).toBe("ACS'IT");
    expect(await mapEntry(env.DB, '01node.com')).toEqual({ service: null, knownUnknown: true });
    expect(await mapEntry(env.DB, 'not-in-any-list.example')).toEqual({ service: null, knownUnknown: false });
  });
});

describe('reverse names and base domains', () => {
  it('builds in-addr.arpa and ip6.arpa names, or names under a configured suffix', () => {
    expect(reverseName('192.0.2.1')).toBe('1.2.0.192.in-addr.arpa');
    expect(reverseName('::ffff:192.0.2.1')).toBe('1.2.0.192.in-addr.arpa');
    expect(reverseName('2001:db8::1')).toBe('1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa');
    expect(reverseName('192.0.2.1', LAB)).toBe('1.2.0.192.in-addr.rdns.lab.mailcheck.test');
  });

  it('accepts only real addresses', () => {
    expect(canonicalIp('2001:DB8:0:0::1')).toBe('2001:db8::1');
    for (const bad of ['', '1', '0x7f.0.0.1', '192.0.2', '192.0.2.256', 'fe80::1%eth0', 'example.com']) expect(canonicalIp(bad)).toBeNull();
  });

  it('folds names with the PSL and parsedmarc overrides', () => {
    expect(PSL_OVERRIDES).toContain('-applefibernet.com');
    expect(baseDomainOf('mail-io1-f41.google.com.')).toBe('google.com');
    expect(baseDomainOf('host.example.co.uk')).toBe('example.co.uk');
    expect(baseDomainOf('1-2-3-4-applefibernet.com')).toBe('applefibernet.com');
    expect(baseDomainOf('www.site.123hjemmeside.dk')).toBe('123hjemmeside.dk');
  });
});

describe('identifySender against the DNS lab', () => {
  const map = (d: string) => mapEntry(env.DB, d);

  it('confirms a PTR and names the service', async () => {
    const r = await identifySender(lab(), '192.0.2.1', { map, suffixes: LAB });
    expect(r).toEqual<SenderIdentity>({
      ip: '192.0.2.1',
      ptr: ['mail.senders.rdns.lab.mailcheck.test'],
      confirmed: ['mail.senders.rdns.lab.mailcheck.test'],
      base_domain: 'mailcheck.test',
      service: { name: 'MailCheck Lab Mail', type: 'Email Provider' },
      known_unknown: false,
      status: 'ok',
    });
  });

  it('confirms over IPv6', async () => {
    const r = await identifySender(lab(), '2001:db8::25', { map, suffixes: LAB });
    expect(r.status).toBe('ok');
    expect(r.confirmed).toEqual(['mail6.senders.rdns.lab.mailcheck.test']);
  });

  it('keeps the names that confirm among several', async () => {
    const r = await identifySender(lab(), '192.0.2.5', { map, suffixes: LAB });
    expect(r.status).toBe('ok');
    expect([...r.ptr].sort()).toEqual(['relay.senders.rdns.lab.mailcheck.test', 'spoofed.rdns.lab.mailcheck.test']);
    expect(r.confirmed).toEqual(['relay.senders.rdns.lab.mailcheck.test']);
  });

  it('does not trust a PTR whose name resolves elsewhere or nowhere', async () => {
    for (const ip of ['192.0.2.2', '192.0.2.3']) {
      const r = await identifySender(lab(), ip, { map, suffixes: LAB });
      expect(r.status).toBe('not-confirmed');
      expect(r.ptr).toHaveLength(1);
      expect(r.confirmed).toEqual([]);
      expect(r.base_domain).toBeNull();
      expect(r.service).toBeNull();
    }
  });

  it('answers no-ptr for an address without one', async () => {
    const r = await identifySender(lab(), '192.0.2.4', { map, suffixes: LAB });
    expect(r).toMatchObject({ status: 'no-ptr', ptr: [], confirmed: [], service: null });
  });

  it('keeps DNS failure apart from "no PTR", for the PTR and for the forward lookup', async () => {
    const ptr = await identifySender(lab(), '192.0.2.1', { map, suffixes: BOGUS });
    expect(ptr.status).toBe('dns-failure');
    expect(ptr.error).toContain('SERVFAIL');
    const forward = await identifySender(lab(), '192.0.2.6', { map, suffixes: LAB });
    expect(forward.status).toBe('dns-failure');
    expect(forward.ptr).toEqual(['www.bogus.lab.mailcheck.test']);
    const timeout: Resolver = { query: async (name, type) => ({ name, type, status: 'TIMEOUT', records: [], authenticated: false, cnames: [], error: 'no answer' }) };
    const unreachable = await identifySender(timeout, '192.0.2.1', { map, suffixes: LAB });
    expect(unreachable).toMatchObject({ status: 'dns-failure', error: 'PTR 1.2.0.192.in-addr.rdns.lab.mailcheck.test: TIMEOUT (no answer)' });
  });
});

describe('lookupAndCache', () => {
  it('stores the result and serves the second call from D1', async () => {
    const first = counting(lab());
    const a = await lookupAndCache(labEnv, '192.0.2.1', { resolver: first.resolver });
    expect(a).toMatchObject({ status: 'ok', cached: false, service: { name: 'MailCheck Lab Mail' } });
    expect(first.asked.length).toBe(2);
    const week = Date.parse(a.expires_at) - Date.parse(a.checked_at);
    expect(week).toBe(7 * 86_400_000);

    const second = counting(lab());
    const b = await lookupAndCache(labEnv, '192.0.2.1', { resolver: second.resolver });
    expect(second.asked).toEqual([]);
    expect(b).toMatchObject({ status: 'ok', cached: true, checked_at: a.checked_at, ptr: a.ptr });

    // An admin's change of the map applies to cached results at once.
    await env.DB.prepare("UPDATE sender_map SET name = 'Renamed Lab Mail' WHERE base_domain = 'mailcheck.test'").run();
    expect((await lookupAndCache(labEnv, '192.0.2.1')).service?.name).toBe('Renamed Lab Mail');
    await env.DB.prepare("UPDATE sender_map SET name = 'MailCheck Lab Mail' WHERE base_domain = 'mailcheck.test'").run();
  });

  it('keeps a DNS failure for a day only, and looks again once a result expired', async () => {
    const bogusEnv = { ...env, REVERSE_DNS_SUFFIXES: `${BOGUS.v4},${BOGUS.v6}` } as Env;
    const failed = await lookupAndCache(bogusEnv, '192.0.2.7');
    expect(failed.status).toBe('dns-failure');
    expect(Date.parse(failed.expires_at) - Date.parse(failed.checked_at)).toBe(86_400_000);
    const later = new Date(Date.now() + 2 * 86_400_000);
    const again = counting(lab());
    const retried = await lookupAndCache(labEnv, '192.0.2.7', { resolver: again.resolver, now: later });
    expect(again.asked).toHaveLength(1);
    expect(retried).toMatchObject({ status: 'no-ptr', cached: false });
    const row = await env.DB.prepare('SELECT status FROM reverse_dns WHERE ip = ?').bind('192.0.2.7').first<{ status: string }>();
    expect(row?.status).toBe('no-ptr');
  });

  it('answers batches from the cache first and bounds the lookups made now', async () => {
    const items = await lookupMany(labEnv, ['192.0.2.1', '192.0.2.2', '192.0.2.4', '192.0.2.8', '192.0.2.9'], { maxLookups: 2 });
    expect(items.map((i) => [i.ip, i.status, 'cached' in i ? i.cached : null])).toEqual([
      ['192.0.2.1', 'ok', true],
      ['192.0.2.2', 'not-confirmed', false],
      ['192.0.2.4', 'no-ptr', false],
      ['192.0.2.8', 'pending', null],
      ['192.0.2.9', 'pending', null],
    ]);
  });
});

describe('GET /api/reverse-dns/:ip and POST /api/reverse-dns', () => {
  it('looks an address up, then serves it from the cache', async () => {
    const first = await call<SenderLookup>('GET', '/api/reverse-dns/2001:db8::25');
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ ip: '2001:db8::25', status: 'ok', base_domain: 'mailcheck.test', cached: false });
    const second = await call<SenderLookup>('GET', '/api/reverse-dns/2001:0db8:0:0::25');
    expect(second.json).toMatchObject({ ip: '2001:db8::25', status: 'ok', cached: true });
  });

  it('refuses what is not an address, and unauthenticated calls', async () => {
    const bad = await call<{ title: string; status: number }>('GET', '/api/reverse-dns/192.0.2.300');
    expect(bad.status).toBe(400);
    expect(bad.json.title).toBe('Bad Request');
    expect((await call('GET', '/api/reverse-dns/192.0.2.1', undefined, 'not-a-token-not-a-token-not-a-token')).status).toBe(401);
  });

  it('answers a batch', async () => {
    const r = await call<{ items: { ip: string; status: string }[] }>('POST', '/api/reverse-dns', { ips: ['192.0.2.5', '::ffff:192.0.2.1', '192.0.2.3'] });
    expect(r.status).toBe(200);
    expect(r.json.items.map((i) => [i.ip, i.status])).toEqual([
      ['192.0.2.5', 'ok'],
      ['192.0.2.1', 'ok'],
      ['192.0.2.3', 'not-confirmed'],
    ]);
  });

  it('validates the batch', async () => {
    expect((await call('POST', '/api/reverse-dns', { ips: [] })).status).toBe(400);
    expect((await call('POST', '/api/reverse-dns', { ips: 'x' })).status).toBe(400);
    const invalid = await call<{ invalid: unknown[] }>('POST', '/api/reverse-dns', { ips: ['192.0.2.1', 'nope', 7] });
    expect(invalid.status).toBe(400);
    expect(invalid.json.invalid).toEqual(['nope', 7]);
    const many = Array.from({ length: 101 }, (_, i) => `198.51.100.${i}`);
    expect((await call('POST', '/api/reverse-dns', { ips: many })).status).toBe(400);
  });
});

describe('sender queue', () => {
  it('enqueues uncached addresses and the consumer resolves them', async () => {
    const sent: SenderLookupMessage[] = [];
    const queue = { sendBatch: async (messages: { body: SenderLookupMessage }[]) => void sent.push(...messages.map((m) => m.body)) } as unknown as Queue<SenderLookupMessage>;
    const count = await enqueueSenderLookups(env, queue, ['192.0.2.1', '192.0.2.10', '192.0.2.10', 'garbage', '2001:db8::99']);
    expect(count).toBe(2);
    expect(sent).toEqual([{ ips: ['192.0.2.10', '2001:db8::99'] }]);

    const batch = createMessageBatch<SenderLookupMessage>('mailcheck-senders', [{ id: 's1', timestamp: new Date(), attempts: 1, body: sent[0]! }]);
    await consumeSenderBatch(batch, labEnv);
    expect((await getQueueResult(batch, createExecutionContext())).explicitAcks).toEqual(['s1']);
    const rows = await env.DB.prepare("SELECT ip, status FROM reverse_dns WHERE ip IN ('192.0.2.10', '2001:db8::99') ORDER BY ip").all<{ ip: string; status: string }>();
    expect(rows.results).toEqual([
      { ip: '192.0.2.10', status: 'no-ptr' },
      { ip: '2001:db8::99', status: 'no-ptr' },
    ]);
  });
});

describe('admin overrides of the sender map', () => {
  it('replaces a shipped entry, audited, and applies to cached results', async () => {
    expect((await call<{ source: string }>('GET', '/api/reverse-dns/map/mcsv.net')).json).toMatchObject({ service: { name: 'Intuit Mailchimp' }, source: 'map' });
    const put = await call<{ source: string }>('PUT', '/api/reverse-dns/map/MCSV.net', { name: 'Mailchimp (ours)', type: 'Marketing' });
    expect(put.status).toBe(200);
    expect((await call('GET', '/api/reverse-dns/map/mcsv.net')).json).toMatchObject({ service: { name: 'Mailchimp (ours)', type: 'Marketing' }, source: 'admin' });
    const audit = await env.DB.prepare("SELECT action, before, after FROM audit_log WHERE entity = 'sender_map' AND entity_id = 'mcsv.net'").first<{ action: string; before: string }>();
    expect(audit?.action).toBe('sender_map.update');
    expect(JSON.parse(audit!.before)).toMatchObject({ name: 'Intuit Mailchimp', source: 'map' });
    expect((await call('PUT', '/api/reverse-dns/map/new-sender.example', { name: 'New', type: 'SaaS' })).status).toBe(201);
    expect((await call('PUT', '/api/reverse-dns/map/new-sender.example', { name: '' })).status).toBe(400);
  });

  it('needs the admin scope to change the map', async () => {
    // Tokens are made through the real Worker's admin API.
    const made = await worker.fetch(
      new Request('https://mailcheck.test/api/admin/tokens', {
        method: 'POST',
        headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json', 'CF-Connecting-IP': '192.0.2.241' },
        body: JSON.stringify({ name: 'reader', scopes: ['read'] }),
      }),
      env,
      createExecutionContext(),
    );
    expect(made.status).toBe(201);
    const reader = ((await made.json()) as { token: string }).token;
    expect((await call('GET', '/api/reverse-dns/map/mcsv.net', undefined, reader)).status).toBe(200);
    expect((await call('GET', '/api/reverse-dns/192.0.2.1', undefined, reader)).status).toBe(200);
    expect((await call('PUT', '/api/reverse-dns/map/mcsv.net', { name: 'X', type: 'Y' }, reader)).status).toBe(403);
  });
});
