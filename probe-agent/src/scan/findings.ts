/**
 * Findings for the one-off scan's reader, from the shared pure rules (grading and certificate
 * evaluation live in src/tls so the Worker grades stored results the same way).
 */
import type { ProbeTargetResult } from '../../../src/tls/probe-result.ts';
import { gradeServer } from '../../../src/tls/grading/grade-server.ts';
import { evaluateCertificates } from '../../../src/tls/certificates/evaluate.ts';

export function addFindings(result: ProbeTargetResult, options: { strict: boolean; now?: Date }): ProbeTargetResult {
  const graded = gradeServer(result);
  const certificates = result.certificates.length ? evaluateCertificates(result, { host: result.host, now: options.now ?? new Date(), strict: options.strict }) : [];
  return { ...result, findings: [...graded.findings, ...certificates] };
}
