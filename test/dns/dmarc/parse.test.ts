import { describe, expect, it } from 'vitest';
import { hasMisplacedVersion, isDmarcRecord, parseDmarcRecord, suggestRecord } from '../../../src/dns/dmarc/parse';
import { parseDmarcUri } from '../../../src/dns/dmarc/uri';

const issueIds = (text: string) => parseDmarcRecord(text).issues.map((i) => i.id);
const tagOf = (text: string, name: string) => parseDmarcRecord(text).tags.find((t) => t.name === name);

describe('a complete record', () => {
  const text =
    'v=DMARC1; p=reject; sp=quarantine; np=reject; pct=100; t=n; adkim=s; aspf=r; fo=1:d:s; rf=afrf; ri=3600; ' +
    'rua=mailto:agg@example.com,mailto:agg@vendor.example!10m; ruf=mailto:fail@example.com; psd=n';
  const parsed = parseDmarcRecord(text);

  it('parses every tag of RFC 7489 and RFC 9989 without issues', () => {
    expect(parsed.issues).toEqual([]);
    expect(parsed.tags.filter((t) => !t.implicit).map((t) => t.name)).toEqual([
      'v', 'p', 'sp', 'np', 'pct', 't', 'adkim', 'aspf', 'fo', 'rf', 'ri', 'rua', 'ruf', 'psd',
    ]);
    expect(parsed.tags.every((t) => t.valid && t.explanation.length > 10)).toBe(true);
  });

  it('gives the effective policy', () => {
    expect(parsed.policy).toMatchObject({
      v: 'DMARC1', p: 'reject', sp: 'quarantine', np: 'reject', pct: 100, t: 'n', adkim: 's', aspf: 'r',
      fo: ['1', 'd', 's'], rf: ['afrf'], ri: 3600, psd: 'n',
    });
    expect(parsed.policy.rua!.map((u) => u.mailbox)).toEqual(['agg@example.com', 'agg@vendor.example']);
    expect(parsed.policy.rua![1]!.size_limit).toEqual({ value: 10, unit: 'm', bytes: 10 * 2 ** 20 });
    expect(parsed.policy.ruf!.map((u) => u.host)).toEqual(['example.com']);
  });

  it('adds no implicit tags when every tag is stated', () => {
    expect(parsed.tags.some((t) => t.implicit)).toBe(false);
  });
});

describe('syntax', () => {
  it('takes tag names case-insensitively, trims blanks and ignores empty terms', () => {
    const parsed = parseDmarcRecord('  v = DMARC1 ;P=Reject;;  ADKIM = S ; ');
    expect(parsed.issues).toEqual([]);
    expect(parsed.policy.p).toBe('reject');
    expect(parsed.policy.adkim).toBe('s');
    expect(parsed.tags.filter((t) => !t.implicit).map((t) => t.name)).toEqual(['v', 'p', 'adkim']);
  });

  it('requires v=DMARC1 first', () => {
    expect(issueIds('p=reject; v=DMARC1')).toContain('dmarc.version-not-first');
    expect(issueIds('p=reject')).toContain('dmarc.version-not-first');
    expect(parseDmarcRecord('p=reject').issues[0]!.message).toMatch(/no v=DMARC1/);
  });

  it('requires the version in upper case, as both RFCs spell it', () => {
    expect(issueIds('v=dmarc1; p=none')).toEqual(['dmarc.invalid-value']);
    expect(issueIds('v=DMARC2; p=none')).toEqual(['dmarc.invalid-value']);
  });

  it('reports unknown tags and keeps them out of the policy', () => {
    const parsed = parseDmarcRecord('v=DMARC1; p=none; rau=mailto:a@example.com');
    expect(parsed.issues.map((i) => [i.id, i.tag])).toEqual([['dmarc.unknown-tag', 'rau']]);
    expect(parsed.policy.rua).toBeNull();
    expect(tagOf('v=DMARC1; p=none; rau=x', 'rau')!.valid).toBe(false);
  });

  it('reports repeated tags and keeps the first value', () => {
    const parsed = parseDmarcRecord('v=DMARC1; p=reject; p=none; P=quarantine');
    expect(parsed.issues.map((i) => i.id)).toEqual(['dmarc.duplicate-tag', 'dmarc.duplicate-tag']);
    expect(parsed.policy.p).toBe('reject');
  });

  it('reports terms that are not tag=value pairs', () => {
    expect(issueIds('v=DMARC1; p=none; reject')).toEqual(['dmarc.malformed-tag']);
    expect(issueIds('v=DMARC1; p=none; =x')).toEqual(['dmarc.malformed-tag']);
    expect(issueIds('v=DMARC1; p=none; r u a=mailto:a@example.com')).toEqual(['dmarc.malformed-tag']);
  });

  it('allows "=" inside a value (a mailto query), unlike the original MailCheck', () => {
    const parsed = parseDmarcRecord('v=DMARC1; p=none; rua=mailto:a@example.com?subject=dmarc');
    expect(parsed.issues).toEqual([]);
    expect(parsed.policy.rua![0]!.mailbox).toBe('a@example.com');
  });
});

