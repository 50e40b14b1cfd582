import { afterAll, describe, expect, it } from 'vitest';
import { evaluateSpf, SPF_RULES, type SpfEvaluation } from '../../../src/dns/spf/index.ts';
import { StaticResolver, type StaticZone } from '../static-resolver.ts';
import { a, mx, nestedZone, txt } from './zones.ts';

const emitted = new Set<string>();

async function evaluate(zone: StaticZone, domain: string): Promise<SpfEvaluation> {
  const evaluation = await evaluateSpf(new StaticResolver(zone), domain);
  for (const finding of evaluation.findings) emitted.add(finding.id);
  return evaluation;
}

const ids = (evaluation: SpfEvaluation) => evaluation.findings.map((finding) => `${finding.severity}:${finding.id}`);

describe('evaluateSpf: lookup counting across the include tree', () => {
  it('counts 11 lookups although no single record has more than four, with the tree per branch', async () => {
    const evaluation = await evaluate(nestedZone(), 'example.org');
    expect(evaluation.status).toBe('valid');
    expect(evaluation.facts).toMatchObject({ dns_lookups: 11, void_lookups: 0, complete: true });
    const tree = evaluation.facts.lookup_tree;
    const shape = (node: NonNullable<typeof tree>): unknown => [node.via ?? node.domain, node.lookups, node.total_lookups, node.children.map(shape)];
    expect(tree && shape(tree)).toEqual([
      'example.org',
      2,
      11,
      [
        ['include:_a.example.org', 3, 7, [['include:_c.example.org', 4, 4, []]]],
        ['include:_b.example.org', 2, 2, []],
      ],
    ]);
    expect(ids(evaluation)).toEqual(['error:spf.too-many-lookups']);
    expect(evaluation.findings[0]?.detail).toBe(
      '11 DNS lookups, the limit is 10; the costliest branches, counting the term itself: include:_a.example.org (8), include:_b.example.org (3)',
    );
  });

  it('warns at exactly 10 and informs at 7 to 9, like the original MailCheck', async () => {
    expect(ids(await evaluate(nestedZone('ten'), 'example.org'))).toEqual(['warning:spf.close-to-lookup-limit']);
    const eight = await evaluate(nestedZone('eight'), 'example.org');
    expect(eight.facts.dns_lookups).toBe(8);
    expect(ids(eight)).toEqual(['info:spf.close-to-lookup-limit']);
    expect(ids(await evaluate({ 'few.example': txt('v=spf1 a mx -all') }, 'few.example'))).not.toContain('info:spf.close-to-lookup-limit');
  });

  it('counts redirect= only when the record has no "all"', async () => {
    const zone: StaticZone = {
      'r.example': [...txt('v=spf1 a redirect=_spf.r.example'), ...a('192.0.2.1')],
      'r2.example': [...txt('v=spf1 a -all redirect=_spf.r.example'), ...a('192.0.2.1')],
      '_spf.r.example': txt('v=spf1 mx -all'),
    };
    expect((await evaluate(zone, 'r.example')).facts.dns_lookups).toBe(3);
    const withAll = await evaluate(zone, 'r2.example');
    expect(withAll.facts.dns_lookups).toBe(1);
    expect(ids(withAll)).toContain('warning:spf.redirect-with-all');
  });

  it('marks the count as a lower bound when a target depends on macros', async () => {
    const evaluation = await evaluate({ 'm.example': txt('v=spf1 include:%{ir}._spf.m.example exists:%{i}.bl.m.example include:%{d}.x.example -all') }, 'm.example');
    expect(evaluation.facts.complete).toBe(false);
    expect(evaluation.facts.dns_lookups).toBe(3);
    expect(ids(evaluation)).toEqual(['error:spf.include-missing', 'info:spf.incomplete']);
  });
});

describe('evaluateSpf: void lookups', () => {
  it('counts names that do not exist or have no records of the type, and flags more than 2', async () => {
    const evaluation = await evaluate(
      {
        'v.example': txt('v=spf1 a:gone.v.example mx:nomx.v.example a:nomx.v.example include:gone2.v.example -all'),
        'nomx.v.example': a('192.0.2.1'),
      },
      'v.example',
    );
    // a:gone (NXDOMAIN), mx:nomx (no MX), include:gone2 (NXDOMAIN) are void; a:nomx is not.
    expect(evaluation.facts.void_lookups).toBe(3);
    expect(ids(evaluation)).toEqual(['error:spf.include-missing', 'error:spf.too-many-void-lookups']);
  });
});

