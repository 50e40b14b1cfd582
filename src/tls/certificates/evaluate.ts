/**
 * Certificate findings for one mail server, from the chain facts the agent sent (it verifies the chain
 * against the public roots; the Worker holds no root store). Pure: the agent's one-off scan and the
 * Worker's API use the same function, the Worker with `strict` from the domain's MTA-STS and DANE.
 */
import type { Finding } from '../../dns/checks/finding.ts';
import type { CertificateFacts, ProbeTargetResult } from '../probe-result.ts';
import { certificateFinding } from './rules.ts';

/**
 * Warn 14 days ahead, as the original MailCheck did: automated renewal (ACME clients renew at 30 days
 * left) has then failed for two weeks, and two weeks is still time to fix it before senders in
 * strict mode start refusing mail. Earlier warnings would fire on every healthy 90-day certificate.
 */
export const EXPIRY_WARNING_DAYS = 14;
const MIN_RSA_BITS = 2048;
const MIN_EC_BITS = 256;
const DAY_MS = 86_400_000;

export interface CertificateContext {
  /** The MX host name the certificate must match (RFC 6125 reference identifier). */
  host: string;
  now: Date;
  /** The domain tells senders to authenticate: MTA-STS mode enforce, or DANE published. */
  strict: boolean;
}

export function evaluateCertificates(result: ProbeTargetResult, ctx: CertificateContext): Finding[] {
  // Without a TLS handshake there is nothing to evaluate; the grade says why.
  if (result.status !== 'ok') return [];
  const host = normaliseName(ctx.host);
  const values = { host, domainRule: 'the domain publishes MTA-STS in enforce mode or DANE' };
  const findings: Finding[] = [];
  const chain = result.certificates;
  const leaf = chain[0];
  if (!leaf) return [certificateFinding('certificate.none', values)];

  const dane = daneFindings(result, host);
  findings.push(...dane.findings);
  // DANE-EE (usage 3) that matches authenticates the key itself: names, roots and dates do not
  // apply (RFC 7672 §3.1.1), so those findings are never errors there.
  const strict = ctx.strict && !dane.eeMatched;

  if (leaf.self_signed && chain.length === 1) {
    findings.push(certificateFinding(strict ? 'certificate.self-signed-strict' : 'certificate.self-signed', values));
  } else if (result.chain && !result.chain.trusted) {
    findings.push(certificateFinding(strict ? 'certificate.untrusted-strict' : 'certificate.untrusted', { ...values, error: result.chain.error ?? 'no reason given' }));
  }
  if (result.chain?.missing_intermediates) findings.push(certificateFinding('certificate.missing-intermediates', values));
  if (result.chain && !result.chain.in_order) findings.push(certificateFinding('certificate.out-of-order', values));

  const names = presentedNames(leaf);
  if (!names.some((name) => nameMatches(name, host))) {
    findings.push(certificateFinding(strict ? 'certificate.name-mismatch-strict' : 'certificate.name-mismatch', { ...values, names: names.join(', ') || 'no host name' }));
  }

  const notAfter = Date.parse(leaf.not_after);
  const notBefore = Date.parse(leaf.not_before);
  const now = ctx.now.getTime();
  if (!dane.eeMatched) {
    if (notAfter < now) findings.push(certificateFinding('certificate.expired', { ...values, date: leaf.not_after }));
    else if (notBefore > now) findings.push(certificateFinding('certificate.not-yet-valid', { ...values, date: leaf.not_before }));
    else if (notAfter - now <= EXPIRY_WARNING_DAYS * DAY_MS) {
      findings.push(certificateFinding('certificate.expires-soon', { ...values, date: leaf.not_after, days: Math.floor((notAfter - now) / DAY_MS) }));
    }
  }

  for (const cert of chain) {
    const weak = weakKey(cert);
    if (weak) findings.push(certificateFinding('certificate.weak-key', { ...values, subject: cert.subject, type: cert.key_type, bits: cert.key_bits }));
    // A root's own signature is never checked by anyone (it is trusted as itself): only issued certificates count.
    if (!cert.self_signed && /md5|sha1(?!\d)|sha-1(?!\d)/i.test(cert.signature_algorithm)) {
      findings.push(certificateFinding('certificate.weak-signature', { ...values, subject: cert.subject, algorithm: cert.signature_algorithm }));
    }
  }
  const eku = leaf.extended_key_usage;
  if (eku.length > 0 && !eku.some((u) => /^(serverAuth|anyExtendedKeyUsage|1\.3\.6\.1\.5\.5\.7\.3\.1|2\.5\.29\.37\.0)$/i.test(u))) {
    findings.push(certificateFinding('certificate.wrong-usage', { ...values, usages: eku.join(', ') }));
  }
  return findings;
}

