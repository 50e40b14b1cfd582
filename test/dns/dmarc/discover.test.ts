import { describe, expect, it } from 'vitest';
import { discoverDmarc, selectOrganisationalDomain, treeWalkNames } from '../../../src/dns/dmarc/discover';
import { zone } from './zone';

const dmarcNames = (names: string[]) => names.filter((n) => n.startsWith('_dmarc.'));

describe('tree walk names (RFC 9989 §4.10)', () => {
  it('walks one label at a time for short names, down to the TLD', () => {
    expect(treeWalkNames('mail.example.com')).toEqual(['mail.example.com', 'example.com', 'com']);
    expect(treeWalkNames('com')).toEqual(['com']);
  });

  it('jumps to seven labels after the first query for long names (the RFC example: eight queries)', () => {
    expect(treeWalkNames('a.b.c.d.e.f.g.h.i.j.mail.example.com')).toEqual([
      'a.b.c.d.e.f.g.h.i.j.mail.example.com',
      'g.h.i.j.mail.example.com',
      'h.i.j.mail.example.com',
      'i.j.mail.example.com',
      'j.mail.example.com',
      'mail.example.com',
      'example.com',
      'com',
    ]);
  });

  it('never needs more than eight queries', () => {
    for (let labels = 1; labels <= 20; labels++) {
      const name = [...Array.from({ length: labels - 1 }, (_, i) => `l${i}`), 'com'].join('.');
      const names = treeWalkNames(name);
      expect(names.length).toBe(Math.min(labels, 8));
      expect(new Set(names).size).toBe(names.length);
    }
  });

  it('asks the DNS exactly those names, each once, when nothing is published (eleven labels: 1 + 7)', async () => {
    const dns = zone({});
    await discoverDmarc(dns, 'a.b.c.d.e.f.g.h.example.co.uk');
    expect(dmarcNames(dns.txtNames())).toEqual([
      '_dmarc.a.b.c.d.e.f.g.h.example.co.uk',
      '_dmarc.example.co.uk', // RFC 7489 asks the PSL organisational domain second; the walk reuses the answer
      '_dmarc.e.f.g.h.example.co.uk',
      '_dmarc.f.g.h.example.co.uk',
      '_dmarc.g.h.example.co.uk',
      '_dmarc.h.example.co.uk',
      '_dmarc.co.uk',
      '_dmarc.uk',
    ]);
  });
});

describe('organisational domain selection (RFC 9989 §4.10.2)', () => {
  const rec = (domain: string, extra = '') => ({ domain, record: `v=DMARC1; p=reject${extra}` });

  it('takes the record with the fewest labels', () => {
    expect(selectOrganisationalDomain('a.mail.example.com', [rec('mail.example.com'), rec('example.com')])).toBe('example.com');
  });

  it('stops at psd=n', () => {
    expect(selectOrganisationalDomain('a.mail.example.com', [rec('mail.example.com', '; psd=n'), rec('example.com')])).toBe('mail.example.com');
  });

  it('takes the name one label below a psd=y record', () => {
    expect(selectOrganisationalDomain('a.mail.example.com', [rec('com', '; psd=y')])).toBe('example.com');
  });

  it('ignores psd=y at the starting domain and falls back to the start', () => {
    expect(selectOrganisationalDomain('example.com', [rec('example.com', '; psd=y')])).toBe('example.com');
    expect(selectOrganisationalDomain('a.example.com', [])).toBe('a.example.com');
  });
});

