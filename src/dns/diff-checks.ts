import { AREAS, type Area, type DomainCheck } from './domain-check';

export interface CheckChange {
  area: Area;
  kind: 'record-changed' | 'finding-appeared' | 'finding-cleared';
  finding_id: string | null;
  detail: Record<string, string | null>;
}

/** What changed between two complete checks of a domain: records, and findings by id. */
export function diffChecks(previous: DomainCheck, next: DomainCheck): CheckChange[] {
  const changes: CheckChange[] = [];
  for (const area of AREAS) {
    const before = previous[area];
    const after = next[area];
    if ((before.record ?? null) !== (after.record ?? null)) {
      changes.push({ area, kind: 'record-changed', finding_id: null, detail: { before: before.record ?? null, after: after.record ?? null } });
    }
    const beforeIds = new Set(before.findings.map((f) => f.id));
    const afterIds = new Set(after.findings.map((f) => f.id));
    for (const f of after.findings) {
      if (!beforeIds.has(f.id)) changes.push({ area, kind: 'finding-appeared', finding_id: f.id, detail: { severity: f.severity, title: f.title, advice: f.advice } });
    }
    for (const f of before.findings) {
      if (!afterIds.has(f.id)) changes.push({ area, kind: 'finding-cleared', finding_id: f.id, detail: { severity: f.severity, title: f.title } });
    }
  }
  return changes;
}
