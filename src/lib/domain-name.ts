/** Characters that would make the URL parser read something other than a host name. */
const NOT_HOSTNAME = /[\s/\\?#@:%[\]<>^|"'`{}]/;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * A domain as stored: trimmed, lower-case, one trailing dot dropped, internationalised names as
 * A-labels (xn--); then letter-digit-hyphen labels of 1..63 characters, at least two of them, at
 * most 253 characters, and not an IP address.
 */
export function normaliseDomain(input: string): { name: string } | { error: string } {
  let name = input.trim().toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name === '') return { error: 'is empty' };
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
  if (labels.length < 2) return { error: 'needs at least two labels, like example.org' };
  for (const label of labels) {
    if (label === '') return { error: 'has an empty label (two dots in a row, or a leading dot)' };
    if (label.length > 63) return { error: `has a label longer than 63 characters` };
    if (!LABEL.test(label)) return { error: `has the label "${label}", which is not letters, digits and inner hyphens` };
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return { error: 'is an IP address, not a domain' };
  return { name };
}

/** For names that arrive in reports: the normal form when there is one, else lower-case as sent. */
export function domainKey(input: string): string {
  const result = normaliseDomain(input);
  return 'name' in result ? result.name : input.trim().toLowerCase();
}
