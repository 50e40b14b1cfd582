import { CHECK_RULES } from './checks/index';
import { DMARC_RULES } from './dmarc/index';
import { AREA_TITLES, AREAS, type Area } from './domain-check';
import { SPF_RULES } from './spf/index';
import { CERTIFICATE_RULES } from '../tls/certificates/rules';
import { TLS_RULES } from '../tls/grading/rules';

interface DocRule {
  id: string;
  severity: string;
  title: string;
  advice: string;
  reference: string;
  when?: string;
  original?: string;
}

/** Mail-server TLS (the probe's findings) and certificates, after the DNS areas. */
const TLS_SECTIONS = { tls: 'Mail-server TLS', certificate: 'Certificates' } as const;

export function rulesByArea(): Record<Area | keyof typeof TLS_SECTIONS, readonly DocRule[]> {
  return { dmarc: DMARC_RULES, spf: SPF_RULES, ...CHECK_RULES, tls: TLS_RULES, certificate: CERTIFICATE_RULES };
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** docs/rules.md, rendered from the rule lists themselves (`npm run docs:rules`; a test keeps it current). */
export function renderRulesDoc(): string {
  const rules = rulesByArea();
  const lines = [
    '# Rules',
    '',
    'Every finding a domain check or the mail-server TLS probe can report, by area. The `id` is stable: scripts and alerts can rely on it.',
    'Advice is a template; `{placeholders}` are filled with the domain\'s own names in each finding. A',
    '`*.dns-failure` finding means the area could not be checked (the resolver failed), never that a record',
    'is missing. Generated from the code by `npm run docs:rules`; do not edit by hand.',
    '',
  ];
  const sections: [keyof typeof rules, string][] = [...AREAS.map((a): [Area, string] => [a, AREA_TITLES[a]]), ...Object.entries(TLS_SECTIONS) as [keyof typeof TLS_SECTIONS, string][]];
  for (const [area, title] of sections) {
    lines.push(`## ${title}`, '', '| id | severity | title | advice | reference |', '|---|---|---|---|---|');
    for (const r of rules[area]) {
      const origin = r.original ? ` (original MailCheck: ${r.original})` : '';
      const when = r.when ? `${r.when}. ` : '';
      lines.push(`| \`${r.id}\` | ${r.severity} | ${cell(r.title)}${cell(origin)} | ${cell(when + r.advice)} | ${r.reference} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}
