import { describe, expect, it } from 'vitest';
import { closingTags, scanMarkup } from '../../src/reports/aggregate/markup';
import { ReportRejection } from '../../src/reports/model';

describe('scanMarkup', () => {
  it('leaves well-formed XML untouched and reports open elements', () => {
    const xml = '<?xml version="1.0"?><!-- c --><a:feedback xmlns:a="u"><b x="1" y=\'2\'>t<![CDATA[<x>]]></b><c/>';
    const scan = scanMarkup(xml);
    expect(scan).toEqual({ xml, strayLessThan: 0, open: ['a:feedback'], mismatched: false });
    expect(closingTags(scan.open)).toBe('</a:feedback>');
  });

  it('escapes a "<" that starts no tag (the two cases of invalid_xml.xml)', () => {
    expect(scanMarkup('<email><bad-xml@bad-xml.net></email>').xml).toBe('<email>&lt;bad-xml@bad-xml.net></email>');
    expect(scanMarkup('<header_from>bad<xml.net</header_from>').xml).toBe('<header_from>bad&lt;xml.net</header_from>');
    expect(scanMarkup('<a>1 < 2 <</a>')).toMatchObject({ xml: '<a>1 &lt; 2 &lt;</a>', strayLessThan: 2, open: [] });
  });

  it('notices end tags that do not match', () => {
    expect(scanMarkup('<a><b></a>')).toMatchObject({ mismatched: true, open: [] });
    expect(scanMarkup('<a></b></a>')).toMatchObject({ mismatched: true, open: [] });
  });

  it('refuses any DTD declaration', () => {
    for (const dtd of ['<!DOCTYPE x>', '<!doctype x>', '<!ENTITY a "b">', '<!ELEMENT a ANY>', '<!ATTLIST a b CDATA #IMPLIED>']) {
      expect(() => scanMarkup(`<a>${dtd}</a>`)).toThrow(ReportRejection);
    }
  });
});
