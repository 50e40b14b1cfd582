/**
 * TLS-RPT check (RFC 8460 §3): the `_smtp._tls.<domain>` TXT record that tells senders where to
 * send SMTP TLS reports: `v=TLSRPTv1; rua=<mailto: or https: URIs, comma-separated>`.
 */
import type { Resolver } from '../resolver.ts';
import { describeFailure, isDnsFailure, isUrl, normaliseHost, txtTexts } from './dns.ts';
import { findingMaker, rulesList, type CheckResult, type RuleTable } from './finding.ts';
import { parseTagList } from './tag-list.ts';

const RFC8460 = 'https://www.rfc-editor.org/rfc/rfc8460';

const RULES = {
  'tls_rpt.dns-failure': {
    severity: 'error',
    title: 'The TLS-RPT check could not be completed',
    advice:
      'The DNS query for {name} ended in {status}, so it is not known whether {domain} asks for SMTP TLS reports. If it persists, check that the zone\'s name servers answer and that its DNSSEC signatures are valid.',
    reference: `${RFC8460}#section-3`,
  },
  'tls_rpt.no-record': {
    severity: 'warning',
    title: 'No TLS-RPT record',
    advice:
      'Publish a TXT record at {name} such as "v=TLSRPTv1; rua=mailto:tls-reports@{domain}" so that sending servers report failed TLS connections to your mail servers (useful with MTA-STS or DANE, and needed to notice an expired certificate before mail is lost).',
    reference: `${RFC8460}#section-3`,
  },
  'tls_rpt.multiple-records': {
    severity: 'error',
    title: 'More than one TLS-RPT record',
    advice: '{name} has {count} TXT records starting with v=TLSRPTv1; senders then use none of them. Keep one record and list every report address in its rua, separated by commas.',
    reference: `${RFC8460}#section-3`,
  },
  'tls_rpt.invalid': {
    severity: 'error',
    title: 'The TLS-RPT record is not valid',
    advice: 'The record at {name} cannot be used: {problem}. Replace it with a record such as "v=TLSRPTv1; rua=mailto:tls-reports@{domain}".',
    reference: `${RFC8460}#section-3`,
  },
  'tls_rpt.rua-not-mailto-or-https': {
    severity: 'error',
    title: 'A TLS-RPT report address is neither mailto: nor https:',
    advice: 'The rua address "{uri}" at {name} is not a mailto: or https: URI, so senders cannot deliver reports to it. Use mailto:address@example.org or an https:// URL.',
    reference: `${RFC8460}#section-3`,
  },
} as const satisfies RuleTable<string>;

export type TlsRptRuleId = keyof typeof RULES;
export const TLS_RPT_RULES = rulesList(RULES);
const finding = findingMaker(RULES);

export interface TlsRptRecord {
  rua: string[];
  /** Problems that make the record unusable. */
  errors: string[];
  /** rua URIs whose scheme is neither mailto: nor https:. */
  badSchemes: string[];
}

export interface TlsRptFacts {
  name: string;
  status: string;
  rua: string[];
}

export type TlsRptResult = CheckResult<'tls_rpt', TlsRptFacts>;

export function isTlsRptRecord(text: string): boolean {
  return /^v=TLSRPTv1\s*(;|$)/.test(text);
}

/** Parses one record that starts with v=TLSRPTv1. */
export function parseTlsRptRecord(text: string): TlsRptRecord {
  const { tags, values, errors } = parseTagList(text);
  const out: TlsRptRecord = { rua: [], errors: [...errors], badSchemes: [] };
  if (tags[0]?.name !== 'v' || tags[0].value !== 'TLSRPTv1') out.errors.push('it must start with v=TLSRPTv1');
  const rua = values.get('rua');
  if (rua === undefined) {
    out.errors.push('the rua tag (where reports go) is missing');
    return out;
  }
  for (const raw of rua.split(',')) {
    const uri = raw.trim();
    if (uri === '') {
      out.errors.push('the rua tag has an empty address');
      continue;
    }
    out.rua.push(uri);
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1]?.toLowerCase();
    if (scheme === 'mailto') {
      if (!/^mailto:[^@\s]+@[^@\s]+\.[^@\s]+$/i.test(uri)) out.errors.push(`"${uri}" is not a valid mailto: address`);
    } else if (scheme === 'https') {
      if (!isUrl(uri)) out.errors.push(`"${uri}" is not a valid https URL`);
    } else {
      out.badSchemes.push(uri);
    }
  }
  return out;
}

export async function checkTlsRpt(resolver: Resolver, domain: string): Promise<TlsRptResult> {
  const host = normaliseHost(domain);
  const name = `_smtp._tls.${host}`;
  const answer = await resolver.query(name, 'TXT');
  const result: TlsRptResult = { area: 'tls_rpt', record: null, facts: { name, status: answer.status, rua: [] }, findings: [] };
  if (isDnsFailure(answer.status)) {
    result.findings.push(finding('tls_rpt.dns-failure', { name, status: answer.status, domain: host }, describeFailure(answer)));
    return result;
  }
  const records = txtTexts(answer).filter(isTlsRptRecord);
  if (records.length === 0) {
    result.findings.push(finding('tls_rpt.no-record', { name, domain: host }));
    return result;
  }
  if (records.length > 1) {
    result.findings.push(finding('tls_rpt.multiple-records', { name, count: records.length }, records.map((r) => `"${r}"`).join(' and ')));
    return result;
  }
  const record = records[0] ?? '';
  result.record = record;
  const parsed = parseTlsRptRecord(record);
  result.facts.rua = parsed.rua;
  for (const problem of parsed.errors) result.findings.push(finding('tls_rpt.invalid', { name, problem, domain: host }, record));
  for (const uri of parsed.badSchemes) result.findings.push(finding('tls_rpt.rua-not-mailto-or-https', { name, uri }, record));
  return result;
}
