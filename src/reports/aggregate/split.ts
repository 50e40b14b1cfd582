import { ReportRejection } from '../model';

/**
 * Cuts the text of an aggregate report, arriving in chunks of any size, into its header
 * (everything before the first `<record>`) and one fragment per `<record>…</record>`, so that a
 * report of any size is parsed in memory bounded by its largest record. Text between and after
 * records is inspected (DTD, the closing `</feedback>`) and dropped.
 */
export type Fragment =
  | { kind: 'header'; xml: string; wholeDocument: boolean }
  | { kind: 'record'; xml: string; index: number }
  | {
      kind: 'end';
      /** `</feedback>` was seen after the last record. */
      rootClosed: boolean;
      /** Index of the record the text stopped inside (it is dropped), or null. */
      danglingRecord: number | null;
      /** Elements or text other than comments between or after the records (ignored). */
      strayContent: boolean;
    };

/**
 * Records are ~500 characters, headers ~1,000; no real one comes near 256 Ki. A larger one is garbage
 * or an attack, and the cap bounds memory, D1 row parameters (a record stays far below 2 MB as JSON) and the rescans of an unfinished tag.
 */
export const MAX_FRAGMENT_CHARS = 256 * 1024;

const RECORD_START = /<(?:[A-Za-z_][\w.-]*:)?record(?:\s[^<>]*)?\/?>/y;
const RECORD_END = /<\/(?:[A-Za-z_][\w.-]*:)?record\s*>/y;
const DTD = /<!\s*(?:DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)/i;
const ROOT_END = /<\/(?:[A-Za-z_][\w.-]*:)?feedback\s*>/g;
const COMMENT = /<!--[\s\S]*?-->/g;

type TagSearch = { found: true; start: number; end: number } | { found: false; resumeAt: number };

export class RecordSplitter {
  private buffer = '';
  private state: 'header' | 'between' | 'record' = 'header';
  /** Where the next tag search starts, relative to `buffer`. */
  private searchFrom = 0;
  /** Start of the record being read, relative to `buffer`. */
  private recordStart = 0;
  private nextIndex = 0;
  private rootClosed = false;
  private strayContent = false;

  constructor(private readonly maxFragmentChars = MAX_FRAGMENT_CHARS) {}

  push(chunk: string): Fragment[] {
    this.buffer = this.buffer.length === 0 ? chunk : this.buffer + chunk;
    const out: Fragment[] = [];
    let consumed = 0;

    for (;;) {
      if (this.state === 'record') {
        const end = findTag(this.buffer, this.searchFrom, RECORD_END);
        if (!end.found) {
          this.searchFrom = end.resumeAt;
          break;
        }
        this.checkSize(end.end - this.recordStart);
        out.push({ kind: 'record', xml: this.buffer.slice(this.recordStart, end.end), index: this.nextIndex++ });
        consumed = this.searchFrom = end.end;
        this.state = 'between';
        continue;
      }
      const start = findTag(this.buffer, this.searchFrom, RECORD_START);
      if (!start.found) {
        this.searchFrom = start.resumeAt;
        break;
      }
      const before = this.buffer.slice(consumed, start.start);
      if (this.state === 'header') {
        this.checkSize(before.length);
        out.push({ kind: 'header', xml: before, wholeDocument: false });
      } else {
        this.inspectGap(before);
      }
      if (this.buffer.charCodeAt(start.end - 2) === 0x2f /* `<record/>` */) {
        out.push({ kind: 'record', xml: this.buffer.slice(start.start, start.end), index: this.nextIndex++ });
        this.state = 'between';
        consumed = start.end;
      } else {
        this.state = 'record';
        this.recordStart = consumed = start.start;
      }
      this.searchFrom = start.end;
    }

    if (this.state === 'between') {
      // Text up to an undecided `<` holds no record start: inspect it and let it go.
      this.inspectGap(this.buffer.slice(consumed, this.searchFrom));
      consumed = this.searchFrom;
    }
    this.buffer = this.buffer.slice(consumed);
    this.searchFrom -= consumed;
    this.recordStart -= consumed;
    this.checkSize(this.buffer.length);
    return out;
  }

  /** Applied to what is buffered and to every fragment, however it arrived. */
  private checkSize(length: number): void {
    if (length <= this.maxFragmentChars) return;
    const what = this.state === 'header' ? 'the report header' : `record ${this.nextIndex}`;
    throw new ReportRejection('invalid-report', `${what} is longer than ${this.maxFragmentChars} characters; no report has one that large`);
  }

  finish(): Fragment[] {
    const out: Fragment[] = [];
    if (this.state === 'header') {
      this.checkSize(this.buffer.length);
      out.push({ kind: 'header', xml: this.buffer, wholeDocument: true });
    } else if (this.state === 'between') {
      this.inspectGap(this.buffer);
    }
    this.buffer = '';
    out.push({
      kind: 'end',
      rootClosed: this.rootClosed,
      danglingRecord: this.state === 'record' ? this.nextIndex : null,
      strayContent: this.strayContent,
    });
    return out;
  }

  private inspectGap(text: string): void {
    if (text.trim() === '') return;
    if (DTD.test(text)) {
      throw new ReportRejection('xml-entities', 'the report declares a DTD (<!DOCTYPE> or <!ENTITY>) and entity expansion is refused');
    }
    const rest = text.replace(COMMENT, '').replace(ROOT_END, () => {
      this.rootClosed = true;
      return '';
    });
    if (rest.trim() !== '') this.strayContent = true;
  }
}

/**
 * Finds the first tag matching `pattern` (sticky, starting at `<`) from `from`. When the text ends
 * inside a tag that could still turn out to match, reports where to resume once more text came.
 */
function findTag(text: string, from: number, pattern: RegExp): TagSearch {
  let nextClose = -2; // position of the next `>`, -1 when there is none, -2 not looked up yet
  for (let at = text.indexOf('<', from); at !== -1; at = text.indexOf('<', at + 1)) {
    pattern.lastIndex = at;
    const match = pattern.exec(text);
    if (match) return { found: true, start: at, end: at + match[0].length };
    if (nextClose === -2 || (nextClose !== -1 && nextClose < at)) nextClose = text.indexOf('>', at);
    if (nextClose === -1) return { found: false, resumeAt: at };
  }
  return { found: false, resumeAt: text.length };
}
