import { checkBimi } from './checks/bimi';
import { checkDkim } from './checks/dkim';
import { checkDnssec } from './checks/dnssec';
import { checkMtaSts } from './checks/mta-sts';
import { checkMx } from './checks/mx';
import { checkTlsRpt } from './checks/tls-rpt';
import { evaluateDmarc } from './dmarc/index';
import { bySeverity, isDnsFailure, type AreaFinding, type DomainCheck, type Finding } from './domain-check';
import { normaliseDomain } from '../lib/domain-name';
import type { Resolver } from './resolver';
import { evaluateSpf } from './spf/index';

function dkimRecords(selectors: { selector: string; record: string | null }[]): string | null {
  return selectors.length ? selectors.map((s) => `${s.selector}: ${s.record ?? '(none)'}`).join('\n') : null;
}

export interface CheckDomainOptions {
  /** DKIM selectors to check: those seen in the domain's aggregate reports (never guessed). */
  selectors?: string[];
  /** For the MTA-STS policy fetch (tests pass one that trusts the lab CA). */
  fetch?: typeof fetch;
  now?: () => Date;
}

/**
 * Every check of one domain, together: the one function the CLI, the DomainMonitor and the API
 * share. Areas run concurrently except MTA-STS, which needs the MX hosts. A DNS failure in any area
 * marks the whole result incomplete rather than reporting records as missing.
 */
export async function checkDomain(resolver: Resolver, domain: string, options: CheckDomainOptions = {}): Promise<DomainCheck> {
  const normal = normaliseDomain(domain);
  // Names reach DNS queries and the MTA-STS URL: only a real host name goes further.
  if ('error' in normal) throw new RangeError(`"${domain}" is not a domain name: it ${normal.error}`);
  const name = normal.name;
  const [dmarc, spf, mx, tlsRpt, bimi, dkim, dnssec] = await Promise.all([
    evaluateDmarc(resolver, name),
    evaluateSpf(resolver, name),
    checkMx(resolver, name),
    checkTlsRpt(resolver, name),
    checkBimi(resolver, name),
    checkDkim(resolver, name, { selectors: options.selectors ?? [] }),
    checkDnssec(resolver, name),
  ]);
  const mtaSts = await checkMtaSts(resolver, name, {
    mxHosts: mx.facts.hosts.map((h) => h.host),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });

  const areas = {
    dmarc: { record: dmarc.record, policy_domain: dmarc.policy_domain, discovery: dmarc.discovery, facts: dmarc.facts, findings: dmarc.findings as Finding[] },
    spf: {
      record: spf.record,
      dns_lookups: spf.facts.dns_lookups,
      void_lookups: spf.facts.void_lookups,
      facts: spf.facts,
      findings: spf.findings as Finding[],
    },
    mx: { record: mx.record, facts: mx.facts, findings: mx.findings },
    mta_sts: { record: mtaSts.record, facts: mtaSts.facts, findings: mtaSts.findings },
    tls_rpt: { record: tlsRpt.record, facts: tlsRpt.facts, findings: tlsRpt.findings },
    bimi: { record: bimi.record, facts: bimi.facts, findings: bimi.findings },
    // One line per selector, so a changed or removed key shows up as a record change.
    dkim: { record: dkimRecords(dkim.facts.selectors), facts: dkim.facts, findings: dkim.findings },
    dnssec: { record: null, facts: dnssec.facts, findings: dnssec.findings },
  };
  const findings: AreaFinding[] = Object.entries(areas)
    .flatMap(([area, result]) => result.findings.map((f) => ({ ...f, area: area as AreaFinding['area'] })))
    .sort(bySeverity);
  return {
    domain: name,
    checked_at: (options.now?.() ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    complete: !findings.some(isDnsFailure),
    ...areas,
    findings,
  };
}
