import { describe, expect, it } from 'vitest';
import { CHECK_RULES, checkBimi, checkDkim, checkDnssec, checkMx, checkTlsRpt, type Finding } from '../../../src/dns/checks/index.ts';
import { labResolver, ZONE } from './lab.ts';

describe('the rules lists', () => {
  const all = Object.entries(CHECK_RULES).flatMap(([area, rules]) => rules.map((rule) => ({ area, ...rule })));

  it('have unique ids, each prefixed with its area, with a title, advice and a reference', () => {
    expect(new Set(all.map((r) => r.id)).size).toBe(all.length);
    for (const rule of all) {
      expect(rule.id.startsWith(`${rule.area}.`), rule.id).toBe(true);
      expect(rule.title.length, rule.id).toBeGreaterThan(0);
      expect(rule.advice.length, rule.id).toBeGreaterThan(40);
      expect(rule.reference, rule.id).toMatch(/^https:\/\//);
    }
  });

  it('hold every id the issue and the brief name', () => {
    const expected = [
      'mx.none', 'mx.null-mx', 'mx.cname', 'mx.ip-literal', 'mx.host-unresolvable', 'mx.dns-failure',
      'mta_sts.no-record', 'mta_sts.policy-unreachable', 'mta_sts.mode-testing', 'mta_sts.mode-none', 'mta_sts.mx-not-covered',
      'mta_sts.max-age-short', 'mta_sts.invalid-policy', 'mta_sts.dns-failure',
      'tls_rpt.no-record', 'tls_rpt.invalid', 'tls_rpt.rua-not-mailto-or-https', 'tls_rpt.dns-failure',
      'bimi.no-record', 'bimi.invalid', 'bimi.logo-not-https', 'bimi.no-authority', 'bimi.dns-failure',
      'dkim.key-missing', 'dkim.rsa-too-short', 'dkim.rsa-1024', 'dkim.revoked', 'dkim.testing', 'dkim.invalid', 'dkim.dns-failure',
      'dnssec.unsigned', 'dnssec.bogus', 'dnssec.dns-failure',
    ];
    expect(all.map((r) => r.id)).toEqual(expect.arrayContaining(expected));
    expect(all.find((r) => r.id === 'bimi.no-authority')?.severity).toBe('info');
    expect(all.find((r) => r.id === 'dnssec.bogus')?.severity).toBe('error');
  });

  it('leave no placeholder unfilled in the advice of real findings', async () => {
    const resolver = labResolver();
    const findings: Finding[] = [];
    for (const name of ['mx-none', 'mx-cname', 'mx-ip', 'mx-unresolvable', 'mx-null', 'mx-null-mixed', 'mx-host-bogus', 'bogus', 'does-not-exist']) {
      findings.push(...(await checkMx(resolver, `${name}.${ZONE}`)).findings);
    }
    for (const name of ['tlsrpt-http', 'tlsrpt-no-rua', 'tlsrpt-two', 'mx-good', 'bogus']) findings.push(...(await checkTlsRpt(resolver, `${name}.${ZONE}`)).findings);
    for (const name of ['bimi-no-a', 'bimi-http', 'bimi-invalid', 'bimi-declined', 'bimi-two', 'mx-good', 'bogus']) {
      findings.push(...(await checkBimi(resolver, `${name}.${ZONE}`)).findings);
    }
    const selectors = ['rsa1024', 'rsa512', 'revoked', 'testing', 'sha1', 'garbage', 'missing'];
    findings.push(...(await checkDkim(resolver, `dkim.${ZONE}`, { selectors })).findings, ...(await checkDkim(resolver, ZONE)).findings);
    for (const name of [`unsigned.${ZONE}`, `bogus.${ZONE}`]) findings.push(...(await checkDnssec(resolver, name)).findings);
    expect(findings.length).toBeGreaterThan(25);
    for (const f of findings) expect(f.advice, f.id).not.toMatch(/\{\w+\}/);
  });
});
