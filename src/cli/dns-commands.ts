import { checkDomain } from '../dns/check-domain';
import { createDohResolver, DEFAULT_DOH_URL } from '../dns/doh-client';
import { AREA_TITLES, AREAS, type DomainCheck } from '../dns/domain-check';
import { checkHost, type SpfCheckResult } from '../dns/spf/index';
import type { CheckCommand, SpfCommand } from './dns-args';
import type { CliIo } from './run';
import { QUERIES_PER_CHECK } from '../dns/query-budget';

const MARK = { error: '✗', warning: '!', info: 'i' } as const;

/** A report a domain owner can read: each area, its record, and what to fix with the advice. */
export function checkAsText(check: DomainCheck): string {
  const lines = [`${check.domain} (checked ${check.checked_at}${check.complete ? '' : '; INCOMPLETE: DNS failures, see below'})`, ''];
  for (const area of AREAS) {
    const result = check[area];
    const worst = result.findings.find((f) => f.severity === 'error') ? 'needs fixing' : result.findings.some((f) => f.severity === 'warning') ? 'could be better' : 'ok';
    lines.push(`${AREA_TITLES[area]}: ${worst}`);
    if (result.record) lines.push(`  record: ${result.record}`);
    if (area === 'spf') lines.push(`  DNS lookups: ${check.spf.dns_lookups} of 10, void lookups: ${check.spf.void_lookups} of 2`);
    for (const f of result.findings) {
      lines.push(`  ${MARK[f.severity]} ${f.title} [${f.id}]`);
      lines.push(`    ${f.advice.replace(/\n/g, '\n    ')}`);
    }
    lines.push('');
  }
  const counts = (['error', 'warning', 'info'] as const).map((s) => `${check.findings.filter((f) => f.severity === s).length} ${s}${s === 'info' ? '' : 's'}`);
  lines.push(`Summary: ${counts.join(', ')}`, '');
  return lines.join('\n');
}

export function spfAsText(result: SpfCheckResult): string {
  return [
    `SPF check_host(${result.ip}, ${result.domain}, ${result.sender}): ${result.result}`,
    `  ${result.reason}`,
    ...(result.mechanism ? [`  matched: ${result.mechanism}${result.mechanism_domain && result.mechanism_domain !== result.domain ? ` (in ${result.mechanism_domain})` : ''}`] : []),
    ...(result.explanation ? [`  explanation: ${result.explanation}`] : []),
    ...(result.record ? [`  record: ${result.record}`] : []),
    `  DNS lookups: ${result.dns_lookups} of 10, void lookups: ${result.void_lookups} of 2`,
    '',
  ].join('\n');
}

/** `check` and `spf`: 0 when done, 1 when a DNS failure left a check incomplete. */
export async function runDnsCommand(command: CheckCommand | SpfCommand, io: CliIo): Promise<number> {
  if (command.command === 'spf') {
    const resolver = createDohResolver({ url: command.resolver ?? DEFAULT_DOH_URL, maxQueries: QUERIES_PER_CHECK });
    const result = await checkHost(resolver, {
      ip: command.ip,
      domain: command.domain,
      ...(command.sender ? { sender: command.sender } : {}),
      ...(command.helo ? { helo: command.helo } : {}),
    });
    io.stdout.write(command.format === 'json' ? `${JSON.stringify(result, null, 2)}\n` : spfAsText(result));
    return result.result === 'temperror' ? 1 : 0;
  }
  const checks: DomainCheck[] = [];
  let invalid = 0;
  for (const domain of command.domains) {
    let check: DomainCheck;
    try {
      // A fresh resolver budget per domain, the same as the Worker's monitor allows one check.
      check = await checkDomain(createDohResolver({ url: command.resolver ?? DEFAULT_DOH_URL, maxQueries: QUERIES_PER_CHECK }), domain, { selectors: command.selectors });
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      io.stderr.write(`error: ${error.message}\n`);
      invalid++;
      continue;
    }
    checks.push(check);
    if (command.format === 'text') io.stdout.write(checkAsText(check));
  }
  // One domain: one object; several: an array of them.
  if (command.format === 'json' && checks.length > 0) io.stdout.write(`${JSON.stringify(checks.length === 1 ? checks[0] : checks, null, 2)}\n`);
  return invalid === 0 && checks.every((c) => c.complete) ? 0 : 1;
}
