import { OUTPUT_CHUNK_BYTES } from './limits';

/**
 * Decompression is synchronous, so streams are sync generators; wrapping them in both protocols
 * lets callers use `for` or `for await` alike. Each call of an iterator method restarts nothing:
 * a new iteration re-runs `start` from the beginning of the input.
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