describe('values', () => {
  const invalid: [string, string][] = [
    ['p', 'p=rejected'],
    ['p', 'p='],
    ['sp', 'p=none; sp=block'],
    ['np', 'p=none; np=yes'],
    ['pct', 'p=none; pct=101'],
    ['pct', 'p=none; pct=-1'],
    ['pct', 'p=none; pct=fifty'],
    ['pct', 'p=none; pct=5.5'],
    ['t', 'p=none; t=yes'],
    ['adkim', 'p=none; adkim=relaxed'],
    ['aspf', 'p=none; aspf=x'],
    ['psd', 'p=none; psd=maybe'],
    ['fo', 'p=none; fo=2'],
    ['fo', 'p=none; fo=1:x'],
    ['fo', 'p=none; fo=1,d'],
    ['rf', 'p=none; rf=iodef'],
    ['ri', 'p=none; ri=-5'],
    ['ri', 'p=none; ri=daily'],
    ['ri', 'p=none; ri=99999999999'],
    ['rua', 'p=none; rua=dmarc@example.com'],
    ['rua', 'p=none; rua=mailto:a@example.com!10x'],
    ['rua', 'p=none; rua=mailto:a@example.com!10m!2'],
    ['rua', 'p=none; rua=mailto:not-an-address'],
    ['rua', 'p=none; rua=mailto:a@example.com,,mailto:b@example.com'],
    ['rua', 'p=none; rua=mailto:a@exa mple.com'],
    ['ruf', 'p=none; ruf=example.com'],
  ];
  it.each(invalid)('rejects a bad %s value: %s', (tag, rest) => {
    const parsed = parseDmarcRecord(`v=DMARC1; ${rest}`);
    const issue = parsed.issues.find((i) => i.id === 'dmarc.invalid-value');
    expect(issue?.tag).toBe(tag);
    expect(tagOf(`v=DMARC1; ${rest}`, tag)!.valid).toBe(false);
  });

  it('falls back to the defaults for invalid values, as receivers do', () => {
    const parsed = parseDmarcRecord('v=DMARC1; p=none; pct=200; adkim=x; ri=soon');
    expect(parsed.policy).toMatchObject({ pct: 100, adkim: 'r', ri: 86400 });
  });

  it('accepts policy values in any case', () => {
    expect(parseDmarcRecord('v=DMARC1; p=QUARANTINE; sp=Reject').policy).toMatchObject({ p: 'quarantine', sp: 'reject' });
  });

  it('accepts colon lists for fo, as RFC 7489 and RFC 9989 do', () => {
    expect(issueIds('v=DMARC1; p=none; fo=0:d')).toEqual([]);
    expect(issueIds('v=DMARC1; p=none; fo=s : d')).toEqual([]);
  });

  it('keeps the valid URIs of a list with a bad one', () => {
    const parsed = parseDmarcRecord('v=DMARC1; p=none; rua=mailto:a@example.com,bogus');
    expect(parsed.issues.map((i) => i.id)).toEqual(['dmarc.invalid-value']);
    expect(parsed.policy.rua!.map((u) => u.uri)).toEqual(['mailto:a@example.com']);
    expect(parsed.explicit.rua).toBe('mailto:a@example.com');
  });

  it('takes an empty rua as a list of no addresses', () => {
    const parsed = parseDmarcRecord('v=DMARC1; p=none; rua=');
    expect(parsed.issues).toEqual([]);
    expect(parsed.policy.rua).toEqual([]);
  });
});

