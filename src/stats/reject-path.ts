/**
 * The path to p=reject (docs/reject-path.md): from a domain's last 30 days of DMARC aggregate data,
 * who still fails DMARC and why, what quarantine and reject would do to today's mail, and the next
 * safe policy step with the exact record to publish. Pure: the caller gathers the figures
 * (src/stats/reject-path-data.ts) and this module decides, so the decision is tested on hand-built
 * inputs (test/node/reject-path.test.ts).
 */
import { parseDmarcRecord, suggestRecord, type DmarcTagName, type PolicyValue } from '../dns/dmarc/parse';

/** One source IP that failed DMARC in the window, as the roll-ups and the reverse-DNS cache know it. */
export interface FailingSourceInput {
  source_ip: string;
  messages: number;
  dmarc_pass: number;
  /** Messages whose aligned DKIM passed (a roll-up column). */
  dkim_pass: number;
  /** Messages whose aligned SPF passed. */
  spf_pass: number;
  quarantined: number;
  rejected: number;
  /** Failing DMARC and not rejected by the receiver (roll-up `fail_not_rejected`). */
  fail_not_rejected: number;
  ptr: string | null;
  base_domain: string | null;
  service: { name: string; type: string | null } | null;
  /** `ok`, `no-ptr`, `not-confirmed`, `dns-failure`, or null when the address was not looked up yet. */
  lookup_status: string | null;
  /** Failing messages whose receiver said why it did not apply the policy: forwarded, mailing_list, trusted_forwarder (from a bounded sample of records). */
  forwarding_overrides: number;
}

export interface RejectPathInput {
  domain: string;
  from: string;
  to: string;
  messages: number;
  dmarc_pass: number;
  /** Distinct days with reports in the window. */
  report_days: number;
  /** The failing sources, most failing first; possibly cut at a limit (see `omitted`). */
  sources: FailingSourceInput[];
  /** Failing sources and their failing / fail-not-rejected messages beyond the cut. */
  omitted: { sources: number; dmarc_fail: number; fail_not_rejected: number; quarantined: number };
  /** The DMARC record of the domain's latest complete check, if any. */
  record: string | null;
  /** Where the check found it: the domain itself, or a parent whose record covers it (its sp, else p, applies). */
  policy_domain?: string | null;
  /** The policy in the most recent report (policy_published), used when no check has found a record. */
  reported: { p: string | null; pct: number | null } | null;
  /**
   * The first day from which every report of the window shows the current policy (p and pct);
   * null when no report shows it yet (it changed after the last report).
   */
  policy_since: string | null;
}

export type Category = 'legitimate' | 'forwarded' | 'unknown';

export type Reason =
  | 'receiver-override' // receivers marked most of its failing mail forwarded / mailing list
  | 'own-infrastructure' // its confirmed name is in the domain itself
  | 'known-service' // its confirmed name maps to a sending service
  | 'dkim-survived' // it relays the domain's signed mail intact, yet never passes SPF: a forwarder
  | 'network-operator' // an ISP / web host / IaaS address: anyone's server could be there
  | 'unmapped-name' // a confirmed name no service list knows
  | 'no-identity' // no PTR, or a PTR that does not confirm
  | 'not-looked-up'; // the reverse-DNS lookup has not run (or failed) yet

export interface ClassifiedSource {
  source_ip: string;
  ptr: string | null;
  base_domain: string | null;
  service: { name: string; type: string | null } | null;
  messages: number;
  dmarc_fail: number;
  would_be_quarantined: number;
  would_be_rejected: number;
  category: Category;
  reason: Reason;
}

export interface Step {
  p: PolicyValue;
  pct: number;
}

export interface Condition {
  id: 'volume' | 'pass-rate' | 'no-legitimate-failing' | 'settled';
  met: boolean;
  text: string;
}

