/**
 * DMARC reporting URIs (RFC 7489 §6.2, §6.4): `uri[!size[k|m|g|t]]`, comma separated. RFC 9989 drops
 * the size suffix from the grammar (commas and `!` must be percent-encoded), but receivers still meet
 * it, so it is parsed and kept.
 */
export type SizeUnit = 'k' | 'm' | 'g' | 't';

export interface DmarcUri {
  /** The URI as written, size suffix included. */
  raw: string;
  /** The URI without the size suffix. */
  uri: string;
  /** Lower-cased scheme without the colon (`mailto`, `https`). */
  scheme: string;
  /** For `mailto:` URIs: the address, its host lower-cased; null otherwise. */
  mailbox: string | null;
  host: string | null;
  size_limit: { value: number; unit: SizeUnit | null; bytes: number } | null;
}

export type UriParse = { ok: true; uri: DmarcUri } | { ok: false; raw: string; reason: string };

const SCHEME = /^([a-z][a-z0-9+.-]*):/i;
const SIZE = /^([0-9]+)([kmgt])?$/i;
const UNIT_BYTES: Record<SizeUnit, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };
const HOST = /^(?!-)[a-z0-9_-]{1,63}(?<!-)(\.(?!-)[a-z0-9_-]{1,63}(?<!-))*$/;

export function parseDmarcUri(raw: string): UriParse {
  const parts = raw.split('!');
  if (parts.length > 2) return { ok: false, raw, reason: `"${raw}" has more than one "!" (a literal "!" must be written %21)` };
  const uri = parts[0]!.trim();
  let size_limit: DmarcUri['size_limit'] = null;
  if (parts.length === 2) {
    const size = SIZE.exec(parts[1]!.trim());
    if (!size) return { ok: false, raw, reason: `"!${parts[1]}" is not a size limit (digits, then optionally k, m, g or t)` };
    const unit = (size[2]?.toLowerCase() ?? null) as SizeUnit | null;
    const value = Number(size[1]);
    size_limit = { value, unit, bytes: value * (unit ? UNIT_BYTES[unit] : 1) };
  }
  const scheme = SCHEME.exec(uri);
  if (!scheme || /\s/.test(uri) || !isAbsoluteUrl(uri)) {
    return { ok: false, raw, reason: `"${uri}" is not an absolute URI such as mailto:dmarc@example.com` };
  }
  const schemeName = scheme[1]!.toLowerCase();
  let mailbox: string | null = null;
  let host: string | null = null;
  if (schemeName === 'mailto') {
    const address = mailtoAddress(uri);
    if (!address) return { ok: false, raw, reason: `"${uri}" does not hold one valid e-mail address` };
    ({ mailbox, host } = address);
  } else {
    try {
      host = new URL(uri).hostname.toLowerCase() || null;
    } catch {
      host = null;
    }
  }
  return { ok: true, uri: { raw, uri, scheme: schemeName, mailbox, host, size_limit } };
}

function isAbsoluteUrl(uri: string): boolean {
  try {
    new URL(uri);
    return true;
  } catch {
    return false;
  }
}

function mailtoAddress(uri: string): { mailbox: string; host: string } | null {
  let address = uri.slice('mailto:'.length).split('?')[0]!;
  try {
    address = decodeURIComponent(address);
  } catch {
    return null;
  }
  // One recipient only: a comma here was percent-encoded, which RFC 6068 allows but DMARC does not expect.
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1 || address.includes(',')) return null;
  const local = address.slice(0, at);
  const host = address.slice(at + 1).toLowerCase().replace(/\.$/, '');
  if (!HOST.test(host) || !host.includes('.') || /[\s<>()[\]\\;:"]/.test(local)) return null;
  return { mailbox: `${local}@${host}`, host };
}

/** A comparable form: scheme and host lower-cased, size suffix dropped. */
export function uriKey(uri: DmarcUri): string {
  return uri.mailbox ? `mailto:${uri.mailbox.toLowerCase()}` : uri.uri.toLowerCase();
}
