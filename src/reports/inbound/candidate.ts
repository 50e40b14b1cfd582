import { ReportRejection } from '../model';
import { gunzipChunks } from '../unpack/gunzip';
import type { UnpackLimits } from '../unpack/limits';
import { sniffContainer, type Container } from '../unpack/sniff';
import { unzipEntries } from '../unpack/unzip';
import { byteSlices, decodeText, decodeTextChunks, type ByteSource } from '../xml-text';
import { classifyText } from './text-kind';

export interface ReportPart {
  /** Attachment file name or zip entry name; for a bare file, the name it was given (if any). */
  name: string | null;
  kind: 'aggregate' | 'smtp_tls';
  container: Container;
  /**
   * Decompressed text, streamed; may be called again (re-streams from the start: used to resume
   * after a crash). Iteration throws ReportRejection for a bomb or corrupt archive detected late.
   * `onWarning` hears what streaming finds: bytes after the end of gzip data, invalid UTF-8.
   */
  text(onWarning?: (message: string) => void): AsyncIterable<string>;
}

/** What looking at one blob (an attachment, a bare file, a body) gave. */
export interface CandidateOutcome {
  parts: ReportPart[];
  /** Why a blob, or an entry of it, is not a report (already phrased for a warning). */
  ignored: string[];
  rejections: ReportRejection[];
}

/** Decompressed bytes looked at to decide what a part is. */
const PEEK_BYTES = 16 * 1024;

/**
 * Sniffs one blob by content (never by name or MIME type), opening gzip and zip, and turns every
 * report found in it into a ReportPart. Only the first PEEK_BYTES of each are decompressed here.
 */
export async function examineBlob(bytes: Uint8Array, name: string | null, limits: UnpackLimits): Promise<CandidateOutcome> {
  const outcome: CandidateOutcome = { parts: [], ignored: [], rejections: [] };
  const label = name ? `"${name}"` : 'the content';
  const container = sniffContainer(bytes);
  try {
    if (container === 'zip') {
      const entries = unzipEntries(bytes, limits);
      if (entries.length === 0) outcome.ignored.push(`${label} is an empty zip archive`);
      for (const entry of entries) {
        await addPart(outcome, entry.name, `zip entry "${entry.name}"`, 'zip', () => entry.chunks());
      }
    } else if (container === 'gzip') {
      await addPart(outcome, name, label, 'gzip', (onWarning) => gunzipChunks(bytes, limits, onWarning));
    } else {
      await addPart(outcome, name, label, 'plain', () => byteSlices(bytes));
    }
  } catch (error) {
    if (!(error instanceof ReportRejection)) throw error;
    outcome.rejections.push(new ReportRejection(error.code, `${label}: ${error.message}`));
  }
  return outcome;
}

type ByteStreamer = (onWarning?: (message: string) => void) => ByteSource;

async function addPart(
  outcome: CandidateOutcome,
  name: string | null,
  label: string,
  container: Container,
  bytes: ByteStreamer,
): Promise<void> {
  try {
    const head = await peekBytes(bytes());
    if (container !== 'plain' && sniffContainer(head) !== 'plain') {
      outcome.ignored.push(`${label} holds another archive; nested archives are not opened`);
      return;
    }
    const kind = classifyText(decodeText(head));
    if (kind.kind === 'other') {
      outcome.ignored.push(`${label} is not a report: ${kind.why}`);
      return;
    }
    outcome.parts.push({
      name,
      kind: kind.kind,
      container,
      text: (onWarning) => decodeTextChunks(bytes(onWarning), onWarning),
    });
  } catch (error) {
    if (!(error instanceof ReportRejection)) throw error;
    outcome.rejections.push(new ReportRejection(error.code, `${label}: ${error.message}`));
  }
}

/** The first PEEK_BYTES of a stream (stops decompressing there). */
async function peekBytes(source: ByteSource): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of source) {
    chunks.push(chunk);
    length += chunk.length;
    if (length >= PEEK_BYTES) break;
  }
  const head = new Uint8Array(Math.min(length, PEEK_BYTES));
  let at = 0;
  for (const chunk of chunks) {
    const take = chunk.subarray(0, head.length - at);
    head.set(take, at);
    at += take.length;
    if (at === head.length) break;
  }
  return head;
}
