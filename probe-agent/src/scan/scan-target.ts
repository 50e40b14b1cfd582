/**
 * The scan engine's entry point for the CLI and the `run` daemon.
 *
 *   scanTarget(target: { host: string; ip: string; port: number }, options: ScanOptions): Promise<ProbeTargetResult>
 *     One IP, fully assessed within options.maxConnections (default 40), one connection at a time
 *     (concurrent calls for the same IP, e.g. other ports, wait for each other in this process).
 *     Never throws for the server's behaviour: refusals, timeouts and resets come back as a status.
 *
 *   createScanCache({ ttlMs }): ScanCache
 *     Results per ip:port, shared by every host and domain that uses the IP (in-flight scans are
 *     shared too). Pass the same cache in options.cache to every scanTarget call. DANE is per host,
 *     so it is looked up for each call; the connection facts are what is cached.
 *
 *   scanTargets(targets, options & { concurrency }): Promise<ProbeTargetResult[]>
 *     Several IPs in parallel (default 8 at once), each IP still one connection at a time.
 */
import os from 'node:os';
import type { X509Certificate } from 'node:crypto';
import type { Resolver } from '../../../src/dns/resolver.ts';
import { daneFacts } from '../../../src/tls/dane.ts';
import { PROTOCOLS, type ProbeTargetResult, type ProtocolName } from '../../../src/tls/probe-result.ts';
import { publicTrustAnchors } from '../certificates/chain.ts';
import { scanConnections, type ConnectionFacts } from './engine.ts';
import { checkTarget, parseAllowList } from './target-guard.ts';
import { addFindings } from './findings.ts';

export interface ScanTarget {
  /** The MX host name (or the IP itself for a literal). */
  host: string;
  ip: string;
  port: number;
}

export interface ScanOptions {
  /** CIDRs allowed despite the SSRF guard (e.g. "127.0.0.0/8" for a lab). */
  allowTargets?: readonly string[];
  /** Extra trust anchors (--ca-file), added to Node's public roots. */
  extraTrustAnchors?: readonly X509Certificate[];
  /** Validating resolver for the TLSA lookup (AD bit); no DANE facts without one. */
  daneResolver?: Resolver | null;
  ehloName?: string;
  /** Per wait on the server. Default 10 000 ms. */
  timeoutMs?: number;
  /** TCP connections per IP. Default 40. */
  maxConnections?: number;
  cache?: ScanCache | null;
  /** Interpretation against the MX host: see src/tls/certificates (strict when MTA-STS enforce or DANE). */
  strictCertificates?: boolean;
}

export interface ScanCache {
  get(key: string): Promise<ConnectionFacts> | undefined;
  set(key: string, value: Promise<ConnectionFacts>): void;
}

export function createScanCache(options: { ttlMs: number; now?: () => number }): ScanCache {
  const now = options.now ?? Date.now;
  const entries = new Map<string, { value: Promise<ConnectionFacts>; expires: number }>();
  return {
    get(key) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.expires <= now()) {
        entries.delete(key);
        return undefined;
      }
      return entry.value;
    },
    set(key, value) {
      entries.set(key, { value, expires: now() + options.ttlMs });
      // A failed scan is not worth remembering for the whole TTL.
      value.then(
        (facts) => {
          if (facts.status === 'inconclusive') entries.delete(key);
        },
        () => entries.delete(key),
      );
    },
  };
}

const emptyProtocols = () => Object.fromEntries(PROTOCOLS.map((p) => [p, false])) as Record<ProtocolName, boolean>;

export function refusedResult(target: ScanTarget, reason: string): ProbeTargetResult {
  return {
    host: target.host,
    ip: target.ip,
    port: target.port,
    status: 'refused',
    status_reason: reason,
    protocols: emptyProtocols(),
    cipher_suites: {},
    server_preference: {},
    groups: [],
    key_exchange: { groups: [], dh_bits: null, ecdh_bits: null },
    signature_algorithms: [],
    secure_renegotiation: null,
    fallback_scsv: null,
    compression: null,
    certificates: [],
    chain: null,
    dane: null,
    smtp: { greeting: null, ehlo_extensions: [], starttls_offered: false, starttls_injection: null, error: null },
    connections: 0,
    complete: true,
    started_at: new Date().toISOString(),
    duration_ms: 0,
    findings: [],
  };
}

/** The scan last queued per IP: scans of one IP (other ports, no shared cache) wait for each other. */
const queuedPerIp = new Map<string, Promise<unknown>>();

function oneAtATime<T>(ip: string, scan: () => Promise<T>): Promise<T> {
  const previous = queuedPerIp.get(ip) ?? Promise.resolve();
  const next = previous.then(scan, scan);
  const settled = next.then(
    () => undefined,
    () => undefined,
  );
  queuedPerIp.set(ip, settled);
  void settled.then(() => {
    if (queuedPerIp.get(ip) === settled) queuedPerIp.delete(ip);
  });
  return next;
}

export async function scanTarget(target: ScanTarget, options: ScanOptions = {}): Promise<ProbeTargetResult> {
  const verdict = checkTarget(target.ip, parseAllowList(options.allowTargets ?? []));
  if (!verdict.allowed) return refusedResult(target, verdict.reason);

  const key = `${target.ip}|${target.port}`;
  let facts = options.cache?.get(key);
  if (!facts) {
    facts = oneAtATime(target.ip, () =>
      scanConnections(target, {
        ehloName: options.ehloName ?? os.hostname(),
        timeoutMs: options.timeoutMs ?? 10_000,
        maxConnections: options.maxConnections ?? 40,
        trustAnchors: options.extraTrustAnchors?.length ? publicTrustAnchors().with(options.extraTrustAnchors) : publicTrustAnchors(),
      }),
    );
    options.cache?.set(key, facts);
  }
  const connection = await facts;
  const isLiteral = target.host === target.ip;
  const dane =
    options.daneResolver && !isLiteral && connection.status !== 'refused'
      ? await daneFacts(options.daneResolver, target.host, connection.certificates, target.port)
      : null;
  const result: ProbeTargetResult = { host: target.host, ...connection, dane, findings: [] };
  return addFindings(result, { strict: options.strictCertificates ?? false });
}

/** Several targets, `concurrency` IPs at a time; results in the order given. */
export async function scanTargets(targets: readonly ScanTarget[], options: ScanOptions & { concurrency?: number }): Promise<ProbeTargetResult[]> {
  const results: ProbeTargetResult[] = new Array(targets.length);
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const i = next++;
      results[i] = await scanTarget(targets[i]!, options);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 8, targets.length)) }, worker));
  return results;
}
