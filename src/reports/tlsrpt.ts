import { ReportRejection, type SmtpTlsReport, type TlsFailureDetail, type TlsPolicyResult } from './model';
import { isoSeconds, parseDateText } from './utc-time';
import { WarningLog } from './warnings';

/**
 * SMTP TLS reports (RFC 8460 section 4): JSON with hyphenated field names, mapped to the model's
 * snake_case. Missing required fields (organization-name, date-range, report-id, policies) reject
 * the report; anything else a reporter gets wrong becomes a warning.
 */
export function parseSmtpTlsReport(json: string): SmtpTlsReport {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw invalid(`it is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!isObject(parsed)) throw invalid('it is not a JSON object');
  const warnings = new WarningLog();

  const reportId = stringField(parsed, 'report-id');
  if (reportId === null) throw invalid('it has no report-id');
  const range = parsed['date-range'];
  if (!isObject(range)) throw invalid('it has no date-range');
  const begin = dateField(range, 'start-datetime');
  const end = dateField(range, 'end-datetime');
  if (end < begin) warnings.add('date-range ends before it begins');
  const policies = parsed['policies'];
  if (!Array.isArray(policies)) throw invalid('it has no policies list');

  const orgEmail = contactOf(stringField(parsed, 'contact-info'));
  const orgName = stringField(parsed, 'organization-name') ?? fallbackOrgName(orgEmail, warnings);
  const results = policies.flatMap((policy, index) => readPolicy(policy, index, warnings));
  if (results.length === 0) warnings.add('the report has no policies');

  return {
    kind: 'smtp_tls',
    report_id: reportId,
    org_name: orgName,
    org_email: orgEmail,
    begin,
    end,
    policies: results,
    warnings: warnings.list(),
  };
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(reason: string): ReportRejection {
  return new ReportRejection('invalid-report', `not a usable SMTP TLS report: ${reason}`);
}

function stringField(object: JsonObject, name: string): string | null {
  const value = object[name];
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

function dateField(range: JsonObject, name: string): string {
  const text = stringField(range, name);
  if (text === null) throw invalid(`date-range has no ${name}`);
  const date = parseDateText(text);
  if (date === null) throw invalid(`date-range ${name} "${text}" is not a date`);
  return isoSeconds(date);
}

/** RFC 8460 allows `mailto:` URIs or plain addresses in contact-info. */
function contactOf(contact: string | null): string | null {
  return contact === null ? null : contact.replace(/^mailto:/i, '').trim() || null;
}

function fallbackOrgName(contact: string | null, warnings: WarningLog): string {
  const domain = contact?.includes('@') ? contact.slice(contact.lastIndexOf('@') + 1).toLowerCase() : null;
  if (domain) {
    warnings.add(`organization-name is missing; the domain of contact-info, ${domain}, is used instead`);
    return domain;
  }
  warnings.add('organization-name and contact-info are both missing; the reporter is recorded as "unknown"');
  return 'unknown';
}

/** A list field that reporters also send as one string (the RFC's own example does for mx-host). */
function stringList(value: unknown): string[] {
  const items = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  return items.filter((item): item is string => typeof item === 'string' && item.trim() !== '').map((item) => item.trim());
}

function countField(object: JsonObject, name: string, where: string, warnings: WarningLog): number {
  const value = object[name];
  const number = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof number === 'number' && Number.isSafeInteger(number) && number >= 0) return number;
  warnings.add(
    value === undefined ? `${where} has no ${name}; 0 was assumed` : `${where} ${name} ${JSON.stringify(value)} is not a count; 0 was assumed`,
    `count:${name}`,
  );
  return 0;
}

const POLICY_TYPES = ['tlsa', 'sts', 'no-policy-found'];

function readPolicy(entry: unknown, index: number, warnings: WarningLog): TlsPolicyResult[] {
  const where = `policy ${index}`;
  const policy = isObject(entry) ? entry['policy'] : undefined;
  if (!isObject(entry) || !isObject(policy)) {
    warnings.add(`${where} was skipped: it has no policy object`, 'policy-no-object');
    return [];
  }
  const domain = stringField(policy, 'policy-domain');
  if (domain === null) {
    warnings.add(`${where} was skipped: it has no policy-domain`, 'policy-no-domain');
    return [];
  }
  const type = stringField(policy, 'policy-type')?.toLowerCase() ?? null;
  if (type === null) warnings.add(`${where} has no policy-type; it was recorded as no-policy-found`, 'policy-no-type');
  else if (!POLICY_TYPES.includes(type)) warnings.add(`${where} policy-type "${type}" is not tlsa, sts or no-policy-found`, 'policy-type');
  const summary = isObject(entry['summary']) ? entry['summary'] : {};
  const details = entry['failure-details'];

  return [
    {
      policy_type: type ?? 'no-policy-found',
      policy_string: stringList(policy['policy-string']),
      policy_domain: domain.toLowerCase(),
      mx_host: stringList(policy['mx-host']),
      total_successful_session_count: countField(summary, 'total-successful-session-count', where, warnings),
      total_failure_session_count: countField(summary, 'total-failure-session-count', where, warnings),
      failure_details: (Array.isArray(details) ? details : []).flatMap((detail, k) =>
        readFailureDetail(detail, `${where} failure-details ${k}`, warnings),
      ),
    },
  ];
}

function readFailureDetail(entry: unknown, where: string, warnings: WarningLog): TlsFailureDetail[] {
  const resultType = isObject(entry) ? stringField(entry, 'result-type') : null;
  if (!isObject(entry) || resultType === null) {
    warnings.add(`${where} was skipped: it has no result-type`, 'detail-no-type');
    return [];
  }
  return [
    {
      result_type: resultType.toLowerCase(),
      sending_mta_ip: stringField(entry, 'sending-mta-ip'),
      receiving_mx_hostname: stringField(entry, 'receiving-mx-hostname'),
      receiving_mx_helo: stringField(entry, 'receiving-mx-helo'),
      receiving_ip: stringField(entry, 'receiving-ip'),
      failed_session_count: countField(entry, 'failed-session-count', where, warnings),
      additional_information: stringField(entry, 'additional-information'),
      failure_reason_code: stringField(entry, 'failure-reason-code'),
    },
  ];
}
