import type { Attachment, Email } from 'postal-mime';
import { isIpAddress } from './aggregate/values';
import { addressDomain, firstField, parseHeaderBlock, type HeaderFields } from './mail-headers';
import type { FailureReportFacts } from './model';
import { parseDateText, utcDay } from './utc-time';

/**
 * Reduces a DMARC failure (forensic) report to the few facts that are counted; the message itself
 * is never kept. Sources, best first:
 *  - the RFC 5965/6591 `message/feedback-report` part (Reported-Domain, Arrival-Date, Source-IP,
 *    Feedback-Type);
 *  - the headers of the original message (`message/rfc822` or `text/rfc822-headers` part);
 *  - the free text, for reporters (Exim) that send multipart/report without a feedback part:
 *    "Sender Domain: …", "Sender IP Address: …", "Received date: …" and copied headers.
 * `raw` (the whole message) is only searched for feedback-report fields postal-mime did not surface.
 */
export function readFailureReport(email: Email, raw?: Uint8Array): FailureReportFacts {
  const warnings: string[] = [];
  const feedback = feedbackFields(email, raw);
  const original = originalHeaders(email);
  const text = email.text ?? '';
  if (!feedback) warnings.push('the report has no machine-readable feedback part; its facts were read from the text');

  const domain =
    addressLike(feedback && firstField(feedback, 'Reported-Domain')) ??
    addressDomain(original && firstField(original, 'From')) ??
    headerFromOf(feedback && firstField(feedback, 'Authentication-Results')) ??
    addressLike(labelled(text, 'Sender Domain')) ??
    addressDomain(copiedHeader(text, 'From')) ??
    headerFromOf(copiedHeader(text, 'Authentication-Results'));
  if (domain === null) warnings.push('the report names no domain');

  const arrival =
    (feedback && firstField(feedback, 'Arrival-Date')) ?? (feedback && firstField(feedback, 'Received-Date')) ?? labelled(text, 'Received date');
  const arrivalDate = arrival ? parseDateText(arrival) : null;
  const reportDate = email.date ? parseDateText(email.date) : null;
  if (arrival && !arrivalDate) warnings.push(`Arrival-Date "${arrival}" is not a date; the report's own Date was used`);
  const day = arrivalDate ?? reportDate;

  return {
    kind: 'failure',
    domain,
    day: day ? utcDay(day) : null,
    source_ip: sourceIpOf(feedback, original, text),
    reporter: addressDomain(email.from?.address ?? null),
    feedback_type: feedback ? (firstField(feedback, 'Feedback-Type')?.toLowerCase() ?? null) : null,
    warnings,
  };
}

/**
 * Is this message a failure report? Yes when it has a `message/feedback-report` part or is
 * `multipart/report; report-type=feedback-report`; also a multipart/report with no report-type
 * whose subject or text speaks of a DMARC failure/forensic report (Exim sends those).
 */
export function isFailureReport(email: Email): boolean {
  if (email.attachments.some((a) => a.mimeType === 'message/feedback-report')) return true;
  const type = email.headers.find((h) => h.key === 'content-type')?.value ?? '';
  if (!/^\s*multipart\/report\b/i.test(type)) return false;
  const reportType = /report-type\s*=\s*"?([\w-]+)/i.exec(type)?.[1]?.toLowerCase();
  if (reportType === 'feedback-report') return true;
  if (reportType !== undefined) return false;
  const wording = /\bDMARC\b[^\n]*\b(?:forensic|failure)\b|\bfailed the published DMARC policy\b/i;
  return wording.test(email.subject ?? '') || wording.test(email.text ?? '');
}

function attachmentText(attachment: Attachment): string {
  const content = attachment.content;
  if (typeof content === 'string') return content;
  return new TextDecoder('utf-8', { fatal: false, ignoreBOM: false }).decode(content);
}

function feedbackFields(email: Email, raw: Uint8Array | undefined): HeaderFields | null {
  const part = email.attachments.find((a) => a.mimeType === 'message/feedback-report');
  if (part) return parseHeaderBlock(attachmentText(part));
  if (!raw) return null;
  // Only fields that exist solely in a feedback report, so the report's own headers cannot match.
  const text = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false }).decode(raw);
  const fields: HeaderFields = new Map();
  for (const name of ['Feedback-Type', 'Reported-Domain', 'Arrival-Date', 'Source-IP']) {
    const value = new RegExp(`^${name}:[ \\t]*(.+)$`, 'mi').exec(text)?.[1]?.trim();
    if (value) fields.set(name.toLowerCase(), [value]);
  }
  return fields.size > 0 ? fields : null;
}

function originalHeaders(email: Email): HeaderFields | null {
  const part = email.attachments.find((a) => a.mimeType === 'message/rfc822' || a.mimeType === 'text/rfc822-headers');
  return part ? parseHeaderBlock(attachmentText(part)) : null;
}

/** `Label: value` on a line of free text. */
function labelled(text: string, label: string): string | null {
  const value = new RegExp(`^[ \\t]*${label}[ \\t]*:[ \\t]*(.+)$`, 'mi').exec(text)?.[1]?.trim();
  return value ? value : null;
}

/** A header copied into the body (starts a line, no indentation). */
function copiedHeader(text: string, name: string): string | null {
  const value = new RegExp(`^${name}:[ \\t]*(.+)$`, 'm').exec(text)?.[1]?.trim();
  return value ? value : null;
}

/** Reported-Domain and "Sender Domain" hold a bare domain (sometimes an address). */
function addressLike(value: string | null): string | null {
  if (!value) return null;
  if (value.includes('@')) return addressDomain(value);
  const domain = value.trim().replace(/\.$/, '').toLowerCase();
  return /^[a-z0-9.-]+\.[a-z0-9-]+$/.test(domain) ? domain : null;
}

function headerFromOf(authenticationResults: string | null): string | null {
  const domain = /header\.from=([A-Za-z0-9.-]+)/.exec(authenticationResults ?? '')?.[1];
  return domain ? addressLike(domain) : null;
}

function sourceIpOf(feedback: HeaderFields | null, original: HeaderFields | null, text: string): string | null {
  const candidates = [
    feedback && firstField(feedback, 'Source-IP'),
    labelled(text, 'Sender IP Address'),
    labelled(text, 'Source IP'),
    receivedFromIp(original?.get('received')?.[0] ?? copiedHeader(text, 'Received')),
  ];
  for (const candidate of candidates) {
    const ip = candidate?.trim().replace(/^\[|\]$/g, '');
    if (ip && isIpAddress(ip)) return ip.toLowerCase();
  }
  return null;
}

/** The connecting IP of `Received: from [192.0.2.1] …` or `Received: from host (name [192.0.2.1]) …`. */
function receivedFromIp(received: string | null): string | null {
  if (!received) return null;
  const literal = /^from\s+\[(?:IPv6:)?([0-9A-Fa-f:.]+)\]/i.exec(received)?.[1];
  if (literal && isIpAddress(literal)) return literal;
  return /^from\s+\S+\s+\([^()[\]]*\[(?:IPv6:)?([0-9A-Fa-f:.]+)\]/i.exec(received)?.[1] ?? null;
}
