import type { DnsAnswer, DnsRecord, DnsStatus, Resolver, RRType } from '../resolver.ts';
import { expandMacros, type MacroToken } from './macros.ts';
import { isQueryableName, isValidIdentityDomain, normalizeName, truncateName } from './names.ts';
import { isSpfRecordText, parseSpfRecord, type DomainSpec, type Mechanism, type SpfRecord, type SpfSyntaxError } from './parse.ts';
import { finding, type Severity, type SpfFinding } from './rules.ts';

/**
 * Record-level evaluation, with no sending IP: the domain's record, its include tree walked in full
 * (past the 10-lookup limit, so an owner sees where the lookups go), and findings.
 */

export type SpfNodeStatus =
  | 'ok'
  | 'syntax-error'
  | 'no-record'
  | 'nxdomain'
  | 'multiple-records'
  | 'dns-failure'
  | 'loop'
  | 'not-followed'
  | 'over-budget';

export interface SpfLookupNode {
  domain: string;
  /** The term that led here (`include:…`, `redirect=…`); null at the root. */
  via: string | null;
  status: SpfNodeStatus;
  record: string | null;
  /** DNS-querying terms in this record itself (redirect= only when it can take effect). */
  lookups: number;
  /** `lookups` plus those of every record this one includes or redirects to. */
  total_lookups: number;
  /** Terms of this record whose lookup found nothing (an include of a missing record counts too). */
  void_lookups: number;
  detail?: string;
  children: SpfLookupNode[];
}

export interface SpfFacts {
  /** DNS-querying terms across the whole tree; > 10 is a permerror at receivers. */
  dns_lookups: number;
  void_lookups: number;
  lookup_tree: SpfLookupNode | null;
  /** False when some target could not be followed (macros, size), so the counts are lower bounds. */
  complete: boolean;
  record_length: number | null;
  /** Estimated size of the whole TXT answer at the domain, in bytes (UDP answers fit in 512). */
  txt_answer_bytes: number | null;
  /** Records of the deprecated SPF (type 99) RR; null if the lookup failed. */
  spf_rr_records: string[] | null;
  dns_queries: number;
}

export type SpfEvaluationStatus = 'valid' | 'invalid' | 'none' | 'multiple' | 'dns-failure' | 'invalid-domain';

export interface SpfEvaluation {
  domain: string;
  status: SpfEvaluationStatus;
  record: string | null;
  parsed: SpfRecord | null;
  syntax_errors: SpfSyntaxError[];
  facts: SpfFacts;
  /** Most severe first. */
  findings: SpfFinding[];
}

export interface EvaluateSpfOptions {
  /** DNS queries the walk may make; past it, branches are marked over-budget. */
  maxQueries?: number;
  /** Records the walk may fetch. */
  maxRecords?: number;
}

const LIMIT = 10;
const VOID_LIMIT = 2;
const MAX_MX = 10;

interface Walk {
  resolver: Resolver;
  root: string;
  queries: number;
  records: number;
  maxQueries: number;
  maxRecords: number;
  findings: SpfFinding[];
  complete: boolean;
}

class OverBudget {}

async function query(walk: Walk, name: string, type: RRType): Promise<DnsAnswer> {
  if (walk.queries >= walk.maxQueries) throw new OverBudget();
  walk.queries += 1;
  try {
    return await walk.resolver.query(name, type);
  } catch (error) {
    return { name, type, status: 'ERROR', records: [], authenticated: false, cnames: [], error: String(error) };
  }
}

const failed = (status: DnsStatus) => status !== 'NOERROR' && status !== 'NXDOMAIN';
const describeFailure = (answer: DnsAnswer) =>
  `the ${answer.type} lookup of ${answer.name} failed (${answer.status}${answer.error ? `: ${answer.error}` : ''})`;
const hasType = (answer: DnsAnswer, type: RRType) => answer.records.some((record) => record.type === type);

/**
 * Without a sender or IP, only %{d} and %{o} have values; targets using other macros cannot be
 * followed (null).
 */
