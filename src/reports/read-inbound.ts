import { readFailureReport, isFailureReport } from './failure';
import { examineBlob, type CandidateOutcome, type ReportPart } from './inbound/candidate';
import { contentTypeOf, emailBlobs, parseEmail } from './inbound/email-blobs';
import { looksLikeEmail, stripMboxSeparator } from './inbound/mbox';
import type { FailureReportFacts, ReportRejection } from './model';
import { DEFAULT_UNPACK_LIMITS, type UnpackLimits } from './unpack/limits';
import { sniffContainer } from './unpack/sniff';

export type { ReportPart } from './inbound/candidate';

export type InboundContent =
  | { ok: true; parts: ReportPart[]; failures: FailureReportFacts[]; warnings: string[] }
  | { ok: false; code: string; reason: string };

/** Only for naming parts and messages; content decides what something is. */
export interface InboundHint {
  filename?: string;
  contentType?: string;
}

/**
 * The single entry point for whatever arrived, by email or upload: a whole email (RFC 5322/MIME,
 * possibly with an mbox `From ` line) or a bare report file (xml, xml.gz, zip, json, json.gz),
 * told apart by content. Finds every aggregate and SMTP TLS report in it (streamed later through
 * `part.text()`) and reduces failure reports to facts. Never throws for bad input: what is not a
 * report, or is refused (bomb, corrupt archive, DTD), comes back as `{ ok: false, code, reason }`.
 */
export async function readInbound(
  raw: Uint8Array,
  hint: InboundHint = {},
  limits: UnpackLimits = DEFAULT_UNPACK_LIMITS,
): Promise<InboundContent> {
  if (isBlank(raw)) return notAReport('empty file');
  if (sniffContainer(raw) !== 'plain' || !looksLikeEmail(raw)) {
    return settle([await examineBlob(raw, hint.filename ?? null, limits)]);
  }

  const message = stripMboxSeparator(raw);
  let email;
  try {
    email = await parseEmail(message);
  } catch (error) {
    return notAReport(`the message is not a readable email (${error instanceof Error ? error.message : String(error)})`);
  }
  if (isFailureReport(email)) {
    const facts = readFailureReport(email, message);
    return { ok: true, parts: [], failures: [facts], warnings: [] };
  }

  const outcomes: CandidateOutcome[] = [];
  for (const blob of await emailBlobs(email)) outcomes.push(await examineBlob(blob.bytes, blob.name, limits));
  const type = contentTypeOf(email);
  const bounce = /multipart\/report/.test(type) && /report-type\s*=\s*"?(?:delivery-status|disposition-notification)/.test(type);
  return settle(outcomes, bounce ? 'the message is a delivery status notification (a bounce), not a report' : null);
}

/** Reports found → ok with warnings for what was left out; none → the first refusal, or why not. */
function settle(outcomes: CandidateOutcome[], whyNothing: string | null = null): InboundContent {
  const parts = outcomes.flatMap((o) => o.parts);
  const rejections: ReportRejection[] = outcomes.flatMap((o) => o.rejections);
  const ignored = outcomes.flatMap((o) => o.ignored);
  if (parts.length === 0) {
    const first = rejections[0];
    if (first) return { ok: false, code: first.code, reason: first.message };
    if (whyNothing) return notAReport(whyNothing);
    if (outcomes.length === 0) return notAReport('the message has no attachment and its body is not a report');
    return notAReport(`no DMARC aggregate or SMTP TLS report found: ${ignored.join('; ')}`);
  }
  return {
    ok: true,
    parts,
    failures: [],
    warnings: [
      ...rejections.map((r) => `${r.message} (${r.code}); the other reports in it were read`),
      ...ignored.map((why) => `${why}; it was ignored`),
    ],
  };
}

function notAReport(reason: string): InboundContent {
  return { ok: false, code: 'not-a-report', reason };
}

function isBlank(raw: Uint8Array): boolean {
  for (const byte of raw) if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return false;
  return true;
}