describe('report URIs', () => {
  it.each([
    ['mailto:a@example.com', null],
    ['mailto:a@example.com!0', { value: 0, unit: null, bytes: 0 }],
    ['mailto:a@example.com!50k', { value: 50, unit: 'k', bytes: 50 * 1024 }],
    ['mailto:a@example.com!10M', { value: 10, unit: 'm', bytes: 10 * 2 ** 20 }],
    ['mailto:a@example.com!1g', { value: 1, unit: 'g', bytes: 2 ** 30 }],
    ['mailto:a@example.com!2t', { value: 2, unit: 't', bytes: 2 * 2 ** 40 }],
  ])('reads the size limit of %s', (raw, size) => {
    const parsed = parseDmarcUri(raw);
    expect(parsed.ok && parsed.uri.size_limit).toEqual(size);
  });

  it('reads mailto addresses and other schemes', () => {
    const mailto = parseDmarcUri('mailto:Reports%2Bdmarc@Example.COM?subject=x');
    expect(mailto.ok && mailto.uri).toMatchObject({ scheme: 'mailto', mailbox: 'Reports+dmarc@example.com', host: 'example.com' });
    const https = parseDmarcUri('https://reports.example.com/dmarc');
    expect(https.ok && https.uri).toMatchObject({ scheme: 'https', mailbox: null, host: 'reports.example.com' });
  });
});

describe('implicit defaults', () => {
  it('adds the defaults of the original MailCheck and of RFC 9989, flagged implicit', () => {
    const parsed = parseDmarcRecord('v=DMARC1; p=quarantine');
    const implicit = Object.fromEntries(parsed.tags.filter((t) => t.implicit).map((t) => [t.name, t.value]));
    expect(implicit).toEqual({ sp: 'quarantine', np: 'quarantine', adkim: 'r', aspf: 'r', fo: '0', pct: '100', rf: 'afrf', ri: '86400', t: 'n', psd: 'u' });
  });

  it('takes np from an explicit sp', () => {
    const parsed = parseDmarcRecord('v=DMARC1; p=quarantine; sp=reject');
    expect(parsed.policy.np).toBe('reject');
    expect(tagOf('v=DMARC1; p=quarantine; sp=reject', 'np')).toMatchObject({ value: 'reject', implicit: true });
  });

  it('adds no sp or np without a p', () => {
    const parsed = parseDmarcRecord('v=DMARC1; rua=mailto:a@example.com');
    expect(parsed.tags.some((t) => t.name === 'sp' || t.name === 'np')).toBe(false);
    expect(parsed.policy).toMatchObject({ p: null, sp: null, np: null });
  });
});

describe('record selection', () => {
  it('knows DMARC records by their start', () => {
    expect(isDmarcRecord('v=DMARC1; p=none')).toBe(true);
    expect(isDmarcRecord('v = dmarc1;p=none')).toBe(true);
    expect(isDmarcRecord('v=DMARC1')).toBe(true);
    expect(isDmarcRecord('v=spf1 -all')).toBe(false);
    expect(isDmarcRecord('p=none; v=DMARC1')).toBe(false);
    expect(isDmarcRecord('v=DMARC10; p=none')).toBe(false);
  });

  it('spots a version tag that is not first', () => {
    expect(hasMisplacedVersion('p=none; v=DMARC1')).toBe(true);
    expect(hasMisplacedVersion('v=DMARC1; p=none')).toBe(false);
    expect(hasMisplacedVersion('google-site-verification=abc')).toBe(false);
  });
});

describe('suggested records', () => {
  it('rebuilds a record with v first, p second, and the changes applied', () => {
    const parsed = parseDmarcRecord('rua=mailto:a@example.com; p=none; v=DMARC1; bogus=1; pct=50');
    expect(suggestRecord(parsed)).toBe('v=DMARC1; p=none; rua=mailto:a@example.com; pct=50');
    expect(suggestRecord(parsed, { p: 'reject', pct: null, sp: 'reject' })).toBe('v=DMARC1; p=reject; rua=mailto:a@example.com; sp=reject');
  });

  it('builds a record from nothing', () => {
    expect(suggestRecord(null, { p: 'none', rua: 'mailto:dmarc@example.com' })).toBe('v=DMARC1; p=none; rua=mailto:dmarc@example.com');
  });
});
