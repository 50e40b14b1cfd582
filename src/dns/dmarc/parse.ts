import { parseDmarcUri, type DmarcUri } from './uri';

/**
 * Strict parsing of one DMARC record (RFC 7489 §6.3–6.4 and RFC 9989's tags `np`, `t`, `psd`). Nothing
 * throws: every problem becomes an issue with a stable finding id, and the effective policy is what a
 * receiver would use (invalid values fall back to defaults, as both RFCs say).
 */
export const DMARC_TAG_NAMES = ['v', 'p', 'sp', 'np', 'pct', 't', 'adkim', 'aspf', 'fo', 'rf', 'ri', 'rua', 'ruf', 'psd'] as const;
export type DmarcTagName = (typeof DMARC_TAG_NAMES)[number];

export type PolicyValue = 'none' | 'quarantine' | 'reject';
export const POLICY_STRENGTH: Record<PolicyValue, number> = { none: 0, quarantine: 1, reject: 2 };

export type DmarcParseIssueId =
  | 'dmarc.version-not-first'
  | 'dmarc.malformed-tag'
  | 'dmarc.unknown-tag'
  | 'dmarc.invalid-value'
  | 'dmarc.duplicate-tag';

export interface DmarcParseIssue {
  id: DmarcParseIssueId;
  /** Lower-cased tag name, or the raw term when it has no `=`. */
  tag: string | null;
  value: string | null;
  message: string;
}

export interface DmarcTag {
  /** Lower-cased (tag names are case-insensitive). */
  name: string;
  /** As written, trimmed; for implicit tags the default. */
  value: string;
  /** Added because the record leaves the tag out (the default applies). */
  implicit: boolean;
  /** False for unknown tags, bad values and repeats: receivers ignore those. */
  valid: boolean;
  /** One line for a domain owner. */
  explanation: string;
}

/** The values a receiver works with: valid explicit values, else the defaults. */
export interface DmarcPolicy {
  v: string | null;
  p: PolicyValue | null;
  sp: PolicyValue | null;
  np: PolicyValue | null;
  pct: number;
  t: 'y' | 'n';
  adkim: 'r' | 's';
  aspf: 'r' | 's';
  fo: string[];
  rf: string[];
  ri: number;
  /** Null when the tag is absent; the valid URIs otherwise (possibly none). */
  rua: DmarcUri[] | null;
  ruf: DmarcUri[] | null;
  psd: 'y' | 'n' | 'u';
}

export interface ParsedDmarcRecord {
  text: string;
  /** Explicit tags in record order, then the implicit defaults. */
  tags: DmarcTag[];
  /** The first valid value of each tag the record states. */
  explicit: Partial<Record<DmarcTagName, string>>;
  policy: DmarcPolicy;
  issues: DmarcParseIssue[];
}

const TAG_NAME = /^[a-z]+$/;
const POLICY_VALUES = new Set<string>(['none', 'quarantine', 'reject']);
const MAX_UINT32 = 2 ** 32 - 1;

/** A TXT record that a receiver takes for a DMARC record: starts with `v=DMARC1` (RFC 7489 §6.6.3 step 2). */
export function isDmarcRecord(text: string): boolean {
  return /^\s*v\s*=\s*dmarc1\s*(;|$)/i.test(text);
}

/** A TXT record holding a `v=DMARC1` tag somewhere but not first: meant as DMARC, ignored by receivers. */
export function hasMisplacedVersion(text: string): boolean {
  return !isDmarcRecord(text) && /(^|;)\s*v\s*=\s*dmarc1\s*(;|$)/i.test(text);
}

type ValueCheck = { ok: true } | { ok: false; reason: string };
const ok: ValueCheck = { ok: true };
const bad = (reason: string): ValueCheck => ({ ok: false, reason });

function oneOf(allowed: readonly string[], label: string) {
  return (value: string): ValueCheck =>
    allowed.includes(value.toLowerCase()) ? ok : bad(`${label} must be ${allowed.map((a) => `"${a}"`).join(' or ')}, not "${value}"`);
}

function checkUriList(value: string): { check: ValueCheck; uris: DmarcUri[]; problems: string[] } {
  if (value === '') return { check: ok, uris: [], problems: [] };
  const uris: DmarcUri[] = [];
  const problems: string[] = [];
  for (const item of value.split(',')) {
    const raw = item.trim();
    if (raw === '') {
      problems.push('the list has an empty entry (a stray comma)');
      continue;
    }
    const parsed = parseDmarcUri(raw);
    if (parsed.ok) uris.push(parsed.uri);
    else problems.push(parsed.reason);
  }
  return { check: problems.length === 0 ? ok : bad(problems.join('; ')), uris, problems };
}

