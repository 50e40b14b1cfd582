import type { Alignment, Disposition, DmarcVerdict } from '../model';
import type { WarningLog } from '../warnings';

/**
 * Normalisers for the enumerations and numbers of an aggregate report. Values are trimmed and
 * lower-cased (`PASS` → `pass`); a value outside the enumeration becomes null with a warning,
 * never a rejection, because one reporter's typo must not cost the whole report.
 */

export const POLICY_DISPOSITIONS = ['none', 'quarantine', 'reject'] as const;
export const EVALUATED_DISPOSITIONS = ['none', 'quarantine', 'reject', 'pass'] as const;
export const ALIGNMENTS = ['r', 's'] as const;
export const SPF_SCOPES = ['mfrom', 'helo'] as const;
export const TESTING = ['y', 'n'] as const;
export const DISCOVERY_METHODS = ['psl', 'treewalk'] as const;

/** Old or sloppy spellings seen in the wild, folded into the RFC value. */
const ALIASES: Record<string, string> = {
  quarantined: 'quarantine',
  rejected: 'reject',
  relaxed: 'r',
  strict: 's',
};

export function enumValue<T extends string>(
  raw: string | null,
  allowed: readonly T[],
  field: string,
  warnings: WarningLog,
): T | null {
  if (raw === null) return null;
  const lower = raw.toLowerCase();
  const value = ALIASES[lower] ?? lower;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  warnings.add(`${field} "${raw}" is not one of ${allowed.join(', ')}; it was left empty`, `enum:${field}:${lower}`);
  return null;
}

export function dispositionOf(raw: string | null, field: string, warnings: WarningLog, evaluated: boolean): Disposition | null {
  return enumValue<Disposition>(raw, evaluated ? EVALUATED_DISPOSITIONS : POLICY_DISPOSITIONS, field, warnings);
}

export function alignmentOf(raw: string | null, field: string, warnings: WarningLog): Alignment | null {
  return enumValue<Alignment>(raw, ALIGNMENTS, field, warnings);
}

/** Authentication results that are not a pass; DMARC's evaluated dkim/spf is binary, so they mean fail. */
const NOT_A_PASS = new Set(['none', 'neutral', 'softfail', 'hardfail', 'temperror', 'permerror', 'policy', 'unknown', 'error']);

/** `policy_evaluated/dkim|spf`: pass or fail. Old reporters wrote the raw SPF/DKIM result there. */
export function verdictOf(raw: string | null, field: string, warnings: WarningLog): DmarcVerdict | null {
  if (raw === null) return null;
  const lower = raw.toLowerCase();
  if (lower === 'pass' || lower === 'fail') return lower;
  if (NOT_A_PASS.has(lower)) {
    warnings.add(`${field} "${raw}" is an authentication result, not a DMARC verdict; it was read as fail`, `verdict:${field}:${lower}`);
    return 'fail';
  }
  warnings.add(`${field} "${raw}" is not pass or fail; it was left empty`, `verdict:${field}:${lower}`);
  return null;
}

/** A non-negative integer written in decimal digits, or null. */
export function nonNegativeInteger(raw: string | null): number | null {
  if (raw === null || !/^\+?\d+$/.test(raw)) return null;
  const value = Number(raw);
  return Number.isSafeInteger(value) ? value : null;
}

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const HEX_GROUP = /^[0-9a-f]{1,4}$/;

/** IPv4 dotted quad or IPv6 text form (with `::` and an embedded IPv4 tail). */
export function isIpAddress(text: string): boolean {
  if (IPV4.test(text)) return true;
  const lower = text.toLowerCase();
  if (!lower.includes(':')) return false;
  const halves = lower.split('::');
  if (halves.length > 2) return false;
  const groups = halves.flatMap((half) => (half === '' ? [] : half.split(':')));
  let count = groups.length;
  const last = groups[groups.length - 1];
  if (last?.includes('.')) {
    if (!IPV4.test(last)) return false;
    groups.pop();
    count++; // an IPv4 tail fills two groups
  }
  if (!groups.every((group) => HEX_GROUP.test(group))) return false;
  return halves.length === 2 ? count <= 7 : count === 8;
}

/** Domains are compared case-insensitively; keep them lower-case. */
export function domainOf(raw: string | null): string | null {
  return raw === null ? null : raw.toLowerCase();
}
