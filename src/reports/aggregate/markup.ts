import { ReportRejection } from '../model';

/**
 * A lexical pass over one XML fragment before fast-xml-parser sees it. It
 *  - refuses any DTD (`<!DOCTYPE`, `<!ENTITY`, ...): entity expansion is the billion-laughs and XXE
 *    attack surface, and no report needs a DTD;
 *  - escapes a `<` that does not start a well-formed tag, so that `<email><a@b.net></email>` or
 *    `bad<xml.net` (seen in real reports) become text instead of breaking the document;
 *  - tracks which elements are left open, so a header cut off at the first `<record>` can be closed.
 */
export interface MarkupScan {
  /** The fragment with stray `<` escaped (the same string when there was none). */
  xml: string;
  /** How many `<` were escaped. */
  strayLessThan: number;
  /** Qualified names of the elements still open at the end, outermost first. */
  open: string[];
  /** An end tag did not match the element it should have closed. */
  mismatched: boolean;
}

const NAME = String.raw`[A-Za-z_\u00C0-\uFFFF][\w.\-\u00B7\u00C0-\uFFFF]*(?::[A-Za-z_\u00C0-\uFFFF][\w.\-\u00B7\u00C0-\uFFFF]*)?`;
const ATTRIBUTE = String.raw`\s+${NAME}\s*=\s*(?:"[^"<]*"|'[^'<]*')`;
const START_TAG = new RegExp(String.raw`<(${NAME})(?:${ATTRIBUTE})*\s*(/?)>`, 'y');
const END_TAG = new RegExp(String.raw`</(${NAME})\s*>`, 'y');
const DTD = /<!\s*(?:DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)/iy;

export function scanMarkup(fragment: string): MarkupScan {
  const open: string[] = [];
  const pieces: string[] = [];
  let copiedTo = 0;
  let strayLessThan = 0;
  let mismatched = false;

  let at = fragment.indexOf('<');
  while (at !== -1) {
    const next = fragment.charCodeAt(at + 1);
    let end = -1;
    if (next === 0x21 /* ! */) {
      if (fragment.startsWith('<!--', at)) end = closeAfter(fragment, at + 4, '-->');
      else if (fragment.startsWith('<![CDATA[', at)) end = closeAfter(fragment, at + 9, ']]>');
      else {
        DTD.lastIndex = at;
        if (DTD.test(fragment)) {
          throw new ReportRejection(
            'xml-entities',
            'the report declares a DTD (<!DOCTYPE> or <!ENTITY>); DMARC reports never need one and entity expansion is refused',
          );
        }
      }
    } else if (next === 0x3f /* ? */) {
      end = closeAfter(fragment, at + 2, '?>');
    } else if (next === 0x2f /* / */) {
      END_TAG.lastIndex = at;
      const match = END_TAG.exec(fragment);
      if (match) {
        end = END_TAG.lastIndex;
        const name = match[1] ?? '';
        const depth = open.lastIndexOf(name);
        if (depth === open.length - 1) open.pop();
        else {
          mismatched = true;
          if (depth >= 0) open.length = depth;
        }
      }
    } else {
      START_TAG.lastIndex = at;
      const match = START_TAG.exec(fragment);
      if (match) {
        end = START_TAG.lastIndex;
        if (match[2] !== '/') open.push(match[1] ?? '');
      }
    }

    if (end === -1) {
      pieces.push(fragment.slice(copiedTo, at), '&lt;');
      copiedTo = at + 1;
      strayLessThan++;
      at = fragment.indexOf('<', at + 1);
    } else {
      at = fragment.indexOf('<', end);
    }
  }

  const xml = strayLessThan === 0 ? fragment : pieces.join('') + fragment.slice(copiedTo);
  return { xml, strayLessThan, open, mismatched };
}

function closeAfter(text: string, from: number, terminator: string): number {
  const at = text.indexOf(terminator, from);
  return at === -1 ? -1 : at + terminator.length;
}

/** Closing tags for the elements a scan left open, innermost first. */
export function closingTags(open: readonly string[]): string {
  return open
    .slice()
    .reverse()
    .map((name) => `</${name}>`)
    .join('');
}