function staticTarget(spec: DomainSpec | null, domain: string, root: string): string | null {
  if (spec === null) return domain;
  if (spec.tokens.some((token: MacroToken) => token.kind === 'macro' && token.letter !== 'd' && token.letter !== 'o')) return null;
  const values = { s: '', l: '', o: root, d: domain, i: '', p: '', h: '', c: '', r: '', t: '', v: '' };
  const expanded = expandMacros(spec.tokens, values);
  return truncateName(expanded.endsWith('.') ? expanded.slice(0, -1) : expanded).toLowerCase();
}

/** Query a mechanism's target and report whether the term is void; DNS failures become findings. */
async function probe(walk: Walk, node: SpfLookupNode, term: string, name: string, types: RRType[]): Promise<DnsAnswer[] | null> {
  const answers = await Promise.all(types.map((type) => query(walk, name, type)));
  const failure = answers.find((answer) => failed(answer.status));
  if (failure) {
    walk.findings.push(finding('spf.dns-failure', node.domain, `"${term}": ${describeFailure(failure)}`));
    return null;
  }
  if (answers.every((answer, index) => !hasType(answer, types[index] as RRType))) node.void_lookups += 1;
  return answers;
}

async function walkDomain(
  walk: Walk,
  domain: string,
  via: string | null,
  ancestors: string[],
  fetched?: DnsAnswer,
): Promise<SpfLookupNode> {
  const node: SpfLookupNode = { domain, via, status: 'ok', record: null, lookups: 0, total_lookups: 0, void_lookups: 0, children: [] };
  if (ancestors.includes(domain)) {
    node.status = 'loop';
    node.detail = [...ancestors, domain].join(' → ');
    walk.findings.push(finding('spf.loop', ancestors[ancestors.length - 1] ?? domain, `"${via}" leads back to ${domain}: ${node.detail}`));
    return node;
  }
  if (walk.records >= walk.maxRecords) throw new OverBudget();
  walk.records += 1;
  const answer = fetched ?? (await query(walk, domain, 'TXT'));
  const parent = ancestors[ancestors.length - 1] ?? domain;
  if (failed(answer.status)) {
    node.status = 'dns-failure';
    node.detail = describeFailure(answer);
    walk.findings.push(finding('spf.dns-failure', domain, `${via ? `"${via}": ` : ''}${node.detail}`));
    return node;
  }
  const texts = answer.records.flatMap((record) => (record.type === 'TXT' && isSpfRecordText(record.text) ? [record.text] : []));
  if (answer.status === 'NXDOMAIN' || texts.length === 0) {
    node.status = answer.status === 'NXDOMAIN' ? 'nxdomain' : 'no-record';
    if (via !== null) {
      const missing = answer.status === 'NXDOMAIN';
      walk.findings.push(
        finding(
          missing ? 'spf.include-missing' : 'spf.include-no-spf',
          parent,
          missing ? `"${via}": ${domain} does not exist` : `"${via}": ${domain} has no SPF record`,
        ),
      );
    }
    return node;
  }
  if (texts.length > 1) {
    node.status = 'multiple-records';
    const records = texts.map((t) => `"${t}"`).join(', ');
    walk.findings.push(finding('spf.multiple-records', domain, `${via ? `"${via}": ` : ''}${domain} publishes ${texts.length} SPF records: ${records}`));
    return node;
  }
  const text = texts[0] as string;
  node.record = text;
  const { record, errors } = parseSpfRecord(text);
  if (errors.length > 0) {
    node.status = 'syntax-error';
    for (const error of errors) {
      const id = error.code === 'exp-multiple' ? 'spf.exp-multiple' : error.code === 'redirect-multiple' ? 'spf.redirect-multiple' : 'spf.syntax';
      walk.findings.push(finding(id, domain, `${domain}: ${error.message}`));
    }
  }
  await walkTerms(walk, node, record, [...ancestors, domain]);
  node.total_lookups = node.lookups + node.children.reduce((sum, child) => sum + child.total_lookups, 0);
  return node;
}

async function followTarget(walk: Walk, node: SpfLookupNode, term: string, spec: DomainSpec, path: string[]): Promise<void> {
  const target = staticTarget(spec, node.domain, walk.root);
  let child: SpfLookupNode;
  if (target === null || !isQueryableName(target)) {
    walk.complete = false;
    child = notFollowed(target ?? spec.text, term, target === null ? 'depends on the sender or connecting IP (macros)' : 'not a valid DNS name');
  } else {
    try {
      child = await walkDomain(walk, target, term, path);
    } catch (error) {
      if (!(error instanceof OverBudget)) throw error;
      walk.complete = false;
      child = { ...notFollowed(target, term, 'not followed: the include tree is too large'), status: 'over-budget' };
    }
    if (child.status === 'nxdomain' || child.status === 'no-record') node.void_lookups += 1;
  }
  node.children.push(child);
}

