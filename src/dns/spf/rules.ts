/**
 * The SPF findings evaluateSpf() can report: a stable id, a severity, a fixed title, what triggers
 * it, and advice a domain owner can act on (`{domain}` is filled with the domain concerned).
 * `SPF_RULES` is the list docs/rules.md is rendered from.
 */

export type Severity = 'error' | 'warning' | 'info';

export interface SpfRule {
  id: string;
  /** The usual severity; `when` says if another applies in some cases. */
  severity: Severity;
  title: string;
  /** What makes the rule fire. */
  when: string;
  /** A template: `{domain}` is the domain whose record the finding is about. */
  advice: string;
  /** The standard behind the rule (a URL). */
  reference: string;
  /** The rule of the original MailCheck it carries on, when there is one. */
  original?: string;
}

export interface SpfFinding {
  id: SpfFindingId;
  severity: Severity;
  title: string;
  /** What to do, with the domain's name filled in. */
  advice: string;
  reference: string;
  /** What was seen: the terms, names, counts and DNS statuses involved. */
  detail: string;
  /** The domain whose record the finding is about (the checked domain or one it includes). */
  domain: string;
}

const RFC7208 = 'https://www.rfc-editor.org/rfc/rfc7208';

export const SPF_RULES = [
  {
    id: 'spf.no-record',
    severity: 'error',
    title: 'No SPF record',
    when: 'The domain exists but publishes no TXT record starting with "v=spf1", or the domain does not exist.',
    advice:
      'Publish one TXT record at {domain} that starts with "v=spf1", lists every server and service that sends its mail, and ends in "-all" (for example "v=spf1 include:_spf.your-provider.example -all"). If {domain} sends no mail at all, publish "v=spf1 -all".',
    reference: `${RFC7208}#section-4.5`,
  },
  {
    id: 'spf.multiple-records',
    original: 'OnlyOneSpfRecord',
    severity: 'error',
    title: 'More than one SPF record',
    when: 'A domain (the checked one or an included one) publishes two or more TXT records starting with "v=spf1".',
    advice:
      'Merge the "v=spf1" records at {domain} into a single TXT record. Receivers treat two of them as a permanent error (permerror) and use neither, so SPF fails for all mail that relies on it.',
    reference: `${RFC7208}#section-4.5`,
  },
  {
    id: 'spf.syntax',
    severity: 'error',
    title: 'Syntax error in the SPF record',
    when: 'A term of the record (or of an included record) does not follow the SPF grammar.',
    advice:
      'Correct the term of the {domain} record named in the detail. Until then every receiver returns permerror for it, which DMARC counts as an SPF failure.',
    reference: `${RFC7208}#section-4.6`,
  },
  {
    id: 'spf.exp-multiple',
    original: 'ExplanationDoesntOccurMoreThanOnce',
    severity: 'error',
    title: '"exp=" appears more than once',
    when: 'The record has two or more exp= modifiers.',
    advice: 'Keep a single exp= modifier (or none). With two, receivers return permerror.',
    reference: `${RFC7208}#section-6`,
  },
  {
    id: 'spf.redirect-multiple',
    original: 'RedirectDoesntOccurMoreThanOnce',
    severity: 'error',
    title: '"redirect=" appears more than once',
    when: 'The record has two or more redirect= modifiers.',
    advice: 'Keep a single redirect= modifier. With two, receivers return permerror.',
    reference: `${RFC7208}#section-6`,
  },
  {
    id: 'spf.too-many-lookups',
    original: 'ShouldNotHaveMoreThan10QueryLookups',
    severity: 'error',
    title: 'More than 10 DNS lookups',
    when: 'The include, a, mx, ptr, exists and redirect terms of the record and everything it includes add up to more than 10.',
    advice:
      'Receivers stop at the 10th such term and return permerror. Remove includes of services you no longer use, replace "a" and "mx" with the ip4:/ip6: ranges of your own servers, and ask providers whose include uses many lookups for a flatter one. The lookup tree shows which branch costs what.',
    reference: `${RFC7208}#section-4.6.4`,
  },
  {
    id: 'spf.close-to-lookup-limit',
    original: 'ShouldNotHaveMoreThan10QueryLookups (closeTo10QueryLookups, moreThan6QueryLookups)',
    severity: 'warning',
    title: 'Close to the 10-lookup limit',
    when: 'Exactly 10 DNS-querying terms (warning); 7 to 9 (info).',
    advice:
      'One more include, or a provider adding one inside its own record, will push the domain over the limit and make SPF fail for all its mail. Prune unused includes now and prefer ip4:/ip6: for servers you run.',
    reference: `${RFC7208}#section-4.6.4`,
  },
  {
    id: 'spf.too-many-void-lookups',
    severity: 'error',
    title: 'More than 2 lookups find nothing',
    when: 'More than two terms look up names that do not exist or have no records of the type asked ("void lookups").',
    advice:
      'Receivers return permerror after the second void lookup. Remove the include:, a: and mx: terms that point at names that no longer exist or no longer have addresses or MX records.',
    reference: `${RFC7208}#section-4.6.4`,
  },
  {
    id: 'spf.plus-all',
    original: 'ShouldHaveHardFailAllEnabled',
    severity: 'error',
    title: '"+all" lets anyone send as the domain',
    when: 'The policy ends in "+all" or a bare "all", or a (pass) include leads to a record that does.',
    advice:
      'Replace it with "-all" in the record of {domain} ("~all" while you are still finding all your senders). "+all" authorizes every IP address on the internet to send mail in its name.',
    reference: `${RFC7208}#section-5.1`,
  },
  {
    id: 'spf.neutral-all',
    original: 'ShouldHaveHardFailAllEnabled',
    severity: 'warning',
    title: '"?all" gives no protection',
    when: 'The policy ends in "?all".',
    advice:
      '"?all" says nothing about servers that are not listed, so forged mail is not flagged. Once the record lists all your senders, end it with "-all" (or "~all").',
    reference: `${RFC7208}#section-5.1`,
  },
  {
    id: 'spf.no-all',
    original: 'AllMustBeLastMechanism, ShouldHaveHardFailAllEnabled',
    severity: 'warning',
    title: 'No "all" at the end (implicit "?all")',
    when: 'The policy has neither an "all" mechanism nor a redirect=, so unlisted senders get neutral.',
    advice: 'Add "-all" (or "~all") as the last term of the {domain} record, so receivers know that servers not listed are not allowed.',
    reference: `${RFC7208}#section-4.7`,
  },
  {
    id: 'spf.ptr-used',
    original: 'DontUsePtrMechanism',
    severity: 'warning',
    title: '"ptr" mechanism used',
    when: 'The record or a record it includes uses the ptr mechanism.',
    advice:
      'RFC 7208 says ptr should not be used: it is slow, depends on reverse DNS the sender may not control, and some receivers skip it. In the record of {domain}, list the servers with ip4:/ip6: or a: instead.',
    reference: `${RFC7208}#section-5.5`,
  },
  {
    id: 'spf.include-missing',
    severity: 'error',
    title: 'Included domain does not exist',
    when: 'An include: or redirect= names a domain that does not exist (NXDOMAIN).',
    advice:
      'Receivers return permerror. Check the name for typos against your provider\'s instructions, or remove the term if you no longer use the service.',
    reference: `${RFC7208}#section-5.2`,
  },
  {
    id: 'spf.include-no-spf',
    severity: 'error',
    title: 'Included domain has no SPF record',
    when: 'An include: or redirect= names a domain that exists but publishes no "v=spf1" record.',
    advice:
      'Receivers return permerror. Use the include name your provider documents (it is often a sub-domain such as _spf.provider.example), or remove the term.',
    reference: `${RFC7208}#section-5.2`,
  },
  {
    id: 'spf.loop',
    severity: 'error',
    title: 'Include or redirect loop',
    when: 'An include: or redirect= leads back to a domain already on the path being evaluated.',
    advice: 'Remove the include: or redirect= in the record of {domain} that points back; receivers end such a record with permerror.',
    reference: `${RFC7208}#section-4.6.4`,
  },
  {
    id: 'spf.mx-too-many',
    severity: 'error',
    title: '"mx" names a domain with more than 10 MX records',
    when: 'An mx mechanism\'s domain has more than 10 MX records.',
    advice:
      'Receivers return permerror for such an mx term. Replace it with the ip4:/ip6: ranges of the mail servers that actually send.',
    reference: `${RFC7208}#section-4.6.4`,
  },
  {
    id: 'spf.string-too-long',
    severity: 'error',
    title: 'TXT string longer than 255 characters',
    when: 'A character-string of the SPF TXT record is longer than 255 bytes, which DNS cannot carry.',
    advice:
      'Split the record into several quoted strings of at most 255 characters ("v=spf1 … " "…"); receivers join them without adding spaces. Many DNS hosting panels do this for you when the record is entered whole.',
    reference: `${RFC7208}#section-3.3`,
  },
  {
    id: 'spf.record-too-long',
    original: 'MaxLengthOf450Characters, ShouldBeSmallEnoughForUdp',
    severity: 'warning',
    title: 'SPF record is long',
    when: 'The record is longer than 450 characters, or the whole TXT answer at the domain is estimated at more than 512 bytes.',
    advice:
      'Large answers need EDNS or TCP, and some receivers fail to fetch them. Remove unused terms, or move groups of ranges to an include: under your own domain.',
    reference: `${RFC7208}#section-3.4`,
  },
  {
    id: 'spf.redirect-with-all',
    original: 'RedirectModifierAndAllMechanismNotValid',
    severity: 'warning',
    title: '"redirect=" is ignored because the record has "all"',
    when: 'The record has both an "all" mechanism and a redirect= modifier.',
    advice:
      'A redirect= is never used when the record has "all". Keep redirect= to hand the whole policy to another domain, or "all" to end the policy here, not both.',
    reference: `${RFC7208}#section-6.1`,
  },
  {
    id: 'spf.terms-after-all',
    original: 'AllMustBeLastMechanism',
    severity: 'warning',
    title: 'Mechanisms after "all" are never used',
    when: 'A mechanism follows the "all" mechanism.',
    advice: 'Evaluation stops at "all". Move the mechanisms before it, or remove them.',
    reference: `${RFC7208}#section-5.1`,
  },
  {
    id: 'spf.modifier-before-mechanism',
    original: 'ModifiersOccurAfterMechanisms',
    severity: 'warning',
    title: 'Modifier placed before a mechanism',
    when: 'A mechanism follows a modifier such as redirect= or exp=.',
    advice:
      'Put modifiers after all mechanisms. The result is the same, but readers (people and some tools) take redirect= to come last, as RFC 7208 recommends.',
    reference: `${RFC7208}#section-6`,
  },
  {
    id: 'spf.unknown-modifier',
    severity: 'info',
    title: 'Unknown modifier',
    when: 'The record has a name=value term other than redirect= and exp=.',
    advice: 'Receivers ignore it. If it was meant as redirect= or exp=, correct the spelling; otherwise remove it.',
    reference: `${RFC7208}#section-6`,
  },
  {
    id: 'spf.deprecated-spf-rr',
    severity: 'info',
    title: 'Deprecated SPF record type published',
    when: 'The domain publishes a DNS record of type SPF (99).',
    advice:
      'Receivers only read TXT records; RFC 7208 retired type SPF. Remove the type-SPF record at {domain} so that it cannot drift from the TXT one and mislead anyone reading the zone.',
    reference: `${RFC7208}#section-3.1`,
  },
  {
    id: 'spf.dns-failure',
    severity: 'warning',
    title: 'DNS lookup failed',
    when: 'A lookup needed to evaluate the record failed (server failure, refusal, timeout). This is never reported as a missing record.',
    advice:
      'If it persists, check that every name server of the zone named in the detail answers, and, if the zone is DNSSEC-signed, that its signatures and DS record are valid. Receivers that meet the same failure return temperror and may delay or reject mail from {domain}.',
    reference: `${RFC7208}#section-2.6.6`,
  },
  {
    id: 'spf.incomplete',
    severity: 'info',
    title: 'Lookup count may be incomplete',
    when: 'An include: or redirect= target depends on the sender or the connecting IP (macros), or the include tree was too large to follow.',
    advice:
      'The counts shown are a lower bound. Check the named targets by hand; the limit of 10 lookups still applies to them at the receiver.',
    reference: `${RFC7208}#section-4.6.4`,
  },
  {
    id: 'spf.invalid-domain',
    severity: 'error',
    title: 'Not a valid domain name',
    when: 'The name checked is not a multi-label host name (internationalised names must be given in their xn-- form).',
    advice: 'Check the name "{domain}": give the domain as it appears after the "@" in mail addresses, in its A-label (xn--…) form if it has non-ASCII characters.',
    reference: `${RFC7208}#section-4.3`,
  },
] as const satisfies readonly SpfRule[];

export type SpfFindingId = (typeof SPF_RULES)[number]['id'];

const BY_ID = new Map<string, SpfRule>(SPF_RULES.map((rule) => [rule.id, rule]));

export function finding(id: SpfFindingId, domain: string, detail: string, severity?: Severity): SpfFinding {
  const rule = BY_ID.get(id) as SpfRule;
  const advice = rule.advice.replaceAll('{domain}', domain);
  return { id, severity: severity ?? rule.severity, title: rule.title, advice, reference: rule.reference, detail, domain };
}
