/**
 * SSRF guard: the agent connects only to public unicast addresses, unless the operator allows a
 * range explicitly (--allow-targets, which the test lab uses). IPv4-mapped IPv6 is judged as IPv4.
 */
import ipaddr from 'ipaddr.js';

export type TargetVerdict = { allowed: true } | { allowed: false; reason: string };

/** Parses CIDRs up front so a typo is an error, not a silent refusal. Throws on a bad one. */
export function parseAllowList(cidrs: readonly string[]): [ipaddr.IPv4 | ipaddr.IPv6, number][] {
  return cidrs.map((cidr) => {
    try {
      return cidr.includes('/') ? ipaddr.parseCIDR(cidr) : ([ipaddr.parse(cidr), ipaddr.parse(cidr).kind() === 'ipv4' ? 32 : 128] as [ipaddr.IPv4 | ipaddr.IPv6, number]);
    } catch {
      throw new Error(`not a CIDR range: ${cidr}`);
    }
  });
}

export function checkTarget(ip: string, allow: readonly [ipaddr.IPv4 | ipaddr.IPv6, number][]): TargetVerdict {
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    address = ipaddr.process(ip);
  } catch {
    return { allowed: false, reason: `not an IP address: ${ip}` };
  }
  for (const range of allow) {
    if (range[0].kind() === address.kind() && address.match(range)) return { allowed: true };
  }
  const range = address.range();
  if (range === 'unicast') return { allowed: true };
  return { allowed: false, reason: `${address.toString()} is a ${range} address; scanning it needs --allow-targets` };
}
