import { describe, expect, it } from 'vitest';
import { classifySource, currentRung, decideRejectPath, recordFor, type FailingSourceInput, type RejectPathInput } from '../../src/stats/reject-path';

/** The decision logic of the path to reject on hand-built inputs (docs/reject-path.md). */

function source(overrides: Partial<FailingSourceInput> = {}): FailingSourceInput {
  return {
    source_ip: '192.0.2.1',
    messages: 10,
    dmarc_pass: 0,
    dkim_pass: 0,
    spf_pass: 0,
    quarantined: 0,
    rejected: 0,
    fail_not_rejected: 10,
    ptr: null,
    base_domain: null,
    service: null,
    lookup_status: null,
    forwarding_overrides: 0,
    ...overrides,
  };
}

function input(overrides: Partial<RejectPathInput> = {}): RejectPathInput {
  return {
    domain: 'example.org',
    from: '2026-10-27',
    to: '2026-11-25',
    messages: 10_000,
    dmarc_pass: 9_950,
    report_days: 30,
    sources: [],
    omitted: { sources: 0, dmarc_fail: 0, fail_not_rejected: 0, quarantined: 0 },
    record: 'v=DMARC1; p=none; rua=mailto:dmarc@example.org; adkim=s; fo=1',
    reported: null,
    policy_since: '2026-10-27',
    ...overrides,
  };
}

describe('classifySource', () => {
  const domain = 'example.org';
  it('trusts the receivers when they marked most failing mail forwarded', () => {
    expect(classifySource(source({ forwarding_overrides: 6, service: { name: 'Mailchimp', type: 'Marketing' } }), domain)).toEqual({ category: 'forwarded', reason: 'receiver-override' });
    // A few overrides among many failures do not make a sender a forwarder.
    expect(classifySource(source({ forwarding_overrides: 4 }), domain).category).toBe('unknown');
  });
  it('calls servers named in the domain itself legitimate', () => {
    expect(classifySource(source({ base_domain: 'example.org', lookup_status: 'ok' }), domain)).toEqual({ category: 'legitimate', reason: 'own-infrastructure' });
    expect(classifySource(source({ base_domain: 'example.org' }), 'mail.example.org').reason).toBe('own-infrastructure');
    expect(classifySource(source({ base_domain: 'notexample.org', lookup_status: 'ok' }), domain).reason).toBe('unmapped-name');
  });
  it('calls a known sending service legitimate, even when it signs but misses SPF alignment', () => {
    expect(classifySource(source({ service: { name: 'Mailchimp', type: 'Marketing' }, lookup_status: 'ok' }), domain)).toEqual({ category: 'legitimate', reason: 'known-service' });
    expect(classifySource(source({ service: { name: 'Mailchimp', type: 'Marketing' }, dkim_pass: 5, messages: 15, dmarc_pass: 5 }), domain).category).toBe('legitimate');
  });
  it('sees forwarding where aligned DKIM passes at an address that never passes SPF', () => {
    expect(classifySource(source({ messages: 30, dmarc_pass: 20, dkim_pass: 20 }), domain)).toEqual({ category: 'forwarded', reason: 'dkim-survived' });
    // A mailbox provider relaying the domain's signed mail is forwarding its users' mail.
    expect(classifySource(source({ messages: 30, dmarc_pass: 20, dkim_pass: 20, service: { name: 'Google', type: 'Email Provider' } }), domain).category).toBe('forwarded');
    // The same provider without that pattern is the owner's own tenant, misaligned.
    expect(classifySource(source({ messages: 30, dmarc_pass: 20, dkim_pass: 20, spf_pass: 20, service: { name: 'Google', type: 'Email Provider' } }), domain).category).toBe('legitimate');
  });
  it('does not take an ISP or web host address for a legitimate sender', () => {
    expect(classifySource(source({ service: { name: 'Some ISP', type: 'ISP' }, lookup_status: 'ok' }), domain)).toEqual({ category: 'unknown', reason: 'network-operator' });
    expect(classifySource(source({ service: { name: 'Host', type: 'Web Host' } }), domain).category).toBe('unknown');
  });
  it('says why an unknown sender is unknown', () => {
    expect(classifySource(source({ lookup_status: 'no-ptr' }), domain).reason).toBe('no-identity');
    expect(classifySource(source({ lookup_status: 'not-confirmed' }), domain).reason).toBe('no-identity');
    expect(classifySource(source(), domain).reason).toBe('not-looked-up');
  });
});

