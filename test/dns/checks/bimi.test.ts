import { describe, expect, it } from 'vitest';
import { checkBimi, isBimiRecord, parseBimiRecord } from '../../../src/dns/checks/bimi.ts';
import { failingResolver, ids, labResolver, ZONE } from './lab.ts';

describe('checkBimi against the DNS lab', () => {
  it('reads a good record', async () => {
    const result = await checkBimi(labResolver(), `bimi-good.${ZONE}`);
    expect(result.findings).toEqual([]);
    expect(result.facts).toMatchObject({ logo: 'https://bimi.example.org/logo.svg', authority: 'https://bimi.example.org/vmc.pem' });
  });

  it.each([
    ['bimi-no-a', ['bimi.no-authority']],
    ['bimi-http', ['bimi.authority-not-https', 'bimi.logo-not-https']],
    ['bimi-invalid', ['bimi.invalid']],
    ['bimi-declined', ['bimi.declined']],
    ['bimi-two', ['bimi.multiple-records']],
    ['mx-good', ['bimi.no-record']],
    ['bogus', ['bimi.dns-failure']],
  ])('%s → %j', async (name, expected) => {
    expect(ids((await checkBimi(labResolver(), `${name}.${ZONE}`)).findings)).toEqual(expected);
  });

  it('reports a missing record as info, and resolver trouble as a DNS failure', async () => {
    expect((await checkBimi(labResolver(), `mx-good.${ZONE}`)).findings[0]?.severity).toBe('info');
    expect(ids((await checkBimi(failingResolver('ERROR'), `bimi-good.${ZONE}`)).findings)).toEqual(['bimi.dns-failure']);
  });
});

describe('parseBimiRecord', () => {
  it('parses l= and a=', () => {
    expect(parseBimiRecord('v=BIMI1; l=https://e.example/l.svg; a=https://e.example/a.pem')).toEqual({
      logo: 'https://e.example/l.svg',
      authority: 'https://e.example/a.pem',
      errors: [],
    });
  });

  it('requires l= and rejects several URLs in one tag', () => {
    expect(parseBimiRecord('v=BIMI1; a=https://e.example/a.pem').errors).toContain('the logo tag l= is missing');
    expect(parseBimiRecord('v=BIMI1; l=https://e.example/1.svg,https://e.example/2.svg').errors).toContain('l= must hold a single URL');
  });

  it('recognises BIMI records', () => {
    expect(isBimiRecord('v=BIMI1; l=')).toBe(true);
    expect(isBimiRecord('v=DMARC1; p=none')).toBe(false);
  });
});