function daneFindings(result: ProbeTargetResult, host: string): { findings: Finding[]; eeMatched: boolean } {
  const dane = result.dane;
  // SERVFAIL from a validating resolver is the domain's problem (bogus DNSSEC, broken name servers); it
  // makes DANE senders defer mail only when the host's addresses are DNSSEC-validated, since only then
  // do they look for TLSA (RFC 7672 §2.2). A timeout or local error is the agent's, not the domain's.
  if (dane?.dns_status === 'SERVFAIL' && dane.address_authenticated === true) return { findings: [certificateFinding('certificate.dane-lookup-failed', { host, name: dane.name, status: dane.dns_status })], eeMatched: false };
  if (!dane || dane.records.length === 0 || dane.dns_status !== 'NOERROR') return { findings: [], eeMatched: false };
  if (!dane.authenticated) return { findings: [certificateFinding('certificate.dane-unsigned', { host, name: dane.name })], eeMatched: false };
  if (dane.matched === false) return { findings: [certificateFinding('certificate.dane-mismatch', { host, name: dane.name })], eeMatched: false };
  // matched: which usage matched is not in the facts; only when every record is DANE-EE is it certain.
  const eeMatched = dane.matched === true && dane.records.every((r) => r.usage === 3);
  return { findings: [], eeMatched };
}

function weakKey(cert: CertificateFacts): boolean {
  const type = cert.key_type.toUpperCase();
  if (type === 'RSA' || type === 'RSA-PSS') return cert.key_bits < MIN_RSA_BITS;
  if (type === 'EC' || type === 'ECDSA') return cert.key_bits < MIN_EC_BITS;
  // DSA has no place in TLS 1.3 and no public CA issues it any more.
  if (type === 'DSA') return true;
  return false;
}

function normaliseName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

/** RFC 6125 §6.4.4: the CN is a fallback only when there is no dNSName in subjectAltName. */
export function presentedNames(cert: CertificateFacts): string[] {
  if (cert.san_dns.length > 0) return cert.san_dns.map(normaliseName);
  const cn = commonName(cert.subject);
  return cn ? [normaliseName(cn)] : [];
}

/** The CN of an RFC 4514 name ("CN=mx.example.com,O=Example"), respecting escaped commas. */
export function commonName(subject: string): string | null {
  for (const part of subject.split(/(?<!\\),/)) {
    const match = /^\s*CN\s*=\s*(.*)$/i.exec(part);
    if (match) return match[1]!.replace(/\\(.)/g, '$1').trim();
  }
  return null;
}

/**
 * RFC 6125 §6.4.3 as the CA/B Forum applies it: `*` only as the whole left-most label, matching
 * exactly one label, never across dots, never on a bare suffix (`*.com`); no partial wildcards.
 */
export function nameMatches(presented: string, host: string): boolean {
  const name = normaliseName(presented);
  if (!name.startsWith('*.')) return name === host;
  const suffix = name.slice(2);
  if (suffix.includes('*') || suffix.split('.').length < 2) return false;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === suffix;
}
