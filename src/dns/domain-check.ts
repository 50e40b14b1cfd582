/**
 * The shape of one domain's check, all areas together: what `mailcheck-edge check --format json`
 * prints, what GET /api/domainstatus/:domain returns and what D1 keeps. The JSON names are a public
 * interface.
 */
import type { Finding, Severity } from './checks/finding';

export type { Finding, Severity };

export const AREAS = ['dmarc', 'spf', 'mx', 'mta_sts', 'tls_rpt', 'bimi', 'dkim', 'dnssec'] as const;
export type Area = (typeof AREAS)[number];

/** How each area is named to people (reports, docs). */
export const AREA_TITLES: Record<Area, string> = {
  dmarc: 'DMARC',
  spf: 'SPF',
  mx: 'MX',
  mta_sts: 'MTA-STS',
  tls_rpt: 'TLS-RPT',
  bimi: 'BIMI',
  dkim: 'DKIM',
  dnssec: 'DNSSEC',
};

export interface AreaFinding extends Finding {
  area: Area;
}

export interface AreaResult {
  /** The record the area is about, where there is one (e.g. the DMARC TXT); null when missing. */
  record?: string | null;
  findings: Finding[];
  [fact: string]: unknown;
}

export interface DomainCheck {
  domain: string;
  checked_at: string;
  /** False when a DNS failure left some area unchecked: such a result never replaces a complete one. */
  complete: boolean;
  dmarc: AreaResult;
  spf: AreaResult & { dns_lookups: number; void_lookups: number };
  mx: AreaResult;
  mta_sts: AreaResult;
  tls_rpt: AreaResult;
  bimi: AreaResult;
  dkim: AreaResult;
  dnssec: AreaResult;
  /** Every finding of every area, worst first. */
  findings: AreaFinding[];
}

const RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export function bySeverity<T extends Finding>(a: T, b: T): number {
  return RANK[a.severity] - RANK[b.severity] || a.id.localeCompare(b.id);
}

export function maxSeverity(findings: readonly Finding[]): Severity | 'none' {
  return findings.reduce<Severity | 'none'>((worst, f) => (worst === 'none' || RANK[f.severity] < RANK[worst] ? f.severity : worst), 'none');
}

/**
 * A finding id ending in `dns-failure` (`spf.dns-failure`, `mx.host-dns-failure`, ...) means something
 * could not be checked because DNS failed, not that it is wrong.
 */
export function isDnsFailure(finding: Finding): boolean {
  return finding.id.endsWith('dns-failure');
}
