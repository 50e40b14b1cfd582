/**
 * MTA-STS check (RFC 8461): the `_mta-sts.<domain>` TXT record (`v=STSv1; id=…`), the policy at
 * `https://mta-sts.<domain>/.well-known/mta-sts.txt` (fetched with the injected `fetch`: no redirects,
 * a time limit, at most 64 KiB, only 200 with text/plain), its mode and max_age, and every MX host
 * matched against its `mx` patterns. Without MTA-STS, DANE (TLSA records on every MX) is accepted as
 * the alternative protection: it is not a failure of its own.
 */
import type { Resolver } from '../resolver.ts';
import { describeFailure, isDnsFailure, normaliseHost, txtTexts } from './dns.ts';
import { findingMaker, rulesList, type CheckResult, type Finding, type RuleTable } from './finding.ts';
import { parseTagList } from './tag-list.ts';

const RFC8461 = 'https://www.rfc-editor.org/rfc/rfc8461';

/** RFC 8461 §3.2: max_age is at most 31557600 seconds (about a year). */
export const MTA_STS_MAX_AGE_LIMIT = 31_557_600;
/** Below a day, senders' cached policies expire too soon to protect against a downgrade between visits. */
export const MTA_STS_MAX_AGE_RECOMMENDED = 86_400;
export const MTA_STS_POLICY_SIZE_LIMIT = 64 * 1024;

const RULES = {
  'mta_sts.dns-failure': {
    severity: 'error',
    title: 'The MTA-STS check could not be completed',
    advice:
      'The DNS query for {name} ended in {status}, so it is not known whether {domain} publishes MTA-STS. If it persists, check that the zone\'s name servers answer and that its DNSSEC signatures are valid.',
    reference: `${RFC8461}#section-3.1`,
  },
  'mta_sts.no-record': {
    severity: 'warning',
    title: 'No MTA-STS (and no DANE)',
    advice:
      'Mail to {domain} can be downgraded to unencrypted delivery by an attacker on the path. Publish an MTA-STS policy: a text file at https://mta-sts.{domain}/.well-known/mta-sts.txt ("version: STSv1", "mode: testing", one "mx:" line per mail server, "max_age: 604800"), then a TXT record at {name}: "v=STSv1; id=<a new value each time the policy changes>". Switch to mode: enforce once TLS reports show no failures. DANE (TLSA records on your MX hosts, with DNSSEC) is an alternative.',
    reference: RFC8461,
  },
  'mta_sts.no-record-dane': {
    severity: 'info',
    title: 'No MTA-STS; DANE protects delivery instead',
    advice:
      '{domain} publishes no MTA-STS policy, but every MX host has a TLSA record, so senders that support DANE deliver over authenticated TLS. Adding MTA-STS protects delivery from senders that support only MTA-STS.',
    reference: 'https://www.rfc-editor.org/rfc/rfc7672',
  },
  'mta_sts.multiple-records': {
    severity: 'error',
    title: 'More than one MTA-STS record',
    advice: '{name} has {count} TXT records starting with v=STSv1; senders then act as if there were no policy. Keep one.',
    reference: `${RFC8461}#section-3.1`,
  },
  'mta_sts.invalid-record': {
    severity: 'error',
    title: 'The MTA-STS TXT record is not valid',
    advice: 'The record at {name} cannot be used: {problem}. It should read "v=STSv1; id=<1 to 32 letters or digits>", for example "v=STSv1; id=20240101T000000".',
    reference: `${RFC8461}#section-3.1`,
  },
  'mta_sts.policy-unreachable': {
    severity: 'error',
    title: 'The MTA-STS policy cannot be fetched',
    advice:
      '{domain} announces MTA-STS, but {url} could not be fetched ({problem}), so senders without a cached policy deliver without it. Serve the policy there over HTTPS with a valid certificate for mta-sts.{domain}, with status 200 and no redirect.',
    reference: `${RFC8461}#section-3.3`,
  },
  'mta_sts.invalid-policy': {
    severity: 'error',
    title: 'The MTA-STS policy is not valid',
    advice: 'The policy at {url} cannot be used: {problem}. It must be plain text (Content-Type: text/plain) with the lines "version: STSv1", "mode: enforce|testing|none", one "mx: <host pattern>" line per mail server, and "max_age: <seconds>".',
    reference: `${RFC8461}#section-3.2`,
  },
  'mta_sts.mode-testing': {
    severity: 'warning',
    title: 'MTA-STS in testing mode',
    advice:
      'The policy of {domain} is in mode: testing, so senders report TLS failures but still deliver without TLS. Once TLS reports show no failures, change it to mode: enforce and change the id in the TXT record at {name}.',
    reference: `${RFC8461}#section-5`,
  },
  'mta_sts.mode-none': {
    severity: 'warning',
    title: 'MTA-STS policy withdrawn (mode: none)',
    advice:
      'The policy of {domain} is mode: none, which tells senders to stop applying MTA-STS. If this is not a planned withdrawal, publish mode: testing or mode: enforce and change the id in the TXT record at {name}.',
    reference: `${RFC8461}#section-8.3`,
  },
  'mta_sts.mx-not-covered': {
    severity: 'error',
    title: 'An MX host is not covered by the MTA-STS policy',
    advice:
      'The MX host {host} matches none of the policy\'s mx patterns ({patterns}), so in enforce mode senders refuse to deliver to it. Add "mx: {host}" (or a matching "*." pattern) to the policy and change the id in the TXT record at {name}, or remove the host from the MX records.',
    reference: `${RFC8461}#section-4.1`,
  },
  'mta_sts.max-age-short': {
    severity: 'warning',
    title: 'MTA-STS max_age is short',
    advice:
      'max_age is {maxAge} seconds, so senders forget the policy quickly and an attacker can strip it between visits. Use at least 86400 (a day); one to several weeks (604800 to 2419200) is common once the policy is stable.',
    reference: `${RFC8461}#section-3.2`,
  },
} as const satisfies RuleTable<string>;

