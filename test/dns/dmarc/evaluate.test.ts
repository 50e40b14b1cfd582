import { describe, expect, it } from 'vitest';
import { DMARC_RULES, evaluateDmarc, type DmarcEvaluation, type DmarcEvaluationOptions } from '../../../src/dns/dmarc';
import { zone, type ZoneValue } from './zone';

const GOOD = 'v=DMARC1; p=reject; rua=mailto:dmarc@example.com';

async function check(records: Record<string, ZoneValue>, domain = 'example.com', options?: DmarcEvaluationOptions) {
  return evaluateDmarc(zone(records), domain, options);
}
const ids = (result: DmarcEvaluation) => result.findings.map((f) => f.id);
const finding = (result: DmarcEvaluation, id: string) => {
  const found = result.findings.find((f) => f.id === id);
  if (!found) throw new Error(`no ${id} in ${ids(result).join(', ')}`);
  return found;
};
/** Checks one record at _dmarc.example.com. */
const checkRecord = (record: string | string[], options?: DmarcEvaluationOptions) =>
  check({ '_dmarc.example.com': Array.isArray(record) ? [record] : record }, 'example.com', options);

describe('a good record', () => {
  it('raises nothing', async () => {
    const result = await checkRecord(GOOD);
    expect(result.findings).toEqual([]);
    expect(result).toMatchObject({ status: 'ok', record: GOOD, policy_domain: 'example.com' });
    expect(result.facts).toMatchObject({
      domain: 'example.com',
      organisational_domain: 'example.com',
      treewalk_organisational_domain: 'example.com',
      is_organisational_domain: true,
      is_public_suffix: false,
      inherited: false,
      applied_policy: 'reject',
      p: 'reject',
      sp: 'reject',
      np: 'reject',
      pct: 100,
      testing: false,
      rua: ['mailto:dmarc@example.com'],
      failed_queries: [],
    });
  });

  it('joins the character-strings of a TXT record before parsing', async () => {
    const result = await checkRecord(['v=DMARC1; p=reject; ', 'rua=mailto:dmarc@example.com']);
    expect(result.findings).toEqual([]);
    expect(result.record).toBe(GOOD);
  });

  it('normalises the domain: case, trailing dot, internationalised names', async () => {
    expect((await check({ '_dmarc.example.com': GOOD }, ' Example.COM. ')).domain).toBe('example.com');
    const idn = await check({ '_dmarc.xn--bcher-kva.example': 'v=DMARC1; p=reject; rua=mailto:d@xn--bcher-kva.example' }, 'bücher.example');
    expect(idn).toMatchObject({ domain: 'xn--bcher-kva.example', policy_domain: 'xn--bcher-kva.example' });
  });
});