export interface RejectPath {
  domain: string;
  from: string;
  to: string;
  messages: number;
  dmarc_pass: number;
  dmarc_fail: number;
  pass_rate: number | null;
  /** Pass rate over mail from identified senders (spoofing and unknown left out): what the step is judged on. */
  identified_pass_rate: number | null;
  current: {
    record: string | null;
    source: 'check' | 'reports' | 'none';
    /** The domain whose record applies (a parent's when the domain has none of its own); null without a check. */
    policy_domain: string | null;
    p: PolicyValue | null;
    sp: PolicyValue | null;
    pct: number;
    since: string | null;
  };
  categories: Record<Category, { sources: number; dmarc_fail: number; would_be_rejected: number }>;
  /** What each policy at pct=100 would do to the window's mail beyond what receivers already did. */
  impact: { quarantine: { messages: number; share: number | null }; reject: { messages: number; share: number | null } };
  sources: ClassifiedSource[];
  omitted_sources: number;
  next_step: {
    /** Null when the domain is at p=reject with pct=100 already. */
    step: Step | null;
    ready: boolean;
    record: string;
    conditions: Condition[];
    notes: string[];
  };
}

/**
 * Thresholds. Why these values:
 * - MIN_MESSAGES 100: below that one message is a whole per cent, so a pass rate says little.
 * - MIN_REPORT_DAYS 7: reports on at least a week of days, so the window is not one burst or one
 *   receiver's view (a domain's monthly newsletter alone would not show its other senders).
 * - MIN_PASS_RATE 0.98: the industry rule of thumb (M3AAWG, dmarc.org guidance) for going to
 *   enforcement; the 2% left is usually forwarding and stray one-offs. It is measured on mail from
 *   identified senders, since spoofing is what enforcement is for and must not hold the domain back.
 * - LEGITIMATE_FAIL_TOLERANCE 5 messages: a known service with a handful of failures in 30 days is
 *   noise (a retried bounce, a forward through the provider); more means a stream to fix.
 * - MIN_DAYS_AT_STEP 14: two weeks at a step, so weekly and fortnightly senders have had their turn
 *   to show up in reports before the next step.
 */
export const MIN_MESSAGES = 100;
export const MIN_REPORT_DAYS = 7;
export const MIN_PASS_RATE = 0.98;
export const LEGITIMATE_FAIL_TOLERANCE = 5;
export const MIN_DAYS_AT_STEP = 14;

/** The ladder: monitor, then quarantine a growing share, then reject. pct is RFC 7489's sampling. */
export const LADDER: readonly Step[] = [
  { p: 'none', pct: 100 },
  { p: 'quarantine', pct: 25 },
  { p: 'quarantine', pct: 50 },
  { p: 'quarantine', pct: 100 },
  { p: 'reject', pct: 100 },
];

/** Sender-map types that name a network, not a sender: a customer's server, a botnet or a forwarder may sit there. */
const NETWORK_TYPES = new Set(['isp', 'web host', 'iaas']);
/** Mailbox providers and gateways: they send their customers' mail and forward their users' mail. */
const RELAY_TYPES = new Set(['email provider', 'email security']);

const inDomain = (name: string, domain: string) => name === domain || name.endsWith(`.${domain}`) || domain.endsWith(`.${name}`);

/**
 * Why a source fails, from the strongest evidence down: receivers' own override reasons; a name
 * in the domain itself; a relay that delivers the domain's DKIM-signed mail intact but never passes
 * SPF (the forwarding signature in roll-up figures: aligned DKIM passes at an address outside SPF);
 * a known sending service; otherwise spoofing or a sender no one has identified.
 */
export function classifySource(s: FailingSourceInput, domain: string): { category: Category; reason: Reason } {
  const failing = s.messages - s.dmarc_pass;
  if (s.forwarding_overrides > 0 && s.forwarding_overrides * 2 >= failing) return { category: 'forwarded', reason: 'receiver-override' };
  if (s.base_domain && inDomain(s.base_domain, domain)) return { category: 'legitimate', reason: 'own-infrastructure' };
  const dkimSurvived = s.dkim_pass > 0 && s.spf_pass === 0;
  const type = s.service?.type?.toLowerCase() ?? '';
  if (s.service && !NETWORK_TYPES.has(type) && !(RELAY_TYPES.has(type) && dkimSurvived)) return { category: 'legitimate', reason: 'known-service' };
  if (dkimSurvived) return { category: 'forwarded', reason: 'dkim-survived' };
  if (s.service) return { category: 'unknown', reason: 'network-operator' };
  if (s.lookup_status === 'ok') return { category: 'unknown', reason: 'unmapped-name' };
  if (s.lookup_status === 'no-ptr' || s.lookup_status === 'not-confirmed') return { category: 'unknown', reason: 'no-identity' };
  return { category: 'unknown', reason: 'not-looked-up' };
}

