import { getDomain, getPublicSuffix } from 'tldts';
import { normaliseDomainName } from '../../lib/domain-name';

/**
 * Domain names and the Public Suffix List (RFC 7489 §3.2). The list itself comes from `tldts`, which
 * ships it and is kept current by its maintainers: no suffix logic lives here.
 *
 * `all` uses the ICANN and the private sections (what most DMARC receivers load); `icann` only the first.
 */
export type SuffixList = 'all' | 'icann';

export type NormalisedDomain = { ok: true; domain: string } | { ok: false; reason: string };

/**
 * A name a check may look up, in the one normal form (src/lib/domain-name.ts, `dns` rules: underscore
 * labels and TLDs allowed); RFC 9989 extracts A-labels, which that form has.
 */
export function normaliseDomain(input: string): NormalisedDomain {
  const result = normaliseDomainName(input, 'dns');
  if ('name' in result) return { ok: true, domain: result.name };
  return { ok: false, reason: `${input.trim() ? `"${input.trim()}"` : 'the domain name'} ${result.error}` };
}

function pslOptions(list: SuffixList) {
  return { allowPrivateDomains: list === 'all', extractHostname: false, validateHostname: false } as const;
}

/** The RFC 7489 Organisational Domain: the registrable domain per the PSL; null for a public suffix itself. */
export function organisationalDomainOf(domain: string, list: SuffixList = 'all'): string | null {
  return getDomain(domain, pslOptions(list));
}

export function publicSuffixOf(domain: string, list: SuffixList = 'all'): string | null {
  return getPublicSuffix(domain, pslOptions(list));
}

/** True for names the PSL lists as suffixes (`uk`, `co.uk`, `github.io` with the private section). */
export function isPublicSuffix(domain: string, list: SuffixList = 'all'): boolean {
  return publicSuffixOf(domain, list) === domain;
}

export function labelCount(domain: string): number {
  return domain.split('.').length;
}

/** The ancestor of `domain` (or `domain` itself) that has `labels` labels. */
export function ancestorWithLabels(domain: string, labels: number): string {
  const parts = domain.split('.');
  return parts.slice(Math.max(0, parts.length - labels)).join('.');
}

/** `a.example.com` is within `example.com` and within itself. */
export function isWithin(domain: string, parent: string): boolean {
  return domain === parent || domain.endsWith(`.${parent}`);
}
