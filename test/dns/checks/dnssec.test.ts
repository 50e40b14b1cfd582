import { describe, expect, it } from 'vitest';
import { checkDnssec } from '../../../src/dns/checks/dnssec.ts';
import { failingResolver, ids, labResolver, ZONE } from './lab.ts';

describe('checkDnssec against the DNS lab', () => {
  it('validated: a signed zone apex, and a name inside it, with no findings', async () => {
    for (const domain of [ZONE, `mx-good.${ZONE}`, 'child.lab.mailcheck.test']) {
      const result = await checkDnssec(labResolver(), domain);
      expect(result.findings).toEqual([]);
      expect(result.facts).toMatchObject({ status: 'validated', authenticated: true });
    }
  });

  it('unsigned: a zone delegated without DS', async () => {
    for (const domain of [`unsigned.${ZONE}`, `www.unsigned.${ZONE}`, 'insecure.lab.mailcheck.test']) {
      const result = await checkDnssec(labResolver(), domain);
      expect(ids(result.findings)).toEqual(['dnssec.unsigned']);
      expect(result.facts).toMatchObject({ status: 'unsigned', authenticated: false, dsPresent: false });
    }
  });

  it('bogus: a DS in the parent that matches no key, at the apex and below it', async () => {
    for (const domain of [`bogus.${ZONE}`, `mail.bogus.${ZONE}`, 'bogus.lab.mailcheck.test']) {
      const result = await checkDnssec(labResolver(), domain);
      expect(ids(result.findings)).toEqual(['dnssec.bogus']);
      expect(result.findings[0]?.severity).toBe('error');
      expect(result.facts).toMatchObject({ status: 'bogus', dsPresent: true, soaStatus: 'SERVFAIL' });
    }
    const below = await checkDnssec(labResolver(), `mail.bogus.${ZONE}`);
    expect(below.facts.dsName).toBe(`bogus.${ZONE}`);
  });

  it('resolver trouble is a DNS failure, not "unsigned"', async () => {
    const result = await checkDnssec(failingResolver('TIMEOUT'), ZONE);
    expect(ids(result.findings)).toEqual(['dnssec.dns-failure']);
    expect(result.facts.status).toBe('unknown');
  });
});
