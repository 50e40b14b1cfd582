export { gradeServer, type ServerGradeResult } from './grade-server.ts';
export { suiteProperties, type SuiteProperties, type KeyExchange } from './cipher-suite.ts';
export { BANDS, suiteBand, groupBand, dhBand, signatureBand, worstBand, type Band, type ServerGrade } from './bands.ts';
export { rollUpGrades, downgradeProtection, danePublished, type DowngradeProtection, type DomainTlsGrade } from './domain.ts';
export { TLS_RULES, type TlsRuleId } from './rules.ts';
