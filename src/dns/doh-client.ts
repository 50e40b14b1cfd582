/**
 * A `Resolver` over DNS-over-HTTPS (RFC 8484, wire format). Only `fetch` and Web globals beyond the
 * `dns-packet` codec, so the same client runs in the Worker, in Node and in the CLI.
 */
import type { DnsAnswer, DnsRecord, DnsStatus, Resolver, RRType } from './resolver.ts';
import { createLimiter } from './doh/limiter.ts';
import { decodeResponse, encodeQuery, normaliseName, type DecodedResponse } from './doh/wire.ts';

/** Used when nothing else is configured; every caller can pass its own. */
export const DEFAULT_DOH_URL = 'https://cloudflare-dns.com/dns-query';

export interface DohResolverOptions {
  /** The DoH endpoint, e.g. DEFAULT_DOH_URL. */
  url: string;
  /** Per HTTP exchange (waiting for a free slot does not count). Default 5000. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** HTTP requests this resolver may make in its life; past it, queries answer ERROR. Default: no limit. */
  maxQueries?: number;
  /** Remember answers by name and type (and share one in-flight request). Default true. */
  cache?: boolean;
  /** HTTP requests in flight at once. Default 8. */
  concurrency?: number;
  /** POST (default) or GET with `?dns=` base64url. */
  method?: 'POST' | 'GET';
}

export type DohResolver = Resolver & {
  /** HTTP requests made so far (cache hits and shared in-flight queries make none). */
  queriesMade(): number;
};

/** CNAME hops followed for one query, across re-queries, before the answer is SERVFAIL. */
const MAX_CNAME_HOPS = 16;
/** How long NODATA/NXDOMAIN is remembered when the answer carries no SOA. */
const DEFAULT_NEGATIVE_TTL = 60;
/** How long SERVFAIL/REFUSED is remembered (RFC 2308 §7.1 allows up to 5 minutes). */
const FAILURE_TTL = 30;

const RCODE_STATUS: Readonly<Record<string, DnsStatus>> = {
  NOERROR: 'NOERROR',
  NXDOMAIN: 'NXDOMAIN',
  SERVFAIL: 'SERVFAIL',
  REFUSED: 'REFUSED',
};

type Exchange = { response: DecodedResponse } | { status: 'TIMEOUT' | 'ERROR'; error: string };

interface CacheEntry {
  answer: Promise<DnsAnswer>;
  /** Milliseconds since the epoch; undefined while in flight. */
  expiresAt?: number;
}

/**
 * `cnames` in each answer lists the CNAME targets in the order they were followed; `records` are
 * those of the last one. Names are lower-case without the trailing dot (the root is '.', as in a
 * null MX). Answers may be shared between callers through the cache: treat them as read-only.
 */