const VALUE_CHECKS: Record<Exclude<DmarcTagName, 'rua' | 'ruf'>, (value: string) => ValueCheck> = {
  // RFC 7489 and RFC 9989 both spell the version case-sensitively (%x44 %x4d ... / %s"DMARC1").
  v: (value) => (value === 'DMARC1' ? ok : bad(`v must be exactly "DMARC1" (upper case), not "${value}"`)),
  p: oneOf(['none', 'quarantine', 'reject'], 'p'),
  sp: oneOf(['none', 'quarantine', 'reject'], 'sp'),
  np: oneOf(['none', 'quarantine', 'reject'], 'np'),
  pct: (value) =>
    /^[0-9]{1,3}$/.test(value) && Number(value) <= 100 ? ok : bad(`pct must be a whole number from 0 to 100, not "${value}"`),
  t: oneOf(['y', 'n'], 't'),
  adkim: oneOf(['r', 's'], 'adkim'),
  aspf: oneOf(['r', 's'], 'aspf'),
  psd: oneOf(['y', 'n', 'u'], 'psd'),
  fo: (value) => {
    const options = value.split(':').map((o) => o.trim().toLowerCase());
    return options.length > 0 && options.every((o) => ['0', '1', 'd', 's'].includes(o))
      ? ok
      : bad(`fo must be 0, 1, d or s, or several of them joined by ":" (fo=1:d), not "${value}"`);
  },
  rf: (value) => {
    const formats = value.split(':').map((f) => f.trim().toLowerCase());
    return formats.every((f) => f === 'afrf') ? ok : bad(`rf must be "afrf", the only registered failure-report format, not "${value}"`);
  },
  ri: (value) =>
    /^[0-9]{1,10}$/.test(value) && Number(value) <= MAX_UINT32 ? ok : bad(`ri must be a whole number of seconds, not "${value}"`),
};

interface Term {
  raw: string;
  name: string | null;
  value: string;
}

function splitTerms(text: string): Term[] {
  return text
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((raw) => {
      const eq = raw.indexOf('=');
      if (eq < 0) return { raw, name: null, value: '' };
      return { raw, name: raw.slice(0, eq).trim().toLowerCase(), value: raw.slice(eq + 1).trim() };
    });
}

function isKnownTag(name: string): name is DmarcTagName {
  return (DMARC_TAG_NAMES as readonly string[]).includes(name);
}

export function parseDmarcRecord(text: string): ParsedDmarcRecord {
  const issues: DmarcParseIssue[] = [];
  const tags: DmarcTag[] = [];
  const explicit: Partial<Record<DmarcTagName, string>> = {};
  const seen = new Set<string>();
  const uriLists: Partial<Record<'rua' | 'ruf', DmarcUri[]>> = {};
  const terms = splitTerms(text);

  const firstName = terms[0]?.name ?? null;
  if (firstName !== 'v') {
    const where = terms.findIndex((term) => term.name === 'v');
    issues.push({
      id: 'dmarc.version-not-first',
      tag: 'v',
      value: null,
      message:
        where < 0
          ? 'The record has no v=DMARC1 tag; receivers ignore it.'
          : `v=DMARC1 is tag ${where + 1}, not the first; receivers ignore records that do not start with it.`,
    });
  }

  for (const term of terms) {
    if (term.name === null || term.name === '' || !TAG_NAME.test(term.name)) {
      issues.push({
        id: 'dmarc.malformed-tag',
        tag: term.name || term.raw,
        value: term.value || null,
        message: `"${term.raw}" is not a tag=value pair (tag names are letters only, separated from values by "=").`,
      });
      continue;
    }
    const name = term.name;
    const value = term.value;
    if (!isKnownTag(name)) {
      issues.push({ id: 'dmarc.unknown-tag', tag: name, value, message: `"${name}" is not a DMARC tag; receivers ignore it.` });
      tags.push({ name, value, implicit: false, valid: false, explanation: 'Unknown tag: receivers ignore it.' });
      continue;
    }
    if (seen.has(name)) {
      issues.push({
        id: 'dmarc.duplicate-tag',
        tag: name,
        value,
        message: `${name} appears more than once; only the first (${name}=${explicit[name] ?? '…'}) can be relied on.`,
      });
      tags.push({ name, value, implicit: false, valid: false, explanation: 'Repeated tag: receivers may ignore it or the whole record.' });
      continue;
    }
    seen.add(name);
    let check: ValueCheck;
    if (name === 'rua' || name === 'ruf') {
      const list = checkUriList(value);
      uriLists[name] = list.uris;
      check = list.check;
      if (check.ok) explicit[name] = value;
      // The URIs that are valid still count: receivers skip only the bad ones.
      else if (list.uris.length > 0) explicit[name] = list.uris.map((u) => u.raw).join(',');
    } else {
      check = value === '' ? bad(`${name} has no value`) : VALUE_CHECKS[name](value);
      if (check.ok) explicit[name] = value;
    }
    if (!check.ok) issues.push({ id: 'dmarc.invalid-value', tag: name, value, message: `Invalid ${name} value: ${check.reason}.` });
    tags.push({
      name,
      value,
      implicit: false,
      valid: check.ok,
      explanation: check.ok ? explainTag(name, value) : `Invalid value: receivers ignore it${defaultNote(name)}.`,
    });
  }

  const policy = effectivePolicy(explicit, uriLists);
  for (const [name, value] of implicitDefaults(explicit, policy)) {
    tags.push({ name, value, implicit: true, valid: true, explanation: `${explainTag(name, value)} (default)` });
  }
  return { text, tags, explicit, policy, issues };
}

