/**
 * DKIM check (RFC 6376 §3.6.1, RFC 8301, RFC 8463): for each selector given (taken from the domain's
 * aggregate reports: selectors are never guessed), the key record at `<selector>._domainkey.<domain>`:
 * its tags, key type, RSA key size, revocation and testing flag. RSA sizes come from WebCrypto
 * (`importKey('spki')`), available in Workers and Node alike.
 */
import type { Resolver } from '../resolver.ts';
import { describeFailure, isDnsFailure, normaliseHost, txtTexts } from './dns.ts';
import { findingMaker, rulesList, type CheckResult, type Finding, type RuleTable } from './finding.ts';
import { parseTagList } from './tag-list.ts';

const RFC6376 = 'https://www.rfc-editor.org/rfc/rfc6376#section-3.6.1';
const RFC8301 = 'https://www.rfc-editor.org/rfc/rfc8301#section-3.2';

const RULES = {
  'dkim.no-selectors': {
    severity: 'info',
    title: 'No DKIM selectors known yet',
    advice:
      'DKIM keys are checked for the selectors seen in the aggregate reports of {domain}; none have been seen yet. They appear once DMARC reports for signed mail arrive.',
    reference: RFC6376,
  },
  'dkim.dns-failure': {
    severity: 'error',
    title: 'A DKIM key could not be looked up',
    advice:
      'The DNS query for {name} ended in {status}, so receivers meeting the same failure cannot verify mail signed with selector {selector} (a temporary error). If it persists, check that the zone\'s name servers answer and that its DNSSEC signatures are valid.',
    reference: RFC6376,
  },
  'dkim.key-missing': {
    severity: 'error',
    title: 'DKIM key not found',
    advice:
      'Mail from {domain} is signed with selector {selector}, but there is no DKIM key at {name} ({status}), so those signatures fail. Publish the public key your mail service gives you for that selector as a TXT record (or CNAME) at {name}.',
    reference: RFC6376,
  },
  'dkim.multiple-records': {
    severity: 'error',
    title: 'More than one DKIM key record',
    advice: '{name} has {count} TXT records that look like DKIM keys; receivers may pick either and fail. Keep only the key that matches the private key used for selector {selector}.',
    reference: RFC6376,
  },
  'dkim.invalid': {
    severity: 'error',
    title: 'The DKIM key record is not valid',
    advice: 'The key at {name} cannot be used: {problem}. Publish the record again exactly as your mail service or key generator gives it, for example "v=DKIM1; k=rsa; p=<base64 public key>".',
    reference: RFC6376,
  },
  'dkim.revoked': {
    severity: 'warning',
    title: 'DKIM key revoked',
    advice:
      'The key at {name} has an empty p=, which revokes selector {selector}: every signature made with it fails. If mail is still signed with {selector}, switch the signer to a current selector; if not, this is as intended.',
    reference: RFC6376,
  },
  'dkim.testing': {
    severity: 'warning',
    title: 'DKIM key in testing mode',
    advice:
      'The key at {name} has t=y, which asks receivers to treat its signatures as if the mail were unsigned. Once signing works, remove t=y from the record.',
    reference: RFC6376,
  },
  'dkim.rsa-too-short': {
    severity: 'error',
    title: 'DKIM RSA key shorter than 1024 bits',
    advice:
      'The key at {name} is {bits}-bit RSA. Receivers must not accept keys under 1024 bits, and such keys can be broken. Generate a 2048-bit key, publish it under a new selector, switch the signer to it, then revoke {selector} (p= empty).',
    reference: RFC8301,
  },
  'dkim.rsa-1024': {
    severity: 'warning',
    title: 'DKIM RSA key of 1024 bits',
    advice:
      'The key at {name} is {bits}-bit RSA, the smallest size receivers accept. Generate a 2048-bit key under a new selector, switch the signer to it, then revoke {selector}.',
    reference: RFC8301,
  },
  'dkim.sha1-only': {
    severity: 'error',
    title: 'DKIM key allows only SHA-1',
    advice: 'The key at {name} has h=sha1, but receivers no longer accept SHA-1 signatures. Remove h= (or set h=sha256) and sign with rsa-sha256.',
    reference: RFC8301,
  },
} as const satisfies RuleTable<string>;

