import { describe, expect, it } from 'vitest';
import { checkHost } from '../../../src/dns/spf/index.ts';
import { StaticResolver } from '../static-resolver.ts';
import { a, mx, nestedZone, txt } from './zones.ts';

const NOWHERE = '203.0.113.9';

describe('checkHost: DNS lookup limit (§4.6.4)', () => {
  it('is a permerror at the 11th lookup even though no record has more than four', async () => {
    const outcome = await checkHost(new StaticResolver(nestedZone()), { ip: NOWHERE, domain: 'example.org' });
    expect(outcome.result).toBe('permerror');
    expect(outcome.dns_lookups).toBe(11);
    expect(outcome.reason).toContain('"mx:example.net" would be DNS lookup 11');
  });

  it('passes with exactly 10 lookups evaluated', async () => {
    const outcome = await checkHost(new StaticResolver(nestedZone('ten')), { ip: NOWHERE, domain: 'example.org' });
    expect(outcome).toMatchObject({ result: 'fail', dns_lookups: 10, mechanism: '-all', mechanism_domain: 'example.org' });
  });

  it('stops counting at the first match: include:_a → include:_c → a:h3 is lookup 5', async () => {
    const outcome = await checkHost(new StaticResolver(nestedZone()), { ip: '192.0.2.3', domain: 'example.org' });
    expect(outcome).toMatchObject({
      result: 'pass',
      dns_lookups: 5,
      void_lookups: 0,
      mechanism: 'include:_a.example.org',
      mechanism_domain: 'example.org',
      record: 'v=spf1 include:_a.example.org include:_b.example.org -all',
    });
    const terms = outcome.trail.flatMap((step) => (step.step === 'term' ? [`${step.depth}:${step.term}:${step.outcome}`] : []));
    expect(terms).toEqual([
      '2:a:h1.example.org:no-match',
      '2:a:h2.example.org:no-match',
      '2:a:h3.example.org:match',
      '1:include:_c.example.org:match',
      '0:include:_a.example.org:match',
    ]);
  });

  it('does not count ip4, ip6 and all', async () => {
    const resolver = new StaticResolver({ 'plain.example': txt('v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all') });
    const outcome = await checkHost(resolver, { ip: '2001:db8::5', domain: 'plain.example' });
    expect(outcome).toMatchObject({ result: 'pass', dns_lookups: 0, mechanism: 'ip6:2001:db8::/32' });
  });

  it('counts a redirect and the lookups of its target', async () => {
    const resolver = new StaticResolver({
      'r.example': txt('v=spf1 a:h.r.example redirect=_spf.r.example'),
      'h.r.example': a('192.0.2.1'),
      '_spf.r.example': txt('v=spf1 a:h.r.example mx:r.example -all'),
    });
    const outcome = await checkHost(resolver, { ip: NOWHERE, domain: 'r.example' });
    // a (1), redirect (2), a (3), mx (4): r.example has no MX, a void lookup.
    expect(outcome).toMatchObject({ result: 'fail', dns_lookups: 4, void_lookups: 1, mechanism: '-all', mechanism_domain: '_spf.r.example' });
  });

  it('makes more than 10 MX records a permerror', async () => {
    const names = Array.from({ length: 11 }, (_, i) => `mx${i}.many.example`);
    const resolver = new StaticResolver({ 'many.example': [...txt('v=spf1 mx -all'), ...mx(...names)] });
    const outcome = await checkHost(resolver, { ip: NOWHERE, domain: 'many.example' });
    expect(outcome.result).toBe('permerror');
    expect(outcome.reason).toContain('11 MX records');
  });

  it('looks at no more than 10 PTR names', async () => {
    const ptr = Array.from({ length: 11 }, (_, i) => ({ type: 'PTR' as const, target: `h${i}.ptr.example` }));
    const resolver = new StaticResolver({
      'ptr.example': txt('v=spf1 ptr:h10.ptr.example ptr -all'),
      '9.113.0.203.in-addr.arpa': ptr,
      'h10.ptr.example': a(NOWHERE),
      'h3.ptr.example': a(NOWHERE),
    });
    const outcome = await checkHost(resolver, { ip: NOWHERE, domain: 'ptr.example' });
    // The 11th name (h10) is ignored; h3 validates and lies under ptr.example.
    expect(outcome).toMatchObject({ result: 'pass', mechanism: 'ptr', dns_lookups: 2 });
  });
});

