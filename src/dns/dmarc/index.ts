export { evaluateDmarc, type DmarcEvaluation, type DmarcEvaluationOptions, type DmarcFacts } from './evaluate';
export {
  discoverDmarc,
  discoverRfc7489,
  discoverTreeWalk,
  selectOrganisationalDomain,
  treeWalkNames,
  TREE_WALK_MAX_QUERIES,
  type DmarcDiscovery,
  type Rfc7489Discovery,
  type TreeWalkDiscovery,
} from './discover';
export {
  parseDmarcRecord,
  isDmarcRecord,
  suggestRecord,
  DMARC_TAG_NAMES,
  type DmarcPolicy,
  type DmarcTag,
  type DmarcTagName,
  type DmarcParseIssue,
  type ParsedDmarcRecord,
  type PolicyValue,
} from './parse';
export { parseDmarcUri, type DmarcUri } from './uri';
export { DMARC_RULES, type DmarcFinding, type DmarcRule, type DmarcRuleId, type Severity } from './rules';
export { TxtLookup, type DmarcQuery, type TxtQuery } from './lookup';
export type { ReportDestination } from './external';
export { normaliseDomain, organisationalDomainOf, isPublicSuffix, type SuffixList } from './domain';