function defaultNote(name: DmarcTagName): string {
  const defaults: Partial<Record<DmarcTagName, string>> = {
    adkim: 'r', aspf: 'r', fo: '0', pct: '100', rf: 'afrf', ri: '86400', t: 'n', psd: 'u',
  };
  const value = defaults[name];
  return value ? ` and use the default ${name}=${value}` : '';
}

function effectivePolicy(
  explicit: Partial<Record<DmarcTagName, string>>,
  uriLists: Partial<Record<'rua' | 'ruf', DmarcUri[]>>,
): DmarcPolicy {
  const policyOf = (value: string | undefined): PolicyValue | null =>
    value !== undefined && POLICY_VALUES.has(value.toLowerCase()) ? (value.toLowerCase() as PolicyValue) : null;
  const p = policyOf(explicit.p);
  const sp = policyOf(explicit.sp) ?? p;
  return {
    v: explicit.v ?? null,
    p,
    sp,
    np: policyOf(explicit.np) ?? sp,
    pct: explicit.pct !== undefined ? Number(explicit.pct) : 100,
    t: (explicit.t?.toLowerCase() as 'y' | 'n' | undefined) ?? 'n',
    adkim: (explicit.adkim?.toLowerCase() as 'r' | 's' | undefined) ?? 'r',
    aspf: (explicit.aspf?.toLowerCase() as 'r' | 's' | undefined) ?? 'r',
    fo: (explicit.fo ?? '0').split(':').map((o) => o.trim().toLowerCase()),
    rf: (explicit.rf ?? 'afrf').split(':').map((f) => f.trim().toLowerCase()),
    ri: explicit.ri !== undefined ? Number(explicit.ri) : 86400,
    rua: uriLists.rua ?? null,
    ruf: uriLists.ruf ?? null,
    psd: (explicit.psd?.toLowerCase() as 'y' | 'n' | 'u' | undefined) ?? 'u',
  };
}

/**
 * The defaults the original MailCheck showed as implicit tags (adkim, aspf, fo, pct, rf, ri, and sp
 * from p), plus RFC 9989's np (from sp), t and psd.
 */
function implicitDefaults(explicit: Partial<Record<DmarcTagName, string>>, policy: DmarcPolicy): [DmarcTagName, string][] {
  const defaults: [DmarcTagName, string | null][] = [
    ['sp', policy.p],
    ['np', policy.p === null ? null : policy.sp],
    ['adkim', 'r'],
    ['aspf', 'r'],
    ['fo', '0'],
    ['pct', '100'],
    ['rf', 'afrf'],
    ['ri', '86400'],
    ['t', 'n'],
    ['psd', 'u'],
  ];
  return defaults.filter((d): d is [DmarcTagName, string] => d[1] !== null && explicit[d[0]] === undefined);
}

const POLICY_WORDS: Record<PolicyValue, string> = {
  none: 'none: take no action on mail that fails DMARC, only report it',
  quarantine: 'quarantine: treat mail that fails DMARC as suspicious (usually the spam folder)',
  reject: 'reject: refuse mail that fails DMARC',
};
const FO_WORDS: Record<string, string> = {
  '0': 'a failure report when both SPF and DKIM fail to give an aligned pass',
  '1': 'a failure report when either SPF or DKIM fails to give an aligned pass',
  d: 'a DKIM failure report for every failing signature',
  s: 'an SPF failure report for every SPF failure',
};

