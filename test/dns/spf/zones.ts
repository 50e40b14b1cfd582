import type { StaticRecord, StaticZone } from '../static-resolver.ts';

/** Hand-made zones shared by the check_host and evaluateSpf tests. */

export const txt = (...texts: string[]): StaticRecord[] => texts.map((text) => ({ type: 'TXT', text }));
export const a = (...addresses: string[]): StaticRecord[] => addresses.map((address) => ({ type: 'A', address }));
export const mx = (...exchanges: string[]): StaticRecord[] =>
  exchanges.map((exchange, index) => ({ type: 'MX', preference: (index + 1) * 10, exchange }));

/**
 * Eleven DNS-querying terms, but never more than four in one record: the limit is exceeded only
 * through nesting. Worked by hand:
 *
 *   example.org      include:_a, include:_b                        2
 *   _a.example.org   include:_c, a:mail.example.org, mx:example.org 3
 *   _c.example.org   a:h1, a:h2, a:h3, a:h4                          4
 *   _b.example.org   mx:example.org, mx:example.net                  2
 *                                                          total   11
 *
 * For a client that matches nothing, check_host() evaluates include:_a (1), include:_c (2),
 * a:h1..a:h4 (3–6), a:mail (7), mx:example.org (8); _a ends in ~all, so include:_a does not match;
 * include:_b (9), mx:example.org (10), and mx:example.net would be the 11th: permerror.
 */
export function nestedZone(variant: 'eleven' | 'ten' | 'eight' = 'eleven'): StaticZone {
  const c = variant === 'eight' ? 'v=spf1 a:h1.example.org a:h2.example.org' : 'v=spf1 a:h1.example.org a:h2.example.org a:h3.example.org a:h4.example.org';
  const b = variant === 'eleven' ? 'v=spf1 mx:example.org mx:example.net ?all' : 'v=spf1 mx:example.org ?all';
  return {
    'example.org': [...txt('v=spf1 include:_a.example.org include:_b.example.org -all'), ...mx('mail.example.org')],
    '_a.example.org': txt('v=spf1 include:_c.example.org a:mail.example.org mx:example.org ~all'),
    '_c.example.org': txt(c),
    '_b.example.org': txt(b),
    'mail.example.org': a('192.0.2.10'),
    'h1.example.org': a('192.0.2.1'),
    'h2.example.org': a('192.0.2.2'),
    'h3.example.org': a('192.0.2.3'),
    'h4.example.org': a('192.0.2.4'),
    'example.net': mx('mx.example.net'),
    'mx.example.net': a('198.51.100.1'),
  };
}
