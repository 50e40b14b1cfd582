import type { DnsAnswer, DnsStatus, Resolver, RRType } from '../resolver.ts';
import {
  addressMatches,
  isSameAddress,
  macroIpValue,
  networkMatches,
  parseClientAddress,
  reverseName,
  type ClientAddress,
} from './address.ts';
import { expandMacros, parseMacroString, usesLetter, type MacroValues } from './macros.ts';
import { isQueryableName, isSameOrSubdomain, isValidIdentityDomain, normalizeName, truncateName } from './names.ts';
import { isSpfRecordText, parseSpfRecord, type DomainSpec, type Mechanism, type SpfRecord } from './parse.ts';

/**
 * check_host() of RFC 7208 §4–§6, over an injected resolver. It never throws: every outcome,
 * DNS trouble included, comes back as a result with the evidence that led to it.
 */

export type SpfResult = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'permerror' | 'temperror';

export interface CheckHostInput {
  /** The connecting client's IP address. */
  ip: string;
  /** The domain whose policy is checked: the MAIL FROM domain, or the HELO name. */
  domain: string;
  /** MAIL FROM address; defaults to postmaster@<domain>. A missing local-part becomes "postmaster". */
  sender?: string;
  /** HELO/EHLO name, for the %{h} macro. */
  helo?: string;
}

export interface CheckHostOptions {
  /** %{r}: the name of the host doing the check (§7.3); "unknown" by default. */
  receiver?: string;
  /** Clock in milliseconds, for %{t} and the time limit. */
  now?: () => number;
  /** Explanation given for "fail" when the record has no usable exp= (§6.2). */
  defaultExplanation?: string;
  /** DNS-querying terms allowed (§4.6.4); 10 by default. */
  lookupLimit?: number;
  /** Void lookups allowed (§4.6.4); 2 by default. */
  voidLookupLimit?: number;
  /** Hard cap on DNS queries of one evaluation, whatever the zone; temperror past it. */
  maxQueries?: number;
  /** Elapsed-time cap (§4.6.4 asks for at least 20 s); temperror past it. */
  timeLimitMs?: number;
  /** Also query the deprecated SPF (type 99) RR of the domain, to report it; never used to evaluate. */
  reportSpfRR?: boolean;
}

export type SpfTrailStep =
  | {
      step: 'query';
      depth: number;
      name: string;
      type: RRType;
      status: DnsStatus;
      /** Answer data, abridged: addresses, targets, "pref exchange", TXT text. */
      answers: string[];
      error?: string;
    }
  | { step: 'record'; depth: number; domain: string; record: string }
  | { step: 'term'; depth: number; domain: string; term: string; outcome: 'match' | 'no-match'; note?: string }
  | { step: 'void'; depth: number; domain: string; term: string; count: number }
  | { step: 'result'; depth: number; domain: string; result: SpfResult; reason: string };

export interface SpfCheckResult {
  result: SpfResult;
  /** Why, in a sentence an operator can follow. */
  reason: string;
  /** For "fail" only: the domain's exp= text, or the default explanation. */
  explanation: string | null;
  /** The domain checked (normalised). */
  domain: string;
  sender: string;
  ip: string;
  /** The SPF record published at `domain`, when one was found. */
  record: string | null;
  /** The directive that decided the result, as written (e.g. "-all", "include:_spf.example.net"). */
  mechanism: string | null;
  /** The domain whose record holds `mechanism` (differs from `domain` after redirect=). */
  mechanism_domain: string | null;
  /** DNS-querying terms evaluated (include, a, mx, ptr, exists, redirect). */
  dns_lookups: number;
  void_lookups: number;
  /** Every DNS query made, including address lookups for mx and ptr and the exp= TXT lookup. */
  dns_queries: number;
  /** Records of the deprecated SPF RR type at `domain` (null when not asked or not answered). */
  spf_rr_records: string[] | null;
  trail: SpfTrailStep[];
}

const DEFAULTS = {
  receiver: 'unknown',
  defaultExplanation: 'SPF fail - not authorized',
  lookupLimit: 10,
  voidLookupLimit: 2,
  maxQueries: 150,
  timeLimitMs: 20_000,
};