export type MtaStsRuleId = keyof typeof RULES;
export const MTA_STS_RULES = rulesList(RULES);
const finding = findingMaker(RULES);

export type MtaStsMode = 'enforce' | 'testing' | 'none';

export interface MtaStsPolicy {
  version: string | null;
  mode: MtaStsMode | null;
  mx: string[];
  maxAge: number | null;
  errors: string[];
}

export interface MtaStsFacts {
  name: string;
  status: string;
  id: string | null;
  policyUrl: string;
  /** The policy text as served, when it was fetched. */
  policy: string | null;
  mode: MtaStsMode | null;
  maxAge: number | null;
  mxPatterns: string[];
  /** Each MX host and whether a pattern covers it. */
  mx: { host: string; covered: boolean }[];
  /** MX hosts with TLSA records, looked at when there is no MTA-STS record. */
  dane?: { host: string; tlsa: boolean }[];
}

export interface MtaStsOptions {
  /** Used for the policy; default the global fetch. */
  fetch?: typeof fetch;
  /** Policy fetch time limit in ms; default 10000. */
  timeoutMs?: number;
  /** The domain's MX hosts (from the MX check); looked up when absent. An empty list means none/null MX. */
  mxHosts?: string[];
}

export type MtaStsResult = CheckResult<'mta_sts', MtaStsFacts>;

export function isMtaStsRecord(text: string): boolean {
  return /^v=STSv1\s*(;|$)/.test(text);
}

export function parseMtaStsRecord(text: string): { id: string | null; errors: string[] } {
  const { tags, values, errors } = parseTagList(text);
  const out = { id: values.get('id') ?? null, errors: [...errors] };
  if (tags[0]?.name !== 'v' || tags[0].value !== 'STSv1') out.errors.push('it must start with v=STSv1');
  if (out.id === null) out.errors.push('the id tag is missing');
  else if (!/^[A-Za-z0-9]{1,32}$/.test(out.id)) out.errors.push(`id=${out.id} must be 1 to 32 letters or digits`);
  return out;
}

