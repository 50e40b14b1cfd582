/** Domain-name rules SPF applies before and after macro expansion (RFC 7208 §4.3, §7.3). */

const encoder = new TextEncoder();
const octets = (text: string): number => encoder.encode(text).length;

/** Lower-case, without the one trailing dot a fully-qualified name may carry. */
export function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/**
 * Can a DNS query be composed for this name? Labels of 1 to 63 octets, 253 octets in all. Any
 * octet is allowed: names built by macro expansion may hold spaces or `%` (suite: macro-mania).
 */
export function isQueryableName(name: string): boolean {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare === '' || octets(bare) > 253) return false;
  return bare.split('.').every((label) => label.length > 0 && octets(label) <= 63);
}

const LDH_LABEL = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/i;

/**
 * The identity check_host() starts from (§4.3): a multi-label host name. Anything else (a domain
 * literal like `[192.0.2.1]`, a bare HELO word, an empty or over-long label) gives "none".
 * Internationalised names must arrive as A-labels (`xn--…`).
 */
export function isValidIdentityDomain(name: string): boolean {
  if (!isQueryableName(name)) return false;
  const labels = (name.endsWith('.') ? name.slice(0, -1) : name).split('.');
  if (labels.length < 2 || !labels.every((label) => LDH_LABEL.test(label))) return false;
  return !/^[0-9]+$/.test(labels[labels.length - 1] ?? '');
}

/**
 * §7.3: an expanded name longer than 253 characters loses labels from the left until it fits.
 * (A name without dots that is still too long is returned as is and fails `isQueryableName`.)
 */
export function truncateName(name: string): string {
  let current = name;
  while (octets(current) > 253) {
    const dot = current.indexOf('.');
    if (dot < 0) return current;
    current = current.slice(dot + 1);
  }
  return current;
}

/** Is `name` equal to `parent` or a name below it (case-insensitive, trailing dots ignored)? */
export function isSameOrSubdomain(name: string, parent: string): boolean {
  const child = normalizeName(name);
  const base = normalizeName(parent);
  return child === base || child.endsWith(`.${base}`);
}
