/**
 * A digest as an email: a subject, plain text and HTML with the same content. Pure. The HTML uses
 * inline styles and tables only (mail clients drop style sheets); every value is escaped.
 */
import type { Digest, DigestDomain } from './build';

export interface DigestEmail {
  subject: string;
  text: string;
  html: string;
}

const n = (x: number) => x.toLocaleString('en-GB');
const pct = (x: number | null) => (x === null ? '–' : `${(Math.floor(x * 1000) / 10).toFixed(1)}%`);
const policy = (p: string | null, percent: number) => (p === null ? 'no policy' : `p=${p}${percent < 100 ? ` pct=${percent}` : ''}`);

function nextStepLine(d: DigestDomain): string {
  const path = d.reject_path;
  if (path.next_step === null) return 'at p=reject: nothing further';
  const target = policy(path.next_step.p, path.next_step.pct);
  return path.ready ? `ready for ${target}` : `not yet ready for ${target}`;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function digestSubject(d: Digest): string {
  return `MailCheck weekly digest ${d.week}: ${d.group.name}`;
}

export function renderDigestText(d: Digest): string {
  const lines: string[] = [];
  lines.push(`MailCheck Edge weekly digest for ${d.group.name}`, `Week ${d.week} (${d.from} to ${d.to}, UTC)`, '');
  lines.push(
    `Mail reported: ${n(d.totals.messages)} messages across ${n(d.totals.domains)} domains, ${pct(d.totals.pass_rate)} passing DMARC`,
    `The week before: ${n(d.totals.previous.messages)} messages, ${pct(d.totals.previous.pass_rate)} passing`,
    '',
  );
  lines.push('DOMAINS');
  if (d.domains.length === 0) lines.push('  No domains.');
  for (const dom of d.domains) {
    lines.push(`  ${dom.domain}: ${n(dom.messages)} messages, ${pct(dom.pass_rate)} pass; ${dom.new_sources} new sources; findings ${dom.findings.error} errors, ${dom.findings.warning} warnings`);
    lines.push(`    policy ${policy(dom.reject_path.p, dom.reject_path.pct)}; path to reject: ${nextStepLine(dom)}`);
    if (dom.reject_path.next_step) lines.push(`    record to publish${dom.reject_path.ready ? '' : ' once ready'}: ${dom.reject_path.record}`);
    for (const u of dom.reject_path.unmet) lines.push(`    - ${u}`);
  }
  if (d.more_domains > 0) lines.push(`  … and ${n(d.more_domains)} more domains (the most mail first above).`);
  lines.push('', `NEW SOURCES (first seen this week): ${n(d.new_sources.total)}`);
  for (const s of d.new_sources.items) {
    const who = s.service ? `${s.service.name}${s.service.type ? ` (${s.service.type})` : ''}` : (s.ptr ?? 'unidentified');
    lines.push(`  ${s.domain}  ${s.source_ip}  ${who}: ${n(s.messages)} messages, ${n(s.dmarc_pass)} passing, first ${s.first_seen}`);
  }
  if (d.new_sources.total > d.new_sources.items.length) lines.push(`  … ${n(d.new_sources.total - d.new_sources.items.length)} more.`);
  lines.push('', `OPEN FINDINGS (latest checks): ${d.findings.error} errors, ${d.findings.warning} warnings, ${d.findings.info} notes`);
  for (const f of d.findings.items) lines.push(`  [${f.severity}] ${f.domain}: ${f.title} (${f.id})`);
  lines.push('', `WHAT CHANGED THIS WEEK: ${n(d.changes.total)} changes`);
  for (const c of d.changes.items) lines.push(`  ${c.at.slice(0, 10)} ${c.domain}: ${changeText(c)}`);
  if (d.changes.total > d.changes.items.length) lines.push(`  … ${n(d.changes.total - d.changes.items.length)} more.`);
  lines.push('', 'The same digest is in MailCheck Edge under Digests.', '');
  return lines.join('\n');
}

export function changeText(c: Digest['changes']['items'][number]): string {
  const area = c.area.replace('_', '-').toUpperCase();
  if (c.kind === 'record-changed') return `${area} record changed from ${c.before ?? '(none)'} to ${c.after ?? '(none)'}`;
  return `${c.kind === 'finding-appeared' ? 'new' : 'cleared'}: ${c.title ?? c.finding_id ?? area}`;
}

const cell = 'style="border:1px solid #b1b4b6;padding:4px 8px;text-align:left;vertical-align:top"';

function table(headers: string[], rows: string[][]): string {
  if (rows.length === 0) return '<p>None.</p>';
  const head = headers.map((h) => `<th ${cell}>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((v) => `<td ${cell}>${v}</td>`).join('')}</tr>`).join('');
  return `<table style="border-collapse:collapse;margin:8px 0"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

export function renderDigestHtml(d: Digest): string {
  const e = escapeHtml;
  const parts: string[] = [];
  parts.push(`<h1 style="font-size:22px">Weekly digest for ${e(d.group.name)}</h1>`);
  parts.push(`<p>Week ${e(d.week)} (${e(d.from)} to ${e(d.to)}, UTC)</p>`);
  parts.push(
    `<p><strong>${n(d.totals.messages)}</strong> messages reported across ${n(d.totals.domains)} domains, <strong>${pct(d.totals.pass_rate)}</strong> passing DMARC (the week before: ${n(d.totals.previous.messages)}, ${pct(d.totals.previous.pass_rate)}).</p>`,
  );
  parts.push('<h2 style="font-size:18px">Domains and the path to reject</h2>');
  parts.push(
    table(
      ['Domain', 'Messages', 'Pass rate', 'New sources', 'Errors', 'Warnings', 'Policy', 'Next step', 'Record to publish'],
      d.domains.map((dom) => [
        e(dom.domain),
        n(dom.messages),
        pct(dom.pass_rate),
        n(dom.new_sources),
        n(dom.findings.error),
        n(dom.findings.warning),
        e(policy(dom.reject_path.p, dom.reject_path.pct)),
        e(nextStepLine(dom)) + (dom.reject_path.unmet.length ? `<ul>${dom.reject_path.unmet.map((u) => `<li>${e(u)}</li>`).join('')}</ul>` : ''),
        dom.reject_path.next_step ? `<code>${e(dom.reject_path.record)}</code>` : '',
      ]),
    ),
  );
  if (d.more_domains > 0) parts.push(`<p>… and ${n(d.more_domains)} more domains.</p>`);
  parts.push(`<h2 style="font-size:18px">New sources (first seen this week): ${n(d.new_sources.total)}</h2>`);
  parts.push(
    table(
      ['Domain', 'Source', 'Sender', 'Messages', 'Passing', 'First seen'],
      d.new_sources.items.map((s) => [e(s.domain), e(s.source_ip), e(s.service ? s.service.name : (s.ptr ?? 'unidentified')), n(s.messages), n(s.dmarc_pass), e(s.first_seen)]),
    ),
  );
  parts.push(`<h2 style="font-size:18px">Open findings: ${d.findings.error} errors, ${d.findings.warning} warnings, ${d.findings.info} notes</h2>`);
  parts.push(table(['Severity', 'Domain', 'Finding'], d.findings.items.map((f) => [e(f.severity), e(f.domain), `${e(f.title)} <small>(${e(f.id)})</small>`])));
  parts.push(`<h2 style="font-size:18px">What changed this week: ${n(d.changes.total)}</h2>`);
  parts.push(table(['Day', 'Domain', 'Change'], d.changes.items.map((c) => [e(c.at.slice(0, 10)), e(c.domain), e(changeText(c))])));
  parts.push('<p>The same digest is in MailCheck Edge under Digests.</p>');
  return `<!doctype html><html lang="en-GB"><head><meta charset="utf-8"><title>${e(digestSubject(d))}</title></head><body style="font-family:Arial,sans-serif;color:#0b0c0c">${parts.join('\n')}</body></html>`;
}

export function renderDigestEmail(d: Digest): DigestEmail {
  return { subject: digestSubject(d), text: renderDigestText(d), html: renderDigestHtml(d) };
}