describe('evaluateSpf: findings', () => {
  const cases: Array<[string, StaticZone, string, string[]]> = [
    ['no record', { 'none.example': txt('some-verification=1') }, 'none.example', ['error:spf.no-record']],
    ['domain does not exist', {}, 'nx.example', ['error:spf.no-record']],
    ['two records', { 'two.example': txt('v=spf1 -all', 'v=spf1 mx -all') }, 'two.example', ['error:spf.multiple-records']],
    ['syntax error', { 's.example': txt('v=spf1 ip4:192.0.2.300 -all') }, 's.example', ['error:spf.syntax']],
    ['exp twice', { 'e.example': txt('v=spf1 -all exp=a.e.example exp=b.e.example') }, 'e.example', ['error:spf.exp-multiple']],
    ['redirect twice', { 'rr.example': txt('v=spf1 redirect=a.rr.example redirect=b.rr.example'), 'a.rr.example': txt('v=spf1 -all') }, 'rr.example', ['error:spf.redirect-multiple']],
    ['+all', { 'p.example': txt('v=spf1 +all') }, 'p.example', ['error:spf.plus-all']],
    ['bare all', { 'p.example': txt('v=spf1 mx all') }, 'p.example', ['error:spf.plus-all']],
    ['?all', { 'q.example': txt('v=spf1 ?all') }, 'q.example', ['warning:spf.neutral-all']],
    ['no all', { 'n.example': txt('v=spf1 ip4:192.0.2.1') }, 'n.example', ['warning:spf.no-all']],
    ['empty record', { 'n.example': txt('v=spf1') }, 'n.example', ['warning:spf.no-all']],
    ['ptr', { 'ptr.example': txt('v=spf1 ptr ptr:ptr.example -all') }, 'ptr.example', ['warning:spf.ptr-used']],
    ['include of a missing domain', { 'i.example': txt('v=spf1 include:_spf.gone.example -all') }, 'i.example', ['error:spf.include-missing']],
    ['include without SPF', { 'i.example': txt('v=spf1 include:other.example -all'), 'other.example': a('192.0.2.1') }, 'i.example', ['error:spf.include-no-spf']],
    ['redirect without SPF', { 'i.example': txt('v=spf1 redirect=other.example'), 'other.example': txt('hello') }, 'i.example', ['error:spf.include-no-spf']],
    ['loop', { 'l.example': txt('v=spf1 include:_x.l.example -all'), '_x.l.example': txt('v=spf1 include:l.example ?all') }, 'l.example', ['error:spf.loop']],
    ['mx with 11 MX records', { 'm.example': [...txt('v=spf1 mx -all'), ...mx(...Array.from({ length: 11 }, (_, i) => `mx${i}.m.example`))] }, 'm.example', ['error:spf.mx-too-many']],
    ['include of a +all record', { 'i.example': txt('v=spf1 include:lax.example -all'), 'lax.example': txt('v=spf1 +all') }, 'i.example', ['error:spf.plus-all']],
    ['redirect to a ?all record', { 'i.example': txt('v=spf1 redirect=lax.example'), 'lax.example': txt('v=spf1 ?all') }, 'i.example', ['warning:spf.neutral-all']],
    ['terms after all', { 't.example': txt('v=spf1 -all mx') }, 't.example', ['warning:spf.terms-after-all']],
    ['modifier first', { 'o.example': txt('v=spf1 exp=why.o.example -all') }, 'o.example', ['warning:spf.modifier-before-mechanism']],
    ['unknown modifier', { 'u.example': txt('v=spf1 -all redirct=_spf.u.example') }, 'u.example', ['info:spf.unknown-modifier']],
    ['type SPF published', { 'old.example': [...txt('v=spf1 -all'), { type: 'SPF', text: 'v=spf1 -all' }] }, 'old.example', ['info:spf.deprecated-spf-rr']],
    ['invalid domain', {}, '[192.0.2.1]', ['error:spf.invalid-domain']],
  ];

  it.each(cases)('%s', async (_name, zone, domain, expected) => {
    expect(ids(await evaluate(zone, domain))).toEqual(expected);
  });

  it('reports a DNS failure, never a missing record', async () => {
    const evaluation = await evaluate({ 'f.example': { fail: { TXT: 'SERVFAIL' } } }, 'f.example');
    expect(evaluation.status).toBe('dns-failure');
    expect(ids(evaluation)).toEqual(['warning:spf.dns-failure']);
    const nested = await evaluate({ 'g.example': txt('v=spf1 include:_spf.slow.example -all'), '_spf.slow.example': { fail: { '*': 'TIMEOUT' } } }, 'g.example');
    expect(ids(nested)).toEqual(['warning:spf.dns-failure']);
    expect(nested.facts.lookup_tree?.children[0]?.status).toBe('dns-failure');
  });

  it('flags a string over 255 characters and a record over 450', async () => {
    const ranges = Array.from({ length: 30 }, (_, i) => `ip4:198.51.100.${i}`).join(' ');
    const long = `v=spf1 ${ranges} -all`;
    expect(long.length).toBeGreaterThan(450);
    const oneString = await evaluate({ 'big.example': txt(long) }, 'big.example');
    expect(ids(oneString)).toEqual(['error:spf.string-too-long', 'warning:spf.record-too-long']);
    const strings = long.match(/.{1,255}/g) ?? [];
    const split = await evaluate({ 'big.example': [{ type: 'TXT', strings }] }, 'big.example');
    expect(ids(split)).toEqual(['warning:spf.record-too-long']);
    expect(split.facts.record_length).toBe(long.length);
  });

  it('estimates the whole TXT answer against 512 bytes', async () => {
    const verification = Array.from({ length: 4 }, (_, i) => `verification-${i}=${'x'.repeat(100)}`);
    const evaluation = await evaluate({ 'crowded.example': txt('v=spf1 mx -all', ...verification) }, 'crowded.example');
    expect(evaluation.facts.txt_answer_bytes).toBeGreaterThan(512);
    expect(ids(evaluation)).toEqual(['warning:spf.record-too-long']);
  });

  it('returns the record, its parse and every syntax error', async () => {
    const evaluation = await evaluate({ 's.example': txt('v=spf1 moo a:bad -all') }, 's.example');
    expect(evaluation.status).toBe('invalid');
    expect(evaluation.record).toBe('v=spf1 moo a:bad -all');
    expect(evaluation.syntax_errors.map((error) => error.term)).toEqual(['moo', 'a:bad']);
    expect(evaluation.parsed?.mechanisms.map((m) => m.text)).toEqual(['-all']);
  });

  it('gives each finding the advice and reference of its rule', async () => {
    const evaluation = await evaluate({ 'p.example': txt('v=spf1 +all') }, 'p.example');
    const rule = SPF_RULES.find((r) => r.id === 'spf.plus-all');
    expect(evaluation.findings[0]).toMatchObject({
      title: rule?.title,
      advice: rule?.advice.replace('{domain}', 'p.example'),
      reference: 'https://www.rfc-editor.org/rfc/rfc7208#section-5.1',
      detail: 'p.example ends its policy with "+all"',
      domain: 'p.example',
    });
    expect(evaluation.findings[0]?.advice).not.toContain('{');
  });
});

describe('SPF_RULES', () => {
  it('has unique ids and complete texts', () => {
    expect(new Set(SPF_RULES.map((rule) => rule.id)).size).toBe(SPF_RULES.length);
    for (const rule of SPF_RULES) {
      expect(rule.id).toMatch(/^spf\.[a-z-]+$/);
      for (const text of [rule.title, rule.when, rule.advice]) expect(text.length).toBeGreaterThan(5);
      expect(rule.reference).toMatch(/^https:\/\/www\.rfc-editor\.org\/rfc\/rfc\d+#section-[\d.]+$/);
    }
  });

  afterAll(() => {
    // Every rule is exercised by at least one test in this file.
    expect(SPF_RULES.map((rule) => rule.id).filter((id) => !emitted.has(id))).toEqual([]);
  });
});