export function createDohResolver(options: DohResolverOptions): DohResolver {
  const url = options.url;
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxQueries = options.maxQueries ?? Number.POSITIVE_INFINITY;
  const useCache = options.cache ?? true;
  const method = options.method ?? 'POST';
  const fetchImpl: typeof fetch = options.fetch ?? ((input, init) => fetch(input, init));
  const limit = createLimiter(options.concurrency ?? 8);
  const cache = new Map<string, CacheEntry>();
  let made = 0;

  async function exchange(name: string, type: RRType): Promise<Exchange> {
    let body: Uint8Array;
    try {
      body = encodeQuery(name, type);
    } catch (e) {
      return { status: 'ERROR', error: `cannot encode the query for ${name}: ${message(e)}` };
    }
    if (made >= maxQueries) return { status: 'ERROR', error: 'query budget exhausted' };
    made++;
    return limit(async () => {
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        const init: RequestInit = { method, signal, headers: { accept: 'application/dns-message' } };
        let target = url;
        if (method === 'GET') {
          target = `${url}${url.includes('?') ? '&' : '?'}dns=${base64url(body)}`;
        } else {
          init.headers = { accept: 'application/dns-message', 'content-type': 'application/dns-message' };
          init.body = body;
        }
        const res = await fetchImpl(target, init);
        if (!res.ok) {
          await res.body?.cancel();
          return { status: 'ERROR', error: `the DoH server answered HTTP ${res.status}` };
        }
        const contentType = res.headers.get('content-type') ?? '';
        if (!contentType.toLowerCase().startsWith('application/dns-message')) {
          await res.body?.cancel();
          return { status: 'ERROR', error: `the DoH server answered ${contentType || 'no content type'}, not application/dns-message` };
        }
        const bytes = new Uint8Array(await res.arrayBuffer());
        let response: DecodedResponse;
        try {
          response = decodeResponse(bytes);
        } catch (e) {
          return { status: 'ERROR', error: `malformed DNS answer: ${message(e)}` };
        }
        if (response.id !== 0 || (response.question && (response.question.name !== name || response.question.type !== type))) {
          return { status: 'ERROR', error: 'the DNS answer does not match the question' };
        }
        return { response };
      } catch (e) {
        if (signal.aborted) return { status: 'TIMEOUT', error: `no answer from the DoH server within ${timeoutMs} ms` };
        return { status: 'ERROR', error: `DoH request failed: ${message(e)}` };
      }
    });
  }

  /** One query, re-asked at the chain's end when a response stops at a CNAME. */
  async function resolve(name: string, type: RRType): Promise<{ answer: DnsAnswer; ttl: number }> {
    const cnames: string[] = [];
    const seen = new Set([name]);
    let current = name;
    let authenticated = true;
    let ttl = Number.POSITIVE_INFINITY;
    const done = (status: DnsStatus, records: DnsRecord[], extra: { error?: string; ttl?: number } = {}) => ({
      answer: {
        name,
        type,
        status,
        records,
        authenticated: (status === 'NOERROR' || status === 'NXDOMAIN') && authenticated,
        cnames,
        ...(extra.error !== undefined ? { error: extra.error } : {}),
      },
      ttl: Math.min(ttl, extra.ttl ?? Number.POSITIVE_INFINITY),
    });

    for (;;) {
      const result = await exchange(current, type);
      if (!('response' in result)) return done(result.status, [], { error: result.error, ttl: 0 });
      const response = result.response;
      authenticated &&= response.authenticated;
      const status = RCODE_STATUS[response.rcode];
      if (status === undefined) return done('ERROR', [], { error: `the resolver answered RCODE ${response.rcode}`, ttl: 0 });
      if (status === 'SERVFAIL' || status === 'REFUSED') {
        return done(status, [], { ttl: FAILURE_TTL, ...(response.extendedError ? { error: response.extendedError } : {}) });
      }
      for (const record of response.answers) ttl = Math.min(ttl, record.ttl);

      // Walk the CNAMEs this response carries, from the name asked.
      const hopsBefore = cnames.length;
      if (type !== 'CNAME') {
        for (let next = cname(response.answers, current); next !== undefined; next = cname(response.answers, current)) {
          if (seen.has(next) || cnames.length >= MAX_CNAME_HOPS) {
            const why = seen.has(next) ? `CNAME loop at ${next}` : `more than ${MAX_CNAME_HOPS} CNAMEs`;
            cnames.push(next);
            return done('SERVFAIL', [], { error: why, ttl: FAILURE_TTL });
          }
          seen.add(next);
          cnames.push(next);
          current = next;
        }
      }
      const records = response.answers.filter((r) => r.type === type && r.name === current);
      const negativeTtl = response.negativeTtl ?? DEFAULT_NEGATIVE_TTL;
      if (status === 'NXDOMAIN') return done('NXDOMAIN', [], { ttl: negativeTtl });
      if (records.length > 0) return done('NOERROR', records);
      // The response stopped at a CNAME without saying the target is empty (no SOA): ask the target.
      if (cnames.length > hopsBefore && !response.negative) continue;
      return done('NOERROR', [], { ttl: negativeTtl });
    }
  }

  function query(name: string, type: RRType): Promise<DnsAnswer> {
    const qname = normaliseName(name);
    if (!useCache) return resolve(qname, type).then((r) => r.answer);
    const key = `${qname} ${type}`;
    const hit = cache.get(key);
    if (hit && (hit.expiresAt === undefined || hit.expiresAt > Date.now())) return hit.answer;
    const entry: CacheEntry = {
      answer: resolve(qname, type).then(({ answer, ttl }) => {
        // TIMEOUT and ERROR are the resolver's trouble of the moment: ask again next time.
        if (answer.status === 'TIMEOUT' || answer.status === 'ERROR') cache.delete(key);
        else entry.expiresAt = Date.now() + ttl * 1000;
        return answer;
      }),
    };
    cache.set(key, entry);
    return entry.answer;
  }

  return { query, queriesMade: () => made };
}

function cname(records: DnsRecord[], name: string): string | undefined {
  for (const r of records) if (r.type === 'CNAME' && r.name === name) return r.target;
  return undefined;
}

function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