/** RFC 8461 §3.2: `key: value` lines, CRLF or LF. Unknown keys are ignored. */
export function parseMtaStsPolicy(text: string): MtaStsPolicy {
  const policy: MtaStsPolicy = { version: null, mode: null, mx: [], maxAge: null, errors: [] };
  const seen = new Set<string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    const match = /^([A-Za-z0-9_]+)[ \t]*:[ \t]*(.*)$/.exec(line);
    if (!match) {
      policy.errors.push(`the line "${line.slice(0, 60)}" is not "key: value"`);
      continue;
    }
    const key = match[1] ?? '';
    const value = (match[2] ?? '').trim();
    if (key !== 'mx' && seen.has(key)) {
      policy.errors.push(`${key} appears more than once`);
      continue;
    }
    seen.add(key);
    if (key === 'version') policy.version = value;
    else if (key === 'mode') {
      if (value === 'enforce' || value === 'testing' || value === 'none') policy.mode = value;
      else policy.errors.push(`mode "${value}" is not enforce, testing or none`);
    } else if (key === 'max_age') {
      if (/^\d{1,10}$/.test(value) && Number(value) <= MTA_STS_MAX_AGE_LIMIT) policy.maxAge = Number(value);
      else policy.errors.push(`max_age "${value}" is not a number of seconds up to ${MTA_STS_MAX_AGE_LIMIT}`);
    } else if (key === 'mx') {
      if (/^(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?\.?$/i.test(value)) policy.mx.push(value.toLowerCase().replace(/\.$/, ''));
      else policy.errors.push(`mx "${value}" is not a host name or "*." pattern`);
    }
  }
  if (policy.version !== 'STSv1') policy.errors.push(policy.version === null ? 'the version line is missing' : `version "${policy.version}" is not STSv1`);
  if (policy.mode === null && !policy.errors.some((e) => e.startsWith('mode'))) policy.errors.push('the mode line is missing');
  if (policy.maxAge === null && !policy.errors.some((e) => e.startsWith('max_age'))) policy.errors.push('the max_age line is missing');
  if (policy.mx.length === 0 && policy.mode !== 'none') policy.errors.push('there is no mx line');
  return policy;
}

/** RFC 8461 §4.1: a pattern is a host name, or `*.` and a name, the `*` standing for exactly one label. */
export function mxMatchesPattern(host: string, pattern: string): boolean {
  const h = normaliseHost(host);
  const p = normaliseHost(pattern);
  if (p.startsWith('*.')) {
    const dot = h.indexOf('.');
    return dot > 0 && h.slice(dot + 1) === p.slice(2);
  }
  return h === p;
}

type PolicyFetch = { ok: true; text: string } | { ok: false; unreachable: boolean; problem: string };

/** Fetches the policy under RFC 8461 §3.3's rules; never throws. */
export async function fetchMtaStsPolicy(url: string, fetchImpl: typeof fetch, timeoutMs: number): Promise<PolicyFetch> {
  const signal = AbortSignal.timeout(timeoutMs);
  let res: Response;
  try {
    res = await fetchImpl(url, { redirect: 'manual', signal, headers: { accept: 'text/plain' } });
  } catch (e) {
    const problem = signal.aborted ? `no answer within ${timeoutMs} ms` : describeError(e);
    return { ok: false, unreachable: true, problem };
  }
  if (res.status !== 200) {
    await res.body?.cancel().catch(() => undefined);
    const location = res.headers.get('location');
    const problem = res.status >= 300 && res.status < 400 ? `HTTP ${res.status} redirect${location ? ` to ${location}` : ''}, which senders must not follow` : `HTTP ${res.status}`;
    return { ok: false, unreachable: true, problem };
  }
  const contentType = (res.headers.get('content-type') ?? '').toLowerCase();
  if (!/^text\/plain\s*(;|$)/.test(contentType)) {
    await res.body?.cancel().catch(() => undefined);
    return { ok: false, unreachable: false, problem: `it is served as "${contentType || 'no Content-Type'}", not text/plain` };
  }
  try {
    const bytes = await readCapped(res, MTA_STS_POLICY_SIZE_LIMIT);
    if (bytes === null) return { ok: false, unreachable: false, problem: `it is larger than ${MTA_STS_POLICY_SIZE_LIMIT} bytes` };
    return { ok: true, text: new TextDecoder().decode(bytes) };
  } catch (e) {
    return { ok: false, unreachable: true, problem: signal.aborted ? `no answer within ${timeoutMs} ms` : describeError(e) };
  }
}

async function readCapped(res: Response, limit: number): Promise<Uint8Array | null> {
  if (!res.body) return new Uint8Array();
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = (e as Error & { cause?: unknown }).cause;
  const inner = cause instanceof Error ? cause.message : typeof cause === 'string' ? cause : '';
  return inner && inner !== e.message ? `${e.message}: ${inner}` : e.message;
}

