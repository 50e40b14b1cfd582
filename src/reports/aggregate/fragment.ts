import type { WarningLog } from '../warnings';
import { closingTags, scanMarkup } from './markup';
import { parseXmlFragment, strayTextOf, type XmlElement, type XmlNode } from './xml-tree';

export interface ParsedFragment {
  tree: XmlElement;
  /** Elements the fragment left open (closed artificially before parsing). */
  open: string[];
}

/**
 * Repairs, closes and parses one fragment of a report (the header or one record). `where` names
 * it in warnings ("the report header", "record 12"). Throws ReportRejection('xml-entities') for a
 * DTD; any other failure of the parser propagates for the caller to judge.
 */
export function parseFragment(xml: string, where: string, warnings: WarningLog): ParsedFragment {
  const scan = scanMarkup(xml);
  if (scan.strayLessThan > 0) {
    warnings.add(
      `${where} is not well-formed XML: ${scan.strayLessThan === 1 ? 'a "<" that starts no tag was' : `${scan.strayLessThan} "<" that start no tag were`} read as text`,
      `stray-lt:${where}`,
    );
  }
  if (scan.mismatched) {
    warnings.add(`${where} has end tags that do not match their start tags; it was read leniently`, `mismatch:${where}`);
  }
  return { tree: parseXmlFragment(scan.xml + closingTags(scan.open)), open: scan.open };
}

/** Mixed content such as `<sp>none</sp>11` is tolerated, and said. */
export function noteStrayText(node: XmlNode | undefined, element: string, warnings: WarningLog): void {
  const stray = strayTextOf(node);
  if (stray !== null) warnings.add(`stray text "${clip(stray)}" inside <${element}> was ignored`, `stray-text:${element}`);
}

export function clip(text: string, max = 40): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