export type DkimRuleId = keyof typeof RULES;
export const DKIM_RULES = rulesList(RULES);
const finding = findingMaker(RULES);

export interface DkimKeyRecord {
  version: string | null;
  keyType: string;
  /** The p= value without whitespace; '' when revoked. */
  publicKey: string;
  hashAlgorithms: string[] | null;
  serviceTypes: string[] | null;
  flags: string[];
  errors: string[];
}

export interface DkimSelectorFacts {
  selector: string;
  name: string;
  status: string;
  record: string | null;
  keyType: 'rsa' | 'ed25519' | null;
  /** RSA modulus length; 256 for ed25519; null when unknown. */
  keyBits: number | null;
  revoked: boolean;
  testing: boolean;
}

export interface DkimFacts {
  selectors: DkimSelectorFacts[];
}

export interface DkimOptions {
  /** Selectors seen in the domain's aggregate reports. */
  selectors?: string[];
}

export type DkimResult = CheckResult<'dkim', DkimFacts>;

/** A TXT record meant as a DKIM key: starts with v=DKIM1, or carries a p= tag. */
export function isDkimKeyRecord(text: string): boolean {
  return /^\s*v\s*=\s*DKIM1\s*(;|$)/.test(text) || /(^|;)\s*p\s*=/.test(text);
}

export function parseDkimKeyRecord(text: string): DkimKeyRecord {
  const { tags, values, errors } = parseTagList(text);
  const out: DkimKeyRecord = {
    version: values.get('v') ?? null,
    keyType: values.get('k') ?? 'rsa',
    publicKey: (values.get('p') ?? '').replace(/\s+/g, ''),
    hashAlgorithms: values.has('h') ? splitColons(values.get('h') ?? '') : null,
    serviceTypes: values.has('s') ? splitColons(values.get('s') ?? '') : null,
    flags: values.has('t') ? splitColons(values.get('t') ?? '') : [],
    errors: [...errors],
  };
  if (out.version !== null) {
    if (out.version !== 'DKIM1') out.errors.push(`v=${out.version} is not DKIM1`);
    else if (tags[0]?.name !== 'v') out.errors.push('v=DKIM1 must come first');
  }
  if (!values.has('p')) out.errors.push('the public key tag p= is missing');
  if (out.keyType !== 'rsa' && out.keyType !== 'ed25519') out.errors.push(`the key type k=${out.keyType} is not rsa or ed25519`);
  if (out.publicKey !== '' && !/^[A-Za-z0-9+/]+={0,2}$/.test(out.publicKey)) out.errors.push('p= is not base64');
  if (out.serviceTypes && !out.serviceTypes.some((s) => s === '*' || s === 'email')) {
    out.errors.push(`s=${values.get('s')} excludes email`);
  }
  return out;
}

function splitColons(value: string): string[] {
  return value.split(':').map((s) => s.trim()).filter((s) => s !== '');
}

/** The size of a DKIM public key in bits, or why it cannot be used. */
export async function measureDkimKey(keyType: string, base64: string): Promise<{ bits: number } | { error: string }> {
  let der: Uint8Array;
  try {
    der = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  } catch {
    return { error: 'p= is not base64' };
  }
  if (keyType === 'ed25519') {
    // RFC 8463 §4: the bare 32-octet public key, not an SPKI structure.
    return der.length === 32 ? { bits: 256 } : { error: `an ed25519 key is 32 octets, this p= has ${der.length}` };
  }
  try {
    const key = await crypto.subtle.importKey('spki', der, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['verify']);
    const algorithm = key.algorithm as { modulusLength?: number };
    if (typeof algorithm.modulusLength === 'number') return { bits: algorithm.modulusLength };
    const jwk = (await crypto.subtle.exportKey('jwk', key)) as JsonWebKey;
    return { bits: modulusBits(jwk.n ?? '') };
  } catch (e) {
    return { error: `p= is not an RSA public key in SubjectPublicKeyInfo form (${e instanceof Error ? e.message : String(e)})` };
  }
}