describe('record presence', () => {
  it('dmarc.no-record: advises the exact record to publish', async () => {
    const result = await check({}, 'example.com');
    expect(ids(result)).toEqual(['dmarc.no-record']);
    expect(result).toMatchObject({ status: 'ok', record: null, parsed: null });
    expect(finding(result, 'dmarc.no-record').advice).toContain('_dmarc.example.com with the value "v=DMARC1; p=none; rua=mailto:dmarc-reports@example.com"');
  });

  it('dmarc.no-record for a subdomain advises the organisational domain', async () => {
    const result = await check({}, 'mail.example.co.uk');
    expect(ids(result)).toEqual(['dmarc.no-record']);
    expect(finding(result, 'dmarc.no-record').advice).toContain('_dmarc.example.co.uk');
    expect(finding(result, 'dmarc.no-record').detail).toContain('_dmarc.mail.example.co.uk: NXDOMAIN');
  });

  it('dmarc.no-record suggests the service mailbox when one is configured', async () => {
    const result = await check({}, 'example.com', { expectedRua: 'mailto:dmarc-rua@dmarc.service.gov.uk' });
    expect(finding(result, 'dmarc.no-record').advice).toContain('"v=DMARC1; p=none; rua=mailto:dmarc-rua@dmarc.service.gov.uk"');
  });

  it('dmarc.no-record is not raised for a public suffix', async () => {
    expect(ids(await check({}, 'co.uk'))).toEqual([]);
  });

  it('dmarc.no-record when only a public suffix operator publishes a policy, naming it', async () => {
    const result = await check({ '_dmarc.co.uk': 'v=DMARC1; p=reject; psd=y' }, 'example.co.uk');
    expect(ids(result)).toContain('dmarc.no-record');
    expect(ids(result)).toContain('dmarc.discovery-differs');
    expect(result.record).toBeNull();
    expect(finding(result, 'dmarc.no-record').detail).toContain('public suffix operator');
  });

  it('dmarc.multiple-records at the domain', async () => {
    const result = await check({ '_dmarc.example.com': ['v=DMARC1; p=none', 'v=DMARC1; p=reject'] });
    expect(ids(result)).toEqual(['dmarc.multiple-records']);
    expect(result.record).toBeNull();
  });

  it('dmarc.multiple-records counts a stray record whose version is not first, and checks the valid one', async () => {
    const result = await check({ '_dmarc.example.com': [GOOD, 'p=none; v=DMARC1'] });
    expect(ids(result)).toEqual(['dmarc.multiple-records']);
    expect(result.record).toBe(GOOD);
    expect(finding(result, 'dmarc.multiple-records').advice).toContain(`has 2 TXT records meant as DMARC records`);
    expect(finding(result, 'dmarc.multiple-records').advice).toContain(`"${GOOD}"`);
  });

  it('checks a lone record whose version is not first as the domain\'s record', async () => {
    const result = await check({ '_dmarc.example.com': 'p=reject; v=DMARC1; rua=mailto:dmarc@example.com' });
    expect(ids(result)).toEqual(['dmarc.version-not-first']);
    expect(result.policy_domain).toBe('example.com');
    // Receivers ignore it, so neither discovery method finds a policy.
    expect(result.discovery!.rfc7489.status).toBe('none');
  });

  it('dmarc.multiple-records at the organisational domain a subdomain would inherit from', async () => {
    const result = await check({ '_dmarc.example.com': ['v=DMARC1; p=none', 'v=DMARC1; p=reject'] }, 'mail.example.com');
    expect(ids(result)).toContain('dmarc.multiple-records');
    expect(finding(result, 'dmarc.multiple-records').advice).toContain('_dmarc.example.com has 2');
  });

  it('dmarc.tld-record: a public suffix with a record, advised to add psd=y', async () => {
    const result = await check({ '_dmarc.co.uk': 'v=DMARC1; p=reject; rua=mailto:d@nic.co.uk' }, 'co.uk');
    expect(ids(result)).toContain('dmarc.tld-record');
    expect(finding(result, 'dmarc.tld-record').advice).toContain('"v=DMARC1; p=reject; rua=mailto:d@nic.co.uk; psd=y"');
  });

  it('keeps only TXT records that are DMARC records', async () => {
    const result = await check({ '_dmarc.example.com': ['v=spf1 -all', GOOD, 'google-site-verification=x'] });
    expect(result.findings).toEqual([]);
  });
});

