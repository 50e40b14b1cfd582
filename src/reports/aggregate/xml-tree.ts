import { XMLParser } from 'fast-xml-parser';

/**
 * fast-xml-parser, configured for untrusted report fragments, and typed access to its output.
 * Elements are matched by local name (`removeNSPrefix`), so `dmarc:record` and a default
 * namespace read the same. Entities are not processed by the parser; `decodeXmlText` decodes only
 * the five predefined entities and numeric references (a DTD never reaches here, see markup.ts).
 */
export type XmlNode = string | XmlElement | XmlNode[];
export interface XmlElement {
  [name: string]: XmlNode;
}

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false,
  htmlEntities: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  // No callback reads the path, and building it costs ~16% of parse time (npm run bench).
  jPath: false,
});

/** Parses a (repaired) fragment; throws what fast-xml-parser throws. */
export function parseXmlFragment(xml: string): XmlElement {
  const tree: unknown = parser.parse(xml);
  return isElement(tree) ? tree : {};
}

export const TEXT_KEY = '#text';

export function isElement(node: unknown): node is XmlElement {
  return typeof node === 'object' && node !== null && !Array.isArray(node);
}

/** Every child element of that local name (fast-xml-parser makes an array only for repeats). */
export function childrenNamed(parent: XmlNode | undefined, name: string): XmlNode[] {
  if (!isElement(parent) || !Object.hasOwn(parent, name)) return [];
  const value = parent[name];
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

export function firstChild(parent: XmlNode | undefined, name: string): XmlNode | undefined {
  return childrenNamed(parent, name)[0];
}

/** The text of an element: trimmed, entities decoded; null when empty or absent. */
export function textOf(node: XmlNode | undefined): string | null {
  let raw: XmlNode | undefined = node;
  if (Array.isArray(raw)) raw = raw[0];
  if (isElement(raw)) raw = raw[TEXT_KEY];
  if (typeof raw !== 'string') return null;
  const text = decodeXmlText(raw).trim();
  return text === '' ? null : text;
}

/** Text sitting directly in an element that otherwise holds elements (mixed content). */
export function strayTextOf(node: XmlNode | undefined): string | null {
  if (!isElement(node)) return null;
  const keys = Object.keys(node);
  if (keys.length < 2) return null;
  const text = node[TEXT_KEY];
  return typeof text === 'string' && text.trim() !== '' ? text.trim() : null;
}

const ENTITY = /&(?:(amp|lt|gt|quot|apos)|#(\d{1,7})|#x([0-9A-Fa-f]{1,6}));/g;
const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** The five XML entities and character references; anything else (`&nbsp;`, a bare `&`) stays as written. */
export function decodeXmlText(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(ENTITY, (whole, name: string | undefined, dec: string | undefined, hex: string | undefined) => {
    if (name) return PREDEFINED[name] ?? whole;
    const code = dec !== undefined ? Number.parseInt(dec, 10) : Number.parseInt(hex ?? '', 16);
    const valid = code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff);
    return valid ? String.fromCodePoint(code) : '\uFFFD';
  });
}
