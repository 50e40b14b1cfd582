import { Gunzip } from 'fflate';
import { ReportRejection } from '../model';
import { boundedChunks, chunkStream, errorText, fflateErrorCode, type ChunkStream } from './chunk-stream';
import { DEFAULT_UNPACK_LIMITS, INPUT_SLICE_BYTES, type UnpackLimits } from './limits';
import { OutputBudget } from './output-budget';

/** fflate's error code for a gzip header that does not start with 1f 8b 08. */
const INVALID_GZIP_HEADER = 6;
const UNEXPECTED_EOF = 0;

/**
 * Streams the decompressed content of a (possibly multi-member) gzip file in bounded chunks.
 * Every iteration starts again from the first byte, so a consumer can re-stream after a crash.
 *
 * Throws (during iteration) `ReportRejection('corrupt-archive')` for a bad header, a truncated or
 * invalid DEFLATE stream, and `ReportRejection('decompression-bomb')` at the limits. Bytes after a
 * complete member that are not another member are ignored and reported through `onWarning`.
 * The CRC-32 in the trailer is not checked (fflate's streaming Gunzip does not expose it); a
 * truncated DEFLATE stream is detected, a missing 8-byte trailer alone is not.
 */
export function gunzipChunks(
  bytes: Uint8Array,
  limits: UnpackLimits = DEFAULT_UNPACK_LIMITS,
  onWarning?: (message: string) => void,
): ChunkStream<Uint8Array> {
  return chunkStream(() => gunzipGenerator(bytes, limits, onWarning));
}

function* gunzipGenerator(
  bytes: Uint8Array,
  limits: UnpackLimits,
  onWarning: ((message: string) => void) | undefined,
): Generator<Uint8Array, void, undefined> {
  assertGzipHeader(bytes);
  const budget = new OutputBudget(limits, 'gzip data');
  const ready: Uint8Array[] = [];
  const gunzip = new Gunzip((data) => {
    if (data.length > 0) ready.push(data);
  });
  let members = 1;
  gunzip.onmember = () => members++;

  for (let offset = 0; offset < bytes.length; offset += INPUT_SLICE_BYTES) {
    const end = Math.min(bytes.length, offset + INPUT_SLICE_BYTES);
    let trailingGarbage = false;
    try {
      gunzip.push(bytes.subarray(offset, end), end === bytes.length);
    } catch (error) {
      // The first header was checked above, so a bad "header" now follows a complete member:
      // reporters pad files with zeros or newlines. What came before is complete and usable.
      if (fflateErrorCode(error) !== INVALID_GZIP_HEADER) throw corrupt(error);
      trailingGarbage = true;
    }
    for (const data of ready) {
      budget.add(data.length, end);
      yield* boundedChunks(data);
    }
    ready.length = 0;
    if (trailingGarbage) {
      onWarning?.(
        `ignored bytes after the end of the gzip data (after ${members === 1 ? 'its member' : `${members} members`})`,
      );
      return;
    }
  }
}

function corrupt(error: unknown): ReportRejection {
  if (fflateErrorCode(error) === UNEXPECTED_EOF) {
    return new ReportRejection('corrupt-archive', 'gzip data is truncated: it ends before the compressed stream does');
  }
  return new ReportRejection('corrupt-archive', `gzip data is corrupt (${errorText(error)})`);
}

/** Checks the RFC 1952 header ourselves so that fflate's header error can only mean trailing bytes. */
function assertGzipHeader(bytes: Uint8Array): void {
  const fail = (why: string) => new ReportRejection('corrupt-archive', `gzip header is invalid: ${why}`);
  if (bytes.length < 10) throw fail('the file is shorter than a gzip header');
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) throw fail('no gzip magic bytes');
  if (bytes[2] !== 8) throw fail(`compression method ${bytes[2]} is not DEFLATE`);
  const flags = bytes[3] ?? 0;
  if (flags & 0xe0) throw fail('reserved flag bits are set');
  let at = 10;
  if (flags & 0x04) at += 2 + ((bytes[10] ?? 0) | ((bytes[11] ?? 0) << 8));
  for (const flag of [0x08, 0x10]) {
    if (!(flags & flag)) continue;
    while (at < bytes.length && bytes[at] !== 0) at++;
    at++;
  }
  if (flags & 0x02) at += 2;
  if (at > bytes.length) throw fail('the file ends inside the header');
}