describe('inheritance', () => {
  it('dmarc.inherited: mail.example.co.uk takes the policy of example.co.uk (PSL)', async () => {
    const record = 'v=DMARC1; p=quarantine; sp=reject; rua=mailto:d@example.co.uk';
    const result = await check({ '_dmarc.example.co.uk': record }, 'mail.example.co.uk');
    expect(ids(result)).toEqual(['dmarc.inherited']);
    expect(result).toMatchObject({ policy_domain: 'example.co.uk', record });
    expect(result.facts).toMatchObject({ inherited: true, applied_policy: 'reject', p: 'quarantine', organisational_domain: 'example.co.uk' });
    expect(finding(result, 'dmarc.inherited').advice).toContain('sp=reject');
  });

  it('inherits the same way when the DNS answers NODATA for names that do not exist', async () => {
    const dns = zone({ '_dmarc.example.co.uk': 'v=DMARC1; p=reject; rua=mailto:d@example.co.uk' }, { blackLies: true });
    const result = await evaluateDmarc(dns, 'mail.example.co.uk');
    expect(ids(result)).toEqual(['dmarc.inherited']);
    expect(result.policy_domain).toBe('example.co.uk');
  });

  it('runs the record rules on the inherited record', async () => {
    const result = await check({ '_dmarc.example.com': 'v=DMARC1; p=none' }, 'www.example.com');
    expect(ids(result)).toEqual(expect.arrayContaining(['dmarc.inherited', 'dmarc.policy-none', 'dmarc.rua-missing', 'dmarc.subdomain-policy-none']));
  });

  it('takes a record only the tree walk finds (an intermediate name), and says the methods differ', async () => {
    const result = await check({ '_dmarc.b.example.com': 'v=DMARC1; p=reject; rua=mailto:d@example.com' }, 'a.b.example.com');
    expect(result.policy_domain).toBe('b.example.com');
    expect(ids(result)).toEqual(expect.arrayContaining(['dmarc.inherited', 'dmarc.discovery-differs']));
  });
});

describe('dmarc.discovery-differs', () => {
  it('when RFC 7489 stops at several records and the tree walk goes on', async () => {
    const result = await check(
      { '_dmarc.mail.example.com': ['v=DMARC1; p=none', 'v=DMARC1; p=reject'], '_dmarc.example.com': GOOD },
      'mail.example.com',
    );
    expect(ids(result)).toEqual(expect.arrayContaining(['dmarc.multiple-records', 'dmarc.discovery-differs']));
    expect(finding(result, 'dmarc.discovery-differs').advice).toContain('Keep a single DMARC record at _dmarc.mail.example.com');
  });

  it('when the organisational domains differ (own record, none at the PSL organisational domain)', async () => {
    const result = await check({ '_dmarc.mail.example.com': GOOD }, 'mail.example.com');
    expect(ids(result)).toContain('dmarc.discovery-differs');
    expect(finding(result, 'dmarc.discovery-differs').advice).toContain('publish a DMARC record at _dmarc.example.com');
    expect(result.facts).toMatchObject({ organisational_domain: 'example.com', treewalk_organisational_domain: 'mail.example.com' });
  });

  it('not when both agree', async () => {
    const result = await check({ '_dmarc.mail.example.com': GOOD, '_dmarc.example.com': GOOD }, 'mail.example.com');
    expect(ids(result)).not.toContain('dmarc.discovery-differs');
  });
});

describe('syntax findings', () => {
  it('dmarc.version-not-first, with the record rewritten', async () => {
    const result = await checkRecord('p=reject; v=DMARC1; rua=mailto:dmarc@example.com');
    expect(ids(result)).toContain('dmarc.version-not-first');
    expect(finding(result, 'dmarc.version-not-first').advice).toContain(`"${GOOD}"`);
  });

  it('dmarc.malformed-tag', async () => {
    expect(ids(await checkRecord(`${GOOD}; quarantine`))).toEqual(['dmarc.malformed-tag']);
  });

  it('dmarc.unknown-tag', async () => {
    const result = await checkRecord(`${GOOD}; rfu=mailto:x@example.com`);
    expect(ids(result)).toEqual(['dmarc.unknown-tag']);
    expect(finding(result, 'dmarc.unknown-tag').advice).toContain('"rfu"');
    expect(finding(result, 'dmarc.unknown-tag').advice).toContain(`"${GOOD}"`);
  });

  it('dmarc.invalid-value, guessing a mistyped p', async () => {
    const result = await checkRecord('v=DMARC1; p=rejct; rua=mailto:dmarc@example.com');
    expect(ids(result)).toEqual(['dmarc.invalid-value']);
    expect(finding(result, 'dmarc.invalid-value').advice).toContain(`"${GOOD}"`);
  });

  it('dmarc.duplicate-tag', async () => {
    expect(ids(await checkRecord(`${GOOD}; p=none`))).toEqual(['dmarc.duplicate-tag']);
  });

  it('dmarc.record-too-long over 450 characters, suggesting dropping defaults', async () => {
    const long = `v=DMARC1; p=reject; adkim=r; aspf=r; rua=mailto:dmarc@example.com; ruf=mailto:${'x'.repeat(400)}@example.com`;
    const result = await checkRecord(long);
    expect(ids(result)).toContain('dmarc.record-too-long');
    expect(finding(result, 'dmarc.record-too-long').advice).not.toContain('adkim=r');
    expect(ids(await checkRecord(`${GOOD}; ruf=mailto:${'x'.repeat(370)}@example.com`))).not.toContain('dmarc.record-too-long');
  });
});

