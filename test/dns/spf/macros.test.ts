import { describe, expect, it } from 'vitest';
import { macroIpValue, parseClientAddress } from '../../../src/dns/spf/address.ts';
import { expandMacros, hasValidDomainEnd, parseMacroString, urlEscape, type MacroContext, type MacroValues } from '../../../src/dns/spf/macros.ts';

/** The values of RFC 7208 §7.4: sender strong-bad@email.example.com, checked at email.example.com. */
function rfcValues(ip: string): MacroValues {
  const client = parseClientAddress(ip);
  if (!client) throw new Error(ip);
  return {
    s: 'strong-bad@email.example.com',
    l: 'strong-bad',
    o: 'email.example.com',
    d: 'email.example.com',
    i: macroIpValue(client),
    p: 'unknown',
    v: client.family === 4 ? 'in-addr' : 'ip6',
    h: 'mx.example.org',
    c: client.text,
    r: 'receiver.example.net',
    t: '1700000000',
  };
}

function expand(input: string, context: MacroContext = 'domain-spec', ip = '192.0.2.3'): string {
  const parsed = parseMacroString(input, context);
  if (!parsed.ok) throw new Error(parsed.error);
  return expandMacros(parsed.tokens, rfcValues(ip));
}

describe('macro expansion: the examples of RFC 7208 §7.4', () => {
  it.each([
    ['%{s}', 'strong-bad@email.example.com'],
    ['%{o}', 'email.example.com'],
    ['%{d}', 'email.example.com'],
    ['%{d4}', 'email.example.com'],
    ['%{d3}', 'email.example.com'],
    ['%{d2}', 'example.com'],
    ['%{d1}', 'com'],
    ['%{dr}', 'com.example.email'],
    ['%{d2r}', 'example.email'],
    ['%{l}', 'strong-bad'],
    ['%{l-}', 'strong.bad'],
    ['%{lr}', 'strong-bad'],
    ['%{lr-}', 'bad.strong'],
    ['%{l1r-}', 'strong'],
    ['%{ir}.%{v}._spf.%{d2}', '3.2.0.192.in-addr._spf.example.com'],
    ['%{lr-}.lp._spf.%{d2}', 'bad.strong.lp._spf.example.com'],
    ['%{lr-}.lp.%{ir}.%{v}._spf.%{d2}', 'bad.strong.lp.3.2.0.192.in-addr._spf.example.com'],
    ['%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}', '3.2.0.192.in-addr.strong.lp._spf.example.com'],
    ['%{d2}.trusted-domains.example.net', 'example.com.trusted-domains.example.net'],
  ])('%s → %s', (input, expected) => {
    expect(expand(input)).toBe(expected);
  });

  it('expands %{i} of an IPv6 client to nibbles (upper-case, as the conformance suite expects)', () => {
    // RFC 7208 §7.4 prints this example in lower case; DNS names compare case-insensitively.
    expect(expand('%{ir}.%{v}._spf.%{d2}', 'domain-spec', '2001:db8::cb01')).toBe(
      '1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6._spf.example.com',
    );
  });

  it('gives %{c} as the readable address and %{v} by family', () => {
    expect(expand('%{c} %{v}', 'explanation', '2001:DB8::CB01')).toBe('2001:db8::cb01 ip6');
    expect(expand('%{c} %{v}', 'explanation', '::ffff:192.0.2.3')).toBe('192.0.2.3 in-addr');
  });
});

describe('macro expansion: transformers, delimiters, escapes', () => {
  it('splits on every listed delimiter and joins with dots', () => {
    const values = { ...rfcValues('192.0.2.3'), l: 'foo-bar+zip+quux' };
    const parsed = parseMacroString('%{l2r+-}', 'domain-spec');
    expect(parsed.ok && expandMacros(parsed.tokens, values)).toBe('bar.foo');
    const all = parseMacroString('%{l+-}', 'domain-spec');
    expect(all.ok && expandMacros(all.tokens, values)).toBe('foo.bar.zip.quux');
  });

  it('keeps every part when the count exceeds them', () => {
    expect(expand('%{d99}')).toBe('email.example.com');
  });

  it('expands %%, %_ and %-', () => {
    expect(expand('a%%b%_c%-d.example.com')).toBe('a%b c%20d.example.com');
  });

  it('URL-escapes upper-case macros after transformation (unreserved characters stay)', () => {
    const values = { ...rfcValues('192.0.2.3'), l: '~jack&jill=up-a_b3.c' };
    const parsed = parseMacroString('%{L}', 'explanation');
    expect(parsed.ok && expandMacros(parsed.tokens, values)).toBe('~jack%26jill%3Dup-a_b3.c');
    expect(expand('%{S}')).toBe('strong-bad%40email.example.com');
    expect(urlEscape("a b/é!*'()")).toBe('a%20b%2F%C3%A9%21%2A%27%28%29');
  });

  it('allows c, r and t only in explanation text', () => {
    expect(expand('%{c} via %{r} at %{t}', 'explanation')).toBe('192.0.2.3 via receiver.example.net at 1700000000');
    for (const letter of ['c', 'r', 't', 'C']) {
      const parsed = parseMacroString(`%{${letter}}.example.com`, 'domain-spec');
      expect(parsed.ok, letter).toBe(false);
    }
    expect(parseMacroString('%{r}', 'modifier').ok).toBe(true);
  });

  it('allows spaces only in explanation text', () => {
    expect(parseMacroString('two words', 'explanation').ok).toBe(true);
    expect(parseMacroString('two words', 'domain-spec').ok).toBe(false);
  });

  it.each([
    ['%', 'a lone % at the end'],
    ['foo%.example.com', '% before a dot'],
    ['%(ir).example.com', '% before a parenthesis'],
    ['%{x}.example.com', 'an unknown letter'],
    ['%{a}.example.com', 'an unknown letter (a)'],
    ['%{d0}', 'a zero part count'],
    ['%{d', 'an unterminated macro'],
    ['%{dx}', 'a character that is not a transformer or delimiter'],
    ['caf\u00e9.example.com', 'a non-ASCII character'],
  ])('rejects %s (%s)', (input) => {
    expect(parseMacroString(input, 'domain-spec').ok).toBe(false);
  });
});

describe('domain-end rule (§7.1)', () => {
  const ends = (text: string) => {
    const parsed = parseMacroString(text, 'domain-spec');
    return parsed.ok && hasValidDomainEnd(parsed.tokens);
  };

  it.each(['example.com', 'example.com.', 'foo.example.xn--zckzah', '%{d}', '_spf.%{d2}', 'foo:bar/baz.example.com', 'a%-'])(
    'accepts %s',
    (text) => expect(ends(text)).toBe(true),
  );

  it.each(['museum', 'museum.', 'abc.123', '111.222.33.44', 'example.-com', 'example.com:8080', 'foo-bar', '%{d}com', 'example..'])(
    'rejects %s',
    (text) => expect(ends(text)).toBe(false),
  );
});
