/**
 * Bytes → text for report files, streamed. UTF-8 is what reports use; a UTF-16 byte-order mark
 * (or an XML declaration spelled in UTF-16) switches to UTF-16, and an XML declaration naming
 * windows-1252 / ISO-8859-1 / ASCII (AOL's reports did) switches to that single-byte code. A BOM is
 * dropped. Bytes that are not valid UTF-8 become U+FFFD, reported once through `onWarning`, rather
 * than losing the whole report over one bad byte in a reporter's name.
 */

export type ByteSource = Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

export const INVALID_UTF8_WARNING = 'the report is not valid UTF-8; the bad bytes were replaced by U+FFFD';

export async function* decodeTextChunks(
  chunks: ByteSource,
  onWarning?: (message: string) => void,
): AsyncGenerator<string, void, undefined> {
  const decoder = new StreamingTextDecoder(onWarning);
  for await (const chunk of chunks) {
    const text = decoder.push(chunk);
    if (text) yield text;
  }
  const rest = decoder.end();
  if (rest) yield rest;
}

/** A whole small buffer to text (used for peeking at the first bytes of a part). */
export function decodeText(bytes: Uint8Array, onWarning?: (message: string) => void): string {
  const decoder = new StreamingTextDecoder(onWarning);
  return decoder.push(bytes) + decoder.end();
}

/** Views of at most `size` bytes over one buffer, to feed a plain file like a decompressed one. */
export function* byteSlices(bytes: Uint8Array, size = 64 * 1024): Generator<Uint8Array, void, undefined> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

type Encoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

/** Bytes looked at to find the encoding: a BOM, or an XML declaration up to its `?>`. */
const SNIFF_BYTES = 256;

export class StreamingTextDecoder {
  private encoding: Encoding | null = null;
  /** Bytes held until the encoding is known (up to SNIFF_BYTES at the start). */
  private head: Uint8Array = new Uint8Array(0);
  private utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  private lenient = false;
  /** Last bytes of the UTF-8 stream, to recover the decoder's pending partial sequence. */
  private recent: Uint8Array = new Uint8Array(0);
  private utf16Carry: number | null = null;
  private utf16Started = false;

  constructor(private readonly onWarning?: (message: string) => void) {}

  push(chunk: Uint8Array): string {
    if (this.encoding === null) {
      this.head = concat(this.head, chunk);
      if (this.head.length < SNIFF_BYTES && !this.head.includes(0x3e /* > */)) return '';
      this.encoding = detectEncoding(this.head);
      chunk = this.head;
      this.head = new Uint8Array(0);
    }
    if (this.encoding === 'utf-8') return this.pushUtf8(chunk, false);
    if (this.encoding === 'windows-1252') return decodeWindows1252(chunk);
    return this.pushUtf16(chunk);
  }

  end(): string {
    if (this.encoding === null) {
      this.encoding = detectEncoding(this.head);
      const text = this.push(this.head);
      return text + this.end();
    }
    if (this.encoding === 'utf-8') return this.pushUtf8(new Uint8Array(0), true);
    if (this.encoding === 'windows-1252') return '';
    if (this.utf16Carry !== null) {
      this.utf16Carry = null;
      this.warnOnce('the UTF-16 report ends with half a character');
      return '\uFFFD';
    }
    return '';
  }