describe('policy findings', () => {
  it('dmarc.policy-missing', async () => {
    const result = await checkRecord('v=DMARC1; rua=mailto:dmarc@example.com');
    expect(ids(result)).toEqual(['dmarc.policy-missing']);
    expect(finding(result, 'dmarc.policy-missing').advice).toContain('"v=DMARC1; p=none; rua=mailto:dmarc@example.com"');
  });

  it('dmarc.policy-none (warning) with the next step spelled out', async () => {
    const result = await checkRecord('v=DMARC1; p=none; sp=reject; rua=mailto:dmarc@example.com');
    expect(ids(result)).toEqual(['dmarc.policy-none']);
    expect(finding(result, 'dmarc.policy-none')).toMatchObject({ severity: 'warning' });
    expect(finding(result, 'dmarc.policy-none').advice).toContain('"v=DMARC1; p=quarantine; sp=reject; rua=mailto:dmarc@example.com" at _dmarc.example.com');
  });

  it('dmarc.pct-not-100', async () => {
    const result = await checkRecord(`${GOOD}; pct=25`);
    expect(ids(result)).toEqual(['dmarc.pct-not-100']);
    expect(result.facts.pct).toBe(25);
  });

  it('dmarc.obsolete-tag for pct=100, rf and ri', async () => {
    const result = await checkRecord(`${GOOD}; pct=100; rf=afrf; ri=86400`);
    expect(ids(result)).toEqual(['dmarc.obsolete-tag', 'dmarc.obsolete-tag', 'dmarc.obsolete-tag']);
    expect(result.findings.every((f) => f.severity === 'info')).toBe(true);
  });

  it('dmarc.test-mode', async () => {
    const result = await checkRecord(`${GOOD}; t=y`);
    expect(ids(result)).toEqual(['dmarc.test-mode']);
    expect(result.facts.testing).toBe(true);
    expect(ids(await checkRecord('v=DMARC1; p=none; t=y; rua=mailto:dmarc@example.com'))).not.toContain('dmarc.test-mode');
  });

  it('dmarc.subdomain-policy-none: explicit sp=none on an organisational domain', async () => {
    const result = await checkRecord(`${GOOD}; sp=none`);
    expect(ids(result)).toEqual(['dmarc.subdomain-policy-none']);
    expect(finding(result, 'dmarc.subdomain-policy-none').advice).toContain(`"${GOOD}"`);
  });

  it('dmarc.subdomain-policy-none: implicit sp from p=none, as the original MailCheck did', async () => {
    const result = await checkRecord('v=DMARC1; p=none; rua=mailto:dmarc@example.com');
    expect(ids(result)).toEqual(['dmarc.policy-none', 'dmarc.subdomain-policy-none']);
    expect(finding(result, 'dmarc.subdomain-policy-none').advice).toContain('"v=DMARC1; p=none; rua=mailto:dmarc@example.com; sp=quarantine"');
  });

  it('dmarc.subdomain-policy-none: np=none', async () => {
    expect(ids(await checkRecord(`${GOOD}; np=none`))).toEqual(['dmarc.subdomain-policy-none']);
  });

  it('dmarc.subdomain-policy-weaker-than-parent: sp or np below p', async () => {
    const result = await checkRecord(`${GOOD}; sp=quarantine; np=quarantine`);
    expect(ids(result)).toEqual(['dmarc.subdomain-policy-weaker-than-parent']);
    expect(finding(result, 'dmarc.subdomain-policy-weaker-than-parent').detail).toBe('sp=quarantine is weaker than p=reject; np=quarantine is weaker than p=reject.');
    expect(finding(result, 'dmarc.subdomain-policy-weaker-than-parent').advice).toContain(`"${GOOD}"`);
    expect(ids(await checkRecord('v=DMARC1; p=quarantine; sp=reject; rua=mailto:dmarc@example.com'))).toEqual([]);
  });

  it('dmarc.policy-weaker-than-parent: a subdomain\'s own p below what its parent asks of subdomains', async () => {
    const result = await check({ '_dmarc.mail.example.com': 'v=DMARC1; p=none; rua=mailto:d@example.com', '_dmarc.example.com': 'v=DMARC1; p=reject; rua=mailto:d@example.com' }, 'mail.example.com');
    expect(ids(result)).toContain('dmarc.policy-weaker-than-parent');
    expect(finding(result, 'dmarc.policy-weaker-than-parent').detail).toBe('p=none at _dmarc.mail.example.com; p=reject at _dmarc.example.com');
    // sp governs what the parent asks of subdomains.
    const relaxed = await check({ '_dmarc.mail.example.com': 'v=DMARC1; p=quarantine; rua=mailto:d@example.com', '_dmarc.example.com': 'v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@example.com' }, 'mail.example.com');
    expect(ids(relaxed)).not.toContain('dmarc.policy-weaker-than-parent');
  });

  it('dmarc.sp-on-non-organisational-domain', async () => {
    const result = await check(
      { '_dmarc.mail.example.com': 'v=DMARC1; p=reject; sp=reject; rua=mailto:d@example.com', '_dmarc.example.com': GOOD },
      'mail.example.com',
    );
    expect(ids(result)).toEqual(['dmarc.sp-on-non-organisational-domain']);
    expect(finding(result, 'dmarc.sp-on-non-organisational-domain').advice).toContain('_dmarc.example.com');
  });

  it('dmarc.sp-on-non-organisational-domain is not raised for an inherited record', async () => {
    const result = await check({ '_dmarc.example.com': `${GOOD}; sp=reject` }, 'mail.example.com');
    expect(ids(result)).toEqual(['dmarc.inherited']);
  });

  it('dmarc.psd-on-registrable-domain', async () => {
    expect(ids(await checkRecord(`${GOOD}; psd=y`))).toEqual(['dmarc.psd-on-registrable-domain']);
    expect(ids(await checkRecord(`${GOOD}; psd=n`))).toEqual([]);
  });
});