describe('checkHost: void lookups (§4.6.4)', () => {
  const zone = (terms: string) => new StaticResolver({ 'v.example': txt(`v=spf1 ${terms} ?all`), 'nomx.v.example': a('192.0.2.1') });

  it('allows two lookups that find nothing', async () => {
    const outcome = await checkHost(zone('a:gone1.v.example mx:nomx.v.example'), { ip: NOWHERE, domain: 'v.example' });
    expect(outcome).toMatchObject({ result: 'neutral', void_lookups: 2, dns_lookups: 2 });
  });

  it('makes the third a permerror (NXDOMAIN and NODATA alike)', async () => {
    const outcome = await checkHost(zone('a:gone1.v.example mx:nomx.v.example exists:gone2.v.example a:nomx.v.example'), {
      ip: NOWHERE,
      domain: 'v.example',
    });
    expect(outcome).toMatchObject({ result: 'permerror', void_lookups: 3, dns_lookups: 3 });
    expect(outcome.reason).toContain('"exists:gone2.v.example" is void lookup 3');
  });

  it('does not count the exp= lookup', async () => {
    const outcome = await checkHost(zone('a:gone1.v.example a:gone2.v.example -all exp=gone3.v.example'), { ip: NOWHERE, domain: 'v.example' });
    expect(outcome).toMatchObject({ result: 'fail', void_lookups: 2, explanation: 'SPF fail - not authorized' });
  });
});

describe('checkHost: loops', () => {
  it('stops an include loop with permerror before the lookup limit', async () => {
    const resolver = new StaticResolver({
      'loop-a.example': txt('v=spf1 include:loop-b.example -all'),
      'loop-b.example': txt('v=spf1 include:loop-a.example -all'),
    });
    const outcome = await checkHost(resolver, { ip: NOWHERE, domain: 'loop-a.example' });
    expect(outcome.result).toBe('permerror');
    expect(outcome.reason).toBe('loop: loop-a.example → loop-b.example → loop-a.example (a record includes or redirects to itself)');
    expect(outcome.dns_lookups).toBe(2);
  });

  it('catches a redirect to itself, also through a macro', async () => {
    const resolver = new StaticResolver({
      'self.example': txt('v=spf1 redirect=%{d}'),
      'other.example': txt('v=spf1 include:%{d2} -all'),
    });
    expect((await checkHost(resolver, { ip: NOWHERE, domain: 'self.example' })).reason).toMatch(/^loop: self\.example → self\.example/);
    expect((await checkHost(resolver, { ip: NOWHERE, domain: 'other.example' })).result).toBe('permerror');
  });

  it('does not take the same include in two branches for a loop', async () => {
    const resolver = new StaticResolver({
      'twice.example': txt('v=spf1 include:_x.twice.example include:_y.twice.example -all'),
      '_x.twice.example': txt('v=spf1 include:_z.twice.example ?all'),
      '_y.twice.example': txt('v=spf1 include:_z.twice.example ?all'),
      '_z.twice.example': txt('v=spf1 ip4:192.0.2.0/24 ?all'),
    });
    const outcome = await checkHost(resolver, { ip: NOWHERE, domain: 'twice.example' });
    expect(outcome).toMatchObject({ result: 'fail', dns_lookups: 4 });
  });
});

describe('checkHost: DNS failures are temperror, never "none"', () => {
  it('gives temperror when the TXT lookup fails', async () => {
    const resolver = new StaticResolver({ 'broken.example': { fail: { TXT: 'SERVFAIL' } } });
    const outcome = await checkHost(resolver, { ip: NOWHERE, domain: 'broken.example' });
    expect(outcome).toMatchObject({ result: 'temperror', record: null });
    expect(outcome.reason).toContain('SERVFAIL');
  });

  it('gives temperror when a mechanism lookup times out, and when the resolver throws', async () => {
    const resolver = new StaticResolver({
      'slow.example': txt('v=spf1 a:slow-host.example -all'),
      'slow-host.example': { fail: { '*': 'TIMEOUT' } },
    });
    expect((await checkHost(resolver, { ip: NOWHERE, domain: 'slow.example' })).result).toBe('temperror');
    const throwing = { query: async () => Promise.reject(new Error('socket closed')) };
    const outcome = await checkHost(throwing, { ip: NOWHERE, domain: 'any.example' });
    expect(outcome.result).toBe('temperror');
    expect(outcome.reason).toContain('socket closed');
  });

  it('gives none only when the domain has no SPF record', async () => {
    const resolver = new StaticResolver({ 'plain.example': txt('google-site-verification=abc') });
    expect((await checkHost(resolver, { ip: NOWHERE, domain: 'plain.example' })).result).toBe('none');
    expect((await checkHost(resolver, { ip: NOWHERE, domain: 'missing.example' })).result).toBe('none');
  });
});

describe('checkHost: budget and time', () => {
  it('turns an exhausted query budget into temperror', async () => {
    const outcome = await checkHost(new StaticResolver(nestedZone()), { ip: NOWHERE, domain: 'example.org' }, { maxQueries: 4 });
    expect(outcome.result).toBe('temperror');
    expect(outcome.reason).toContain('4 DNS queries');
    expect(outcome.dns_queries).toBe(4);
  });

  it('turns an exceeded time limit into temperror', async () => {
    let clock = 0;
    const resolver = new StaticResolver(nestedZone());
    const slow = { query: async (name: string, type: Parameters<StaticResolver['query']>[1]) => ((clock += 5_000), resolver.query(name, type)) };
    const outcome = await checkHost(slow, { ip: NOWHERE, domain: 'example.org' }, { now: () => clock });
    expect(outcome.result).toBe('temperror');
    expect(outcome.reason).toContain('20000 ms');
  });
});

