/** The DNS checks beside DMARC and SPF, each a plain function of an injected resolver and a domain. */
import { BIMI_RULES } from './bimi.ts';
import { DKIM_RULES } from './dkim.ts';
import { DNSSEC_RULES } from './dnssec.ts';
import type { Rule } from './finding.ts';
import { MTA_STS_RULES } from './mta-sts.ts';
import { MX_RULES } from './mx.ts';
import { TLS_RPT_RULES } from './tls-rpt.ts';

export type { CheckResult, Finding, Rule, Severity } from './finding.ts';
export { checkMx, isIpLiteral, MX_RULES, type MxFacts, type MxHost, type MxResult, type MxRuleId } from './mx.ts';
export {
  checkMtaSts,
  fetchMtaStsPolicy,
  isMtaStsRecord,
  mxMatchesPattern,
  parseMtaStsPolicy,
  parseMtaStsRecord,
  MTA_STS_RULES,
  type MtaStsFacts,
  type MtaStsMode,
  type MtaStsOptions,
  type MtaStsPolicy,
  type MtaStsResult,
  type MtaStsRuleId,
} from './mta-sts.ts';
export { checkTlsRpt, isTlsRptRecord, parseTlsRptRecord, TLS_RPT_RULES, type TlsRptFacts, type TlsRptResult, type TlsRptRuleId } from './tls-rpt.ts';
export { checkBimi, isBimiRecord, parseBimiRecord, BIMI_RULES, type BimiFacts, type BimiOptions, type BimiResult, type BimiRuleId } from './bimi.ts';
export {
  checkDkim,
  isDkimKeyRecord,
  measureDkimKey,
  parseDkimKeyRecord,
  DKIM_RULES,
  type DkimFacts,
  type DkimOptions,
  type DkimResult,
  type DkimRuleId,
  type DkimSelectorFacts,
} from './dkim.ts';
export { checkDnssec, DNSSEC_RULES, type DnssecFacts, type DnssecResult, type DnssecRuleId } from './dnssec.ts';
export { parseTagList, type Tag, type TagList } from './tag-list.ts';

/** Every rule of these checks, by area, for docs/rules.md. */
export const CHECK_RULES: Readonly<Record<'mx' | 'mta_sts' | 'tls_rpt' | 'bimi' | 'dkim' | 'dnssec', readonly Rule[]>> = {
  mx: MX_RULES,
  mta_sts: MTA_STS_RULES,
  tls_rpt: TLS_RPT_RULES,
  bimi: BIMI_RULES,
  dkim: DKIM_RULES,
  dnssec: DNSSEC_RULES,
};