describe('report address findings', () => {
  it('dmarc.rua-missing', async () => {
    const result = await checkRecord('v=DMARC1; p=reject');
    expect(ids(result)).toEqual(['dmarc.rua-missing']);
    expect(finding(result, 'dmarc.rua-missing').advice).toContain('"v=DMARC1; p=reject; rua=mailto:dmarc-reports@example.com"');
  });

  it('dmarc.rua-empty', async () => {
    expect(ids(await checkRecord('v=DMARC1; p=reject; rua='))).toEqual(['dmarc.rua-empty']);
  });

  it('dmarc.rua-not-mailto', async () => {
    const result = await checkRecord(`${GOOD},https://reports.example.com/dmarc`);
    expect(ids(result)).toEqual(['dmarc.rua-not-mailto']);
    expect(finding(result, 'dmarc.rua-not-mailto').advice).toContain(`"${GOOD}"`);
  });

  it('dmarc.rua-too-many (three or more)', async () => {
    const result = await checkRecord(`${GOOD},mailto:b@example.com,mailto:c@example.com`);
    expect(ids(result)).toEqual(['dmarc.rua-too-many']);
    expect(ids(await checkRecord(`${GOOD},mailto:b@example.com`))).toEqual([]);
  });

  it('dmarc.rua-duplicate-uri, ignoring case and size limits', async () => {
    const result = await checkRecord(`${GOOD},mailto:DMARC@Example.com!10m`);
    expect(ids(result)).toEqual(['dmarc.rua-duplicate-uri']);
    expect(finding(result, 'dmarc.rua-duplicate-uri').advice).toContain(`"${GOOD}"`);
  });

  it('dmarc.ruf-not-mailto and dmarc.ruf-too-many', async () => {
    expect(ids(await checkRecord(`${GOOD}; ruf=https://example.com/f`))).toEqual(['dmarc.ruf-not-mailto']);
    expect(ids(await checkRecord(`${GOOD}; ruf=mailto:a@example.com,mailto:b@example.com,mailto:c@example.com`))).toEqual(['dmarc.ruf-too-many']);
  });

  it('dmarc.fo-without-ruf', async () => {
    expect(ids(await checkRecord(`${GOOD}; fo=1`))).toEqual(['dmarc.fo-without-ruf']);
    expect(ids(await checkRecord(`${GOOD}; fo=1; ruf=mailto:f@example.com`))).toEqual([]);
  });
});

