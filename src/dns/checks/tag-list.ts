/**
 * The `tag=value; tag=value` syntax shared by DKIM keys (RFC 6376 §3.2), TLS-RPT (RFC 8460 §3),
 * MTA-STS TXT records (RFC 8461 §3.1) and BIMI records. Whitespace around tags, values and
 * separators is allowed; a trailing `;` is allowed; tags are case-sensitive.
 */
export interface Tag {
  name: string;
  value: string;
}

export interface TagList {
  tags: Tag[];
  /** Values by tag name: the first occurrence when a tag repeats. */
  values: Map<string, string>;
  /** Syntax problems, in words, e.g. `"logo" is not a tag=value pair`. */
  errors: string[];
}

const TAG = /^([A-Za-z][A-Za-z0-9_]*)[ \t\r\n]*=[ \t\r\n]*([\s\S]*)$/;

export function parseTagList(text: string): TagList {
  const tags: Tag[] = [];
  const values = new Map<string, string>();
  const errors: string[] = [];
  const parts = text.split(';');
  parts.forEach((raw, index) => {
    const part = raw.trim();
    if (part === '') {
      if (index !== parts.length - 1) errors.push('an empty field between two ";"');
      return;
    }
    const match = TAG.exec(part);
    if (!match) {
      errors.push(`"${part}" is not a tag=value pair`);
      return;
    }
    const name = match[1] ?? '';
    const value = (match[2] ?? '').trim();
    if (values.has(name)) errors.push(`the tag "${name}" appears more than once`);
    else values.set(name, value);
    tags.push({ name, value });
  });
  return { tags, values, errors };
}
