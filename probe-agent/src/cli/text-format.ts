/** The `--format text` summary of scan results: what a person reads in a terminal. Pure. */
import { PROTOCOLS, type ProbeTargetResult } from '../../../src/tls/probe-result.ts';

const yesNo = (v: boolean | null) => (v === null ? 'not tested' : v ? 'yes' : 'no');

export function formatText(results: readonly ProbeTargetResult[]): string {
  return results.map(formatOne).join('\n');
}

function formatOne(r: ProbeTargetResult): string {
  const lines = [`${r.host} ${r.ip.includes(':') ? `[${r.ip}]` : r.ip}:${r.port}  ${r.status}${r.status_reason ? ` (${r.status_reason})` : ''}`];
  if (r.smtp.greeting) lines.push(`  greeting:     ${r.smtp.greeting}`);
  if (r.status === 'ok') {
    lines.push(`  protocols:    ${PROTOCOLS.map((p) => `${p} ${r.protocols[p] ? 'yes' : 'no'}`).join(', ')}`);
    for (const [protocol, suites] of Object.entries(r.cipher_suites)) {
      const pref = r.server_preference[protocol as keyof typeof r.server_preference];
      lines.push(`  ${protocol} suites (${pref === true ? "server's order" : pref === false ? "client's order" : 'order unknown'}):`);
      for (const s of suites ?? []) lines.push(`    ${s.id} ${s.name}`);
    }
    lines.push(`  groups:       ${r.groups.join(', ') || 'none seen'}`);
    if (r.key_exchange.dh_bits !== null) lines.push(`  DH size:      ${r.key_exchange.dh_bits} bits`);
    if (r.signature_algorithms.length) lines.push(`  signatures:   ${r.signature_algorithms.join(', ')}`);
    lines.push(`  secure renegotiation: ${yesNo(r.secure_renegotiation)}, fallback SCSV: ${yesNo(r.fallback_scsv)}, compression: ${yesNo(r.compression)}`);
    lines.push(`  STARTTLS injection: ${yesNo(r.smtp.starttls_injection)}`);
    r.certificates.forEach((c, i) => {
      lines.push(`  certificate ${i}: ${c.subject}`);
      lines.push(`    issuer ${c.issuer}; ${c.key_type} ${c.key_bits}; ${c.signature_algorithm}; valid ${c.not_before.slice(0, 10)} to ${c.not_after.slice(0, 10)}`);
      if (i === 0 && c.san_dns.length) lines.push(`    names ${c.san_dns.join(', ')}`);
    });
    if (r.chain) lines.push(`  chain:        ${r.chain.trusted ? 'trusted' : `not trusted (${r.chain.error})`}${r.chain.in_order ? '' : ', out of order'}${r.chain.missing_intermediates ? ', intermediate missing' : ''}`);
  }
  if (r.dane) {
    lines.push(
      `  DANE:         ${r.dane.name} ${r.dane.dns_status}${r.dane.authenticated ? ' (DNSSEC-validated)' : ''}, ${r.dane.records.length} record(s)` +
        (r.dane.matched === null ? '' : r.dane.matched ? ', matches the chain' : ', does NOT match the chain'),
    );
  }
  for (const f of r.findings) lines.push(`  [${f.severity}] ${f.title}${f.detail ? `: ${f.detail}` : ''}`);
  lines.push(`  ${r.connections} connection(s), ${r.duration_ms} ms${r.complete ? '' : ', INCOMPLETE (connection budget ran out or the server stopped answering)'}`);
  return lines.join('\n') + '\n';
}
