import { isPublicSuffix, organisationalDomainOf, type SuffixList } from './domain';
import { POLICY_STRENGTH, suggestRecord, type DmarcTagName, type ParsedDmarcRecord, type PolicyValue } from './parse';
import { makeFinding, type DmarcFinding } from './rules';
import { uriKey, type DmarcUri } from './uri';

/** The rules that look at one record's content, run against the record that applies to the domain. */
export interface RecordContext {
  parsed: ParsedDmarcRecord;
  /** Where the record was found. */
  policyDomain: string;
  /** `mailto:` address this service expects in rua (the original MailCheck's service mailbox). */
  expectedRua: string | null;
  list: SuffixList;
}

const MAX_LENGTH = 450;
const MAX_URIS = 2;
const DEFAULT_VALUES: Partial<Record<DmarcTagName, string>> = {
  adkim: 'r', aspf: 'r', fo: '0', pct: '100', rf: 'afrf', ri: '86400', t: 'n', psd: 'u',
};

export function placeholderRua(domain: string): string {
  return `mailto:dmarc-reports@${domain}`;
}

export function normaliseMailto(address: string): string {
  const trimmed = address.trim();
  return (/^mailto:/i.test(trimmed) ? trimmed.slice('mailto:'.length) : trimmed).toLowerCase();
}

/** For a mistyped p (p=rejct), the policy the owner most likely meant; none when unclear. */
function guessPolicy(value: string | null): PolicyValue {
  const start = (value ?? '').trim().toLowerCase()[0];
  return start === 'r' ? 'reject' : start === 'q' ? 'quarantine' : 'none';
}

function joinUris(uris: DmarcUri[]): string | null {
  return uris.length > 0 ? uris.map((u) => u.raw).join(',') : null;
}

