import { ReportRejection } from '../model';

export type TextKind =
  | { kind: 'aggregate' | 'smtp_tls' }
  | { kind: 'other'; why: string };

const PROLOG_ITEM = /^\s*(?:<\?[\s\S]*?\?>|<!--[\s\S]*?-->)/;
const ROOT = /^<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)/;
const TLS_KEYS = /"(?:organization-name|report-id|date-range|policies)"\s*:/;

/**
 * Decides from the first few KB of a part's text what it is: XML whose root element is
 * `feedback` (any namespace) is an aggregate report, a JSON object with RFC 8460 keys a TLS
 * report. Throws ReportRejection('xml-entities') for a DTD in the prolog.
 */
export function classifyText(head: string): TextKind {
  let text = head.replace(/^\uFEFF/, '').trimStart();
  if (text === '') return { kind: 'other', why: 'it is empty' };
  if (text.startsWith('{')) {
    return TLS_KEYS.test(text) ? { kind: 'smtp_tls' } : { kind: 'other', why: 'it is JSON but not an SMTP TLS report' };
  }
  if (!text.startsWith('<')) return { kind: 'other', why: 'it is neither XML nor JSON' };
  for (let item = PROLOG_ITEM.exec(text); item; item = PROLOG_ITEM.exec(text)) text = text.slice(item[0].length);
  text = text.trimStart();
  if (/^<!\s*(?:DOCTYPE|ENTITY)/i.test(text)) {
    throw new ReportRejection(
      'xml-entities',
      'the report declares a DTD (<!DOCTYPE> or <!ENTITY>); DMARC reports never need one and entity expansion is refused',
    );
  }
  const root = ROOT.exec(text)?.[1];
  if (root === 'feedback') return { kind: 'aggregate' };
  return { kind: 'other', why: root ? `it is XML whose root element is <${root}>, not <feedback>` : 'it is not well-formed XML' };
}
