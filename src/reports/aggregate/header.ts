import { ReportRejection, type AggregateReportHeader, type PolicyPublished } from '../model';
import { epochSecondsToIso } from '../utc-time';
import type { WarningLog } from '../warnings';
import { clip, noteStrayText, parseFragment } from './fragment';
import {
  alignmentOf,
  DISCOVERY_METHODS,
  dispositionOf,
  domainOf,
  enumValue,
  nonNegativeInteger,
  TESTING,
} from './values';
import { childrenNamed, firstChild, isElement, TEXT_KEY, textOf, type XmlNode } from './xml-tree';

const DMARC_2_NAMESPACE = /xmlns(?::[\w.-]+)?\s*=\s*["']urn:ietf:params:xml:ns:dmarc-2\.0["']/;

/**
 * Reads everything of an aggregate report before its first `<record>`. `wholeDocument` is true
 * when the report has no record at all, so the text given is the complete document.
 * Throws ReportRejection('invalid-report') when a required part is missing.
 */
export function readAggregateHeader(xml: string, warnings: WarningLog, wholeDocument: boolean): AggregateReportHeader {
  let parsed;
  try {
    parsed = parseFragment(xml, 'the report header', warnings);
  } catch (error) {
    if (error instanceof ReportRejection) throw error;
    throw invalid(`its header is not XML (${error instanceof Error ? error.message : String(error)})`);
  }
  if (wholeDocument && parsed.open.length > 0) {
    warnings.add(`the report ends without closing <${parsed.open[0]}>; it may be truncated`, 'truncated');
  }
  const roots = Object.keys(parsed.tree).filter((name) => name !== TEXT_KEY);
  if (roots.length === 0) throw invalid('it holds no XML element');
  if (!roots.includes('feedback')) throw invalid(`its root element is <${roots[0]}>, not <feedback>`);
  const feedback = firstChild(parsed.tree, 'feedback');
  noteStrayText(feedback, 'feedback', warnings);

  const metadata = firstChild(feedback, 'report_metadata');
  if (!isElement(metadata)) throw invalid('it has no <report_metadata>');
  noteStrayText(metadata, 'report_metadata', warnings);
  const reportId = textOf(firstChild(metadata, 'report_id'));
  if (reportId === null) throw invalid('report_metadata has no report_id');

  const version = textOf(firstChild(feedback, 'version'));
  const schema = DMARC_2_NAMESPACE.test(xml) ? 'dmarc-2.0' : version !== null ? 'rfc7489' : 'draft';
  const orgEmail = emailOf(textOf(firstChild(metadata, 'email')));
  const { begin, end } = readDateRange(firstChild(metadata, 'date_range'), warnings);

  return {
    kind: 'aggregate',
    schema,
    version,
    report_id: reportId,
    org_name: orgNameOf(textOf(firstChild(metadata, 'org_name')), orgEmail, warnings),
    org_email: orgEmail,
    extra_contact_info: textOf(firstChild(metadata, 'extra_contact_info')),
    generator: textOf(firstChild(metadata, 'generator')),
    begin,
    end,
    policy: readPolicy(firstChild(feedback, 'policy_published'), warnings),
    errors: childrenNamed(metadata, 'error')
      .map(textOf)
      .filter((text): text is string => text !== null),
  };
}

function invalid(reason: string): ReportRejection {
  return new ReportRejection('invalid-report', `not a usable DMARC aggregate report: ${reason}`);
}

/** `mailto:` and angle brackets are stripped: `<a@b.net>` appears in real reports. */
function emailOf(raw: string | null): string | null {
  if (raw === null) return null;
  const bare = raw
    .replace(/^mailto:/i, '')
    .replace(/^<(.*)>$/, '$1')
    .trim();
  return bare === '' ? null : bare;
}

function orgNameOf(orgName: string | null, email: string | null, warnings: WarningLog): string {
  if (orgName !== null) return orgName;
  const domain = email?.includes('@') ? email.slice(email.lastIndexOf('@') + 1).toLowerCase() : null;
  if (domain) {
    warnings.add(`org_name is empty; the domain of the reporter's email, ${domain}, is used instead`);
    return domain;
  }
  warnings.add('org_name and email are both empty; the reporter is recorded as "unknown"');
  return 'unknown';
}

function readDateRange(node: XmlNode | undefined, warnings: WarningLog): { begin: string; end: string } {
  if (!isElement(node)) throw invalid('report_metadata has no <date_range>');
  noteStrayText(node, 'date_range', warnings);
  const begin = readTimestamp(textOf(firstChild(node, 'begin')), 'begin', warnings);
  const end = readTimestamp(textOf(firstChild(node, 'end')), 'end', warnings);
  if (end < begin) warnings.add('date_range ends before it begins');
  return { begin, end };
}

/** Above this, a "seconds" value is really milliseconds (it would be past the year 5000). */
const MILLISECONDS_THRESHOLD = 100_000_000_000;

function readTimestamp(raw: string | null, field: 'begin' | 'end', warnings: WarningLog): string {
  if (raw === null) throw invalid(`date_range has no ${field}`);
  const match = /^\+?(\d+)(?:\.\d*)?$/.exec(raw);
  let seconds = match ? Number(match[1]) : Number.NaN;
  if (seconds > MILLISECONDS_THRESHOLD) {
    warnings.add(`date_range ${field} is in milliseconds, not seconds; it was converted`, `ms:${field}`);
    seconds = Math.floor(seconds / 1000);
  }
  const iso = epochSecondsToIso(seconds);
  if (iso === null) throw invalid(`date_range ${field} "${clip(raw)}" is not a Unix timestamp`);
  return iso;
}

function readPolicy(node: XmlNode | undefined, warnings: WarningLog): PolicyPublished {
  if (!isElement(node)) throw invalid('it has no <policy_published>');
  noteStrayText(node, 'policy_published', warnings);
  const domain = domainOf(textOf(firstChild(node, 'domain')));
  if (domain === null) throw invalid('policy_published has no domain');
  const text = (name: string) => textOf(firstChild(node, name));

  const pText = text('p');
  if (pText === null) warnings.add('policy_published has no p (the published policy)');
  const p = dispositionOf(pText, 'policy_published p', warnings, false);
  const pctText = text('pct');
  const pctNumber = nonNegativeInteger(pctText);
  const pct = pctNumber !== null && pctNumber <= 100 ? pctNumber : null;
  if (pctText !== null && pct === null) warnings.add(`policy_published pct "${clip(pctText)}" is not a percentage; it was left empty`);

  return {
    domain,
    p,
    sp: dispositionOf(text('sp'), 'policy_published sp', warnings, false),
    np: dispositionOf(text('np'), 'policy_published np', warnings, false),
    adkim: alignmentOf(text('adkim'), 'policy_published adkim', warnings),
    aspf: alignmentOf(text('aspf'), 'policy_published aspf', warnings),
    pct,
    fo: text('fo'),
    testing: enumValue(text('testing'), TESTING, 'policy_published testing', warnings),
    discovery_method: enumValue(text('discovery_method'), DISCOVERY_METHODS, 'policy_published discovery_method', warnings),
  };
}