export function evaluateRecord(context: RecordContext): DmarcFinding[] {
  const { parsed, policyDomain, expectedRua, list } = context;
  const { policy, explicit } = parsed;
  const findings: DmarcFinding[] = [];
  const name = `_dmarc.${policyDomain}`;
  const suggest = (changes: Partial<Record<DmarcTagName, string | null>> = {}) => suggestRecord(parsed, changes);
  const organisational = organisationalDomainOf(policyDomain, list);
  const isOrganisational = organisational === policyDomain;
  const explicitTags = parsed.tags.filter((t) => !t.implicit);
  const states = (tag: DmarcTagName) => explicitTags.some((t) => t.name === tag);
  const ruaFallback = expectedRua ? `mailto:${normaliseMailto(expectedRua)}` : placeholderRua(policyDomain);

  for (const issue of parsed.issues) {
    findings.push(
      makeFinding(issue.id, issue.message, { name, tag: issue.tag ?? '', suggested: suggest(issue.id === 'dmarc.invalid-value' && issue.tag === 'p' ? { p: guessPolicy(issue.value) } : {}) }),
    );
  }

  if (parsed.text.length > MAX_LENGTH) {
    const withoutDefaults = Object.fromEntries(
      Object.entries(DEFAULT_VALUES).filter(([tag, value]) => explicit[tag as DmarcTagName]?.toLowerCase() === value).map(([tag]) => [tag, null]),
    );
    findings.push(
      makeFinding('dmarc.record-too-long', `${parsed.text.length} characters`, { length: parsed.text.length, suggested: suggest(withoutDefaults) }),
    );
  }

  if (!states('p')) {
    findings.push(makeFinding('dmarc.policy-missing', 'no p= tag', { name, suggested: suggest({ p: 'none' }) }));
  }
  if (policy.p === 'none') {
    findings.push(makeFinding('dmarc.policy-none', 'p=none', { name, suggested: suggest({ p: 'quarantine' }) }));
  }
  if (explicit.pct !== undefined && policy.pct !== 100) {
    findings.push(makeFinding('dmarc.pct-not-100', `pct=${policy.pct}`, { pct: policy.pct, suggested: suggest({ pct: null }) }));
  }
  // RFC 9989: t has no effect on a policy of none.
  if (policy.t === 'y' && policy.p !== null && policy.p !== 'none') {
    findings.push(makeFinding('dmarc.test-mode', 't=y', { suggested: suggest({ t: null }) }));
  }
  for (const tag of ['pct', 'rf', 'ri'] as const) {
    if (explicit[tag] === undefined || (tag === 'pct' && policy.pct !== 100)) continue;
    findings.push(
      makeFinding('dmarc.obsolete-tag', `${tag}=${explicit[tag]}`, {
        tag,
        extra: tag === 'pct' ? ' (RFC 9989 uses t=y to test a policy)' : '',
        suggested: suggest({ [tag]: null }),
      }),
    );
  }

  let subdomainNoneReported = false;
  if (isOrganisational && policy.p !== null && (policy.sp === 'none' || policy.np === 'none')) {
    const parts: string[] = [];
    if (policy.sp === 'none') parts.push(explicit.sp !== undefined ? 'The record states sp=none' : 'The record states no sp, so subdomains take p=none');
    if (policy.np === 'none' && explicit.np !== undefined) parts.push('it states np=none for subdomains that do not exist');
    // Dropping sp=none / np=none lets subdomains take p; with p=none itself, sp=quarantine protects them.
    const changes: Partial<Record<DmarcTagName, string | null>> = {};
    if (policy.sp === 'none') changes.sp = policy.p === 'none' ? 'quarantine' : null;
    if (explicit.np?.toLowerCase() === 'none') changes.np = null;
    findings.push(
      makeFinding('dmarc.subdomain-policy-none', `${parts.join('; ')}.`, { name, policy_domain: policyDomain, suggested: suggest(changes) }),
    );
    subdomainNoneReported = true;
  }

  if (!isOrganisational && organisational !== null && (explicit.sp !== undefined || explicit.np !== undefined)) {
    const tags = [explicit.sp !== undefined ? `sp=${explicit.sp}` : null, explicit.np !== undefined ? `np=${explicit.np}` : null]
      .filter((t): t is string => t !== null)
      .join(' and ');
    findings.push(
      makeFinding('dmarc.sp-on-non-organisational-domain', tags, {
        policy_domain: policyDomain,
        organisational_domain: organisational,
        tags,
        suggested: suggest({ psd: 'n' }),
      }),
    );
  }

  if (policy.p !== null) {
    const p = policy.p;
    const weaker: string[] = [];
    const changes: Partial<Record<DmarcTagName, string | null>> = {};
    const sp = explicit.sp?.toLowerCase() as PolicyValue | undefined;
    const np = explicit.np?.toLowerCase() as PolicyValue | undefined;
    if (sp && POLICY_STRENGTH[sp] < POLICY_STRENGTH[p] && !(sp === 'none' && subdomainNoneReported)) {
      weaker.push(`sp=${sp} is weaker than p=${p}`);
      changes.sp = null;
    }
    if (np && POLICY_STRENGTH[np] < POLICY_STRENGTH[p] && !(np === 'none' && subdomainNoneReported)) {
      weaker.push(`np=${np} is weaker than p=${p}`);
      changes.np = null;
    }
    if (weaker.length > 0) {
      findings.push(makeFinding('dmarc.subdomain-policy-weaker-than-parent', `${weaker.join('; ')}.`, { suggested: suggest(changes) }));
    }
  }

  if (policy.psd === 'y' && !isPublicSuffix(policyDomain, list)) {
    findings.push(makeFinding('dmarc.psd-on-registrable-domain', 'psd=y', { policy_domain: policyDomain, suggested: suggest({ psd: null }) }));
  }

  findings.push(...reportAddressRules(context, suggest, ruaFallback));

  if (explicit.fo !== undefined && (policy.ruf === null || policy.ruf.length === 0)) {
    findings.push(makeFinding('dmarc.fo-without-ruf', `fo=${explicit.fo}`, { fo: explicit.fo, suggested: suggest({ fo: null }) }));
  }
  return findings;
}

