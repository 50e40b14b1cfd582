/** Characters that would make the URL parser read something other than a host name. */
const NOT_HOSTNAME = /[\s/\\?#@:%[\]<>^|"'`{}]/;
/** A host name label: letters, digits and inner hyphens (RFC 1123). */
const HOSTNAME_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** Any label a check looks up: underscores too (`_dmarc`, `_mta-sts`, `selector._domainkey`). */
const DNS_LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/**
 * `hostname`: a domain as monitored and stored: host name labels, at least two of them.
 * `dns`: any name a DNS check may look up: underscore labels and a single label (a TLD) allowed.
 */
export type DomainNameRules = 'hostname' | 'dns';

/**
 * The one normal form of a domain name: trimmed, lower-case, one trailing dot dropped,
 * internationalised names as A-labels (xn--, by the WHATWG URL parser: UTS #46 and Punycode, so no
 * package is needed); then labels of 1..63 characters, at most 253 in all, and not an IP address.
 * The error completes a sentence about the input ("… is empty").
 */
export function normaliseDomainName(input: string, rules: DomainNameRules): { name: string } | { error: string } {
  let name = input.trim().toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name === '') return { error: 'is empty' };
  // Before the URL parser, which would read `a/b` or `a@b` as something else.
  if (NOT_HOSTNAME.test(name)) return { error: 'may only contain letters, digits, hyphens and dots' };
  if (/[^\x00-\x7f]/.test(name)) {
    try {
      name = new URL(`http://${name}/`).hostname;
    } catch {
      return { error: 'is not a valid internationalised domain name' };
    }
  }
  if (name.length > 253) return { error: 'is longer than 253 characters' };
  const labels = name.split('.');
  if (rules === 'hostname' && labels.length < 2) return { error: 'needs at least two labels, like example.org' };
  const label = rules === 'hostname' ? HOSTNAME_LABEL : DNS_LABEL;
  for (const part of labels) {
    if (part === '') return { error: 'has an empty label (two dots in a row, or a leading dot)' };
    if (part.length > 63) return { error: 'has a label longer than 63 characters' };
    if (!label.test(part)) {
      return { error: `has the label "${part}", which is not letters, digits and inner hyphens${rules === 'dns' ? ' (or underscores)' : ''}` };
    }
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return { error: 'is an IP address, not a domain' };
  return { name };
}

/** A domain as monitored and stored (the `hostname` rules). */
export function normaliseDomain(input: string): { name: string } | { error: string } {
  return normaliseDomainName(input, 'hostname');
}

/** For names that arrive in reports: the normal form when there is one, else lower-case as sent. */
export function domainKey(input: string): string {
  const result = normaliseDomain(input);
  return 'name' in result ? result.name : input.trim().toLowerCase();
}
