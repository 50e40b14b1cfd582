/**
 * The grade of one mail server (one IP and port) from what the probe measured: each configuration
 * choice is put in an NCSC-NL band by a rule, and the server's grade is the worst band. Pure: the
 * agent prints it with a one-off scan, the Worker stores it with the result.
 */
import type { Finding } from '../../dns/checks/finding.ts';
import type { CipherSuiteRef, ProbeTargetResult, ProtocolName } from '../probe-result.ts';
import { BANDS, groupBand, dhBand, signatureBand, suiteBand, worstBand, type Band, type ServerGrade } from './bands.ts';
import { suiteProperties } from './cipher-suite.ts';
import { bandOf, tlsFinding } from './rules.ts';

export interface ServerGradeResult {
  grade: ServerGrade;
  findings: Finding[];
}

const OLD_PROTOCOLS: ProtocolName[] = ['SSLv2', 'SSLv3', 'TLSv1.0', 'TLSv1.1'];
/** Names in findings list at most this many suites, so a finding stays readable (the count says the rest). */
const LISTED_SUITES = 8;

function list(names: string[]): string {
  const unique = [...new Set(names)];
  return unique.length <= LISTED_SUITES ? unique.join(', ') : `${unique.slice(0, LISTED_SUITES).join(', ')} and ${unique.length - LISTED_SUITES} more`;
}

export function gradeServer(result: ProbeTargetResult): { grade: 'good' | 'sufficient' | 'phase_out' | 'insufficient' | 'inconclusive' | 'no_tls'; findings: Finding[] } {
  const where = { host: result.host, ip: result.ip, port: result.port };
  const reason = result.status_reason ?? result.smtp.error ?? 'no reason given';
  switch (result.status) {
    case 'no_starttls':
      return { grade: 'no_tls', findings: [tlsFinding('tls.no-starttls', where, result.smtp.greeting ?? undefined)] };
    case 'inconclusive':
      // 4xx, 421, resets, time-outs: the scanner's problem as often as the server's, never a failure.
      return { grade: 'inconclusive', findings: [tlsFinding('tls.inconclusive', { ...where, reason })] };
    case 'refused':
      // The agent's SSRF guard: the address is private or reserved, so nothing about TLS is known.
      return { grade: 'inconclusive', findings: [tlsFinding('tls.refused', { ...where, reason })] };
    case 'ok':
      break;
  }
  const findings = configurationFindings(result, where);
  if (!result.complete) findings.push(tlsFinding('tls.incomplete', where));
  const bands = findings.map((f) => bandOf(f.id)).filter((b): b is Band => b !== null);
  return { grade: worstBand(bands), findings };
}