export function explainTag(name: string, value: string): string {
  const lower = value.toLowerCase();
  switch (name) {
    case 'v':
      return 'Version: DMARC1 marks this TXT record as a DMARC record.';
    case 'p':
      return `Policy for this domain: ${POLICY_WORDS[lower as PolicyValue] ?? value}.`;
    case 'sp':
      return `Policy for subdomains: ${POLICY_WORDS[lower as PolicyValue] ?? value}.`;
    case 'np':
      return `Policy for subdomains that do not exist: ${POLICY_WORDS[lower as PolicyValue] ?? value}.`;
    case 'pct':
      return `The policy applies to ${value}% of failing mail (RFC 7489; RFC 9989 removed pct in favour of t).`;
    case 't':
      return lower === 'y'
        ? 'Testing: receivers apply one level less than the stated policy (RFC 9989).'
        : 'Not testing: receivers apply the policy as stated.';
    case 'adkim':
    case 'aspf': {
      const what = name === 'adkim' ? 'DKIM signing domain' : 'SPF envelope-sender domain';
      return lower === 's'
        ? `Strict ${name === 'adkim' ? 'DKIM' : 'SPF'} alignment: the ${what} must equal the From domain exactly.`
        : `Relaxed ${name === 'adkim' ? 'DKIM' : 'SPF'} alignment: the ${what} may be any name in the same organisational domain.`;
    }
    case 'fo':
      return `Failure-report options: ${lower.split(':').map((o) => FO_WORDS[o.trim()] ?? o).join('; ')} (only used with ruf).`;
    case 'rf':
      return 'Failure reports in the Authentication Failure Reporting Format (RFC 6591).';
    case 'ri': {
      const hours = Number(value) / 3600;
      return `Aggregate reports asked for every ${value} seconds (${Number.isInteger(hours) ? hours : hours.toFixed(1)} hours); receivers usually send daily.`;
    }
    case 'rua':
      return value === '' ? 'Aggregate reports: no address given.' : `Aggregate reports go to ${value}.`;
    case 'ruf':
      return value === '' ? 'Failure reports: no address given.' : `Failure reports go to ${value}.`;
    case 'psd':
      return lower === 'y'
        ? 'This domain is a public suffix; names one level below are organisational domains (RFC 9989).'
        : lower === 'n'
          ? 'This domain is the organisational domain for itself and its subdomains (RFC 9989).'
          : 'Public suffix status not stated: the DNS tree walk decides the organisational domain.';
    default:
      return 'Unknown tag: receivers ignore it.';
  }
}

const CANONICAL_ORDER: readonly DmarcTagName[] = ['v', 'p', 'sp', 'np', 't', 'psd', 'adkim', 'aspf', 'pct', 'rua', 'ruf', 'fo', 'rf', 'ri'];

/**
 * A corrected record for advice: the valid tags of `parsed` (v first, p second, others in their
 * order), with `changes` applied: a string sets a tag, null removes it.
 */
export function suggestRecord(
  parsed: ParsedDmarcRecord | null,
  changes: Partial<Record<DmarcTagName, string | null>> = {},
): string {
  const entries = new Map<DmarcTagName, string>();
  entries.set('v', 'DMARC1');
  if (parsed) {
    const ordered = parsed.tags.filter((t) => !t.implicit && t.valid && isKnownTag(t.name));
    const p = parsed.explicit.p;
    if (p !== undefined) entries.set('p', p.toLowerCase());
    for (const tag of ordered) {
      const name = tag.name as DmarcTagName;
      if (!entries.has(name)) entries.set(name, parsed.explicit[name] ?? tag.value);
    }
  }
  for (const name of CANONICAL_ORDER) {
    if (!(name in changes)) continue;
    const value = changes[name];
    if (value === null || value === undefined) entries.delete(name);
    else entries.set(name, value);
  }
  // v first and p second (RFC 7489 readers expect p right after v); the rest keep their order, new ones last.
  const names = [...entries.keys()].filter((n) => n !== 'v' && n !== 'p');
  const head: DmarcTagName[] = entries.has('p') ? ['v', 'p'] : ['v'];
  return [...head, ...names].map((n) => `${n}=${entries.get(n)}`).join('; ');
}
