import ipaddr from 'ipaddr.js';
import type { MiddlewareHandler } from 'hono';
import { clientAddress } from '../../auth/rate-limit';
import { problem } from '../problem';

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** Parses `IP_ALLOWLIST` (comma-separated CIDRs or single addresses); a bad entry is a config error. */
export function parseAllowlist(text: string | undefined): Range[] {
  return (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const [address = '', bits] = entry.split('/');
      // ipaddr.js reads `10/8` as 0.0.0.10/8; an allow-list entry must be a full address.
      if (!ipaddr.IPv6.isValid(address) && !ipaddr.IPv4.isValidFourPartDecimal(address)) {
        throw new Error(`IP_ALLOWLIST entry "${entry}" is not an address or CIDR`);
      }
      return bits === undefined ? ([ipaddr.parse(address), address.includes(':') ? 128 : 32] as Range) : ipaddr.parseCIDR(entry);
    });
}

export function addressAllowed(address: string, ranges: Range[]): boolean {
  if (ranges.length === 0) return true;
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  // An IPv4 client seen as ::ffff:a.b.c.d matches IPv4 ranges.
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return ranges.some(([range, bits]) => range.kind() === parsed.kind() && parsed.match(range, bits));
}

/**
 * The seed's firewall module: when `IP_ALLOWLIST` is set, only those addresses reach the UI and API
 * (by CF-Connecting-IP, which Cloudflare sets). Email delivery does not pass through here.
 */
export function ipAllowlist(): MiddlewareHandler<{ Bindings: Env }> {
  return async (c, next) => {
    const ranges = parseAllowlist(c.env.IP_ALLOWLIST);
    if (!addressAllowed(clientAddress(c), ranges)) return problem(c, 403, 'Forbidden', 'Your address may not use this service.');
    await next();
  };
}