describe('discovery', () => {
  it('finds the policy at the domain itself by both methods', async () => {
    const { rfc7489, treewalk, differences } = await discoverDmarc(
      zone({ '_dmarc.example.com': 'v=DMARC1; p=reject' }),
      'example.com',
    );
    expect(rfc7489).toMatchObject({ status: 'found', policy_domain: 'example.com', inherited: false });
    expect(treewalk).toMatchObject({ status: 'found', policy_domain: 'example.com', source: 'domain', organisational_domain: 'example.com' });
    expect(differences).toEqual([]);
  });

  it('inherits from the PSL organisational domain (mail.example.co.uk → example.co.uk)', async () => {
    const { rfc7489, treewalk, differences } = await discoverDmarc(
      zone({ '_dmarc.example.co.uk': 'v=DMARC1; p=reject' }),
      'mail.example.co.uk',
    );
    expect(rfc7489).toMatchObject({ status: 'found', policy_domain: 'example.co.uk', inherited: true, organisational_domain: 'example.co.uk' });
    expect(treewalk).toMatchObject({ status: 'found', policy_domain: 'example.co.uk', source: 'organisational' });
    expect(differences).toEqual([]);
  });

  it('treats NODATA ("black lies") like NXDOMAIN and still walks up', async () => {
    const dns = zone({ '_dmarc.example.co.uk': 'v=DMARC1; p=reject' }, { blackLies: true });
    const { rfc7489, treewalk } = await discoverDmarc(dns, 'deep.mail.example.co.uk');
    expect(rfc7489.queries[0]!.status).toBe('NOERROR');
    expect(rfc7489).toMatchObject({ status: 'found', policy_domain: 'example.co.uk' });
    expect(treewalk).toMatchObject({ status: 'found', policy_domain: 'example.co.uk' });
    expect(treewalk.queries.map((q) => q.status)).toEqual(['NOERROR', 'NOERROR', 'NOERROR', 'NOERROR', 'NOERROR']);
  });

  it('ignores TXT records that are not DMARC records', async () => {
    const { rfc7489 } = await discoverDmarc(
      zone({ '_dmarc.mail.example.com': 'v=spf1 -all', '_dmarc.example.com': 'v=DMARC1; p=none' }),
      'mail.example.com',
    );
    expect(rfc7489).toMatchObject({ status: 'found', policy_domain: 'example.com' });
  });

  it('uses the intermediate record only when it says psd=n, and then the methods differ', async () => {
    const records = { '_dmarc.example.com': 'v=DMARC1; p=reject' };
    const plain = await discoverDmarc(zone({ ...records, '_dmarc.b.example.com': 'v=DMARC1; p=none' }), 'a.b.example.com');
    expect(plain.treewalk).toMatchObject({ policy_domain: 'example.com', organisational_domain: 'example.com' });
    expect(plain.differences).toEqual([]);

    const own = await discoverDmarc(zone({ ...records, '_dmarc.b.example.com': 'v=DMARC1; p=none; psd=n' }), 'a.b.example.com');
    expect(own.treewalk).toMatchObject({ policy_domain: 'b.example.com', organisational_domain: 'b.example.com', source: 'organisational' });
    expect(own.rfc7489.policy_domain).toBe('example.com');
    expect(own.differences).toHaveLength(2);
    // The walk stops at psd=n: nothing above it is asked by the tree walk.
    expect(own.treewalk.queries.map((q) => q.domain)).toEqual(['a.b.example.com', 'b.example.com']);
  });

  it('finds a public suffix operator policy (psd=y) only by the tree walk', async () => {
    const { rfc7489, treewalk, differences } = await discoverDmarc(
      zone({ '_dmarc.co.uk': 'v=DMARC1; p=reject; psd=y' }),
      'mail.example.co.uk',
    );
    expect(rfc7489.status).toBe('none');
    expect(treewalk).toMatchObject({
      status: 'found',
      source: 'public-suffix',
      policy_domain: 'co.uk',
      public_suffix_domain: 'co.uk',
      organisational_domain: 'example.co.uk',
    });
    expect(differences[0]).toMatch(/public suffix operator/);
  });

  it('lets the organisational domain record win over a psd=y record above it', async () => {
    const { treewalk } = await discoverDmarc(
      zone({ '_dmarc.co.uk': 'v=DMARC1; p=reject; psd=y', '_dmarc.example.co.uk': 'v=DMARC1; p=none' }),
      'mail.example.co.uk',
    );
    expect(treewalk).toMatchObject({ source: 'organisational', policy_domain: 'example.co.uk', organisational_domain: 'example.co.uk' });
  });

  it('stops RFC 7489 discovery at several records, while the tree walk discards them and goes on', async () => {
    const { rfc7489, treewalk, differences } = await discoverDmarc(
      zone({ '_dmarc.mail.example.com': ['v=DMARC1; p=none', 'v=DMARC1; p=reject'], '_dmarc.example.com': 'v=DMARC1; p=quarantine' }),
      'mail.example.com',
    );
    expect(rfc7489).toMatchObject({ status: 'multiple', policy_domain: null });
    expect(rfc7489.queries).toHaveLength(1);
    expect(treewalk).toMatchObject({ status: 'found', policy_domain: 'example.com', discarded_multiple: ['mail.example.com'] });
    expect(differences).toHaveLength(1);
  });

  it('notes that a subdomain with its own record but none above is its own organisational domain by RFC 9989', async () => {
    const { differences, treewalk } = await discoverDmarc(zone({ '_dmarc.mail.example.com': 'v=DMARC1; p=reject' }), 'mail.example.com');
    expect(treewalk.organisational_domain).toBe('mail.example.com');
    expect(differences).toEqual([
      'The organisational domain, used for relaxed alignment, is example.com by the Public Suffix List but mail.example.com by the RFC 9989 tree walk.',
    ]);
  });

  it('uses the private section of the PSL unless told otherwise', async () => {
    const records = { '_dmarc.github.io': 'v=DMARC1; p=reject' };
    const all = await discoverDmarc(zone(records), 'someone.github.io');
    expect(all.rfc7489).toMatchObject({ organisational_domain: 'someone.github.io', status: 'none' });
    const icann = await discoverDmarc(zone(records), 'someone.github.io', { publicSuffixList: 'icann' });
    expect(icann.rfc7489).toMatchObject({ organisational_domain: 'github.io', status: 'found', inherited: true });
  });
});

describe('DNS failures are never "no record"', () => {
  it('marks both methods temperror when the domain query fails', async () => {
    const dns = zone({ '_dmarc.example.com': { status: 'SERVFAIL' } });
    const { rfc7489, treewalk, differences } = await discoverDmarc(dns, 'example.com');
    expect(rfc7489.status).toBe('temperror');
    expect(treewalk.status).toBe('temperror');
    expect(differences).toEqual([]);
  });

  it('marks RFC 7489 temperror when the organisational domain times out', async () => {
    const { rfc7489, treewalk } = await discoverDmarc(zone({ '_dmarc.example.com': { status: 'TIMEOUT' } }), 'mail.example.com');
    expect(rfc7489.status).toBe('temperror');
    expect(treewalk.status).toBe('temperror');
  });

  it('keeps the own record of the domain but leaves the organisational domain open when a higher query fails', async () => {
    const { treewalk } = await discoverDmarc(
      zone({ '_dmarc.mail.example.com': 'v=DMARC1; p=reject', '_dmarc.com': { status: 'REFUSED' } }),
      'mail.example.com',
    );
    expect(treewalk).toMatchObject({ status: 'found', policy_domain: 'mail.example.com', organisational_domain: null });
  });

  it('turns a resolver that throws into ERROR', async () => {
    const resolver = { query: () => Promise.reject(new Error('socket closed')) };
    const { rfc7489 } = await discoverDmarc(resolver, 'example.com');
    expect(rfc7489.status).toBe('temperror');
    expect(rfc7489.queries[0]).toMatchObject({ status: 'ERROR', error: 'socket closed' });
  });
});