function modulusBits(n: string): number {
  const bytes = atob(n.replace(/-/g, '+').replace(/_/g, '/'));
  let i = 0;
  while (i < bytes.length && bytes.charCodeAt(i) === 0) i++;
  if (i === bytes.length) return 0;
  return (bytes.length - i - 1) * 8 + (32 - Math.clz32(bytes.charCodeAt(i)));
}

export async function checkDkim(resolver: Resolver, domain: string, options: DkimOptions = {}): Promise<DkimResult> {
  const host = normaliseHost(domain);
  const selectors = [...new Set((options.selectors ?? []).map((s) => s.trim().toLowerCase()).filter((s) => s !== ''))];
  const result: DkimResult = { area: 'dkim', record: null, facts: { selectors: [] }, findings: [] };
  if (selectors.length === 0) {
    result.findings.push(finding('dkim.no-selectors', { domain: host }));
    return result;
  }
  const checked = await Promise.all(selectors.map((selector) => checkSelector(resolver, host, selector)));
  for (const { facts, findings } of checked) {
    result.facts.selectors.push(facts);
    result.findings.push(...findings);
  }
  if (checked.length === 1) result.record = checked[0]?.facts.record ?? null;
  return result;
}

async function checkSelector(resolver: Resolver, domain: string, selector: string): Promise<{ facts: DkimSelectorFacts; findings: Finding[] }> {
  const name = `${selector}._domainkey.${domain}`;
  const answer = await resolver.query(name, 'TXT');
  const facts: DkimSelectorFacts = { selector, name, status: answer.status, record: null, keyType: null, keyBits: null, revoked: false, testing: false };
  const findings: Finding[] = [];
  const values = { name, selector, domain };
  if (isDnsFailure(answer.status)) {
    findings.push(finding('dkim.dns-failure', { ...values, status: answer.status }, describeFailure(answer)));
    return { facts, findings };
  }
  const records = txtTexts(answer).filter(isDkimKeyRecord);
  if (records.length === 0) {
    const status = answer.status === 'NXDOMAIN' ? 'NXDOMAIN' : answer.records.length ? 'no TXT record with a key' : 'no TXT record';
    findings.push(finding('dkim.key-missing', { ...values, status }));
    return { facts, findings };
  }
  if (records.length > 1) {
    findings.push(finding('dkim.multiple-records', { ...values, count: records.length }, records.map((r) => `"${r}"`).join(' and ')));
    return { facts, findings };
  }
  const record = records[0] ?? '';
  facts.record = record;
  const parsed = parseDkimKeyRecord(record);
  facts.testing = parsed.flags.includes('y');
  if (parsed.keyType === 'rsa' || parsed.keyType === 'ed25519') facts.keyType = parsed.keyType;
  for (const problem of parsed.errors) findings.push(finding('dkim.invalid', { ...values, problem }, record));
  if (parsed.errors.length) return { facts, findings };

  if (parsed.publicKey === '') {
    facts.revoked = true;
    findings.push(finding('dkim.revoked', values, record));
    return { facts, findings };
  }
  const measured = await measureDkimKey(parsed.keyType, parsed.publicKey);
  if ('error' in measured) {
    findings.push(finding('dkim.invalid', { ...values, problem: measured.error }, record));
  } else {
    facts.keyBits = measured.bits;
    if (parsed.keyType === 'rsa' && measured.bits < 1024) findings.push(finding('dkim.rsa-too-short', { ...values, bits: measured.bits }));
    else if (parsed.keyType === 'rsa' && measured.bits < 2048) findings.push(finding('dkim.rsa-1024', { ...values, bits: measured.bits }));
  }
  if (parsed.hashAlgorithms && !parsed.hashAlgorithms.includes('sha256')) findings.push(finding('dkim.sha1-only', values, record));
  if (facts.testing) findings.push(finding('dkim.testing', values, record));
  return { facts, findings };
}
