/**
 * Status tags: the words carry the meaning (WCAG 1.4.1), the colour repeats it. Each status maps to
 * a label and a tone; unknown values show as they are, in the neutral tone.
 */
export type Tone = 'good' | 'warn' | 'bad' | 'info' | 'none';

export function Tag(props: { tone: Tone; children: string }) {
  return <strong class={`tag tag--${props.tone}`}>{props.children}</strong>;
}

type Known = Record<string, [label: string, tone: Tone]>;

const DMARC: Known = {
  reject: ['p=reject', 'good'],
  quarantine: ['p=quarantine', 'warn'],
  none: ['p=none', 'bad'],
  missing: ['No DMARC', 'bad'],
};
const SPF: Known = { valid: ['Valid', 'good'], invalid: ['Invalid', 'bad'], missing: ['No SPF', 'bad'] };
const MTA_STS: Known = {
  enforce: ['Enforce', 'good'],
  testing: ['Testing', 'warn'],
  none: ['Mode none', 'warn'],
  invalid: ['Broken policy', 'bad'],
  missing: ['None', 'none'],
};
const DNSSEC: Known = { validated: ['Signed', 'good'], unsigned: ['Unsigned', 'none'], bogus: ['Bogus', 'bad'], unknown: ['Unknown', 'none'] };
export const TLS_GRADES: Known = {
  good: ['Good', 'good'],
  sufficient: ['Sufficient', 'good'],
  phase_out: ['Phase out', 'warn'],
  insufficient: ['Insufficient', 'bad'],
  no_tls: ['No TLS', 'bad'],
  inconclusive: ['Inconclusive', 'none'],
  not_scanned: ['Not scanned', 'none'],
};
export const SEVERITIES: Known = { error: ['Error', 'bad'], warning: ['Warning', 'warn'], info: ['Info', 'info'], none: ['No issues', 'good'] };

export const STATUS_TAGS = { dmarc: DMARC, spf: SPF, mta_sts: MTA_STS, dnssec: DNSSEC, tls: TLS_GRADES, severity: SEVERITIES } as const;

/** The tag of one status value; null (not checked yet) reads "Not checked". */
export function StatusTag(props: { kind: keyof typeof STATUS_TAGS; value: string | null | undefined }) {
  if (props.value === null || props.value === undefined) return <Tag tone="none">Not checked</Tag>;
  const [label, tone] = STATUS_TAGS[props.kind][props.value] ?? [props.value, 'none'];
  return <Tag tone={tone}>{label}</Tag>;
}