describe('checkHost: results, explanation and evidence', () => {
  const resolver = new StaticResolver({
    'exp.example': [...txt('v=spf1 a -all exp=why.exp.example'), ...a('192.0.2.1')],
    'why.exp.example': txt('%{i} may not send for %{d} (sender %{s})'),
    'soft.example': txt('v=spf1 ~all'),
    'neutral.example': txt('v=spf1 ?all'),
  });

  it('explains a fail with the exp= text', async () => {
    const outcome = await checkHost(resolver, { ip: NOWHERE, domain: 'exp.example', sender: 'alice@exp.example' });
    expect(outcome).toMatchObject({
      result: 'fail',
      explanation: '203.0.113.9 may not send for exp.example (sender alice@exp.example)',
      mechanism: '-all',
    });
  });

  it('has no explanation for other results', async () => {
    expect(await checkHost(resolver, { ip: '192.0.2.1', domain: 'exp.example' })).toMatchObject({ result: 'pass', explanation: null });
    expect(await checkHost(resolver, { ip: NOWHERE, domain: 'soft.example' })).toMatchObject({ result: 'softfail', explanation: null });
    expect(await checkHost(resolver, { ip: NOWHERE, domain: 'neutral.example' })).toMatchObject({ result: 'neutral', mechanism: '?all' });
  });

  it('uses postmaster@<domain> when there is no sender, and postmaster when the local-part is empty', async () => {
    expect((await checkHost(resolver, { ip: NOWHERE, domain: 'exp.example' })).sender).toBe('postmaster@exp.example');
    expect((await checkHost(resolver, { ip: NOWHERE, domain: 'exp.example', sender: '@exp.example' })).sender).toBe('postmaster@exp.example');
  });

  it('treats an IPv4-mapped IPv6 client as IPv4', async () => {
    const outcome = await checkHost(resolver, { ip: '::ffff:192.0.2.1', domain: 'exp.example' });
    expect(outcome).toMatchObject({ result: 'pass', ip: '192.0.2.1' });
  });

  it('answers none, with the reason, for an unusable IP or domain', async () => {
    expect(await checkHost(resolver, { ip: 'not-an-ip', domain: 'exp.example' })).toMatchObject({ result: 'none', reason: '"not-an-ip" is not an IPv4 or IPv6 address' });
    expect((await checkHost(resolver, { ip: NOWHERE, domain: '[192.0.2.1]' })).result).toBe('none');
    expect(resolver.log.some((entry) => entry.name === '[192.0.2.1]')).toBe(false);
  });

  it('reports the deprecated SPF record type without using it', async () => {
    const zone = new StaticResolver({ 'old.example': [...txt('v=spf1 -all'), { type: 'SPF', text: 'v=spf1 +all' }] });
    const outcome = await checkHost(zone, { ip: NOWHERE, domain: 'old.example' });
    expect(outcome).toMatchObject({ result: 'fail', spf_rr_records: ['v=spf1 +all'] });
    const quiet = await checkHost(zone, { ip: NOWHERE, domain: 'old.example' }, { reportSpfRR: false });
    expect(quiet.spf_rr_records).toBeNull();
  });

  it('keeps every query in the trail', async () => {
    const outcome = await checkHost(resolver, { ip: '192.0.2.1', domain: 'exp.example' }, { reportSpfRR: false });
    expect(outcome.trail.filter((step) => step.step === 'query').map((step) => step.step === 'query' && `${step.type} ${step.name} ${step.status}`)).toEqual([
      'TXT exp.example NOERROR',
      'A exp.example NOERROR',
    ]);
    expect(outcome.dns_queries).toBe(2);
  });
});

describe('checkHost: %{p} and ptr', () => {
  const resolver = new StaticResolver({
    'p.example': txt('v=spf1 exists:%{p}._valid.p.example -all'),
    'mx.p.example._valid.p.example': a('127.0.0.2'),
    '1.2.0.192.in-addr.arpa': [
      { type: 'PTR', target: 'other.example.' },
      { type: 'PTR', target: 'mx.p.example.' },
      { type: 'PTR', target: 'fake.p.example.' },
    ],
    'other.example': a('192.0.2.1'),
    'mx.p.example': a('192.0.2.1'),
    'fake.p.example': a('192.0.2.99'),
  });

  it('prefers a validated name under the domain', async () => {
    const outcome = await checkHost(resolver, { ip: '192.0.2.1', domain: 'p.example' });
    expect(outcome).toMatchObject({ result: 'pass', mechanism: 'exists:%{p}._valid.p.example' });
  });

  it('gives "unknown" when no PTR name validates', async () => {
    const outcome = await checkHost(resolver, { ip: '192.0.2.7', domain: 'p.example' });
    expect(outcome.result).toBe('fail');
    expect(outcome.trail.some((step) => step.step === 'query' && step.name === 'unknown._valid.p.example')).toBe(true);
  });
});