  private pushUtf8(chunk: Uint8Array, final: boolean): string {
    if (!this.lenient) {
      try {
        const text = this.utf8.decode(chunk, { stream: !final });
        this.recent = lastBytes(this.recent, chunk, 3);
        return text;
      } catch {
        // The fatal decoder lost its pending partial sequence; rebuild it from the last bytes seen.
        this.lenient = true;
        this.warnOnce(INVALID_UTF8_WARNING);
        const pending = pendingUtf8Tail(this.recent);
        const first = this.recent.length === 0 && pending.length === 0;
        this.utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: !first });
        chunk = concat(pending, chunk);
      }
    }
    return this.utf8.decode(chunk, { stream: !final });
  }

  private pushUtf16(chunk: Uint8Array): string {
    let bytes = chunk;
    if (this.utf16Carry !== null) {
      bytes = concat(Uint8Array.of(this.utf16Carry), chunk);
      this.utf16Carry = null;
    }
    const even = bytes.length - (bytes.length % 2);
    if (even < bytes.length) this.utf16Carry = bytes[even] ?? null;
    const littleEndian = this.encoding === 'utf-16le';
    const units: number[] = [];
    let text = '';
    for (let i = 0; i < even; i += 2) {
      const a = bytes[i] ?? 0;
      const b = bytes[i + 1] ?? 0;
      units.push(littleEndian ? a | (b << 8) : (a << 8) | b);
      if (units.length === 8192) {
        text += String.fromCharCode(...units);
        units.length = 0;
      }
    }
    text += String.fromCharCode(...units);
    if (!this.utf16Started && text.length > 0) {
      this.utf16Started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    return text;
  }

  private warned = false;
  private warnOnce(message: string): void {
    if (this.warned) return;
    this.warned = true;
    this.onWarning?.(message);
  }
}

function detectEncoding(head: Uint8Array): Encoding {
  const [a, b, c, d] = [head[0], head[1], head[2], head[3]];
  if (a === 0xff && b === 0xfe) return 'utf-16le';
  if (a === 0xfe && b === 0xff) return 'utf-16be';
  // `<?` without a BOM, as the XML spec's encoding detection allows
  if (a === 0x3c && b === 0x00 && c === 0x3f && d === 0x00) return 'utf-16le';
  if (a === 0x00 && b === 0x3c && c === 0x00 && d === 0x3f) return 'utf-16be';
  if (a === 0xef && b === 0xbb && c === 0xbf) return 'utf-8';
  return SINGLE_BYTE_LABEL.test(declaredEncoding(head)) ? 'windows-1252' : 'utf-8';
}

/** WHATWG maps all of these labels to windows-1252. */
const SINGLE_BYTE_LABEL = /^(?:windows-1252|cp1252|iso-8859-1|iso8859-1|iso_8859-1|latin1|l1|us-ascii|ascii)$/i;

function declaredEncoding(head: Uint8Array): string {
  let start = 0;
  while (start < head.length && (head[start] === 0x20 || head[start] === 0x09 || head[start] === 0x0a || head[start] === 0x0d)) start++;
  if (head[start] !== 0x3c || head[start + 1] !== 0x3f) return '';
  let declaration = '';
  for (let i = start; i < head.length && head[i] !== 0x3e; i++) declaration += String.fromCharCode(head[i] ?? 0);
  return /encoding\s*=\s*["']([^"']+)["']/.exec(declaration)?.[1] ?? '';
}

/** windows-1252 differs from ISO-8859-1 only in 0x80–0x9F; 0 marks the five undefined bytes. */
const WINDOWS_1252_HIGH = [
  0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
  0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
];

function decodeWindows1252(bytes: Uint8Array): string {
  const units: number[] = [];
  let text = '';
  for (const byte of bytes) {
    units.push(byte >= 0x80 && byte < 0xa0 ? WINDOWS_1252_HIGH[byte - 0x80] || byte : byte);
    if (units.length === 8192) {
      text += String.fromCharCode(...units);
      units.length = 0;
    }
  }
  return text + String.fromCharCode(...units);
}

/** The trailing bytes of a UTF-8 stream that start a multi-byte sequence not yet complete. */
function pendingUtf8Tail(recent: Uint8Array): Uint8Array {
  for (let back = 1; back <= Math.min(3, recent.length); back++) {
    const byte = recent[recent.length - back] ?? 0;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? recent.subarray(recent.length - back) : new Uint8Array(0);
  }
  return new Uint8Array(0);
}

function lastBytes(previous: Uint8Array, chunk: Uint8Array, count: number): Uint8Array {
  if (chunk.length >= count) return chunk.slice(chunk.length - count);
  return concat(previous, chunk).slice(-count);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
