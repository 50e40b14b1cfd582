/** Small helpers the checks share for reading resolver answers. */
import type { DnsAnswer, DnsStatus } from '../resolver.ts';

/** Statuses that say nothing about what the domain publishes: report them, never read them as "missing". */
export function isDnsFailure(status: DnsStatus): boolean {
  return status === 'SERVFAIL' || status === 'REFUSED' || status === 'TIMEOUT' || status === 'ERROR';
}

/** The joined text of every TXT record in an answer. */
export function txtTexts(answer: DnsAnswer): string[] {
  const texts: string[] = [];
  for (const r of answer.records) if (r.type === 'TXT') texts.push(r.text);
  return texts;
}

/** "SERVFAIL (DNSSEC Bogus (EDE 6))", for the detail of a dns-failure finding. */
export function describeFailure(answer: DnsAnswer): string {
  return `${answer.name} ${answer.type}: ${answer.status}${answer.error ? ` (${answer.error})` : ''}`;
}

/** Lower case, no trailing dot. */
export function normaliseHost(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.length > 1 && lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** Whether `text` parses as an absolute URL (URL.canParse is not in every runtime's typings). */
export function isUrl(text: string): boolean {
  try {
    new URL(text);
    return true;
  } catch {
    return false;
  }
}