export async function checkMtaSts(resolver: Resolver, domain: string, options: MtaStsOptions = {}): Promise<MtaStsResult> {
  const host = normaliseHost(domain);
  const name = `_mta-sts.${host}`;
  const policyUrl = `https://mta-sts.${host}/.well-known/mta-sts.txt`;
  const [answer, mxHosts] = await Promise.all([resolver.query(name, 'TXT'), options.mxHosts ?? lookUpMxHosts(resolver, host)]);
  const facts: MtaStsFacts = { name, status: answer.status, id: null, policyUrl, policy: null, mode: null, maxAge: null, mxPatterns: [], mx: [] };
  const result: MtaStsResult = { area: 'mta_sts', record: null, facts, findings: [] };
  const findings: Finding[] = result.findings;
  const values = { name, domain: host, url: policyUrl };

  if (isDnsFailure(answer.status)) {
    findings.push(finding('mta_sts.dns-failure', { ...values, status: answer.status }, describeFailure(answer)));
    return result;
  }
  const records = txtTexts(answer).filter(isMtaStsRecord);
  if (records.length === 0) {
    // A domain that receives no mail (null MX or no MX) has nothing to protect.
    if (mxHosts !== null && mxHosts.length === 0) return result;
    const dane = await Promise.all(
      (mxHosts ?? []).map(async (mx) => {
        const tlsa = await resolver.query(`_25._tcp.${mx}`, 'TLSA');
        return { host: mx, tlsa: tlsa.status === 'NOERROR' && tlsa.authenticated && tlsa.records.some((r) => r.type === 'TLSA') };
      }),
    );
    facts.dane = dane;
    findings.push(finding(dane.length > 0 && dane.every((d) => d.tlsa) ? 'mta_sts.no-record-dane' : 'mta_sts.no-record', values));
    return result;
  }
  if (records.length > 1) {
    findings.push(finding('mta_sts.multiple-records', { ...values, count: records.length }, records.map((r) => `"${r}"`).join(' and ')));
    return result;
  }
  const record = records[0] ?? '';
  result.record = record;
  const parsedRecord = parseMtaStsRecord(record);
  facts.id = parsedRecord.id;
  for (const problem of parsedRecord.errors) findings.push(finding('mta_sts.invalid-record', { ...values, problem }, record));

  const fetched = await fetchMtaStsPolicy(policyUrl, options.fetch ?? ((input, init) => fetch(input, init)), options.timeoutMs ?? 10_000);
  if (!fetched.ok) {
    findings.push(finding(fetched.unreachable ? 'mta_sts.policy-unreachable' : 'mta_sts.invalid-policy', { ...values, problem: fetched.problem }, fetched.problem));
    return result;
  }
  facts.policy = fetched.text;
  const policy = parseMtaStsPolicy(fetched.text);
  facts.mode = policy.mode;
  facts.maxAge = policy.maxAge;
  facts.mxPatterns = policy.mx;
  for (const problem of policy.errors) findings.push(finding('mta_sts.invalid-policy', { ...values, problem }, fetched.text));
  if (policy.mode === 'testing') findings.push(finding('mta_sts.mode-testing', values));
  if (policy.mode === 'none') findings.push(finding('mta_sts.mode-none', values));
  if (policy.maxAge !== null && policy.maxAge < MTA_STS_MAX_AGE_RECOMMENDED && policy.mode !== 'none') {
    findings.push(finding('mta_sts.max-age-short', { ...values, maxAge: policy.maxAge }));
  }
  facts.mx = (mxHosts ?? []).map((mx) => ({ host: mx, covered: policy.mx.some((p) => mxMatchesPattern(mx, p)) }));
  if (policy.mode !== 'none' && policy.mx.length) {
    for (const mx of facts.mx) {
      if (!mx.covered) findings.push(finding('mta_sts.mx-not-covered', { ...values, host: mx.host, patterns: policy.mx.join(', ') }));
    }
  }
  return result;
}

/** The domain's MX host names, without the null MX's root; null when the lookup failed (the MX check reports it). */
async function lookUpMxHosts(resolver: Resolver, domain: string): Promise<string[] | null> {
  const answer = await resolver.query(domain, 'MX');
  if (isDnsFailure(answer.status)) return null;
  return answer.records
    .flatMap((r) => (r.type === 'MX' && normaliseHost(r.exchange) !== '.' && r.exchange !== '' ? [{ host: normaliseHost(r.exchange), preference: r.preference }] : []))
    .sort((a, b) => a.preference - b.preference || a.host.localeCompare(b.host))
    .map((m) => m.host);
}