describe('the ladder and the record', () => {
  it('places the current policy on a rung', () => {
    expect(currentRung(null, 100)).toBe(0);
    expect(currentRung('none', 100)).toBe(0);
    expect(currentRung('quarantine', 10)).toBe(1);
    expect(currentRung('quarantine', 50)).toBe(2);
    expect(currentRung('quarantine', 100)).toBe(3);
    expect(currentRung('reject', 50)).toBe(3);
    expect(currentRung('reject', 100)).toBe(4);
  });
  it('keeps every other tag and writes p right after v', () => {
    expect(recordFor('v=DMARC1; rua=mailto:a@example.org; p=none; sp=none; adkim=s; aspf=r; ruf=mailto:f@example.org; fo=1', { p: 'quarantine', pct: 25 })).toBe(
      'v=DMARC1; p=quarantine; rua=mailto:a@example.org; sp=none; adkim=s; aspf=r; ruf=mailto:f@example.org; fo=1; pct=25',
    );
    // pct=100 is the default: dropped.
    expect(recordFor('v=DMARC1; p=quarantine; pct=50; rua=mailto:a@example.org', { p: 'quarantine', pct: 100 })).toBe('v=DMARC1; p=quarantine; rua=mailto:a@example.org');
    // Unknown and invalid tags are not carried over.
    expect(recordFor('v=DMARC1; p=none; foo=bar; adkim=x', { p: 'quarantine', pct: 25 })).toBe('v=DMARC1; p=quarantine; pct=25');
  });
});

