import { getDomain, getPublicSuffix } from 'tldts';

/**
 * Domain names and the Public Suffix List (RFC 7489 §3.2). The list itself comes from `tldts`, which
 * ships it and is kept current by its maintainers: no suffix logic lives here.
 *
 * `all` uses the ICANN and the private sections (what most DMARC receivers load); `icann` only the first.
 */
export type SuffixList = 'all' | 'icann';

const MAX_NAME_LENGTH = 253;
const MAX_LABEL_LENGTH = 63;
const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

export type NormalisedDomain = { ok: true; domain: string } | { ok: false; reason: string };

/** Lower-cases, drops one trailing dot and turns U-labels into A-labels (RFC 9989 extracts A-labels). */
export function normaliseDomain(input: string): NormalisedDomain {
  let name = input.trim().toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name === '') return { ok: false, reason: 'the domain name is empty' };
  if (/[^\x21-\x7e]/.test(name)) {
    try {
      // The WHATWG URL parser applies UTS #46 and Punycode, so IDNs work without another package.
      name = new URL(`http://${name}/`).hostname;
    } catch {
      return { ok: false, reason: `"${input}" is not a valid internationalised domain name` };
    }
  }
  if (name.length > MAX_NAME_LENGTH) return { ok: false, reason: `the name is longer than ${MAX_NAME_LENGTH} characters` };
  const labels = name.split('.');
  for (const label of labels) {
    if (label.length === 0) return { ok: false, reason: `"${input}" has an empty label` };
    if (label.length > MAX_LABEL_LENGTH) return { ok: false, reason: `a label of "${input}" is longer than ${MAX_LABEL_LENGTH} characters` };
    if (!LABEL.test(label)) return { ok: false, reason: `"${label}" is not a valid DNS label` };
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return { ok: false, reason: `"${input}" looks like an IP address, not a domain` };
  return { ok: true, domain: name };
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
