import { OUTPUT_CHUNK_BYTES } from './limits';

/**
 * Decompression is synchronous, so streams are sync generators; offering both protocols lets
 * callers use `for` or `for await` alike. Every new iteration calls `start` again, i.e. streams
 * from the beginning of the input (what resuming after a crash needs).
 */
export type ChunkStream<T> = Iterable<T> & AsyncIterable<T>;

export function chunkStream<T>(start: () => Generator<T, void, undefined>): ChunkStream<T> {
  return {
    [Symbol.iterator]: start,
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const inner = start();
      return {
        next: async () => inner.next(),
        return: async () => inner.return(undefined),
      };
    },
  };
}

/** Slices one possibly large decompressed buffer into bounded chunks (views, no copies). */
export function* boundedChunks(data: Uint8Array): Generator<Uint8Array, void, undefined> {
  for (let offset = 0; offset < data.length; offset += OUTPUT_CHUNK_BYTES) {
    yield data.subarray(offset, offset + OUTPUT_CHUNK_BYTES);
  }
}

/** fflate throws plain Errors carrying a numeric `code`. */
export function fflateErrorCode(error: unknown): number | null {
  if (error instanceof Error && 'code' in error && typeof error.code === 'number') return error.code;
  return null;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
