/**
 * BIMI check: the `default._bimi.<domain>` TXT record (`v=BIMI1; l=<https URL of an SVG logo>;
 * a=<https URL of a VMC/CMC PEM>`), its syntax and URL schemes. Nothing is fetched.
 */
import type { Resolver } from '../resolver.ts';
import { describeFailure, isDnsFailure, isUrl, normaliseHost, txtTexts } from './dns.ts';
import { findingMaker, rulesList, type CheckResult, type RuleTable } from './finding.ts';
import { parseTagList } from './tag-list.ts';

const BIMI_SPEC = 'https://datatracker.ietf.org/doc/draft-brand-indicators-for-message-identification/';

const RULES = {
  'bimi.dns-failure': {
    severity: 'error',
    title: 'The BIMI check could not be completed',
    advice: 'The DNS query for {name} ended in {status}, so it is not known whether {domain} publishes a BIMI record. If it persists, check that the zone\'s name servers answer and that its DNSSEC signatures are valid.',
    reference: BIMI_SPEC,
  },
  'bimi.no-record': {
    severity: 'info',
    title: 'No BIMI record',
    advice:
      'BIMI lets mailboxes show your logo beside authenticated mail. It needs DMARC at p=quarantine or p=reject first; then publish a TXT record at {name} such as "v=BIMI1; l=https://{domain}/logo.svg; a=https://{domain}/vmc.pem".',
    reference: BIMI_SPEC,
  },
  'bimi.declined': {
    severity: 'info',
    title: 'The domain declines BIMI',
    advice: 'The record at {name} has an empty logo (l=), which says {domain} does not take part in BIMI. Nothing to do unless you want your logo shown.',
    reference: BIMI_SPEC,
  },
  'bimi.multiple-records': {
    severity: 'error',
    title: 'More than one BIMI record',
    advice: '{name} has {count} TXT records starting with v=BIMI1; mailboxes then use none. Keep one.',
    reference: BIMI_SPEC,
  },
  'bimi.invalid': {
    severity: 'error',
    title: 'The BIMI record is not valid',
    advice: 'The record at {name} cannot be used: {problem}. A valid record looks like "v=BIMI1; l=https://{domain}/logo.svg; a=https://{domain}/vmc.pem".',
    reference: BIMI_SPEC,
  },
  'bimi.logo-not-https': {
    severity: 'error',
    title: 'The BIMI logo URL is not https',
    advice: 'The logo location "{uri}" must be an https:// URL of an SVG Tiny PS file; mailboxes ignore anything else. Serve the logo over HTTPS and update l= in {name}.',
    reference: BIMI_SPEC,
  },
  'bimi.logo-not-svg': {
    severity: 'warning',
    title: 'The BIMI logo URL does not name an SVG file',
    advice: 'The logo location "{uri}" does not end in .svg. BIMI logos must be SVG Tiny PS; check that this URL serves one.',
    reference: BIMI_SPEC,
  },
  'bimi.authority-not-https': {
    severity: 'error',
    title: 'The BIMI certificate URL is not https',
    advice: 'The authority evidence location "{uri}" must be an https:// URL of a PEM file (a Verified Mark Certificate or Common Mark Certificate). Update a= in {name}.',
    reference: BIMI_SPEC,
  },
  'bimi.no-authority': {
    severity: 'info',
    title: 'No mark certificate (a=)',
    advice:
      'The record at {name} has no a= URL of a Verified Mark Certificate or Common Mark Certificate. Some mailboxes (for example Gmail and Apple Mail) show the logo only with one; others show it without.',
    reference: BIMI_SPEC,
  },
} as const satisfies RuleTable<string>;

export type BimiRuleId = keyof typeof RULES;
export const BIMI_RULES = rulesList(RULES);
const finding = findingMaker(RULES);

export interface BimiRecord {
  logo: string | null;
  authority: string | null;
  errors: string[];
}

export interface BimiFacts {
  name: string;
  status: string;
  logo: string | null;
  authority: string | null;
}

export interface BimiOptions {
  /** The BIMI selector; `default` unless a sender uses another. */
  selector?: string;
}

export type BimiResult = CheckResult<'bimi', BimiFacts>;

export function isBimiRecord(text: string): boolean {
  return /^v\s*=\s*BIMI1\s*(;|$)/i.test(text);
}

export function parseBimiRecord(text: string): BimiRecord {
  const { tags, values, errors } = parseTagList(text);
  const out: BimiRecord = { logo: null, authority: null, errors: [...errors] };
  if (tags[0]?.name.toLowerCase() !== 'v' || tags[0].value !== 'BIMI1') out.errors.push('it must start with v=BIMI1');
  const logo = values.get('l');
  if (logo === undefined) out.errors.push('the logo tag l= is missing');
  else out.logo = logo;
  const authority = values.get('a');
  if (authority !== undefined && authority !== '') out.authority = authority;
  for (const [tag, uri] of [['l', logo], ['a', authority]] as const) {
    if (uri && /^https:/i.test(uri) && !isUrl(uri)) out.errors.push(`${tag}= "${uri}" is not a valid URL`);
    if (uri?.includes(',')) out.errors.push(`${tag}= must hold a single URL`);
  }
  return out;
}

export async function checkBimi(resolver: Resolver, domain: string, options: BimiOptions = {}): Promise<BimiResult> {
  const host = normaliseHost(domain);
  const name = `${options.selector ?? 'default'}._bimi.${host}`;
  const answer = await resolver.query(name, 'TXT');
  const result: BimiResult = { area: 'bimi', record: null, facts: { name, status: answer.status, logo: null, authority: null }, findings: [] };
  const findings = result.findings;
  if (isDnsFailure(answer.status)) {
    findings.push(finding('bimi.dns-failure', { name, status: answer.status, domain: host }, describeFailure(answer)));
    return result;
  }
  const records = txtTexts(answer).filter(isBimiRecord);
  if (records.length === 0) {
    findings.push(finding('bimi.no-record', { name, domain: host }));
    return result;
  }
  if (records.length > 1) {
    findings.push(finding('bimi.multiple-records', { name, count: records.length }, records.map((r) => `"${r}"`).join(' and ')));
    return result;
  }
  const record = records[0] ?? '';
  result.record = record;
  const parsed = parseBimiRecord(record);
  result.facts.logo = parsed.logo;
  result.facts.authority = parsed.authority;
  for (const problem of parsed.errors) findings.push(finding('bimi.invalid', { name, problem, domain: host }, record));
  if (parsed.errors.length) return result;
  if (parsed.logo === '' || parsed.logo === null) {
    findings.push(finding('bimi.declined', { name, domain: host }, record));
    return result;
  }
  if (!/^https:\/\//i.test(parsed.logo)) findings.push(finding('bimi.logo-not-https', { uri: parsed.logo, name }, record));
  else if (!/\.svg$/i.test(new URL(parsed.logo).pathname)) findings.push(finding('bimi.logo-not-svg', { uri: parsed.logo }, record));
  if (parsed.authority === null) findings.push(finding('bimi.no-authority', { name }, record));
  else if (!/^https:\/\//i.test(parsed.authority)) findings.push(finding('bimi.authority-not-https', { uri: parsed.authority, name }, record));
  return result;
}
