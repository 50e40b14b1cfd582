import { ReportRejection, type AggregateRecord, type DkimAuthResult, type PolicyOverrideReason, type SpfAuthResult } from '../model';
import type { WarningLog } from '../warnings';
import { clip, noteStrayText, parseFragment } from './fragment';
import { dispositionOf, domainOf, enumValue, isIpAddress, nonNegativeInteger, SPF_SCOPES, verdictOf } from './values';
import { childrenNamed, firstChild, isElement, textOf, type XmlNode } from './xml-tree';

/**
 * Reads one `<record>` element. Returns null, with a warning naming the record's index, when the
 * record cannot be counted (no usable source_ip or count): one bad record never costs the report.
 * Throws only ReportRejection('xml-entities').
 */
export function readAggregateRecord(xml: string, index: number, warnings: WarningLog): AggregateRecord | null {
  const where = `record ${index}`;
  const skip = (why: string) => {
    warnings.add(`record ${index} was skipped: ${why}`, `skip:${why.replace(/"[^"]*"/g, '')}`);
    return null;
  };
  let record: XmlNode | undefined;
  try {
    record = firstChild(parseFragment(xml, where, warnings).tree, 'record');
  } catch (error) {
    if (error instanceof ReportRejection) throw error;
    return skip(`it is not XML (${error instanceof Error ? error.message : String(error)})`);
  }
  noteStrayText(record, 'record', warnings);
  const row = firstChild(record, 'row');
  noteStrayText(row, 'row', warnings);

  const sourceIp = textOf(firstChild(row, 'source_ip'));
  if (sourceIp === null) return skip('it has no source_ip');
  if (!isIpAddress(sourceIp)) return skip(`source_ip "${clip(sourceIp)}" is not an IP address`);
  const countText = textOf(firstChild(row, 'count'));
  if (countText === null) return skip('it has no count');
  const count = nonNegativeInteger(countText);
  if (count === null) return skip(`count "${clip(countText)}" is not a whole number`);

  const evaluated = firstChild(row, 'policy_evaluated');
  noteStrayText(evaluated, 'policy_evaluated', warnings);
  const identifiers = firstChild(record, 'identifiers');
  noteStrayText(identifiers, 'identifiers', warnings);
  const headerFrom = domainOf(textOf(firstChild(identifiers, 'header_from')));
  if (headerFrom === null) warnings.add(`record ${index} has no header_from`, 'no-header-from');
  const auth = firstChild(record, 'auth_results');
  noteStrayText(auth, 'auth_results', warnings);
  const spfResults = childrenNamed(auth, 'spf').flatMap((node) => readSpf(node, index, warnings));
  if (spfResults.length === 0) warnings.add(`record ${index} has no SPF result in auth_results`, 'no-spf-result');

  return {
    source_ip: sourceIp.toLowerCase(),
    count,
    disposition: dispositionOf(textOf(firstChild(evaluated, 'disposition')), 'policy_evaluated disposition', warnings, true),
    dkim: verdictOf(textOf(firstChild(evaluated, 'dkim')), 'policy_evaluated dkim', warnings),
    spf: verdictOf(textOf(firstChild(evaluated, 'spf')), 'policy_evaluated spf', warnings),
    reasons: childrenNamed(evaluated, 'reason').flatMap((node) => readReason(node, index, warnings)),
    header_from: headerFrom,
    envelope_from: domainOf(textOf(firstChild(identifiers, 'envelope_from'))),
    envelope_to: domainOf(textOf(firstChild(identifiers, 'envelope_to'))),
    dkim_results: childrenNamed(auth, 'dkim').flatMap((node) => readDkim(node, index, warnings)),
    spf_results: spfResults,
  };
}

/** Reasons are `<reason><type/><comment/></reason>`; some old reporters wrote `<reason>forwarded</reason>`. */
function readReason(node: XmlNode, index: number, warnings: WarningLog): PolicyOverrideReason[] {
  if (!isElement(node)) {
    const type = textOf(node);
    return type === null ? [] : [{ type: type.toLowerCase(), comment: null }];
  }
  const type = textOf(firstChild(node, 'type'));
  const comment = textOf(firstChild(node, 'comment'));
  if (type === null && comment === null) return [];
  if (type === null) warnings.add(`record ${index} has a policy override reason without a type; it was read as "other"`, 'reason-no-type');
  return [{ type: type?.toLowerCase() ?? 'other', comment }];
}

function readDkim(node: XmlNode, index: number, warnings: WarningLog): DkimAuthResult[] {
  const result = textOf(firstChild(node, 'result'));
  if (result === null) {
    warnings.add(`record ${index} has a DKIM result without a result value; it was ignored`, 'dkim-no-result');
    return [];
  }
  const domain = domainOf(textOf(firstChild(node, 'domain')));
  if (domain === null) warnings.add(`record ${index} has a DKIM result with an empty domain`, 'dkim-empty-domain');
  return [
    {
      domain: domain ?? '',
      selector: textOf(firstChild(node, 'selector')),
      result: result.toLowerCase(),
      human_result: textOf(firstChild(node, 'human_result')),
    },
  ];
}

function readSpf(node: XmlNode, index: number, warnings: WarningLog): SpfAuthResult[] {
  const result = textOf(firstChild(node, 'result'));
  if (result === null) {
    warnings.add(`record ${index} has an SPF result without a result value; it was ignored`, 'spf-no-result');
    return [];
  }
  const domain = domainOf(textOf(firstChild(node, 'domain')));
  if (domain === null) warnings.add(`record ${index} has an SPF result with an empty domain`, 'spf-empty-domain');
  return [
    {
      domain: domain ?? '',
      scope: enumValue(textOf(firstChild(node, 'scope')), SPF_SCOPES, 'auth_results spf scope', warnings),
      result: result.toLowerCase(),
      human_result: textOf(firstChild(node, 'human_result')),
    },
  ];
}