/** Per-mechanism cap on MX names and on PTR names looked up (§4.6.4). */
const MAX_NAMES_PER_MECHANISM = 10;

/** A permerror or temperror: it ends the whole evaluation (§4.6, §5.2, §6.1). */
class SpfAbort {
  constructor(
    readonly result: 'permerror' | 'temperror',
    readonly reason: string,
  ) {}
}

/** How one record (and what it pulled in) ended. */
interface Outcome {
  result: 'pass' | 'fail' | 'softfail' | 'neutral' | 'none';
  reason: string;
  mechanism: string | null;
  mechanismDomain: string | null;
  /** The exp= in force if the result is "fail": the record that failed and its domain. */
  explain: { domain: string; spec: DomainSpec } | null;
}

interface State {
  resolver: Resolver;
  client: ClientAddress;
  sender: string;
  localPart: string;
  senderDomain: string;
  helo: string;
  receiver: string;
  now: () => number;
  startedAt: number;
  limits: { lookups: number; voids: number; queries: number; timeMs: number };
  lookups: number;
  voids: number;
  queries: number;
  trail: SpfTrailStep[];
  /** Domains on the include/redirect path being evaluated, to stop loops early. */
  chain: string[];
  ptrNames: Promise<PtrNames> | null;
  validated: Map<string, Promise<boolean>>;
}

const QUALIFIER_RESULT = { '+': 'pass', '-': 'fail', '~': 'softfail', '?': 'neutral' } as const;

function summarize(answer: DnsAnswer): string[] {
  return answer.records.slice(0, 20).map((record) => {
    switch (record.type) {
      case 'A':
      case 'AAAA':
        return record.address;
      case 'TXT':
      case 'SPF':
        return record.text;
      case 'MX':
        return `${record.preference} ${record.exchange}`;
      case 'CNAME':
      case 'PTR':
      case 'NS':
        return record.target;
      default:
        return record.type;
    }
  });
}

async function query(state: State, name: string, type: RRType, depth: number): Promise<DnsAnswer> {
  if (state.queries >= state.limits.queries) {
    throw new SpfAbort('temperror', `stopped after ${state.queries} DNS queries, the most one evaluation may make`);
  }
  if (state.now() - state.startedAt > state.limits.timeMs) {
    throw new SpfAbort('temperror', `stopped after ${state.limits.timeMs} ms, the time one evaluation may take`);
  }
  state.queries += 1;
  let answer: DnsAnswer;
  try {
    answer = await state.resolver.query(name, type);
  } catch (error) {
    // The resolver's contract is to answer with a status; a throw is still the resolver's trouble.
    answer = { name, type, status: 'ERROR', records: [], authenticated: false, cnames: [], error: String(error) };
  }
  state.trail.push({
    step: 'query',
    depth,
    name,
    type,
    status: answer.status,
    answers: summarize(answer),
    ...(answer.error ? { error: answer.error } : {}),
  });
  return answer;
}

const isFailure = (status: DnsStatus) => status !== 'NOERROR' && status !== 'NXDOMAIN';

function dnsTrouble(answer: DnsAnswer): string {
  return `the ${answer.type} lookup of ${answer.name} failed (${answer.status}${answer.error ? `: ${answer.error}` : ''})`;
}

/** §4.6.4: the 11th DNS-querying term is a permerror. */
function countLookup(state: State, term: string): void {
  state.lookups += 1;
  if (state.lookups > state.limits.lookups) {
    throw new SpfAbort('permerror', `"${term}" would be DNS lookup ${state.lookups}; SPF allows at most ${state.limits.lookups} per check (RFC 7208 §4.6.4)`);
  }
}

/** §4.6.4: a term whose lookup finds no name or no records is void; the third one is a permerror. */
function countVoid(state: State, domain: string, term: string, depth: number): void {
  state.voids += 1;
  state.trail.push({ step: 'void', depth, domain, term, count: state.voids });
  if (state.voids > state.limits.voids) {
    throw new SpfAbort('permerror', `"${term}" is void lookup ${state.voids}; SPF allows at most ${state.limits.voids} lookups that find nothing (RFC 7208 §4.6.4)`);
  }
}

