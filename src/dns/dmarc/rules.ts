/**
 * Every finding the DMARC check can raise: a stable id, a severity, a fixed title and an advice
 * template whose `{placeholders}` the evaluation fills with the domain's own names and a corrected
 * record. `DMARC_RULES` is the list docs/rules.md is built from.
 */
export type Severity = 'error' | 'warning' | 'info';

export interface DmarcFinding {
  id: DmarcRuleId;
  severity: Severity;
  title: string;
  /** What to do, for this domain: names and records filled in. */
  advice: string;
  /** The standard behind the rule (a URL). */
  reference: string;
  /** What was seen, e.g. `pct=50` or the DNS status: evidence for the advice. */
  detail: string;
}

export interface DmarcRule {
  id: DmarcRuleId;
  severity: Severity;
  title: string;
  advice: string;
  reference: string;
  /** The rule of the original MailCheck it carries on, when there is one. */
  original?: string;
}

const RFC7489 = 'https://www.rfc-editor.org/rfc/rfc7489';
const RFC9989 = 'https://www.rfc-editor.org/rfc/rfc9989';

const RULES = {
  'dmarc.invalid-domain': {
    severity: 'error',
    title: 'The domain name is not valid',
    advice: 'Check the name "{domain}": {reason}.',
    reference: 'https://www.rfc-editor.org/rfc/rfc1035#section-2.3.1',
  },
  'dmarc.dns-failure': {
    severity: 'error',
    title: 'The DMARC check could not be completed',
    advice:
      'The DNS query for {name} ended in {status}, so it is not known what is published there. Receivers that meet the same failure cannot apply your policy. If it persists, check that every name server of the zone answers for {name}, and, if the zone is DNSSEC-signed, that its signatures and DS record are valid.',
    reference: `${RFC7489}#section-6.6.3`,
  },
  'dmarc.no-record': {
    severity: 'error',
    title: 'No DMARC record',
    advice:
      'Publish a TXT record at {name} with the value "{suggested}"{scope}. p=none only asks for reports; once they show all your legitimate mail passes DMARC, change it to p=quarantine and then p=reject.',
    reference: `${RFC7489}#section-6.1`,
    original: 'OnlyOneDmarcRecord',
  },
  'dmarc.multiple-records': {
    severity: 'error',
    title: 'More than one DMARC record',
    advice:
      '{name} has {count} TXT records meant as DMARC records. Receivers apply none when more than one starts with v=DMARC1, and ignore those that do not start with it. Keep a single record, for example "{suggested}", and delete the others.',
    reference: `${RFC7489}#section-6.6.3`,
    original: 'OnlyOneDmarcRecord',
  },
  'dmarc.tld-record': {
    severity: 'warning',
    title: 'DMARC record on a public suffix',
    advice:
      '{domain} is on the Public Suffix List, where DMARC behaviour is weakly defined. If you operate this suffix, add psd=y as RFC 9989 asks of public suffix operators: "{suggested}". Otherwise remove the record.',
    reference: `${RFC9989}`,
    original: 'TldDmarcRecordBehaviourIsWeaklyDefined',
  },
  'dmarc.inherited': {
    severity: 'info',
    title: 'Policy inherited from the organisational domain',
    advice:
      '{domain} has no DMARC record of its own, so receivers apply the record at {name}, with its subdomain policy ({sp}). To give {domain} a different policy or report address, publish a TXT record at _dmarc.{domain}.',
    reference: `${RFC7489}#section-6.6.3`,
  },
  'dmarc.discovery-differs': {
    severity: 'warning',
    title: 'RFC 7489 and RFC 9989 receivers disagree about this domain',
    advice: 'Receivers that follow RFC 7489 (the Public Suffix List) and those that follow RFC 9989 (the DNS tree walk) see this domain differently. {differences} {fix}',
    reference: `${RFC9989}#section-4.10`,
  },
  'dmarc.version-not-first': {
    severity: 'error',
    title: 'v=DMARC1 is not the first tag',
    advice: 'Receivers ignore a record that does not start with v=DMARC1. Publish it at {name} as "{suggested}".',
    reference: `${RFC7489}#section-6.3`,
    original: 'VersionMustBeFirstTag',
  },
  'dmarc.malformed-tag': {
    severity: 'error',
    title: 'Malformed tag',
    advice: '{detail} Receivers may skip it or the whole record. Write every tag as name=value, separated by ";": "{suggested}".',
    reference: `${RFC7489}#section-6.4`,
  },
  'dmarc.unknown-tag': {
    severity: 'error',
    title: 'Unknown tag',
    advice:
      '"{tag}" is not a DMARC tag, so it has no effect. If it is a typing error, correct it (the tags are v, p, sp, np, t, psd, adkim, aspf, pct, rua, ruf, fo, rf, ri); otherwise remove it: "{suggested}".',
    reference: `${RFC7489}#section-6.3`,
  },
  'dmarc.invalid-value': {
    severity: 'error',
    title: 'Invalid tag value',
    advice: '{detail} Receivers ignore it and use the default. Correct it, or publish the record without it: "{suggested}".',
    reference: `${RFC7489}#section-6.4`,
  },
  'dmarc.duplicate-tag': {
    severity: 'error',
    title: 'Tag repeated',
    advice: '{tag} appears more than once; receivers may take either value or ignore the record. Keep one: "{suggested}".',
    reference: `${RFC7489}#section-6.3`,
  },
  'dmarc.record-too-long': {
    severity: 'error',
    title: 'Record longer than 450 characters',
    advice:
      'The record is {length} characters long; with the rest of the DNS answer it may not fit a 512-byte UDP response, and some resolvers then fail. Shorten it, for example by leaving out tags that only repeat defaults: "{suggested}".',
    reference: 'https://www.rfc-editor.org/rfc/rfc1035#section-2.3.4',
    original: 'MaxLengthOf450Characters',
  },
  'dmarc.policy-missing': {
    severity: 'error',
    title: 'No policy (p=)',
    advice:
      'The record has no valid p= tag. RFC 7489 receivers ignore such a record; RFC 9989 receivers treat it as p=none only if rua holds a valid address. Publish at {name}: "{suggested}".',
    reference: `${RFC7489}#section-6.3`,
    original: 'PolicyTagMustExist',
  },
  'dmarc.policy-none': {
    severity: 'warning',
    title: 'Policy is none (monitoring only)',
    advice:
      'p=none only monitors: mail that fails DMARC is still delivered. When the aggregate reports show all your legitimate mail passes DMARC, publish "{suggested}" at {name}, then move to p=reject.',
    reference: `${RFC7489}#section-6.3`,
    original: 'PolicyShouldBeQuarantineOrReject',
  },
  'dmarc.pct-not-100': {
    severity: 'warning',
    title: 'Policy applies to only part of the failing mail',
    advice:
      'pct={pct} asks receivers to apply the policy to {pct}% of failing mail only. When you are ready, remove pct (the default is 100, and RFC 9989 removed the tag): "{suggested}".',
    reference: `${RFC7489}#section-6.3`,
    original: 'PctValueShouldBe100',
  },
  'dmarc.test-mode': {
    severity: 'warning',
    title: 'Policy in testing mode (t=y)',
    advice:
      't=y asks RFC 9989 receivers to apply one level less than the stated policy (quarantine becomes none, reject becomes quarantine). Remove t=y when testing is over: "{suggested}".',
    reference: RFC9989,
  },
  'dmarc.obsolete-tag': {
    severity: 'info',
    title: 'Tag removed by RFC 9989',
    advice:
      '{tag} was removed by RFC 9989, so RFC 9989 receivers ignore it{extra}. It still means something to RFC 7489 receivers; when you no longer need it, publish "{suggested}".',
    reference: RFC9989,
  },
  'dmarc.subdomain-policy-none': {
    severity: 'warning',
    title: 'Subdomain policy is none',
    advice:
      '{detail} Mail that fails DMARC from subdomains of {policy_domain}, including made-up ones, is still delivered. Unless a subdomain still sends unauthenticated mail, publish at {name}: "{suggested}".',
    reference: `${RFC7489}#section-6.3`,
    original: 'SubDomainPolicyShouldBeQuarantineOrReject',
  },
  'dmarc.sp-on-non-organisational-domain': {
    severity: 'warning',
    title: 'Subdomain policy on a domain that is not an organisational domain',
    advice:
      '{policy_domain} is not an organisational domain ({organisational_domain} is), so receivers never use its {tags} for names below it: they look up _dmarc.{organisational_domain} instead. Set the subdomain policy in the record at _dmarc.{organisational_domain}, or, for RFC 9989 receivers, make {policy_domain} an organisational domain with psd=n: "{suggested}".',
    reference: `${RFC7489}#section-6.6.3`,
    original: 'SubDomainPolicyShouldNotBeOnNonOrganisationalDomain',
  },
  'dmarc.subdomain-policy-weaker-than-parent': {
    severity: 'warning',
    title: 'Subdomain policy weaker than the domain policy',
    advice:
      '{detail} Attackers turn to subdomains when the domain itself is protected. Unless a subdomain still sends unauthenticated mail, give subdomains the same policy: "{suggested}".',
    reference: `${RFC9989}`,
  },
  'dmarc.policy-weaker-than-parent': {
    severity: 'warning',
    title: 'Policy weaker than the parent domain\'s',
    advice:
      '{domain} publishes p={own}, while {parent} asks for {parentPolicy} on its subdomains. {domain}\'s own record overrides it, so mail forged as {domain} meets a weaker policy than the rest of {parent}. Unless {domain} still sends unauthenticated mail, publish p={parentPolicy} at _dmarc.{domain}, or remove its record to inherit the parent\'s.',
    reference: `${RFC7489}#section-6.6.3`,
  },
  'dmarc.psd-on-registrable-domain': {
    severity: 'warning',
    title: 'psd=y on a domain that is not a public suffix',
    advice:
      'psd=y tells RFC 9989 receivers that {policy_domain} is a public suffix, so every name below it becomes its own organisational domain and relaxed alignment with {policy_domain} stops working. Remove it: "{suggested}".',
    reference: `${RFC9989}#section-4.10`,
  },
  'dmarc.rua-missing': {
    severity: 'warning',
    title: 'No aggregate report address (rua)',
    advice:
      'Without rua no receiver sends aggregate reports, so you cannot see who sends mail as {policy_domain} or whether it passes. Add a mailbox that processes reports: "{suggested}".',
    reference: `${RFC7489}#section-6.3`,
  },
  'dmarc.rua-empty': {
    severity: 'warning',
    title: 'rua lists no addresses',
    advice: 'rua is present but empty, so no aggregate reports are sent. Add a mailbox that processes reports: "{suggested}".',
    reference: `${RFC7489}#section-6.3`,
    original: 'RuaTagShouldHaveUris',
  },
  'dmarc.rua-not-mailto': {
    severity: 'warning',
    title: 'Aggregate report address is not mailto:',
    advice: 'Receivers only have to support mailto: addresses, so {uris} will most likely receive nothing. Use mailto: addresses: "{suggested}".',
    reference: `${RFC7489}#section-6.2`,
    original: 'RuaTagsShouldBeMailTo',
  },
  'dmarc.rua-too-many': {
    severity: 'warning',
    title: 'More than two aggregate report addresses',
    advice: 'rua lists {count} addresses; receivers may limit how many they send to. Keep at most two: "{suggested}".',
    reference: `${RFC7489}#section-6.2`,
    original: 'RuaTagShouldNotHaveMoreThanTwoUris',
  },
  'dmarc.rua-duplicate-uri': {
    severity: 'warning',
    title: 'Aggregate report address listed twice',
    advice: '{uris} appears more than once in rua, so receivers may send each report twice. List it once: "{suggested}".',
    reference: `${RFC7489}#section-6.2`,
    original: 'RuaTagsShouldContainDmarcServiceMailBox',
  },
  'dmarc.rua-missing-service-mailbox': {
    severity: 'warning',
    title: 'Aggregate reports are not sent to the monitoring service',
    advice: 'Add {expected} to rua so this service receives the aggregate reports of {policy_domain}: "{suggested}".',
    reference: `${RFC7489}#section-6.2`,
    original: 'RuaTagsShouldContainDmarcServiceMailBox',
  },
  'dmarc.rua-wrong-service-mailbox': {
    severity: 'error',
    title: 'Aggregate reports go to the wrong mailbox of the monitoring service',
    advice: 'rua sends reports to {uris}, but the service only reads {expected}; reports sent there are lost. Replace it: "{suggested}".',
    reference: `${RFC7489}#section-6.2`,
    original: 'RuaTagsShouldContainDmarcServiceMailBox',
  },
  'dmarc.ruf-not-mailto': {
    severity: 'warning',
    title: 'Failure report address is not mailto:',
    advice: 'Receivers only have to support mailto: addresses, so {uris} will most likely receive nothing. Use mailto: addresses: "{suggested}".',
    reference: `${RFC7489}#section-6.2`,
    original: 'RufTagShouldBeMailTo',
  },
  'dmarc.ruf-too-many': {
    severity: 'warning',
    title: 'More than two failure report addresses',
    advice: 'ruf lists {count} addresses; receivers may limit how many they send to. Keep at most two: "{suggested}".',
    reference: `${RFC7489}#section-6.2`,
    original: 'RufTagShouldNotHaveMoreThanTwoUris',
  },
  'dmarc.fo-without-ruf': {
    severity: 'info',
    title: 'fo has no effect without ruf',
    advice: 'fo={fo} only shapes failure reports, and the record asks for none (it has no ruf). Remove fo, or add a ruf address if you want failure reports: "{suggested}".',
    reference: `${RFC7489}#section-6.3`,
  },
  'dmarc.external-report-destination-unauthorised': {
    severity: 'warning',
    title: 'External report address not authorised',
    advice:
      '{tag} sends reports for {policy_domain} to {host}, outside its organisational domain, but {query} has no TXT record starting with v=DMARC1, so receivers will not send reports there. Ask the operator of {host} to publish TXT "v=DMARC1" at {query} (or at *._report._dmarc.{host}), or use an address within {organisational_domain}.',
    reference: `${RFC7489}#section-7.1`,
  },
} as const satisfies Record<string, Omit<DmarcRule, 'id'>>;

export type DmarcRuleId = keyof typeof RULES;

export const DMARC_RULES: readonly DmarcRule[] = Object.entries(RULES).map(([id, rule]) => ({ id: id as DmarcRuleId, ...rule }));

export function ruleOf(id: DmarcRuleId): DmarcRule {
  return { id, ...RULES[id] };
}

/** Fills `{name}` placeholders; a placeholder without a value is a bug, so it throws in development and tests. */
export function fillTemplate(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{([a-z_]+)\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`DMARC advice template lacks a value for {${key}}`);
    return String(value);
  });
}

export function makeFinding(id: DmarcRuleId, detail: string, values: Record<string, string | number> = {}): DmarcFinding {
  const rule = RULES[id];
  return {
    id,
    severity: rule.severity,
    title: rule.title,
    advice: fillTemplate(rule.advice, { detail, ...values }).replace(/\s+/g, ' ').trim(),
    reference: rule.reference,
    detail,
  };
}
