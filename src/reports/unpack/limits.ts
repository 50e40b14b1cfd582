/** Caps that keep decompression of untrusted archives bounded in memory and CPU. */
export interface UnpackLimits {
  /** Decompressed bytes one stream (a gzip file, one zip entry) may produce. */
  maxOutputBytes: number;
  /** Largest decompressed/compressed ratio tolerated once `ratioCheckAfterBytes` were produced. */
  maxRatio: number;
  /** Small outputs are never ratio-checked: a tiny gzip of a short XML can legitimately exceed the ratio. */
  ratioCheckAfterBytes: number;
  /** Zip entries (directories excluded) an archive may hold; reports carry one. */
  maxZipEntries: number;
}

/**
 * Real aggregate reports compress 15:1 to about 100:1 (the 2,286-record sample: 102:1); DEFLATE
 * cannot exceed ~1032:1, which is what bombs (runs of one byte) reach. 300 sits well between.
 */
export const DEFAULT_UNPACK_LIMITS: UnpackLimits = Object.freeze({
  maxOutputBytes: 1024 * 1024 * 1024,
  maxRatio: 300,
  ratioCheckAfterBytes: 16 * 1024 * 1024,
  maxZipEntries: 16,
});

/** Compressed bytes handed to fflate per push: bounds one push's output to ~16 MiB even for a bomb. */
export const INPUT_SLICE_BYTES = 16 * 1024;

/** Largest chunk yielded to consumers. */
export const OUTPUT_CHUNK_BYTES = 64 * 1024;