const asPolicy = (v: string | null | undefined): PolicyValue | null => (v === 'none' || v === 'quarantine' || v === 'reject' ? v : null);

/** The step of the ladder at or just below the current policy (pct rounds down to a rung). */
export function currentRung(p: PolicyValue | null, pct: number): number {
  if (p === null || p === 'none') return 0;
  if (p === 'reject') return pct >= 100 ? 4 : 3; // reject with pct<100 quarantines the rest (RFC 7489 §6.6.4)
  if (pct >= 100) return 3;
  if (pct >= 50) return 2;
  return 1;
}

/** The record to publish for a step: the current record's valid tags kept (rua, ruf, adkim, aspf, sp, fo ...), p and pct set. */
export function recordFor(current: string | null, step: Step, changes: Partial<Record<DmarcTagName, string | null>> = {}): string {
  const parsed = current ? parseDmarcRecord(current) : null;
  // pct=100 is the default: leave it out rather than publish noise.
  return suggestRecord(parsed, { ...changes, p: step.p, pct: step.pct === 100 ? null : String(step.pct) });
}

const share = (n: number, of: number) => (of > 0 ? n / of : null);
const percent = (x: number) => `${(Math.floor(x * 1000) / 10).toFixed(1)}%`;

export function decideRejectPath(input: RejectPathInput): RejectPath {
  const parsed = input.record ? parseDmarcRecord(input.record) : null;
  const source: RejectPath['current']['source'] = input.record ? 'check' : input.reported?.p ? 'reports' : 'none';
  // A record found at a parent covers the domain with its sp (else p) (RFC 7489 §6.6.3); the step is
  // then a record of the domain's own at _dmarc.<domain>, so the parent's other domains stay as they are.
  const inherited = parsed !== null && !!input.policy_domain && input.policy_domain !== input.domain;
  const p = parsed ? (inherited ? (parsed.policy.sp ?? parsed.policy.p) : parsed.policy.p) : asPolicy(input.reported?.p);
  const pct = parsed ? parsed.policy.pct : (input.reported?.pct ?? 100);
  const sp = parsed && !inherited ? asPolicy(parsed.explicit.sp) : null;

  const categories: RejectPath['categories'] = {
    legitimate: { sources: 0, dmarc_fail: 0, would_be_rejected: 0 },
    forwarded: { sources: 0, dmarc_fail: 0, would_be_rejected: 0 },
    unknown: { sources: 0, dmarc_fail: 0, would_be_rejected: 0 },
  };
  let quarantineImpact = 0;
  const sources: ClassifiedSource[] = input.sources.map((s) => {
    const { category, reason } = classifySource(s, input.domain);
    const dmarcFail = s.messages - s.dmarc_pass;
    // Failing mail the receivers delivered normally; quarantine at 100% would move it to spam.
    // Quarantined mail counts only once: it fails too (a receiver quarantines failing mail).
    const quarantinable = Math.max(0, s.fail_not_rejected - s.quarantined);
    quarantineImpact += quarantinable;
    const bucket = categories[category];
    bucket.sources++;
    bucket.dmarc_fail += dmarcFail;
    bucket.would_be_rejected += s.fail_not_rejected;
    return {
      source_ip: s.source_ip,
      ptr: s.ptr,
      base_domain: s.base_domain,
      service: s.service,
      messages: s.messages,
      dmarc_fail: dmarcFail,
      would_be_quarantined: quarantinable,
      would_be_rejected: s.fail_not_rejected,
      category,
      reason,
    };
  });
  // Sources beyond the cut are unclassified: counted as unknown, which never lets a step through.
  categories.unknown.sources += input.omitted.sources;
  categories.unknown.dmarc_fail += input.omitted.dmarc_fail;
  categories.unknown.would_be_rejected += input.omitted.fail_not_rejected;
  quarantineImpact += Math.max(0, input.omitted.fail_not_rejected - input.omitted.quarantined);
  const rejectImpact = sources.reduce((n, s) => n + s.would_be_rejected, 0) + input.omitted.fail_not_rejected;

  const dmarcFail = input.messages - input.dmarc_pass;
  const identified = input.messages - categories.unknown.dmarc_fail;
  const identifiedPassRate = share(input.dmarc_pass, identified);

  const rung = currentRung(p, pct);
  // Without any record the first step is to publish one at p=none: always safe, it only asks for reports.
  const step = source === 'none' ? LADDER[0]! : rung < LADDER.length - 1 ? LADDER[rung + 1]! : null;
  const legitimateFailing = sources.filter((s) => s.category === 'legitimate' && s.dmarc_fail >= LEGITIMATE_FAIL_TOLERANCE);
  const daysAtStep = input.policy_since ? Math.round((Date.parse(input.to) - Date.parse(input.policy_since)) / 86_400_000) + 1 : 0;

  const conditions: Condition[] = [
    {
      id: 'volume',
      met: input.messages >= MIN_MESSAGES && input.report_days >= MIN_REPORT_DAYS,
      text: `At least ${MIN_MESSAGES} messages on at least ${MIN_REPORT_DAYS} days of reports (now ${input.messages} on ${input.report_days}).`,
    },
    {
      id: 'pass-rate',
      met: identifiedPassRate !== null && identifiedPassRate >= MIN_PASS_RATE,
      text: `At least ${percent(MIN_PASS_RATE)} of mail from identified senders passes DMARC (now ${identifiedPassRate === null ? 'no mail' : percent(identifiedPassRate)}; spoofing and unknown senders left out).`,
    },
    {
      id: 'no-legitimate-failing',
      met: legitimateFailing.length === 0,
      text:
        legitimateFailing.length === 0
          ? 'No known service or server of your own fails DMARC.'
          : `Fix DKIM or SPF alignment first for: ${[...new Set(legitimateFailing.map((s) => s.service?.name ?? s.base_domain ?? s.source_ip))].join(', ')}.`,
    },
    {
      id: 'settled',
      met: step === null || rung === 0 || daysAtStep >= MIN_DAYS_AT_STEP,
      text:
        rung === 0
          ? 'Monitoring (p=none) needs no time at the step beyond the reports above.'
          : `At least ${MIN_DAYS_AT_STEP} days of reports at the current policy (now ${daysAtStep}).`,
    },
  ];

  const notes: string[] = [];
  if (source === 'none') notes.push('No DMARC record found: publish p=none with a rua address first, to receive reports.');
  if (source === 'reports') notes.push('No check has found the record yet: the policy comes from the latest report; other tags (rua, ruf …) could not be kept.');
  if (inherited) {
    notes.push(`${input.domain} has no DMARC record of its own: the record of ${input.policy_domain} applies. Publish the record below at _dmarc.${input.domain}, or change sp at ${input.policy_domain} for all its sub-domains.`);
  }
  if (step && step.p !== 'none' && input.record && !inherited && !parsed?.explicit.sp) {
    notes.push('No sp tag: sub-domains follow p. Add sp=none (or sp=quarantine) if sub-domains send mail that is not yet aligned.');
  }
  if (categories.forwarded.would_be_rejected > 0) {
    notes.push(`${categories.forwarded.would_be_rejected} forwarded messages would be affected: receivers that honour ARC or mark them forwarded often deliver them anyway; DKIM-sign every stream so forwarding keeps passing.`);
  }
  if (categories.unknown.would_be_rejected > 0) {
    notes.push('Check the unknown senders: spoofing is what enforcement stops, but a server of your own without reverse DNS would look the same.');
  }

  const ready = step === null || source === 'none' || conditions.every((c) => c.met);
  const target = step ?? LADDER[LADDER.length - 1]!;
  return {
    domain: input.domain,
    from: input.from,
    to: input.to,
    messages: input.messages,
    dmarc_pass: input.dmarc_pass,
    dmarc_fail: dmarcFail,
    pass_rate: share(input.dmarc_pass, input.messages),
    identified_pass_rate: identifiedPassRate,
    current: { record: input.record, source, policy_domain: input.record ? (input.policy_domain ?? input.domain) : null, p, sp, pct, since: input.policy_since },
    categories,
    impact: {
      quarantine: { messages: quarantineImpact, share: share(quarantineImpact, input.messages) },
      reject: { messages: rejectImpact, share: share(rejectImpact, input.messages) },
    },
    sources,
    omitted_sources: input.omitted.sources,
    next_step: {
      step,
      ready,
      record:
        source === 'none'
          ? 'v=DMARC1; p=none'
          : recordFor(input.record ?? `v=DMARC1; p=${p ?? 'none'}`, target, inherited ? { sp: null } : {}),
      conditions,
      notes,
    },
  };
}
