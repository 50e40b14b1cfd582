import { describe, expect, it } from 'vitest';
import { checkTlsRpt, isTlsRptRecord, parseTlsRptRecord } from '../../../src/dns/checks/tls-rpt.ts';
import { failingResolver, ids, labResolver, ZONE } from './lab.ts';

describe('checkTlsRpt against the DNS lab', () => {
  it('reads a good record and its report addresses', async () => {
    const result = await checkTlsRpt(labResolver(), `tlsrpt-good.${ZONE}`);
    expect(result.findings).toEqual([]);
    expect(result.record).toBe('v=TLSRPTv1; rua=mailto:tlsrpt@example.org,https://reports.example.org/tlsrpt');
    expect(result.facts.rua).toEqual(['mailto:tlsrpt@example.org', 'https://reports.example.org/tlsrpt']);
  });

  it.each([
    ['tlsrpt-http', ['tls_rpt.rua-not-mailto-or-https']],
    ['tlsrpt-no-rua', ['tls_rpt.invalid']],
    ['tlsrpt-bad-mailto', ['tls_rpt.invalid']],
    ['tlsrpt-two', ['tls_rpt.multiple-records']],
    ['tlsrpt-other', ['tls_rpt.no-record']],
    ['mx-good', ['tls_rpt.no-record']],
    ['does-not-exist', ['tls_rpt.no-record']],
    ['bogus', ['tls_rpt.dns-failure']],
  ])('%s → %j', async (name, expected) => {
    expect(ids((await checkTlsRpt(labResolver(), `${name}.${ZONE}`)).findings)).toEqual(expected);
  });

  it('reports resolver trouble as a DNS failure', async () => {
    expect(ids((await checkTlsRpt(failingResolver('TIMEOUT'), `tlsrpt-good.${ZONE}`)).findings)).toEqual(['tls_rpt.dns-failure']);
  });
});

describe('parseTlsRptRecord', () => {
  it('accepts spaces, a trailing semicolon and extension fields', () => {
    expect(parseTlsRptRecord('v=TLSRPTv1 ; rua = mailto:a@example.org , https://r.example.org/x ; ext=1;')).toEqual({
      rua: ['mailto:a@example.org', 'https://r.example.org/x'],
      errors: [],
      badSchemes: [],
    });
  });

  it('rejects other schemes, empty addresses and a missing rua', () => {
    expect(parseTlsRptRecord('v=TLSRPTv1; rua=ftp://x.example.org').badSchemes).toEqual(['ftp://x.example.org']);
    expect(parseTlsRptRecord('v=TLSRPTv1; rua=mailto:a@example.org,').errors).toHaveLength(1);
    expect(parseTlsRptRecord('v=TLSRPTv1').errors).toEqual(['the rua tag (where reports go) is missing']);
  });

  it('recognises records only by a leading v=TLSRPTv1', () => {
    expect(isTlsRptRecord('v=TLSRPTv1; rua=mailto:a@example.org')).toBe(true);
    expect(isTlsRptRecord('v=TLSRPTv10; rua=mailto:a@example.org')).toBe(false);
    expect(isTlsRptRecord(' rua=mailto:a@example.org; v=TLSRPTv1')).toBe(false);
  });
});