function configurationFindings(result: ProbeTargetResult, where: { host: string; ip: string; port: number }): Finding[] {
  const findings: Finding[] = [];
  const p = result.protocols;
  if (p.SSLv2) findings.push(tlsFinding('tls.protocol-sslv2', where));
  if (p.SSLv3) findings.push(tlsFinding('tls.protocol-sslv3', where));
  if (p['TLSv1.0']) findings.push(tlsFinding('tls.protocol-tls10', where));
  if (p['TLSv1.1']) findings.push(tlsFinding('tls.protocol-tls11', where));
  const supported = (Object.keys(p) as ProtocolName[]).filter((name) => p[name]);
  if (!p['TLSv1.2'] && !p['TLSv1.3']) findings.push(tlsFinding('tls.no-tls12', { ...where, protocols: supported.join(', ') || 'none' }));
  else if (!p['TLSv1.3']) findings.push(tlsFinding('tls.no-tls13', where));

  // Suites: one finding per band (not per suite), listing the suites, so the advice is read once.
  const byBand: Record<Band, string[]> = { good: [], sufficient: [], phase_out: [], insufficient: [] };
  const unordered: ProtocolName[] = [];
  for (const protocol of supported) {
    const suites = (result.cipher_suites[protocol] ?? []).filter((s) => !suiteProperties(s.name).signalling);
    const bands = suites.map((s) => suiteBand(s.name));
    suites.forEach((s, i) => byBand[bands[i]!].push(s.name));
    const mixed = new Set(bands).size > 1;
    const preference = result.server_preference[protocol];
    if (mixed && preference === false) unordered.push(protocol);
    if (mixed && preference === true) weakFirst(protocol, suites, bands, where, findings);
  }
  if (byBand.insufficient.length) findings.push(tlsFinding('tls.suite-insufficient', { ...where, suites: list(byBand.insufficient) }));
  if (byBand.phase_out.length) findings.push(tlsFinding('tls.suite-phase-out', { ...where, suites: list(byBand.phase_out) }));
  if (byBand.sufficient.length) findings.push(tlsFinding('tls.suite-sufficient', { ...where, suites: list(byBand.sufficient) }));
  if (unordered.length) findings.push(tlsFinding('tls.no-server-preference', { ...where, protocols: unordered.join(', ') }));

  // Key exchange: DH size of DHE suites, and every named group accepted.
  const dh = result.key_exchange.dh_bits;
  if (dh !== null) {
    const band = dhBand(dh);
    if (band === 'insufficient') findings.push(tlsFinding('tls.dh-insufficient', { ...where, bits: dh }));
    else if (band === 'phase_out') findings.push(tlsFinding('tls.dh-phase-out', { ...where, bits: dh }));
  }
  const groups = [...new Set([...result.groups, ...result.key_exchange.groups])];
  // ffdhe groups are judged by their size above when used; only the curves are judged here.
  const curves = groups.filter((g) => !/^ffdhe/i.test(g));
  const weakCurves = curves.filter((g) => groupBand(g) === 'insufficient');
  const oldCurves = curves.filter((g) => groupBand(g) === 'phase_out');
  const ecdh = result.key_exchange.ecdh_bits;
  if (weakCurves.length || (ecdh !== null && ecdh < 224)) findings.push(tlsFinding('tls.group-insufficient', { ...where, groups: weakCurves.join(', ') || `a ${ecdh}-bit curve` }));
  else if (oldCurves.length) findings.push(tlsFinding('tls.group-phase-out', { ...where, groups: oldCurves.join(', ') }));

  const md5 = result.signature_algorithms.filter((a) => signatureBand(a) === 'insufficient');
  const sha1 = result.signature_algorithms.filter((a) => signatureBand(a) === 'phase_out');
  if (md5.length) findings.push(tlsFinding('tls.signature-md5', { ...where, algorithms: md5.join(', ') }));
  if (sha1.length) findings.push(tlsFinding('tls.signature-sha1', { ...where, algorithms: sha1.join(', ') }));

  // RFC 5746 does not exist in TLS 1.3 (no renegotiation): only a server with older versions can fail it.
  const pre13 = supported.filter((name) => name !== 'TLSv1.3');
  if (result.secure_renegotiation === false && pre13.length) findings.push(tlsFinding('tls.insecure-renegotiation', where));
  if (result.compression === true) findings.push(tlsFinding('tls.compression', where));
  // A fallback can only go somewhere when there are at least two versions below TLS 1.3.
  const belowBest = pre13.filter((name) => OLD_PROTOCOLS.includes(name));
  if (result.fallback_scsv === false && belowBest.length && pre13.length >= 2) findings.push(tlsFinding('tls.no-fallback-scsv', { ...where, protocols: belowBest.join(', ') }));
  if (result.smtp.starttls_injection === true) findings.push(tlsFinding('tls.starttls-injection', where));
  return findings;
}

/** With server preference, the first suite is what every sender gets: it should be the best offered. */
function weakFirst(protocol: ProtocolName, suites: CipherSuiteRef[], bands: Band[], where: { host: string; ip: string; port: number }, findings: Finding[]) {
  const first = bands[0];
  if (first === undefined) return;
  const bestIndex = bands.reduce((best, band, i) => (BANDS.indexOf(band) < BANDS.indexOf(bands[best]!) ? i : best), 0);
  if (BANDS.indexOf(bands[bestIndex]!) < BANDS.indexOf(first)) {
    findings.push(tlsFinding('tls.weak-suite-preferred', { ...where, protocol, first: suites[0]!.name, better: suites[bestIndex]!.name }));
  }
}
