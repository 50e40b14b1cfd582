/**
 * A domain's mail TLS at a glance: the worst grade over every MX IP (mail goes to whichever answers,
 * so the weakest server is what a sender may meet), and the downgrade-protection axis: whether a
 * sender is told to insist on TLS (MTA-STS enforce) or on an authenticated key (DANE), without which
 * an attacker on the path can strip STARTTLS whatever the grade.
 */
import type { DaneFacts } from '../probe-result.ts';
import type { ServerGrade } from './bands.ts';

export type DowngradeProtection = 'none' | 'mta_sts' | 'dane';
export type DomainTlsGrade = ServerGrade | 'pending';

/** Best to worst; `no_tls` is worse than any TLS, since mail goes in plain text. */
const ORDER: ServerGrade[] = ['good', 'sufficient', 'phase_out', 'insufficient', 'no_tls'];

/**
 * Worst server grade. Inconclusive servers do not count while any other server has a grade (a server
 * we could not judge is not evidence against the others); all inconclusive gives `inconclusive`,
 * no scanned server yet gives `pending`.
 */
export function rollUpGrades(grades: readonly (ServerGrade | null)[]): DomainTlsGrade {
  const known = grades.filter((g): g is ServerGrade => g !== null);
  if (known.length === 0) return 'pending';
  const graded = known.filter((g) => g !== 'inconclusive');
  if (graded.length === 0) return 'inconclusive';
  return graded.reduce((worst, g) => (ORDER.indexOf(g) > ORDER.indexOf(worst) ? g : worst), 'good' as ServerGrade);
}

/** DANE counts only for a DNSSEC-validated TLSA answer with records in it (RFC 7672 §2.2). */
export function danePublished(dane: DaneFacts | null | undefined): boolean {
  return !!dane && dane.authenticated && dane.dns_status === 'NOERROR' && dane.records.length > 0;
}

/**
 * DANE when every MX host publishes validated TLSA records (a host without them is where a downgrade
 * goes); else MTA-STS when its policy is in enforce mode (testing only reports); else none. DANE
 * outranks MTA-STS: senders that do both use DANE (RFC 8461 §2).
 */
export function downgradeProtection(input: { mtaStsMode: string | null; daneByHost: ReadonlyMap<string, boolean> }): DowngradeProtection {
  const hosts = [...input.daneByHost.values()];
  if (hosts.length > 0 && hosts.every(Boolean)) return 'dane';
  if (input.mtaStsMode === 'enforce') return 'mta_sts';
  return 'none';
}
