/**
 * The finding every DNS check reports, and the rule it comes from. A rule's advice is a template whose
 * `{placeholders}` the check fills with the domain's own names; the rules lists (one per area) are what
 * docs/rules.md is rendered from.
 */
export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  /** Stable, e.g. `mx.null-mx`; never renamed once published. */
  id: string;
  severity: Severity;
  title: string;
  /** What the domain owner should do, with this domain's names filled in. */
  advice: string;
  /** The standard behind the rule (a URL). */
  reference: string;
  /** What was seen (a record, a host, a DNS status): the evidence for the advice. */
  detail?: string;
}

export interface Rule {
  id: string;
  severity: Severity;
  title: string;
  /** A template: `{name}` placeholders are filled per finding. */
  advice: string;
  reference: string;
}

/** The result of one check: the record it read (when the area has one), structured facts, findings. */
export interface CheckResult<Area extends string, Facts> {
  area: Area;
  record: string | null;
  facts: Facts;
  findings: Finding[];
}

export type RuleTable<Id extends string> = Readonly<Record<Id, Omit<Rule, 'id'>>>;

/** Turns a table of rules keyed by id into the list the docs are rendered from. */
export function rulesList<Id extends string>(table: RuleTable<Id>): readonly Rule[] {
  return Object.entries<Omit<Rule, 'id'>>(table).map(([id, rule]) => ({ id, ...rule }));
}

/** A finding-maker bound to one area's rule table. */
export function findingMaker<Id extends string>(table: RuleTable<Id>) {
  return (id: Id, values: Record<string, string | number> = {}, detail?: string): Finding => {
    const rule = table[id];
    return {
      id,
      severity: rule.severity,
      title: rule.title,
      advice: fillTemplate(rule.advice, values),
      reference: rule.reference,
      ...(detail !== undefined ? { detail } : {}),
    };
  };
}

function fillTemplate(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (key in values ? String(values[key]) : whole)).replace(/\s+/g, ' ').trim();
}
