/**
 * Mail saved from an mbox file starts with a `From sender date` separator line, which is not a
 * header. Returns the message without it (a view, no copy).
 */
export function stripMboxSeparator(raw: Uint8Array): Uint8Array {
  if (!startsWithAscii(raw, 'From ')) return raw;
  const newline = raw.indexOf(0x0a);
  return newline === -1 ? raw.subarray(raw.length) : raw.subarray(newline + 1);
}

/** Does this look like an RFC 5322 message (an mbox separator or a header line first)? */
export function looksLikeEmail(raw: Uint8Array): boolean {
  if (startsWithAscii(raw, 'From ')) return true;
  const head = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false }).decode(
    raw.subarray(0, Math.min(raw.length, 1000)),
  );
  return /^[A-Za-z][A-Za-z0-9-]*:/.test(head);
}

function startsWithAscii(raw: Uint8Array, prefix: string): boolean {
  if (raw.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (raw[i] !== prefix.charCodeAt(i)) return false;
  return true;
}
