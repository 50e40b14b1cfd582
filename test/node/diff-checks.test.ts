import { describe, expect, it } from 'vitest';
import { diffChecks } from '../../src/dns/diff-checks';
import { AREAS, isDnsFailure, type DomainCheck } from '../../src/dns/domain-check';

function check(overrides: Partial<Record<(typeof AREAS)[number], { record: string | null; findings: DomainCheck['findings'] }>>): DomainCheck {
  const empty = { record: null, findings: [] };
  const areas = Object.fromEntries(AREAS.map((a) => [a, { ...empty, ...(overrides[a] ?? {}) }]));
  return { domain: 'example.org', checked_at: '2026-11-25T00:00:00Z', complete: true, ...areas, spf: { ...areas.spf!, dns_lookups: 0, void_lookups: 0 }, findings: [] } as unknown as DomainCheck;
}

const finding = (id: string) => ({ id, severity: 'error' as const, title: id, advice: 'fix it', reference: '', area: 'mx' as const });

describe('diffChecks', () => {
  it('reports an MX change (the hijack case) as a record change with both texts', () => {
    const before = check({ mx: { record: '10 mx1.example.org.', findings: [] } });
    const after = check({ mx: { record: '10 mx.attacker.example.', findings: [] } });
    expect(diffChecks(before, after)).toEqual([
      { area: 'mx', kind: 'record-changed', finding_id: null, detail: { before: '10 mx1.example.org.', after: '10 mx.attacker.example.' } },
    ]);
  });

  it('reports findings that appeared and cleared, by id', () => {
    const before = check({ dmarc: { record: 'v=DMARC1; p=none', findings: [finding('dmarc.policy-none')] } });
    const after = check({ dmarc: { record: 'v=DMARC1; p=none', findings: [finding('dmarc.rua-missing')] } });
    expect(diffChecks(before, after).map((c) => [c.kind, c.finding_id])).toEqual([
      ['finding-appeared', 'dmarc.rua-missing'],
      ['finding-cleared', 'dmarc.policy-none'],
    ]);
  });

  it('finds no change between equal checks', () => {
    const same = check({ spf: { record: 'v=spf1 -all', findings: [] } });
    expect(diffChecks(same, same)).toEqual([]);
  });
});

describe('isDnsFailure', () => {
  it('covers area and host failures alike, and nothing else', () => {
    expect(isDnsFailure(finding('dmarc.dns-failure'))).toBe(true);
    expect(isDnsFailure(finding('mx.host-dns-failure'))).toBe(true);
    expect(isDnsFailure(finding('mx.none'))).toBe(false);
  });
});
