import { sha256Hex } from '../lib/digest';

/** Raw messages live under a content address, so the same bytes delivered twice are one object. */
export function rawKey(sha256: string): string {
  return `raw/${sha256.slice(0, 2)}/${sha256}`;
}

export interface StoredRaw {
  key: string;
  sha256: string;
  size: number;
}

/**
 * Writes the raw bytes to R2 before anything else happens to them: whatever fails later, the message
 * can be replayed from here. A put of identical bytes under the same key is harmless.
 */
export async function storeRaw(
  bucket: R2Bucket,
  bytes: Uint8Array,
  meta: Record<string, string>,
): Promise<StoredRaw> {
  const sha256 = await sha256Hex(bytes);
  const key = rawKey(sha256);
  const existing = await bucket.head(key);
  if (!existing) {
    await bucket.put(key, bytes, { sha256, customMetadata: meta });
  }
  return { key, sha256, size: bytes.byteLength };
}