describe('decideRejectPath', () => {
  it('moves a clean p=none domain to quarantine at 25%', () => {
    const path = decideRejectPath(input({ sources: [source({ messages: 50, fail_not_rejected: 50, lookup_status: 'no-ptr' })] }));
    expect(path.next_step.step).toEqual({ p: 'quarantine', pct: 25 });
    expect(path.next_step.ready).toBe(true);
    expect(path.next_step.record).toBe('v=DMARC1; p=quarantine; rua=mailto:dmarc@example.org; adkim=s; fo=1; pct=25');
    expect(path.current).toMatchObject({ source: 'check', p: 'none', pct: 100 });
  });

  it('counts categories and the mail quarantine and reject would affect', () => {
    const path = decideRejectPath(
      input({
        messages: 1_000,
        dmarc_pass: 900,
        record: 'v=DMARC1; p=quarantine; pct=50',
        sources: [
          // Known service: 40 failing, 10 already quarantined, 5 rejected.
          source({ source_ip: '192.0.2.10', messages: 40, quarantined: 10, rejected: 5, fail_not_rejected: 35, service: { name: 'Mailchimp', type: 'Marketing' } }),
          // Forwarder: 30 failing next to 60 passing on DKIM alone.
          source({ source_ip: '192.0.2.20', messages: 90, dmarc_pass: 60, dkim_pass: 60, fail_not_rejected: 30 }),
          // Spoofing: 30 failing, all delivered.
          source({ source_ip: '192.0.2.30', messages: 30, fail_not_rejected: 30, lookup_status: 'no-ptr' }),
        ],
      }),
    );
    expect(path.dmarc_fail).toBe(100);
    expect(path.categories).toEqual({
      legitimate: { sources: 1, dmarc_fail: 40, would_be_rejected: 35 },
      forwarded: { sources: 1, dmarc_fail: 30, would_be_rejected: 30 },
      unknown: { sources: 1, dmarc_fail: 30, would_be_rejected: 30 },
    });
    // Quarantine: failing mail delivered normally (35 - 10) + 30 + 30; reject: everything not rejected.
    expect(path.impact.quarantine).toEqual({ messages: 85, share: 0.085 });
    expect(path.impact.reject).toEqual({ messages: 95, share: 0.095 });
    // Identified pass rate: 900 of 970 (the 30 unknown failing left out) < 98%.
    expect(path.identified_pass_rate).toBeCloseTo(900 / 970);
    expect(path.next_step.step).toEqual({ p: 'quarantine', pct: 100 });
    expect(path.next_step.ready).toBe(false);
    const unmet = path.next_step.conditions.filter((c) => !c.met).map((c) => c.id);
    expect(unmet).toEqual(['pass-rate', 'no-legitimate-failing']);
    expect(path.next_step.conditions.find((c) => c.id === 'no-legitimate-failing')?.text).toContain('Mailchimp');
  });

  it('lets spoofing through the pass rate: it is what enforcement is for', () => {
    const path = decideRejectPath(
      input({ messages: 2_000, dmarc_pass: 1_000, record: 'v=DMARC1; p=quarantine', sources: [source({ messages: 1_000, fail_not_rejected: 1_000, lookup_status: 'no-ptr' })] }),
    );
    expect(path.pass_rate).toBe(0.5);
    expect(path.identified_pass_rate).toBe(1);
    expect(path.next_step).toMatchObject({ step: { p: 'reject', pct: 100 }, ready: true, record: 'v=DMARC1; p=reject' });
  });

  it('waits for enough volume and for reports at the current step', () => {
    expect(decideRejectPath(input({ messages: 99, dmarc_pass: 99 })).next_step.conditions.find((c) => c.id === 'volume')?.met).toBe(false);
    expect(decideRejectPath(input({ report_days: 6 })).next_step.ready).toBe(false);
    const recent = decideRejectPath(input({ record: 'v=DMARC1; p=quarantine; pct=25', policy_since: '2026-11-20' }));
    expect(recent.next_step.conditions.find((c) => c.id === 'settled')).toMatchObject({ met: false });
    expect(decideRejectPath(input({ record: 'v=DMARC1; p=quarantine; pct=25', policy_since: '2026-11-12' })).next_step.ready).toBe(true);
    expect(decideRejectPath(input({ record: 'v=DMARC1; p=quarantine; pct=25', policy_since: null })).next_step.ready).toBe(false);
  });

  it('tolerates a handful of failures from a known service', () => {
    const path = decideRejectPath(input({ sources: [source({ messages: 4, fail_not_rejected: 4, service: { name: 'Mailchimp', type: 'Marketing' } })] }));
    expect(path.next_step.ready).toBe(true);
  });

  it('has no step beyond p=reject', () => {
    const path = decideRejectPath(input({ record: 'v=DMARC1; p=reject; rua=mailto:d@example.org' }));
    expect(path.next_step).toMatchObject({ step: null, ready: true, record: 'v=DMARC1; p=reject; rua=mailto:d@example.org' });
  });

  it('asks for a record first when there is none, and uses the reports when no check found one', () => {
    expect(decideRejectPath(input({ record: null })).next_step).toMatchObject({ step: { p: 'none', pct: 100 }, ready: true, record: 'v=DMARC1; p=none' });
    const fromReports = decideRejectPath(input({ record: null, reported: { p: 'quarantine', pct: 100 } }));
    expect(fromReports.current).toMatchObject({ source: 'reports', p: 'quarantine', pct: 100 });
    expect(fromReports.next_step.step).toEqual({ p: 'reject', pct: 100 });
  });

  it('counts failing sources beyond the cut as unknown', () => {
    const path = decideRejectPath(input({ omitted: { sources: 3, dmarc_fail: 12, fail_not_rejected: 10, quarantined: 4 } }));
    expect(path.categories.unknown).toEqual({ sources: 3, dmarc_fail: 12, would_be_rejected: 10 });
    expect(path.impact.quarantine.messages).toBe(6);
    expect(path.omitted_sources).toBe(3);
  });

  it('proposes a record of its own for a sub-domain covered by its parent\'s record', () => {
    const path = decideRejectPath(
      input({ domain: 'mail.example.org', record: 'v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@example.org', policy_domain: 'example.org' }),
    );
    // The parent's sp applies to the sub-domain.
    expect(path.current).toMatchObject({ policy_domain: 'example.org', p: 'quarantine', pct: 100, sp: null });
    expect(path.next_step.step).toEqual({ p: 'reject', pct: 100 });
    expect(path.next_step.record).toBe('v=DMARC1; p=reject; rua=mailto:d@example.org');
    expect(path.next_step.notes.join(' ')).toContain('no DMARC record of its own');
  });

  it('warns that sub-domains follow p without an sp tag', () => {
    expect(decideRejectPath(input()).next_step.notes.join(' ')).toContain('No sp tag');
    expect(decideRejectPath(input({ record: 'v=DMARC1; p=none; sp=none' })).next_step.notes.join(' ')).not.toContain('No sp tag');
  });
});
