import { ReportRejection } from '../model';
import { isIpAddress, nonNegativeInteger } from './values';
import { decodeXmlText } from './xml-tree';

const SOURCE_IP = /<(?:[\w.-]+:)?source_ip\s*>([^<]*)</;
const COUNT = /<(?:[\w.-]+:)?count\s*>([^<]*)</;
const DTD = /<!\s*(?:DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)/i;

/**
 * For a record before the resume point: its message count if a full parse would accept it (a
 * source_ip that is an IP address and a whole-number count, the same rule as record.ts), else
 * null. A regex instead of the XML parser, so a resumed report costs little for what it skips.
 */
export function countOfSkippedRecord(xml: string): number | null {
  if (xml.includes('<!') && DTD.test(xml)) {
    throw new ReportRejection('xml-entities', 'the report declares a DTD (<!DOCTYPE> or <!ENTITY>) and entity expansion is refused');
  }
  const ip = SOURCE_IP.exec(xml)?.[1];
  if (ip === undefined || !isIpAddress(decodeXmlText(ip).trim())) return null;
  const count = COUNT.exec(xml)?.[1];
  return count === undefined ? null : nonNegativeInteger(decodeXmlText(count).trim());
}
