import { createServer, type Server, type Socket } from 'node:net';
import { Buffer } from 'node:buffer';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDohResolver, DEFAULT_DOH_URL } from '../../src/dns/doh-client.ts';

/** Zones in test/lab/dns/zones; served by Knot, validated by kresd, over DoH by dnsdist. */
const LAB = 'lab.mailcheck.test';

/** A fetch that counts the requests it passes on, and the most it had in flight at once. */
function countingFetch(delayMs = 0) {
  const stats = { requests: 0, inFlight: 0, maxInFlight: 0 };
  const wrapped: typeof fetch = async (input, init) => {
    stats.requests++;
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    try {
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      return await fetch(input, init);
    } finally {
      stats.inFlight--;
    }
  };
  return { fetch: wrapped, stats };
}

describe('the DoH client against the DNS lab', () => {
  let url = '';

  beforeAll(() => {
    url = inject('dohUrl');
    if (!url) {
      throw new Error(
        `The DNS lab is not running, and these tests need it.\n${inject('dnsLabError') || ''}\n` +
          'Start it with `bash test/lab/dns/start.sh` (docs/dns-lab.md); vitest does so through test/lab/dns/global-setup.ts.',
      );
    }
  });

  describe.each(['POST', 'GET'] as const)('over %s', (method) => {
    it('joins the character-strings of a TXT record with nothing between them, and keeps them', async () => {
      const resolver = createDohResolver({ url, method });
      const answer = await resolver.query(`txt-multi.${LAB}`, 'TXT');
      expect(answer).toMatchObject({ status: 'NOERROR', authenticated: true, cnames: [] });
      expect(answer.records).toEqual([
        { type: 'TXT', name: `txt-multi.${LAB}`, ttl: expect.any(Number), text: 'v=spf1 ip4:192.0.2.0/24 -all', strings: ['v=spf1 ', 'ip4:192.0.2.0/24 ', '-all'] },
      ]);
    });

    it('follows a CNAME chain to the records at its end', async () => {
      const answer = await createDohResolver({ url, method }).query(`cname-1.${LAB}`, 'A');
      expect(answer).toMatchObject({ status: 'NOERROR', authenticated: true, cnames: [`cname-2.${LAB}`, `cname-3.${LAB}`] });
      expect(answer.records).toEqual([{ type: 'A', name: `cname-3.${LAB}`, ttl: expect.any(Number), address: '192.0.2.30' }]);
    });
  });

  it('keeps every TXT record of a name apart, and splits nothing over 255 octets wrongly', async () => {
    const resolver = createDohResolver({ url });
    const two = await resolver.query(`txt-two.${LAB}`, 'TXT');
    expect(two.records.map((r) => (r.type === 'TXT' ? r.text : '')).sort()).toEqual(['first record', 'second record']);
    const long = await resolver.query(`txt-long.${LAB}`, 'TXT');
    expect(long.records[0]).toMatchObject({ text: 'a'.repeat(255) + 'b'.repeat(45) });
    expect(long.records[0]?.type === 'TXT' && long.records[0].strings.map((s) => s.length)).toEqual([255, 45]);
  });

  it('follows a CNAME into another zone, and reports where a dangling one ends', async () => {
    const resolver = createDohResolver({ url });
    const child = await resolver.query(`cname-to-child.${LAB}`, 'TXT');
    expect(child).toMatchObject({ status: 'NOERROR', authenticated: true, cnames: [`www.child.${LAB}`] });
    expect(child.records[0]).toMatchObject({ name: `www.child.${LAB}`, text: 'in the child zone' });

    const dangling = await resolver.query(`cname-dangling.${LAB}`, 'A');
    expect(dangling).toMatchObject({ status: 'NXDOMAIN', records: [], cnames: [`nothing-here.${LAB}`] });
  });

  it('answers SERVFAIL for a CNAME loop', async () => {
    const answer = await createDohResolver({ url }).query(`loop-1.${LAB}`, 'A');
    expect(answer.status).toBe('SERVFAIL');
    expect(answer.records).toEqual([]);
  });

  it('tells NXDOMAIN, NODATA and SERVFAIL (DNSSEC bogus) apart', async () => {
    const resolver = createDohResolver({ url });
    const nxdomain = await resolver.query(`does-not-exist.${LAB}`, 'TXT');
    expect(nxdomain).toMatchObject({ status: 'NXDOMAIN', records: [], authenticated: true });
    expect(nxdomain.error).toBeUndefined();

    const nodata = await resolver.query(`nodata.${LAB}`, 'TXT');
    expect(nodata).toMatchObject({ status: 'NOERROR', records: [], authenticated: true });
    const emptyNonTerminal = await resolver.query(`ent.${LAB}`, 'TXT');
    expect(emptyNonTerminal).toMatchObject({ status: 'NOERROR', records: [] });

    const bogus = await resolver.query(`www.bogus.${LAB}`, 'A');
    expect(bogus).toMatchObject({ status: 'SERVFAIL', records: [], authenticated: false });
    expect(bogus.error).toMatch(/DNSSEC Bogus/);
  });

  it('reads the AD bit: signed zones are authenticated, an unsigned delegation is not', async () => {
    const resolver = createDohResolver({ url });
    expect((await resolver.query(LAB, 'SOA')).authenticated).toBe(true);
    expect((await resolver.query(`www.child.${LAB}`, 'A')).authenticated).toBe(true);
    const insecure = await resolver.query(`www.insecure.${LAB}`, 'TXT');
    expect(insecure).toMatchObject({ status: 'NOERROR', authenticated: false });
    expect(insecure.records[0]).toMatchObject({ text: 'unsigned' });
  });

  it('reads MX, null MX, A, AAAA, DS and DNSKEY', async () => {
    const resolver = createDohResolver({ url });
    const mx = await resolver.query(`mx.${LAB}`, 'MX');
    expect(mx.records.map((r) => (r.type === 'MX' ? [r.preference, r.exchange] : [])).sort()).toEqual([
      [10, `mail1.mx.${LAB}`],
      [20, `mail2.mx.${LAB}`],
    ]);
    expect((await resolver.query(`nullmx.${LAB}`, 'MX')).records).toEqual([
      { type: 'MX', name: `nullmx.${LAB}`, ttl: expect.any(Number), preference: 0, exchange: '.' },
    ]);
    expect((await resolver.query(`host.${LAB}`, 'A')).records).toMatchObject([{ address: '192.0.2.10' }]);
    expect((await resolver.query(`HOST.${LAB}.`, 'AAAA')).records).toMatchObject([{ name: `host.${LAB}`, address: '2001:db8::10' }]);
    expect((await resolver.query(`dual.${LAB}`, 'A')).records.map((r) => (r.type === 'A' ? r.address : '')).sort()).toEqual(['192.0.2.11', '192.0.2.12']);
    const ds = await resolver.query(`child.${LAB}`, 'DS');
    expect(ds).toMatchObject({ status: 'NOERROR', authenticated: true });
    expect(ds.records[0]).toMatchObject({ type: 'DS', data: { algorithm: 13, digestType: expect.any(Number), digest: expect.stringMatching(/^[0-9a-f]+$/) } });
    expect((await resolver.query(LAB, 'DNSKEY')).records.map((r) => r.type === 'DNSKEY' && (r.data as { flags: number }).flags).sort()).toEqual([256, 257]);
  });

  it('is refused anything outside the lab: the lab resolver never goes to the internet', async () => {
    const answer = await createDohResolver({ url }).query('example.com', 'A');
    expect(answer).toMatchObject({ status: 'REFUSED', records: [], authenticated: false });
  });

  it('answers ERROR with the HTTP status when the DoH endpoint is wrong', async () => {
    const answer = await createDohResolver({ url: url.replace('/dns-query', '/no-such-path') }).query(LAB, 'SOA');
    expect(answer).toMatchObject({ status: 'ERROR', records: [] });
    expect(answer.error).toMatch(/HTTP 4\d\d/);
  });

  it('answers a second query from its cache, and shares one request between simultaneous ones', async () => {
    const counting = countingFetch();
    const resolver = createDohResolver({ url, fetch: counting.fetch });
    const first = await resolver.query(`host.${LAB}`, 'A');
    expect(counting.stats.requests).toBe(1);
    const second = await resolver.query(`Host.${LAB}.`, 'A');
    expect(counting.stats.requests).toBe(1);
    expect(resolver.queriesMade()).toBe(1);
    expect(second).toEqual(first);

    const together = await Promise.all([1, 2, 3].map(() => resolver.query(`nodata.${LAB}`, 'TXT')));
    expect(together.map((a) => a.status)).toEqual(['NOERROR', 'NOERROR', 'NOERROR']);
    expect(counting.stats.requests).toBe(2);
    // Another type is another question.
    await resolver.query(`host.${LAB}`, 'AAAA');
    expect(counting.stats.requests).toBe(3);
  });

  it('asks every time with the cache off', async () => {
    const counting = countingFetch();
    const resolver = createDohResolver({ url, fetch: counting.fetch, cache: false });
    await resolver.query(`host.${LAB}`, 'A');
    await resolver.query(`host.${LAB}`, 'A');
    expect(counting.stats.requests).toBe(2);
    expect(resolver.queriesMade()).toBe(2);
  });

  it('stops at its query budget: later questions answer ERROR without a request', async () => {
    const counting = countingFetch();
    const resolver = createDohResolver({ url, fetch: counting.fetch, maxQueries: 2 });
    expect((await resolver.query(`host.${LAB}`, 'A')).status).toBe('NOERROR');
    expect((await resolver.query(`host.${LAB}`, 'AAAA')).status).toBe('NOERROR');
    const over = await resolver.query(`mx.${LAB}`, 'MX');
    expect(over).toMatchObject({ status: 'ERROR', error: 'query budget exhausted', records: [] });
    expect(counting.stats.requests).toBe(2);
    expect(resolver.queriesMade()).toBe(2);
    // Cached answers cost nothing, so they still come.
    expect((await resolver.query(`host.${LAB}`, 'A')).status).toBe('NOERROR');
  });

  it('has at most `concurrency` requests in flight', async () => {
    const counting = countingFetch(20);
    const resolver = createDohResolver({ url, fetch: counting.fetch, concurrency: 3 });
    const names = Array.from({ length: 12 }, (_, i) => `n${i}.${LAB}`);
    const answers = await Promise.all(names.map((n) => resolver.query(n, 'A')));
    expect(answers.every((a) => a.status === 'NXDOMAIN')).toBe(true);
    expect(counting.stats.requests).toBe(12);
    expect(counting.stats.maxInFlight).toBe(3);
  });
});