function reportAddressRules(
  context: RecordContext,
  suggest: (changes?: Partial<Record<DmarcTagName, string | null>>) => string,
  ruaFallback: string,
): DmarcFinding[] {
  const { parsed, policyDomain, expectedRua } = context;
  const { policy } = parsed;
  const findings: DmarcFinding[] = [];
  const ruaTag = parsed.tags.find((t) => t.name === 'rua' && !t.implicit);

  if (!ruaTag) {
    findings.push(makeFinding('dmarc.rua-missing', 'no rua= tag', { policy_domain: policyDomain, suggested: suggest({ rua: ruaFallback }) }));
  } else if (ruaTag.value === '') {
    findings.push(makeFinding('dmarc.rua-empty', 'rua=', { suggested: suggest({ rua: ruaFallback }) }));
  }

  for (const tag of ['rua', 'ruf'] as const) {
    const uris = policy[tag] ?? [];
    const notMailto = uris.filter((u) => u.scheme !== 'mailto');
    if (notMailto.length > 0) {
      const kept = uris.filter((u) => u.scheme === 'mailto');
      const replacement = joinUris(kept) ?? (tag === 'rua' ? ruaFallback : null);
      const list = notMailto.map((u) => u.uri).join(', ');
      findings.push(makeFinding(tag === 'rua' ? 'dmarc.rua-not-mailto' : 'dmarc.ruf-not-mailto', list, { uris: list, suggested: suggest({ [tag]: replacement }) }));
    }
    if (uris.length > MAX_URIS) {
      findings.push(
        makeFinding(tag === 'rua' ? 'dmarc.rua-too-many' : 'dmarc.ruf-too-many', `${uris.length} addresses`, {
          count: uris.length,
          suggested: suggest({ [tag]: joinUris(uris.slice(0, MAX_URIS)) }),
        }),
      );
    }
  }

  const rua = policy.rua ?? [];
  const keys = rua.map(uriKey);
  const repeated = [...new Set(keys.filter((key, i) => keys.indexOf(key) !== i))];
  if (repeated.length > 0) {
    const unique = rua.filter((_, i) => keys.indexOf(keys[i]!) === i);
    findings.push(makeFinding('dmarc.rua-duplicate-uri', repeated.join(', '), { uris: repeated.join(', '), suggested: suggest({ rua: joinUris(unique) }) }));
  }

  // The original skipped this rule when rua was repeated: which list counts is then unknowable.
  const ruaRepeated = parsed.issues.some((i) => i.id === 'dmarc.duplicate-tag' && i.tag === 'rua');
  if (expectedRua && !ruaRepeated) {
    const expected = normaliseMailto(expectedRua);
    const expectedHost = expected.slice(expected.lastIndexOf('@') + 1);
    const mailboxes = rua.filter((u) => u.mailbox !== null);
    if (!mailboxes.some((u) => u.mailbox!.toLowerCase() === expected)) {
      const wrong = mailboxes.filter((u) => u.host === expectedHost);
      if (wrong.length > 0) {
        const others = rua.filter((u) => u.host !== expectedHost);
        const list = wrong.map((u) => u.uri).join(', ');
        findings.push(
          makeFinding('dmarc.rua-wrong-service-mailbox', list, {
            uris: list,
            expected: `mailto:${expected}`,
            suggested: suggest({ rua: [...others.map((u) => u.raw), `mailto:${expected}`].join(',') }),
          }),
        );
      } else {
        findings.push(
          makeFinding('dmarc.rua-missing-service-mailbox', rua.length > 0 ? rua.map((u) => u.uri).join(', ') : 'no rua addresses', {
            expected: `mailto:${expected}`,
            policy_domain: policyDomain,
            suggested: suggest({ rua: [...rua.map((u) => u.raw), `mailto:${expected}`].join(',') }),
          }),
        );
      }
    }
  }
  return findings;
}
