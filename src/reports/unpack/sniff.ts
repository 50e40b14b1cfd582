export type Container = 'gzip' | 'zip' | 'plain';

/** By magic bytes only: file names and MIME types of report attachments are often wrong. */
export function sniffContainer(bytes: Uint8Array): Container {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return 'gzip';
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b) {
    const kind = (bytes[2] ?? 0) * 256 + (bytes[3] ?? 0);
    // local file header, empty archive, spanned archive marker
    if (kind === 0x0304 || kind === 0x0506 || kind === 0x0708) return 'zip';
  }
  return 'plain';
}