describe('the service mailbox (original rule RuaTagsShouldContainDmarcServiceMailBox)', () => {
  const options = { expectedRua: 'mailto:dmarc-rua@dmarc.service.gov.uk' };
  const authorised = { 'example.com._report._dmarc.dmarc.service.gov.uk': 'v=DMARC1' };

  it('passes when rua holds the mailbox', async () => {
    const result = await check({ '_dmarc.example.com': `${GOOD},mailto:dmarc-rua@dmarc.service.gov.uk`, ...authorised }, 'example.com', options);
    expect(result.findings).toEqual([]);
  });

  it('dmarc.rua-missing-service-mailbox (warning)', async () => {
    const result = await checkRecord(GOOD, options);
    expect(ids(result)).toEqual(['dmarc.rua-missing-service-mailbox']);
    expect(finding(result, 'dmarc.rua-missing-service-mailbox').advice).toContain(
      '"v=DMARC1; p=reject; rua=mailto:dmarc@example.com,mailto:dmarc-rua@dmarc.service.gov.uk"',
    );
  });

  it('dmarc.rua-wrong-service-mailbox (error) for another mailbox at the service', async () => {
    const result = await check({ '_dmarc.example.com': `${GOOD},mailto:dmarc@dmarc.service.gov.uk`, ...authorised }, 'example.com', options);
    expect(ids(result)).toEqual(['dmarc.rua-wrong-service-mailbox']);
    expect(finding(result, 'dmarc.rua-wrong-service-mailbox').severity).toBe('error');
  });

  it('is skipped when rua is repeated', async () => {
    const result = await checkRecord(`${GOOD}; rua=mailto:other@example.com`, options);
    expect(ids(result)).toEqual(['dmarc.duplicate-tag']);
  });
});

