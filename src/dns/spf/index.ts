/**
 * SPF (RFC 7208) for MailCheck Edge: `checkHost` answers "may this IP send for this domain?" with
 * the evidence; `evaluateSpf` judges a domain's published record without a sending IP.
 */
export { checkHost } from './check-host.ts';
export type { CheckHostInput, CheckHostOptions, SpfCheckResult, SpfResult, SpfTrailStep } from './check-host.ts';
export { evaluateSpf } from './evaluate.ts';
export type { EvaluateSpfOptions, SpfEvaluation, SpfEvaluationStatus, SpfFacts, SpfLookupNode, SpfNodeStatus } from './evaluate.ts';
export { SPF_RULES } from './rules.ts';
export type { Severity, SpfFinding, SpfFindingId, SpfRule } from './rules.ts';
export { isSpfRecordText, parseSpfRecord } from './parse.ts';
export type { DomainSpec, Mechanism, MechanismName, Modifier, ParsedSpf, Qualifier, SpfRecord, SpfSyntaxError, SpfSyntaxErrorCode, Term } from './parse.ts';
export { expandMacros, parseMacroString } from './macros.ts';
export type { MacroContext, MacroLetter, MacroParse, MacroToken, MacroValues } from './macros.ts';