const isVoid = (answer: DnsAnswer, type: RRType) =>
  answer.status === 'NXDOMAIN' || (answer.status === 'NOERROR' && !answer.records.some((record) => record.type === type));

// ---------------------------------------------------------------------------------------------
// Record lookup (§4.4, §4.5)

type RecordLookup =
  | { kind: 'found'; text: string }
  | { kind: 'none'; reason: string; void: boolean }
  | { kind: 'multiple'; texts: string[] }
  | { kind: 'failed'; reason: string };

async function lookupRecord(state: State, domain: string, depth: number): Promise<RecordLookup> {
  const answer = await query(state, domain, 'TXT', depth);
  if (isFailure(answer.status)) return { kind: 'failed', reason: dnsTrouble(answer) };
  if (answer.status === 'NXDOMAIN') return { kind: 'none', reason: `${domain} does not exist`, void: true };
  const texts = answer.records.flatMap((record) => (record.type === 'TXT' && isSpfRecordText(record.text) ? [record.text] : []));
  if (texts.length === 0) return { kind: 'none', reason: `${domain} publishes no SPF record`, void: !answer.records.some((r) => r.type === 'TXT') };
  if (texts.length > 1) return { kind: 'multiple', texts };
  return { kind: 'found', text: texts[0] as string };
}

// ---------------------------------------------------------------------------------------------
// Macros (§7) and target names

type PtrNames = { ok: true; names: string[] } | { ok: false; void: boolean };

/** The PTR names of the client, at most 10 of them (§4.6.4: the rest are ignored). */
function ptrNames(state: State, depth: number): Promise<PtrNames> {
  state.ptrNames ??= (async () => {
    const answer = await query(state, reverseName(state.client), 'PTR', depth);
    if (answer.status !== 'NOERROR') return { ok: false, void: answer.status === 'NXDOMAIN' };
    const names = answer.records.flatMap((record) => (record.type === 'PTR' ? [normalizeName(record.target)] : []));
    if (names.length === 0) return { ok: false, void: true };
    return { ok: true, names: names.slice(0, MAX_NAMES_PER_MECHANISM) };
  })();
  return state.ptrNames;
}

/** §5.5: a PTR name is validated when one of its addresses is the client's. DNS errors: skip it. */
function isValidatedName(state: State, name: string, depth: number): Promise<boolean> {
  let pending = state.validated.get(name);
  if (!pending) {
    pending = (async () => {
      if (!isQueryableName(name)) return false;
      const type = state.client.family === 4 ? 'A' : 'AAAA';
      const answer = await query(state, name, type, depth);
      if (answer.status !== 'NOERROR') return false;
      return answer.records.some((record) => record.type === type && isSameAddress(state.client, record.address));
    })();
    state.validated.set(name, pending);
  }
  return pending;
}

/** %{p} (§7.3): a validated name, preferably the domain itself or one below it; else "unknown". */
async function validatedDomain(state: State, domain: string, depth: number): Promise<string> {
  const ptr = await ptrNames(state, depth);
  if (!ptr.ok) return 'unknown';
  const validated: string[] = [];
  for (const name of ptr.names) if (await isValidatedName(state, name, depth)) validated.push(name);
  return (
    validated.find((name) => name === domain) ??
    validated.find((name) => isSameOrSubdomain(name, domain)) ??
    validated[0] ??
    'unknown'
  );
}

async function macroValues(state: State, domain: string, needsP: boolean, depth: number): Promise<MacroValues> {
  return {
    s: state.sender,
    l: state.localPart,
    o: state.senderDomain,
    d: domain,
    i: macroIpValue(state.client),
    p: needsP ? await validatedDomain(state, domain, depth) : 'unknown',
    v: state.client.family === 4 ? 'in-addr' : 'ip6',
    h: state.helo,
    c: state.client.text,
    r: state.receiver,
    t: String(Math.floor(state.now() / 1000)),
  };
}

/** A mechanism's target-name: the expanded domain-spec, or the current domain (§4.8). */
async function targetName(state: State, spec: DomainSpec | null, domain: string, depth: number): Promise<string> {
  if (spec === null) return domain;
  const values = await macroValues(state, domain, usesLetter(spec.tokens, 'p'), depth);
  const expanded = expandMacros(spec.tokens, values);
  return truncateName(expanded.endsWith('.') ? expanded.slice(0, -1) : expanded).toLowerCase();
}