describe('external report destinations (RFC 7489 §7.1)', () => {
  const record = 'v=DMARC1; p=reject; rua=mailto:agg@reports.vendor.example; ruf=mailto:fail@reports.vendor.example';

  it('dmarc.external-report-destination-unauthorised when the authorisation record is missing', async () => {
    const result = await checkRecord(record);
    expect(ids(result)).toEqual(['dmarc.external-report-destination-unauthorised', 'dmarc.external-report-destination-unauthorised']);
    expect(finding(result, 'dmarc.external-report-destination-unauthorised').advice).toContain(
      'publish TXT "v=DMARC1" at example.com._report._dmarc.reports.vendor.example',
    );
    expect(result.facts.report_destinations.map((d) => d.status)).toEqual(['unauthorised', 'unauthorised']);
  });

  it('accepts a destination that publishes the authorisation, asking once per host', async () => {
    const dns = zone({ '_dmarc.example.com': record, 'example.com._report._dmarc.reports.vendor.example': 'v=DMARC1;' });
    const result = await evaluateDmarc(dns, 'example.com');
    expect(result.findings).toEqual([]);
    expect(result.facts.report_destinations.map((d) => d.status)).toEqual(['authorised', 'authorised']);
    expect(dns.txtNames().filter((n) => n.includes('_report'))).toHaveLength(1);
  });

  it('does not count a TXT record that is not v=DMARC1 as authorisation', async () => {
    const result = await check({ '_dmarc.example.com': record, 'example.com._report._dmarc.reports.vendor.example': 'hello' });
    expect(ids(result)).toContain('dmarc.external-report-destination-unauthorised');
  });

  it('needs no authorisation within the organisational domain', async () => {
    const dns = zone({ '_dmarc.mail.example.com': 'v=DMARC1; p=reject; rua=mailto:d@reports.example.com', '_dmarc.example.com': GOOD });
    const result = await evaluateDmarc(dns, 'mail.example.com');
    expect(result.facts.report_destinations).toMatchObject([{ status: 'internal', external: false, query: null }]);
    expect(dns.txtNames().some((n) => n.includes('_report'))).toBe(false);
  });

  it('asks with the domain the policy was found at', async () => {
    const dns = zone({ '_dmarc.example.com': 'v=DMARC1; p=reject; rua=mailto:agg@vendor.example' });
    await evaluateDmarc(dns, 'mail.example.com');
    expect(dns.txtNames()).toContain('example.com._report._dmarc.vendor.example');
  });

  it('can be turned off', async () => {
    const result = await checkRecord(record, { checkReportDestinations: false });
    expect(result.findings).toEqual([]);
    expect(result.facts.report_destinations).toEqual([]);
  });

  it('reports a failed authorisation query as a DNS failure, not as unauthorised', async () => {
    const result = await check({ '_dmarc.example.com': record, 'example.com._report._dmarc.reports.vendor.example': { status: 'SERVFAIL' } });
    expect(ids(result)).toEqual(['dmarc.dns-failure']);
    expect(result.status).toBe('temperror');
  });
});

describe('DNS failures (temperror, never "no record")', () => {
  it.each(['SERVFAIL', 'TIMEOUT', 'ERROR', 'REFUSED'] as const)('%s at the domain', async (status) => {
    const result = await check({ '_dmarc.example.com': { status, error: 'upstream trouble' } });
    expect(result.status).toBe('temperror');
    expect(ids(result)).toEqual(['dmarc.dns-failure']);
    expect(ids(result)).not.toContain('dmarc.no-record');
    expect(result.record).toBeNull();
    expect(finding(result, 'dmarc.dns-failure').detail).toContain(status);
  });

  it('at the organisational domain while looking for an inherited policy', async () => {
    const result = await check({ '_dmarc.example.co.uk': { status: 'SERVFAIL' } }, 'mail.example.co.uk');
    expect(result.status).toBe('temperror');
    expect(ids(result)).toEqual(['dmarc.dns-failure']);
    expect(result.facts.failed_queries).toEqual(['_dmarc.example.co.uk']);
  });

  it('high in the tree walk: the own record is still checked, the result is incomplete', async () => {
    const result = await check({ '_dmarc.example.com': 'v=DMARC1; p=none; rua=mailto:dmarc@example.com', '_dmarc.com': { status: 'TIMEOUT' } });
    expect(result.status).toBe('temperror');
    expect(result.record).not.toBeNull();
    expect(ids(result)).toEqual(['dmarc.dns-failure', 'dmarc.policy-none', 'dmarc.subdomain-policy-none']);
    expect(result.discovery!.treewalk.organisational_domain).toBeNull();
  });

  it('only the tree walk fails while no record exists: no "no record" claim', async () => {
    const result = await check({ '_dmarc.com': { status: 'SERVFAIL' } }, 'example.com');
    expect(ids(result)).toEqual(['dmarc.dns-failure']);
  });
});

