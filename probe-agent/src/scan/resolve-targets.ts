/**
 * Turns `host[:port]` arguments into IPs to scan: a host name becomes every IPv4 and IPv6 address it
 * has (through the DoH client when one is given, else Node's resolver), an IP literal stays itself.
 */
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import type { Resolver } from '../../../src/dns/resolver.ts';
import type { ScanTarget } from './scan-target.ts';

export interface TargetSpec {
  host: string;
  port: number;
}

/** "mx.example.org", "mx.example.org:2525", "192.0.2.1:25", "2001:db8::1", "[2001:db8::1]:25". */
export function parseTargetSpec(text: string, defaultPort = 25): TargetSpec {
  let host = text.trim();
  let port = defaultPort;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(host);
  if (bracketed) {
    host = bracketed[1]!;
    if (bracketed[2]) port = Number(bracketed[2]);
  } else if (isIP(host) !== 6) {
    const m = /^(.*):(\d+)$/.exec(host);
    if (m) {
      host = m[1]!;
      port = Number(m[2]);
    }
  }
  host = host.replace(/\.$/, '').toLowerCase();
  if (!host) throw new Error(`no host in "${text}"`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`bad port in "${text}"`);
  if (!isIP(host) && !/^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/.test(host)) {
    throw new Error(`not a host name or IP address: "${text}"`);
  }
  return { host, port };
}

/** The addresses of one spec; an error text when a name has none or DNS failed. */
export async function resolveTargets(spec: TargetSpec, resolver: Resolver | null): Promise<ScanTarget[] | { error: string }> {
  if (isIP(spec.host)) return [{ host: spec.host, ip: spec.host, port: spec.port }];
  const ips: string[] = [];
  const problems: string[] = [];
  for (const type of ['A', 'AAAA'] as const) {
    if (resolver) {
      const answer = await resolver.query(spec.host, type);
      for (const r of answer.records) if (r.type === type) ips.push(r.address);
      if (answer.status !== 'NOERROR' && answer.status !== 'NXDOMAIN') problems.push(`${type}: ${answer.status}${answer.error ? ` (${answer.error})` : ''}`);
    } else {
      try {
        ips.push(...(type === 'A' ? await dns.resolve4(spec.host) : await dns.resolve6(spec.host)));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENODATA' && code !== 'ENOTFOUND') problems.push(`${type}: ${code ?? (e as Error).message}`);
      }
    }
  }
  if (!ips.length) return { error: `${spec.host} has no IPv4 or IPv6 address${problems.length ? ` (${problems.join(', ')})` : ''}` };
  return [...new Set(ips)].map((ip) => ({ host: spec.host, ip, port: spec.port }));
}