// ---------------------------------------------------------------------------------------------
// Mechanisms (§5)

type Match = { matched: boolean; note?: string };

async function addressesMatch(
  state: State,
  name: string,
  prefix: number,
  depth: number,
): Promise<{ answer: DnsAnswer; matched: boolean; type: 'A' | 'AAAA' }> {
  const type = state.client.family === 4 ? 'A' : 'AAAA';
  const answer = await query(state, name, type, depth);
  if (isFailure(answer.status)) throw new SpfAbort('temperror', dnsTrouble(answer));
  const matched = answer.records.some((record) => record.type === type && addressMatches(state.client, record.address, prefix));
  return { answer, matched, type };
}

async function evaluateMechanism(state: State, mechanism: Mechanism, domain: string, depth: number): Promise<Match> {
  const prefixFor = (m: { cidr4: number; cidr6: number }) => (state.client.family === 4 ? m.cidr4 : m.cidr6);
  switch (mechanism.name) {
    case 'all':
      return { matched: true };

    case 'ip4':
    case 'ip6':
      return { matched: networkMatches(state.client, mechanism.name === 'ip4' ? 4 : 6, mechanism.network, mechanism.prefix) };

    case 'a': {
      countLookup(state, mechanism.text);
      const name = await targetName(state, mechanism.target, domain, depth);
      if (!isQueryableName(name)) return { matched: false, note: `"${name}" is not a valid DNS name` };
      const { answer, matched, type } = await addressesMatch(state, name, prefixFor(mechanism), depth);
      if (isVoid(answer, type)) countVoid(state, domain, mechanism.text, depth);
      return { matched };
    }

    case 'mx': {
      countLookup(state, mechanism.text);
      const name = await targetName(state, mechanism.target, domain, depth);
      if (!isQueryableName(name)) return { matched: false, note: `"${name}" is not a valid DNS name` };
      const answer = await query(state, name, 'MX', depth);
      if (isFailure(answer.status)) throw new SpfAbort('temperror', dnsTrouble(answer));
      if (isVoid(answer, 'MX')) {
        countVoid(state, domain, mechanism.text, depth);
        return { matched: false };
      }
      const exchanges = answer.records
        .flatMap((record) => (record.type === 'MX' ? [record] : []))
        .sort((x, y) => x.preference - y.preference)
        .map((record) => normalizeName(record.exchange));
      if (exchanges.length > MAX_NAMES_PER_MECHANISM) {
        throw new SpfAbort('permerror', `"${mechanism.text}": ${name} has ${exchanges.length} MX records; SPF allows at most ${MAX_NAMES_PER_MECHANISM} (RFC 7208 §4.6.4)`);
      }
      for (const exchange of exchanges) {
        // A null MX (RFC 7505, exchange ".") names no host.
        if (exchange === '' || !isQueryableName(exchange)) continue;
        if ((await addressesMatch(state, exchange, prefixFor(mechanism), depth)).matched) return { matched: true, note: `via ${exchange}` };
      }
      return { matched: false };
    }

    case 'ptr': {
      countLookup(state, mechanism.text);
      const target = await targetName(state, mechanism.target, domain, depth);
      const ptr = await ptrNames(state, depth);
      if (!ptr.ok) {
        if (ptr.void) countVoid(state, domain, mechanism.text, depth);
        return { matched: false, note: 'no PTR names for the client address' };
      }
      for (const name of ptr.names) {
        if (isSameOrSubdomain(name, target) && (await isValidatedName(state, name, depth))) return { matched: true, note: `via ${name}` };
      }
      return { matched: false };
    }

    case 'exists': {
      countLookup(state, mechanism.text);
      const name = await targetName(state, mechanism.target, domain, depth);
      if (!isQueryableName(name)) return { matched: false, note: `"${name}" is not a valid DNS name` };
      // Always an A query, whatever the client's family (§5.7).
      const answer = await query(state, name, 'A', depth);
      if (isFailure(answer.status)) throw new SpfAbort('temperror', dnsTrouble(answer));
      if (isVoid(answer, 'A')) {
        countVoid(state, domain, mechanism.text, depth);
        return { matched: false };
      }
      return { matched: true, note: name };
    }

    case 'include': {
      countLookup(state, mechanism.text);
      const target = await targetName(state, mechanism.target, domain, depth);
      const inner = await evaluateDomain(state, target, depth + 1, false);
      // §5.2: pass matches; fail, softfail and neutral do not; none is a permerror.
      if (inner.result === 'none') {
        throw new SpfAbort('permerror', `"${mechanism.text}": ${inner.reason}; an include target must publish an SPF record`);
      }
      return { matched: inner.result === 'pass', note: `${target} gave ${inner.result}` };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// One domain's record (§4.6, §4.7, §6.1)

async function evaluateDomain(state: State, domain: string, depth: number, topLevel: boolean): Promise<Outcome> {
  const none = (reason: string): Outcome => ({ result: 'none', reason, mechanism: null, mechanismDomain: null, explain: null });
  if (topLevel ? !isValidIdentityDomain(domain) : !isQueryableName(domain)) {
    return none(`"${domain}" is not a valid domain name`);
  }
  if (state.chain.includes(domain)) {
    throw new SpfAbort('permerror', `loop: ${[...state.chain, domain].join(' → ')} (a record includes or redirects to itself)`);
  }
  const found = await lookupRecord(state, domain, depth);
  if (found.kind === 'failed') throw new SpfAbort('temperror', found.reason);
  if (found.kind === 'multiple') {
    throw new SpfAbort('permerror', `${domain} publishes ${found.texts.length} SPF records; there must be exactly one (RFC 7208 §4.5)`);
  }
  if (found.kind === 'none') {
    if (!topLevel && found.void) countVoid(state, domain, domain, depth);
    return none(found.reason);
  }
  state.trail.push({ step: 'record', depth, domain, record: found.text });
  const { record, errors } = parseSpfRecord(found.text);
  const firstError = errors[0];
  if (firstError) throw new SpfAbort('permerror', `syntax error in the SPF record of ${domain}: ${firstError.message}`);

  state.chain.push(domain);
  try {
    const outcome = await evaluateRecord(state, record, domain, depth);
    state.trail.push({ step: 'result', depth, domain, result: outcome.result, reason: outcome.reason });
    return outcome;
  } finally {
    state.chain.pop();
  }
}

async function evaluateRecord(state: State, record: SpfRecord, domain: string, depth: number): Promise<Outcome> {
  for (const mechanism of record.mechanisms) {
    const { matched, note } = await evaluateMechanism(state, mechanism, domain, depth);
    state.trail.push({ step: 'term', depth, domain, term: mechanism.text, outcome: matched ? 'match' : 'no-match', ...(note ? { note } : {}) });
    if (!matched) continue;
    const result = QUALIFIER_RESULT[mechanism.qualifier];
    return {
      result,
      reason: `${domain}: "${mechanism.text}" matched`,
      mechanism: mechanism.text,
      mechanismDomain: domain,
      explain: result === 'fail' && record.exp?.target ? { domain, spec: record.exp.target } : null,
    };
  }
  // No mechanism matched: redirect= if any (an "all" would have matched, so it is never ignored here).
  if (record.redirect?.target) {
    countLookup(state, record.redirect.text);
    const target = await targetName(state, record.redirect.target, domain, depth);
    const outcome = await evaluateDomain(state, target, depth + 1, false);
    if (outcome.result === 'none') {
      throw new SpfAbort('permerror', `"${record.redirect.text}": ${outcome.reason}; a redirect target must publish an SPF record`);
    }
    // The target's result stands, with the target's own exp= (§6.1, §6.2).
    return outcome;
  }
  return { result: 'neutral', reason: `${domain}: no mechanism matched (default result)`, mechanism: null, mechanismDomain: null, explain: null };
}

// ---------------------------------------------------------------------------------------------
// Explanation (§6.2)

/** The exp= text, or null when it cannot be had (any trouble means "use the default"). */
async function explanation(state: State, explain: { domain: string; spec: DomainSpec }): Promise<string | null> {
  try {
    const name = await targetName(state, explain.spec, explain.domain, 0);
    if (!isQueryableName(name)) return null;
    // Looked up once, after the result is known; not a counted or void lookup (§4.6.4).
    const answer = await query(state, name, 'TXT', 0);
    if (answer.status !== 'NOERROR') return null;
    const texts = answer.records.flatMap((record) => (record.type === 'TXT' ? [record.text] : []));
    if (texts.length !== 1) return null;
    const parsed = parseMacroString(texts[0] as string, 'explanation');
    if (!parsed.ok) return null;
    return expandMacros(parsed.tokens, await macroValues(state, explain.domain, usesLetter(parsed.tokens, 'p'), 0));
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------

function splitSender(sender: string, domain: string): { sender: string; localPart: string; senderDomain: string } {
  const at = sender.lastIndexOf('@');
  const localPart = at > 0 ? sender.slice(0, at) : 'postmaster';
  const senderDomain = normalizeName(at >= 0 ? sender.slice(at + 1) : sender) || domain;
  return { sender: `${localPart}@${senderDomain}`, localPart, senderDomain };
}

export async function checkHost(resolver: Resolver, input: CheckHostInput, options: CheckHostOptions = {}): Promise<SpfCheckResult> {
  const settings = { ...DEFAULTS, ...options };
  const now = options.now ?? (() => Date.now());
  const domain = normalizeName(input.domain.trim());
  const { sender, localPart, senderDomain } = splitSender(input.sender?.trim() || `postmaster@${domain}`, domain);
  const client = parseClientAddress(input.ip);
  const base: SpfCheckResult = {
    result: 'none',
    reason: '',
    explanation: null,
    domain,
    sender,
    ip: client?.text ?? input.ip,
    record: null,
    mechanism: null,
    mechanism_domain: null,
    dns_lookups: 0,
    void_lookups: 0,
    dns_queries: 0,
    spf_rr_records: null,
    trail: [],
  };
  if (client === null) return { ...base, reason: `"${input.ip}" is not an IPv4 or IPv6 address` };

  const state: State = {
    resolver,
    client,
    sender,
    localPart,
    senderDomain,
    helo: input.helo?.trim() || 'unknown',
    receiver: settings.receiver,
    now,
    startedAt: now(),
    limits: { lookups: settings.lookupLimit, voids: settings.voidLookupLimit, queries: settings.maxQueries, timeMs: settings.timeLimitMs },
    lookups: 0,
    voids: 0,
    queries: 0,
    trail: base.trail,
    chain: [],
    ptrNames: null,
    validated: new Map(),
  };

  let outcome: Outcome | SpfAbort;
  try {
    outcome = await evaluateDomain(state, domain, 0, true);
  } catch (error) {
    if (!(error instanceof SpfAbort)) throw error;
    outcome = error;
  }

  let explanationText: string | null = null;
  if (!(outcome instanceof SpfAbort) && outcome.result === 'fail') {
    explanationText = (outcome.explain ? await explanation(state, outcome.explain) : null) ?? settings.defaultExplanation;
  }

  let spfRR: string[] | null = null;
  if (settings.reportSpfRR !== false && isValidIdentityDomain(domain) && state.queries < state.limits.queries) {
    // Reported only: RFC 7208 §3.1 retired the SPF RR type, so it never affects the result.
    const answer = await query(state, domain, 'SPF', 0).catch(() => null);
    if (answer?.status === 'NOERROR') spfRR = answer.records.flatMap((record) => (record.type === 'SPF' ? [record.text] : []));
  }

  const rootRecord = state.trail.find((step) => step.step === 'record' && step.depth === 0);
  const common = {
    ...base,
    record: rootRecord?.step === 'record' ? rootRecord.record : null,
    dns_lookups: state.lookups,
    void_lookups: state.voids,
    dns_queries: state.queries,
    spf_rr_records: spfRR,
  };
  if (outcome instanceof SpfAbort) return { ...common, result: outcome.result, reason: outcome.reason };
  return {
    ...common,
    result: outcome.result,
    reason: outcome.reason,
    explanation: explanationText,
    mechanism: outcome.mechanism,
    mechanism_domain: outcome.mechanismDomain,
  };
}