function notFollowed(domain: string, via: string, detail: string): SpfLookupNode {
  return { domain, via, status: 'not-followed', record: null, lookups: 0, total_lookups: 0, void_lookups: 0, detail, children: [] };
}

async function walkTerms(walk: Walk, node: SpfLookupNode, record: SpfRecord, path: string[]): Promise<void> {
  let ptrReported = false;
  for (const mechanism of record.mechanisms) {
    if (mechanism.name === 'all' || mechanism.name === 'ip4' || mechanism.name === 'ip6') continue;
    node.lookups += 1;
    try {
      await walkMechanism(walk, node, mechanism, path);
    } catch (error) {
      if (!(error instanceof OverBudget)) throw error;
      walk.complete = false;
    }
    if (mechanism.name === 'ptr' && !ptrReported) {
      ptrReported = true;
      walk.findings.push(finding('spf.ptr-used', node.domain, `${node.domain}: "${mechanism.text}"`));
    }
  }
  // redirect= takes effect only when the record has no "all" (§6.1).
  if (record.redirect?.target && !record.mechanisms.some((m) => m.name === 'all')) {
    node.lookups += 1;
    await followTarget(walk, node, record.redirect.text, record.redirect.target, path);
  }
}

async function walkMechanism(walk: Walk, node: SpfLookupNode, mechanism: Mechanism, path: string[]): Promise<void> {
  switch (mechanism.name) {
    case 'include':
      await followTarget(walk, node, mechanism.text, mechanism.target, path);
      if (mechanism.qualifier === '+') {
        const child = node.children[node.children.length - 1];
        const childAll = child?.record ? parseSpfRecord(child.record).record.mechanisms.find((m) => m.name === 'all') : undefined;
        if (child && childAll?.qualifier === '+') {
          walk.findings.push(
            finding('spf.plus-all', node.domain, `"${mechanism.text}" passes every sender: ${child.domain} ends in "${childAll.text}"`),
          );
        }
      }
      return;
    case 'a':
    case 'mx':
    case 'exists': {
      const target = staticTarget(mechanism.target, node.domain, walk.root);
      if (target === null || !isQueryableName(target)) return;
      if (mechanism.name === 'a') {
        // A sender of either family may be checked; the term is void when neither has addresses.
        await probe(walk, node, mechanism.text, target, ['A', 'AAAA']);
      } else if (mechanism.name === 'exists') {
        await probe(walk, node, mechanism.text, target, ['A']);
      } else {
        const answers = await probe(walk, node, mechanism.text, target, ['MX']);
        const count = answers?.[0]?.records.filter((record: DnsRecord) => record.type === 'MX').length ?? 0;
        if (count > MAX_MX) {
          walk.findings.push(finding('spf.mx-too-many', node.domain, `"${mechanism.text}": ${target} has ${count} MX records (at most ${MAX_MX})`));
        }
      }
      return;
    }
    case 'ptr':
      return;
  }
}

// ---------------------------------------------------------------------------------------------

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text).length;

/** Header, question, and one answer RR per TXT record (name compressed to a pointer). */
function estimateTxtAnswer(domain: string, answer: DnsAnswer): number {
  const qname = domain.split('.').reduce((sum, label) => sum + bytes(label) + 1, 1);
  const rrs = answer.records.reduce((sum, record) => {
    if (record.type !== 'TXT') return sum;
    const rdata = record.strings.reduce((total, string) => total + bytes(string) + 1, 0);
    return sum + 2 + 10 + rdata;
  }, 0);
  return 12 + qname + 4 + rrs;
}

