import { describe, expect, it } from 'vitest';
import { checkMx, isIpLiteral, MX_RULES } from '../../../src/dns/checks/mx.ts';
import { failingResolver, ids, labResolver, ZONE } from './lab.ts';

describe('checkMx against the DNS lab', () => {
  it('lists the hosts by preference with their IPv4 and IPv6 addresses, and finds nothing wrong', async () => {
    const result = await checkMx(labResolver(), `mx-good.${ZONE}`);
    expect(result.area).toBe('mx');
    expect(result.findings).toEqual([]);
    expect(result.facts.nullMx).toBe(false);
    expect(result.facts.authenticated).toBe(true);
    expect(result.facts.hosts).toEqual([
      { host: `mx1.hosts.${ZONE}`, preference: 10, addresses: { v4: ['192.0.2.101'], v6: ['2001:db8::101'] }, cnames: [], ipLiteral: false },
      { host: `mx2.hosts.${ZONE}`, preference: 20, addresses: { v4: ['192.0.2.102'], v6: [] }, cnames: [], ipLiteral: false },
      { host: `v6only.hosts.${ZONE}`, preference: 30, addresses: { v4: [], v6: ['2001:db8::103'] }, cnames: [], ipLiteral: false },
    ]);
    expect(result.record).toBe(`10 mx1.hosts.${ZONE}.\n20 mx2.hosts.${ZONE}.\n30 v6only.hosts.${ZONE}.`);
  });

  it('recognises a null MX (RFC 7505)', async () => {
    const result = await checkMx(labResolver(), `mx-null.${ZONE}`);
    expect(ids(result.findings)).toEqual(['mx.null-mx']);
    expect(result.facts).toMatchObject({ nullMx: true, hosts: [] });
    expect(result.findings[0]?.severity).toBe('info');
  });

  it('flags a null MX published beside another MX', async () => {
    const result = await checkMx(labResolver(), `mx-null-mixed.${ZONE}`);
    expect(ids(result.findings)).toEqual(['mx.null-mx-mixed']);
    expect(result.facts.hosts.map((h) => h.host)).toEqual([`mx1.hosts.${ZONE}`]);
  });

  it('flags a domain without MX and reports the addresses senders fall back to', async () => {
    const result = await checkMx(labResolver(), `mx-none.${ZONE}`);
    expect(ids(result.findings)).toEqual(['mx.none']);
    expect(result.facts.implicit).toEqual({ v4: ['192.0.2.110'], v6: [] });
    expect(result.findings[0]?.advice).toContain('192.0.2.110');
  });

  it('flags an MX target that is a CNAME, and still lists the addresses behind it', async () => {
    const result = await checkMx(labResolver(), `mx-cname.${ZONE}`);
    expect(ids(result.findings)).toEqual(['mx.cname']);
    expect(result.facts.hosts[0]).toMatchObject({ host: `alias.hosts.${ZONE}`, cnames: [`mx1.hosts.${ZONE}`], addresses: { v4: ['192.0.2.101'] } });
    expect(result.findings[0]?.advice).toContain(`mx1.hosts.${ZONE}`);
  });

  it('flags an IP address used as MX host', async () => {
    const result = await checkMx(labResolver(), `mx-ip.${ZONE}`);
    expect(ids(result.findings)).toEqual(['mx.ip-literal']);
    expect(result.facts.hosts[0]).toMatchObject({ host: '192.0.2.1', ipLiteral: true });
  });

  it('flags hosts without addresses (NXDOMAIN and NODATA), not the good one', async () => {
    const result = await checkMx(labResolver(), `mx-unresolvable.${ZONE}`);
    expect(ids(result.findings)).toEqual(['mx.host-unresolvable', 'mx.host-unresolvable']);
    expect(result.findings.map((f) => f.advice).join(' ')).toContain(`nowhere.hosts.${ZONE}`);
    expect(result.findings.map((f) => f.advice).join(' ')).toContain(`nodata.hosts.${ZONE}`);
  });

  it('reports a host whose address lookup fails (DNSSEC-bogus zone) as a DNS failure, not as unresolvable', async () => {
    const result = await checkMx(labResolver(), `mx-host-bogus.${ZONE}`);
    expect(ids(result.findings)).toEqual(['mx.host-dns-failure']);
    expect(result.findings[0]?.detail).toContain('SERVFAIL');
  });

  it('reports the domain not existing', async () => {
    const result = await checkMx(labResolver(), `does-not-exist.${ZONE}`);
    expect(ids(result.findings)).toEqual(['mx.domain-not-found']);
  });

  it('gives a DNS failure, never "no MX", for SERVFAIL, ERROR and TIMEOUT', async () => {
    const bogus = await checkMx(labResolver(), `bogus.${ZONE}`);
    expect(ids(bogus.findings)).toEqual(['mx.dns-failure']);
    expect(bogus.facts.status).toBe('SERVFAIL');
    for (const kind of ['ERROR', 'TIMEOUT'] as const) {
      const result = await checkMx(failingResolver(kind), `mx-good.${ZONE}`);
      expect(ids(result.findings)).toEqual(['mx.dns-failure']);
      expect(result.facts.status).toBe(kind);
    }
  });
});

describe('MX helpers', () => {
  it('tells IP literals from host names', () => {
    expect(isIpLiteral('192.0.2.1')).toBe(true);
    expect(isIpLiteral('[192.0.2.1]')).toBe(true);
    expect(isIpLiteral('2001:db8::1')).toBe(true);
    expect(isIpLiteral('mail.example.com')).toBe(false);
    expect(isIpLiteral('192.0.2.1.example.com')).toBe(false);
    expect(isIpLiteral('cafe.example')).toBe(false);
  });

  it('has a rule for every id it can raise, each with advice and a reference', () => {
    expect(MX_RULES.map((r) => r.id)).toEqual(
      expect.arrayContaining(['mx.none', 'mx.null-mx', 'mx.cname', 'mx.ip-literal', 'mx.host-unresolvable', 'mx.dns-failure']),
    );
    for (const rule of MX_RULES) expect(rule.advice.length && rule.reference.startsWith('https://')).toBeTruthy();
  });
});