describe('the DoH client against a server that never answers', () => {
  let server: Server;
  const sockets = new Set<Socket>();
  let port = 0;

  beforeAll(async () => {
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('answers TIMEOUT after timeoutMs, and does not cache it', async () => {
    const resolver = createDohResolver({ url: `http://127.0.0.1:${port}/dns-query`, timeoutMs: 300 });
    const started = Date.now();
    const answer = await resolver.query(`host.${LAB}`, 'A');
    const took = Date.now() - started;
    expect(answer).toMatchObject({ status: 'TIMEOUT', records: [], authenticated: false, cnames: [] });
    expect(answer.error).toMatch(/300 ms/);
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(3000);
    await resolver.query(`host.${LAB}`, 'A');
    expect(resolver.queriesMade()).toBe(2);
  });
});

/** A DoH endpoint made of a function from question to response message, built with dns-packet. */
function stubDoh(answer: (q: { name: string; type: string }) => dnsPacket.Packet | Response) {
  const asked: string[] = [];
  const fetchStub: typeof fetch = async (input, init) => {
    const body = new Uint8Array(await new Response(init?.body).arrayBuffer());
    const query = dnsPacket.decode(Buffer.from(body));
    const q = query.questions![0]!;
    asked.push(`${q.name} ${q.type}`);
    const reply = answer({ name: q.name, type: q.type });
    if (reply instanceof Response) return reply;
    const bytes = dnsPacket.encode({ type: 'response', id: 0, questions: [q], ...reply });
    return new Response(new Uint8Array(bytes), { headers: { 'content-type': 'application/dns-message' } });
  };
  return { fetch: fetchStub, asked };
}

describe('the DoH client with answers a lab resolver would not give', () => {
  const flags = dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE;

  it('asks with the DO bit (EDNS0) and recursion desired, as RFC 8484 wire format', async () => {
    let sent: dnsPacket.Packet | undefined;
    const capture: typeof fetch = async (_input, init) => {
      expect(new Headers(init?.headers).get('content-type')).toBe('application/dns-message');
      sent = dnsPacket.decode(Buffer.from(new Uint8Array(await new Response(init?.body).arrayBuffer())));
      const bytes = dnsPacket.encode({ type: 'response', id: 0, flags, questions: sent.questions!, answers: [] });
      return new Response(new Uint8Array(bytes), { headers: { 'content-type': 'application/dns-message' } });
    };
    await createDohResolver({ url: 'https://doh.invalid/dns-query', fetch: capture }).query('do-bit.example', 'TXT');
    const opt = sent!.additionals!.find((r) => r.type === 'OPT') as { flags?: number } | undefined;
    expect(((opt?.flags ?? 0) & dnsPacket.DNSSEC_OK) !== 0).toBe(true);
    expect(((sent!.flags ?? 0) & dnsPacket.RECURSION_DESIRED) !== 0).toBe(true);
  });

  it('asks again at the end of a chain when the answer stops at a CNAME', async () => {
    const stub = stubDoh(({ name }) =>
      name === 'a.example'
        ? { flags, answers: [{ type: 'CNAME', name: 'a.example', ttl: 60, data: 'b.example' }] }
        : { flags, answers: [{ type: 'TXT', name: 'b.example', ttl: 60, data: ['v=DMARC1; ', 'p=reject'] }] },
    );
    const resolver = createDohResolver({ url: 'https://doh.invalid/dns-query', fetch: stub.fetch });
    const answer = await resolver.query('a.example', 'TXT');
    expect(answer).toMatchObject({ status: 'NOERROR', cnames: ['b.example'], authenticated: false });
    expect(answer.records).toEqual([{ type: 'TXT', name: 'b.example', ttl: 60, text: 'v=DMARC1; p=reject', strings: ['v=DMARC1; ', 'p=reject'] }]);
    expect(stub.asked).toEqual(['a.example TXT', 'b.example TXT']);
    expect(resolver.queriesMade()).toBe(2);
  });

  it('does not ask again when the chain ends in a proven NODATA (SOA in authority)', async () => {
    const stub = stubDoh(() => ({
      flags,
      answers: [{ type: 'CNAME', name: 'a.example', ttl: 60, data: 'b.example' }],
      authorities: [{ type: 'SOA', name: 'example', ttl: 60, data: { mname: 'ns.example', rname: 'h.example', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 30 } }],
    }));
    const resolver = createDohResolver({ url: 'https://doh.invalid/dns-query', fetch: stub.fetch });
    expect(await resolver.query('a.example', 'TXT')).toMatchObject({ status: 'NOERROR', records: [], cnames: ['b.example'] });
    expect(stub.asked).toEqual(['a.example TXT']);
  });

  it('stops a CNAME loop spread over several answers with SERVFAIL', async () => {
    const stub = stubDoh(({ name }) => ({
      flags,
      answers: [{ type: 'CNAME', name, ttl: 60, data: name === 'x.example' ? 'y.example' : 'x.example' }],
    }));
    const resolver = createDohResolver({ url: 'https://doh.invalid/dns-query', fetch: stub.fetch });
    const answer = await resolver.query('x.example', 'A');
    expect(answer).toMatchObject({ status: 'SERVFAIL', records: [], error: 'CNAME loop at x.example' });
    expect(stub.asked).toEqual(['x.example A', 'y.example A']);
  });

  it('stops a chain longer than 16 CNAMEs', async () => {
    const stub = stubDoh(({ name }) => {
      const n = Number(/^c(\d+)\./.exec(name)?.[1]);
      return { flags, answers: [{ type: 'CNAME', name, ttl: 60, data: `c${n + 1}.example` }] };
    });
    const answer = await createDohResolver({ url: 'https://doh.invalid/dns-query', fetch: stub.fetch }).query('c0.example', 'A');
    expect(answer).toMatchObject({ status: 'SERVFAIL', error: 'more than 16 CNAMEs' });
    expect(stub.asked.length).toBeLessThanOrEqual(17);
  });

  it('answers ERROR for a body that is not a DNS message, or not labelled as one', async () => {
    const garbage = stubDoh(() => new Response(new Uint8Array([1, 2, 3]), { headers: { 'content-type': 'application/dns-message' } }));
    const malformed = await createDohResolver({ url: 'https://doh.invalid/dns-query', fetch: garbage.fetch }).query('a.example', 'A');
    expect(malformed).toMatchObject({ status: 'ERROR', records: [] });
    expect(malformed.error).toMatch(/^malformed DNS answer/);

    const html = stubDoh(() => new Response('<html>', { headers: { 'content-type': 'text/html' } }));
    const wrongType = await createDohResolver({ url: 'https://doh.invalid/dns-query', fetch: html.fetch }).query('a.example', 'A');
    expect(wrongType).toMatchObject({ status: 'ERROR', error: 'the DoH server answered text/html, not application/dns-message' });
  });

  it('answers ERROR when the request cannot be made, and for RCODEs outside the model', async () => {
    const failing: typeof fetch = async () => {
      throw new TypeError('fetch failed');
    };
    const down = await createDohResolver({ url: 'https://doh.invalid/dns-query', fetch: failing }).query('a.example', 'A');
    expect(down).toMatchObject({ status: 'ERROR', error: 'DoH request failed: fetch failed' });

    const notimp = stubDoh(() => ({ flags: flags | 4 }));
    const answer = await createDohResolver({ url: 'https://doh.invalid/dns-query', fetch: notimp.fetch }).query('a.example', 'A');
    expect(answer).toMatchObject({ status: 'ERROR', error: 'the resolver answered RCODE NOTIMP' });
  });

  it('refuses to send a name that is not a domain name, without spending a query', async () => {
    const stub = stubDoh(() => ({ flags }));
    const resolver = createDohResolver({ url: 'https://doh.invalid/dns-query', fetch: stub.fetch });
    expect((await resolver.query('a..example', 'A')).status).toBe('ERROR');
    expect((await resolver.query(`${'x'.repeat(64)}.example`, 'A')).status).toBe('ERROR');
    expect(resolver.queriesMade()).toBe(0);
  });

  it('reads SPF (type 99) records like TXT', async () => {
    // dns-packet carries type 99 as raw RDATA: build it with its TXT codec (which prefixes the length).
    const txtCodec = (dnsPacket as unknown as { txt: { encode(data: string[]): Buffer } }).txt;
    const rdata = txtCodec.encode(['v=spf1 ', '-all']).subarray(2);
    const stub = stubDoh(() => ({ flags, answers: [{ type: 'SPF', name: 'a.example', ttl: 60, data: rdata } as unknown as dnsPacket.Answer] }));
    const answer = await createDohResolver({ url: 'https://doh.invalid/dns-query', fetch: stub.fetch }).query('a.example', 'SPF');
    expect(answer.records).toEqual([{ type: 'SPF', name: 'a.example', ttl: 60, text: 'v=spf1 -all', strings: ['v=spf1 ', '-all'] }]);
  });

  it('defaults to a public resolver, which every caller can replace', () => {
    expect(DEFAULT_DOH_URL).toBe('https://cloudflare-dns.com/dns-query');
  });
});