describe('invalid input', () => {
  it.each(['', 'exa mple.com', '-bad.example.com', `${'a'.repeat(64)}.com`, '192.0.2.1', 'a..b.com'])('dmarc.invalid-domain for %j', async (input) => {
    const dns = zone({});
    const result = await evaluateDmarc(dns, input);
    expect(result.status).toBe('invalid-domain');
    expect(ids(result)).toEqual(['dmarc.invalid-domain']);
    expect(dns.asked).toEqual([]);
  });
});

describe('the rule list', () => {
  it('has a unique id, a title, advice and a reference for every rule', () => {
    const seen = new Set(DMARC_RULES.map((r) => r.id));
    expect(seen.size).toBe(DMARC_RULES.length);
    for (const rule of DMARC_RULES) {
      expect(rule.id).toMatch(/^dmarc\.[a-z0-9-]+$/);
      expect(['error', 'warning', 'info']).toContain(rule.severity);
      expect(rule.title.length).toBeGreaterThan(5);
      expect(rule.reference).toMatch(/^https:\/\//);
    }
  });

  it('carries every rule of the original MailCheck evaluator', () => {
    const originals = new Set(DMARC_RULES.flatMap((r) => (r.original ? [r.original] : [])));
    expect([...originals].sort()).toEqual(
      [
        'OnlyOneDmarcRecord',
        'TldDmarcRecordBehaviourIsWeaklyDefined',
        'VersionMustBeFirstTag',
        'MaxLengthOf450Characters',
        'PctValueShouldBe100',
        'PolicyShouldBeQuarantineOrReject',
        'PolicyTagMustExist',
        'RuaTagShouldHaveUris',
        'RuaTagShouldNotHaveMoreThanTwoUris',
        'RuaTagsShouldBeMailTo',
        'RuaTagsShouldContainDmarcServiceMailBox',
        'RufTagShouldBeMailTo',
        'RufTagShouldNotHaveMoreThanTwoUris',
        'SubDomainPolicyShouldBeQuarantineOrReject',
        'SubDomainPolicyShouldNotBeOnNonOrganisationalDomain',
      ].sort(),
    );
  });

  it('is exercised: every rule id is raised by some test above', () => {
    // Kept in step by hand: a new rule needs a test in this file.
    const tested = [
      'dmarc.invalid-domain', 'dmarc.dns-failure', 'dmarc.no-record', 'dmarc.multiple-records', 'dmarc.tld-record',
      'dmarc.inherited', 'dmarc.discovery-differs', 'dmarc.version-not-first', 'dmarc.malformed-tag', 'dmarc.unknown-tag',
      'dmarc.invalid-value', 'dmarc.duplicate-tag', 'dmarc.record-too-long', 'dmarc.policy-missing', 'dmarc.policy-none',
      'dmarc.pct-not-100', 'dmarc.test-mode', 'dmarc.obsolete-tag', 'dmarc.subdomain-policy-none',
      'dmarc.sp-on-non-organisational-domain', 'dmarc.subdomain-policy-weaker-than-parent', 'dmarc.policy-weaker-than-parent', 'dmarc.psd-on-registrable-domain',
      'dmarc.rua-missing', 'dmarc.rua-empty', 'dmarc.rua-not-mailto', 'dmarc.rua-too-many', 'dmarc.rua-duplicate-uri',
      'dmarc.rua-missing-service-mailbox', 'dmarc.rua-wrong-service-mailbox', 'dmarc.ruf-not-mailto', 'dmarc.ruf-too-many',
      'dmarc.fo-without-ruf', 'dmarc.external-report-destination-unauthorised',
    ];
    expect(DMARC_RULES.map((r) => r.id).sort()).toEqual(tested.sort());
  });
});