function recordFindings(domain: string, record: SpfRecord): SpfFinding[] {
  const findings: SpfFinding[] = [];
  const allIndex = record.mechanisms.findIndex((m) => m.name === 'all');
  if (allIndex >= 0 && record.redirect) {
    findings.push(finding('spf.redirect-with-all', domain, `"${record.redirect.text}" is ignored because the record has "${record.mechanisms[allIndex]?.text}"`));
  }
  const after = allIndex >= 0 ? record.mechanisms.slice(allIndex + 1) : [];
  if (after.length > 0) {
    findings.push(finding('spf.terms-after-all', domain, `never evaluated: ${after.map((m) => `"${m.text}"`).join(', ')}`));
  }
  const firstModifier = record.terms.find((term) => term.type === 'modifier');
  const lateMechanism = firstModifier ? record.mechanisms.find((m) => m.position > firstModifier.position) : undefined;
  if (firstModifier && lateMechanism) {
    findings.push(finding('spf.modifier-before-mechanism', domain, `"${firstModifier.text}" comes before "${lateMechanism.text}"`));
  }
  for (const modifier of record.unknownModifiers) {
    findings.push(finding('spf.unknown-modifier', domain, `"${modifier.text}" is not a modifier receivers know`));
  }
  return findings;
}

/** The "all" that ends the policy: the root's, or, failing that, the redirect target's, and so on. */
function policyFindings(root: SpfLookupNode): SpfFinding[] {
  let node: SpfLookupNode | undefined = root;
  const seen = new Set<SpfLookupNode>();
  while (node?.record && !seen.has(node)) {
    seen.add(node);
    const { record } = parseSpfRecord(node.record);
    const all = record.mechanisms.find((m) => m.name === 'all');
    const via: string = node === root ? '' : ` (reached through redirect from ${root.domain})`;
    if (all) {
      if (all.qualifier === '+') return [finding('spf.plus-all', node.domain, `${node.domain} ends its policy with "${all.text}"${via}`)];
      if (all.qualifier === '?') return [finding('spf.neutral-all', node.domain, `${node.domain} ends its policy with "${all.text}"${via}`)];
      return [];
    }
    if (!record.redirect) return [finding('spf.no-all', node.domain, `${node.domain}'s record has neither "all" nor redirect=${via}`)];
    node = node.children.find((child) => child.via === record.redirect?.text);
  }
  return [];
}

function lookupFindings(domain: string, tree: SpfLookupNode, complete: boolean): SpfFinding[] {
  const total = tree.total_lookups;
  const atLeast = complete ? '' : 'at least ';
  const branches = tree.children
    .filter((child) => child.total_lookups > 0)
    .sort((a, b) => b.total_lookups - a.total_lookups)
    .map((child) => `${child.via} (${child.total_lookups + 1})`)
    .slice(0, 5);
  const where = branches.length > 0 ? `; the costliest branches, counting the term itself: ${branches.join(', ')}` : '';
  if (total > LIMIT) return [finding('spf.too-many-lookups', domain, `${atLeast}${total} DNS lookups, the limit is ${LIMIT}${where}`)];
  if (total === LIMIT) return [finding('spf.close-to-lookup-limit', domain, `${atLeast}${total} of ${LIMIT} DNS lookups used${where}`, 'warning')];
  if (total >= 7) return [finding('spf.close-to-lookup-limit', domain, `${atLeast}${total} of ${LIMIT} DNS lookups used${where}`, 'info')];
  return [];
}

function sumVoids(node: SpfLookupNode): number {
  return node.void_lookups + node.children.reduce((sum, child) => sum + sumVoids(child), 0);
}

const RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export async function evaluateSpf(resolver: Resolver, domainInput: string, options: EvaluateSpfOptions = {}): Promise<SpfEvaluation> {
  const domain = normalizeName(domainInput.trim());
  const walk: Walk = {
    resolver,
    root: domain,
    queries: 0,
    records: 0,
    maxQueries: options.maxQueries ?? 200,
    maxRecords: options.maxRecords ?? 40,
    findings: [],
    complete: true,
  };
  const facts: SpfFacts = {
    dns_lookups: 0,
    void_lookups: 0,
    lookup_tree: null,
    complete: true,
    record_length: null,
    txt_answer_bytes: null,
    spf_rr_records: null,
    dns_queries: 0,
  };
  const result = (status: SpfEvaluationStatus, extra: Partial<SpfEvaluation> = {}): SpfEvaluation => {
    facts.dns_queries = walk.queries;
    facts.complete = walk.complete;
    const findings = [...walk.findings].sort((a, b) => RANK[a.severity] - RANK[b.severity]);
    return { domain, status, record: null, parsed: null, syntax_errors: [], facts, findings, ...extra };
  };

  if (!isValidIdentityDomain(domain)) {
    walk.findings.push(finding('spf.invalid-domain', domain, `"${domainInput}" is not a valid domain name`));
    return result('invalid-domain');
  }

  const [txt, spfRR] = await Promise.all([query(walk, domain, 'TXT'), query(walk, domain, 'SPF')]);
  if (spfRR.status === 'NOERROR') {
    facts.spf_rr_records = spfRR.records.flatMap((record) => (record.type === 'SPF' ? [record.text] : []));
    if (facts.spf_rr_records.length > 0) {
      walk.findings.push(finding('spf.deprecated-spf-rr', domain, `type SPF record(s): ${facts.spf_rr_records.map((t) => `"${t}"`).join(', ')}`));
    }
  }
  if (failed(txt.status)) {
    walk.findings.push(finding('spf.dns-failure', domain, `${describeFailure(txt)}; the SPF record could not be read`));
    return result('dns-failure');
  }
  if (txt.status === 'NXDOMAIN') {
    walk.findings.push(finding('spf.no-record', domain, `${domain} does not exist in DNS`));
    return result('none');
  }
  facts.txt_answer_bytes = estimateTxtAnswer(domain, txt);
  const spfTxt = txt.records.filter((record) => record.type === 'TXT' && isSpfRecordText(record.text));
  if (spfTxt.length === 0) {
    walk.findings.push(finding('spf.no-record', domain, `${domain} has no TXT record starting with "v=spf1"`));
    return result('none');
  }
  if (spfTxt.length > 1) {
    const texts = spfTxt.map((record) => (record.type === 'TXT' ? record.text : ''));
    walk.findings.push(finding('spf.multiple-records', domain, `${domain} publishes ${texts.length} SPF records: ${texts.map((t) => `"${t}"`).join(', ')}`));
    return result('multiple');
  }

  const txtRecord = spfTxt[0] as Extract<DnsRecord, { type: 'TXT' | 'SPF' }>;
  const text = txtRecord.text;
  facts.record_length = bytes(text);
  const longStrings = txtRecord.strings.filter((string) => bytes(string) > 255);
  if (longStrings.length > 0) {
    walk.findings.push(finding('spf.string-too-long', domain, `a character-string of ${bytes(longStrings[0] as string)} bytes (at most 255)`));
  }
  if (facts.record_length > 450 || facts.txt_answer_bytes > 512) {
    const why = [
      facts.record_length > 450 ? `the record is ${facts.record_length} characters (over 450)` : null,
      facts.txt_answer_bytes > 512 ? `the TXT answer at ${domain} is about ${facts.txt_answer_bytes} bytes (over 512)` : null,
    ].filter((part): part is string => part !== null);
    walk.findings.push(finding('spf.record-too-long', domain, why.join('; ')));
  }

  const { record, errors } = parseSpfRecord(text);
  walk.findings.push(...recordFindings(domain, record));
  const tree = await walkDomain(walk, domain, null, [], txt);
  facts.lookup_tree = tree;
  facts.dns_lookups = tree.total_lookups;
  facts.void_lookups = sumVoids(tree);
  walk.findings.push(...policyFindings(tree));
  walk.findings.push(...lookupFindings(domain, tree, walk.complete));
  if (facts.void_lookups > VOID_LIMIT) {
    walk.findings.push(finding('spf.too-many-void-lookups', domain, `${facts.void_lookups} terms look up names that do not exist or have no records (at most ${VOID_LIMIT})`));
  }
  if (!walk.complete) {
    const skipped = collect(tree).filter((node) => node.status === 'not-followed' || node.status === 'over-budget');
    walk.findings.push(finding('spf.incomplete', domain, `not followed: ${skipped.map((node) => `"${node.via}" (${node.detail})`).join(', ')}`));
  }
  return result(errors.length > 0 ? 'invalid' : 'valid', { record: text, parsed: record, syntax_errors: errors });
}

function collect(node: SpfLookupNode): SpfLookupNode[] {
  return [node, ...node.children.flatMap(collect)];
}
