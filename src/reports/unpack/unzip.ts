import { Unzip, UnzipInflate, type UnzipFile } from 'fflate';
import { ReportRejection } from '../model';
import { boundedChunks, chunkStream, errorText, type ChunkStream } from './chunk-stream';
import { DEFAULT_UNPACK_LIMITS, INPUT_SLICE_BYTES, type UnpackLimits } from './limits';
import { OutputBudget } from './output-budget';

export interface ZipEntry {
  name: string;
  /** Sizes from the local header; null when the entry defers them to a data descriptor. */
  compressedSize: number | null;
  declaredSize: number | null;
  /** Streams the decompressed entry; each iteration starts again from the archive's first byte. */
  chunks(): ChunkStream<Uint8Array>;
}

interface EntryInfo {
  name: string;
  ordinal: number;
  compressedSize: number | null;
  declaredSize: number | null;
}

/**
 * Lists the file entries of a zip archive (directories skipped) without decompressing anything;
 * each entry decompresses lazily through `chunks()`. Rejects, at listing time, archives with more
 * than `maxZipEntries` entries and entries whose declared size breaks the limits; since declared
 * sizes can lie, the limits are enforced again while streaming.
 */
export function unzipEntries(bytes: Uint8Array, limits: UnpackLimits = DEFAULT_UNPACK_LIMITS): ZipEntry[] {
  const infos = listEntries(bytes).filter((entry) => !entry.name.endsWith('/'));
  if (infos.length > limits.maxZipEntries) {
    throw new ReportRejection(
      'decompression-bomb',
      `zip archive holds ${infos.length} files; a report archive holds one (at most ${limits.maxZipEntries} accepted)`,
    );
  }
  for (const info of infos) checkDeclaredSize(info, limits);
  return infos.map((info) => ({
    name: info.name,
    compressedSize: info.compressedSize,
    declaredSize: info.declaredSize,
    chunks: () => chunkStream(() => entryGenerator(bytes, info, limits)),
  }));
}

function listEntries(bytes: Uint8Array): EntryInfo[] {
  const entries: EntryInfo[] = [];
  // Unstarted entries are skipped by fflate: it keeps views of their compressed bytes, no copies.
  const unzip = new Unzip((file: UnzipFile) => {
    entries.push({
      name: file.name,
      ordinal: entries.length,
      compressedSize: file.size ?? null,
      declaredSize: file.originalSize ?? null,
    });
  });
  pushAll(unzip, bytes, () => false);
  return entries;
}

function checkDeclaredSize(info: EntryInfo, limits: UnpackLimits): void {
  const { declaredSize, compressedSize } = info;
  if (declaredSize === null) return;
  const bomb = (why: string) => new ReportRejection('decompression-bomb', `zip entry "${info.name}" ${why}`);
  if (declaredSize > limits.maxOutputBytes) {
    throw bomb(`declares ${declaredSize} bytes, over the ${limits.maxOutputBytes}-byte limit for one report`);
  }
  if (
    compressedSize !== null &&
    declaredSize > limits.ratioCheckAfterBytes &&
    declaredSize / Math.max(1, compressedSize) > limits.maxRatio
  ) {
    throw bomb(`declares an expansion of more than ${limits.maxRatio} times (${declaredSize} bytes from ${compressedSize})`);
  }
}

function* entryGenerator(bytes: Uint8Array, info: EntryInfo, limits: UnpackLimits): Generator<Uint8Array, void, undefined> {
  const budget = new OutputBudget(limits, `zip entry "${info.name}"`);
  const compressed = info.compressedSize && info.compressedSize > 0 ? info.compressedSize : bytes.length;
  const ready: Uint8Array[] = [];
  let failure: unknown = null;
  let finished = false;
  let seen = 0;
  const unzip = new Unzip((file: UnzipFile) => {
    if (seen++ !== info.ordinal) return;
    file.ondata = (error, data, final) => {
      if (error) failure = error;
      else if (data.length > 0) ready.push(data);
      if (final) finished = true;
    };
    file.start();
  });
  unzip.register(UnzipInflate);

  for (const pushError of pushSlices(unzip, bytes, () => finished || failure !== null)) {
    if (failure !== null || pushError !== null) throw corruptEntry(info, failure ?? pushError);
    for (const data of ready) {
      budget.add(data.length, compressed);
      yield* boundedChunks(data);
    }
    ready.length = 0;
    if (finished) return;
  }
  throw new ReportRejection('corrupt-archive', `zip entry "${info.name}" is truncated`);
}

function corruptEntry(info: EntryInfo, failure: unknown): ReportRejection {
  return new ReportRejection('corrupt-archive', `zip entry "${info.name}" is corrupt (${errorText(failure)})`);
}

/**
 * Pushes the archive in slices and yields after each one so the caller can drain the output:
 * null, or what fflate threw (then stops). Stops early once `done()` says so.
 */
function* pushSlices(unzip: Unzip, bytes: Uint8Array, done: () => boolean): Generator<unknown, void, undefined> {
  for (let offset = 0; ; offset += INPUT_SLICE_BYTES) {
    const end = Math.min(bytes.length, offset + INPUT_SLICE_BYTES);
    try {
      unzip.push(bytes.subarray(offset, end), end === bytes.length);
    } catch (error) {
      yield error ?? new Error('unknown failure');
      return;
    }
    yield null;
    if (done() || end === bytes.length) return;
  }
}

function pushAll(unzip: Unzip, bytes: Uint8Array, done: () => boolean): void {
  for (const pushError of pushSlices(unzip, bytes, done)) {
    if (pushError !== null) throw new ReportRejection('corrupt-archive', `zip archive is corrupt (${errorText(pushError)})`);
  }
}
