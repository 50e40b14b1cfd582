import { describe, expect, it } from 'vitest';
import { decodeText, decodeTextChunks, INVALID_UTF8_WARNING } from '../../src/reports/xml-text';
import { joinText } from './helpers';

const encode = (text: string) => new TextEncoder().encode(text);

function bytesOneByOne(bytes: Uint8Array): Uint8Array[] {
  return Array.from(bytes, (byte) => Uint8Array.of(byte));
}

function utf16(text: string, littleEndian: boolean, bom: boolean): Uint8Array {
  const units = (bom ? '\uFEFF' : '') + text;
  const out = new Uint8Array(units.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < units.length; i++) view.setUint16(i * 2, units.charCodeAt(i), littleEndian);
  return out;
}

describe('decodeTextChunks', () => {
  const text = '<?xml version="1.0"?><feedback><org_name>Müller & Søn 日本 🙂</org_name></feedback>';

  it('decodes UTF-8 split anywhere, even inside a character', async () => {
    expect(await joinText(decodeTextChunks(bytesOneByOne(encode(text))))).toBe(text);
  });

  it('drops a UTF-8 byte-order mark', async () => {
    const withBom = new Uint8Array([0xef, 0xbb, 0xbf, ...encode(text)]);
    expect(await joinText(decodeTextChunks([withBom]))).toBe(text);
    expect(await joinText(decodeTextChunks(bytesOneByOne(withBom)))).toBe(text);
  });

  it('replaces invalid UTF-8 with U+FFFD and warns once', async () => {
    const bad = new Uint8Array([...encode('<a>caf'), 0xe9, ...encode('</a><b>'), 0xff, 0xfe, ...encode('ü</b>')]);
    const warnings: string[] = [];
    const decoded = await joinText(decodeTextChunks(bytesOneByOne(bad), (w) => warnings.push(w)));
    expect(decoded).toBe('<a>caf\uFFFD</a><b>\uFFFD\uFFFDü</b>');
    expect(warnings).toEqual([INVALID_UTF8_WARNING]);
  });

  it('keeps a multi-byte character that straddles the chunk where invalid UTF-8 is first found', async () => {
    const euro = encode('€'); // e2 82 ac
    const chunks = [new Uint8Array([...encode('ab'), euro[0]!, euro[1]!]), new Uint8Array([euro[2]!, 0xff, ...encode('z')])];
    const warnings: string[] = [];
    expect(await joinText(decodeTextChunks(chunks, (w) => warnings.push(w)))).toBe('ab€\uFFFDz');
    expect(warnings).toHaveLength(1);
  });

  it('reads UTF-16 with either byte-order mark, and UTF-16 XML without one', async () => {
    expect(await joinText(decodeTextChunks(bytesOneByOne(utf16(text, true, true))))).toBe(text);
    expect(await joinText(decodeTextChunks(bytesOneByOne(utf16(text, false, true))))).toBe(text);
    expect(decodeText(utf16(text, true, false))).toBe(text);
    expect(decodeText(utf16(text, false, false))).toBe(text);
  });

  it('honours an XML declaration of windows-1252 / ISO-8859-1', async () => {
    const latin = new Uint8Array([
      ...encode('<?xml version="1.0" encoding="windows-1252"?><org_name>M'),
      0xfc,
      ...encode('ller '),
      0x80,
      ...encode('</org_name>'),
    ]);
    expect(await joinText(decodeTextChunks(bytesOneByOne(latin)))).toBe(
      '<?xml version="1.0" encoding="windows-1252"?><org_name>Müller €</org_name>',
    );
    const iso = new Uint8Array([...encode("<?xml version='1.0' encoding='ISO-8859-1'?><a>"), 0xe9, ...encode('</a>')]);
    expect(decodeText(iso)).toBe("<?xml version='1.0' encoding='ISO-8859-1'?><a>é</a>");
  });

  it('handles tiny and empty inputs', async () => {
    expect(await joinText(decodeTextChunks([]))).toBe('');
    expect(await joinText(decodeTextChunks([encode('<')]))).toBe('<');
    expect(decodeText(new Uint8Array([0xef, 0xbb, 0xbf]))).toBe('');
  });
});
