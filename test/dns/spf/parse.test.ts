import { describe, expect, it } from 'vitest';
import { isSpfRecordText, parseSpfRecord, type Mechanism } from '../../../src/dns/spf/parse.ts';

const mechanisms = (text: string): Mechanism[] => {
  const { record, errors } = parseSpfRecord(text);
  expect(errors).toEqual([]);
  return record.mechanisms;
};

describe('isSpfRecordText (§4.5)', () => {
  it.each([
    ['v=spf1 -all', true],
    ['v=spf1', true],
    ['V=SpF1 ~all', true],
    ['v=spf10 -all', false],
    ['v=spf1-all', false],
    [' v=spf1 -all', false],
    ['spf2.0/pra -all', false],
  ])('%s → %s', (text, expected) => {
    expect(isSpfRecordText(text)).toBe(expected);
  });
});

describe('parseSpfRecord: mechanisms', () => {
  it('reads qualifiers, defaulting to +', () => {
    expect(mechanisms('v=spf1 a +mx -ptr ~exists:%{i}.bl.example ?all').map((m) => [m.qualifier, m.name])).toEqual([
      ['+', 'a'],
      ['+', 'mx'],
      ['-', 'ptr'],
      ['~', 'exists'],
      ['?', 'all'],
    ]);
  });

  it('reads a and mx with optional domain and dual CIDR lengths', () => {
    const [a1, a2, a3, mx1, mx2] = mechanisms('v=spf1 a a:mail.example.com/24 a//64 mx/28//120 mx:example.net -all');
    expect(a1).toMatchObject({ name: 'a', target: null, cidr4: 32, cidr6: 128 });
    expect(a2).toMatchObject({ name: 'a', target: { text: 'mail.example.com' }, cidr4: 24, cidr6: 128 });
    expect(a3).toMatchObject({ name: 'a', target: null, cidr4: 32, cidr6: 64 });
    expect(mx1).toMatchObject({ name: 'mx', target: null, cidr4: 28, cidr6: 120 });
    expect(mx2).toMatchObject({ name: 'mx', target: { text: 'example.net' } });
  });

  it('reads ip4 and ip6 networks with their prefix lengths', () => {
    const [v4, v4host, v6, mapped] = mechanisms('v=spf1 ip4:192.0.2.0/24 ip4:192.0.2.1 ip6:2001:db8::/32 ip6:::ffff:192.0.2.1 -all');
    expect(v4).toMatchObject({ name: 'ip4', network: '192.0.2.0', prefix: 24 });
    expect(v4host).toMatchObject({ name: 'ip4', network: '192.0.2.1', prefix: 32 });
    expect(v6).toMatchObject({ name: 'ip6', network: '2001:db8::', prefix: 32 });
    expect(mapped).toMatchObject({ name: 'ip6', network: '::ffff:192.0.2.1', prefix: 128 });
  });

  it('is case-insensitive in mechanism and modifier names', () => {
    const { record, errors } = parseSpfRecord('v=spf1 IP4:192.0.2.1 Include:_spf.example.com REDIRECT=_spf.example.net');
    expect(errors).toEqual([]);
    expect(record.mechanisms.map((m) => m.name)).toEqual(['ip4', 'include']);
    expect(record.redirect).toMatchObject({ name: 'redirect', value: '_spf.example.net' });
  });

  it('tolerates several spaces between terms and trailing spaces', () => {
    expect(mechanisms('v=spf1  a   -all ').map((m) => m.text)).toEqual(['a', '-all']);
  });

  it('keeps macros of domain-specs as tokens', () => {
    const [exists] = mechanisms('v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all');
    expect(exists?.name === 'exists' && exists.target.tokens.map((t) => t.kind)).toEqual(['macro', 'literal', 'macro', 'literal', 'macro']);
  });
});

describe('parseSpfRecord: modifiers', () => {
  it('separates redirect, exp and unknown modifiers, keeping term positions', () => {
    const { record, errors } = parseSpfRecord('v=spf1 exp=explain.%{d} a moo.cow-far_out=man:dog/cat redirect=_spf.example.com');
    expect(errors).toEqual([]);
    expect(record.exp).toMatchObject({ value: 'explain.%{d}', position: 0 });
    expect(record.redirect).toMatchObject({ value: '_spf.example.com', position: 3 });
    expect(record.unknownModifiers.map((m) => m.name)).toEqual(['moo.cow-far_out']);
    expect(record.terms.map((t) => t.position)).toEqual([0, 1, 2, 3]);
  });
});

describe('parseSpfRecord: syntax errors as values', () => {
  it.each([
    ['v=spf1 -all.', 'unknown-term'],
    ['v=spf1 all:foo', 'unexpected-argument'],
    ['v=spf1 all/8', 'unexpected-argument'],
    ['v=spf1 include', 'missing-domain'],
    ['v=spf1 include:', 'missing-domain'],
    ['v=spf1 include:example.com/24', 'invalid-domain-spec'],
    ['v=spf1 a:museum', 'invalid-domain-spec'],
    ['v=spf1 a:192.0.2.1', 'invalid-domain-spec'],
    ['v=spf1 a/33', 'invalid-cidr'],
    ['v=spf1 a//129', 'invalid-cidr'],
    ['v=spf1 a/24/64', 'invalid-cidr'],
    ['v=spf1 ptr/0', 'unexpected-argument'],
    ['v=spf1 ip4:192.0.2.1/032', 'invalid-cidr'],
    ['v=spf1 ip4:192.0.2', 'invalid-ip4'],
    ['v=spf1 ip4:192.0.2.1:25', 'invalid-ip4'],
    ['v=spf1 ip4:192.0.2.01', 'invalid-ip4'],
    ['v=spf1 ip4:192.0.2.1//32', 'invalid-ip4'],
    ['v=spf1 ip6:2001:db8::/129', 'invalid-cidr'],
    ['v=spf1 ip6::2001:db8::1', 'invalid-ip6'],
    ['v=spf1 ip6:fe80::1%eth0', 'invalid-ip6'],
    ['v=spf1 redirect:example.com', 'unknown-term'],
    ['v=spf1 redirect=', 'missing-domain'],
    ['v=spf1 exp=-all', 'invalid-domain-spec'],
    ['v=spf1 exp=%{r}.example.com', 'invalid-macro'],
    ['v=spf1 foo=%abc', 'invalid-macro'],
    ['v=spf1 1up=foo', 'unknown-term'],
    ['v=spf1 -redirect=example.com', 'qualified-modifier'],
    ['v=spf1 a:example.com\tmx', 'invalid-character'],
    ['v=spf1 a:exämple.com', 'invalid-character'],
    ['v=spf1 redirect=a.example.com redirect=b.example.com', 'redirect-multiple'],
    ['v=spf1 exp=a.example.com exp=b.example.com', 'exp-multiple'],
    ['v=spf2 -all', 'bad-version'],
  ])('%s → %s', (text, code) => {
    expect(parseSpfRecord(text).errors.map((error) => error.code)).toEqual([code]);
  });

  it('reports every bad term, not only the first, and keeps the good ones', () => {
    const { record, errors } = parseSpfRecord('v=spf1 ip4:192.0.2.1 moo a:bad -all');
    expect(errors.map((error) => [error.term, error.position])).toEqual([
      ['moo', 1],
      ['a:bad', 2],
    ]);
    expect(record.mechanisms.map((m) => m.text)).toEqual(['ip4:192.0.2.1', '-all']);
  });
});
