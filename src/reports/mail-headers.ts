/**
 * RFC 5322-style header blocks as found in failure reports: the `message/feedback-report` part
 * (RFC 5965 fields), the headers of the original message, headers an MTA copied into a text body.
 */
export type HeaderFields = Map<string, string[]>;

/** Reads `Name: value` lines (unfolding continuations) until the first empty line. */
export function parseHeaderBlock(text: string): HeaderFields {
  const fields: HeaderFields = new Map();
  let current: { name: string; value: string } | null = null;
  const flush = () => {
    if (!current) return;
    const list = fields.get(current.name) ?? [];
    list.push(current.value.trim());
    fields.set(current.name, list);
    current = null;
  };
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') {
      if (current || fields.size > 0) break;
      continue;
    }
    if (/^[ \t]/.test(line) && current) {
      current.value += ` ${line.trim()}`;
      continue;
    }
    flush();
    const colon = line.indexOf(':');
    if (colon > 0 && /^[!-9;-~]+$/.test(line.slice(0, colon))) {
      current = { name: line.slice(0, colon).toLowerCase(), value: line.slice(colon + 1) };
    }
  }
  flush();
  return fields;
}

export function firstField(fields: HeaderFields, name: string): string | null {
  const value = fields.get(name.toLowerCase())?.[0];
  return value === undefined || value === '' ? null : value;
}

/** Domain of the (first) address in an address header value, lower-case. */
export function addressDomain(value: string | null | undefined): string | null {
  if (!value) return null;
  const bracketed = /<[^<>\s@]*@([^<>\s]+)>/.exec(value);
  const bare = bracketed ?? /[^\s<>"@,;]*@([A-Za-z0-9.-]+[A-Za-z0-9])/.exec(value);
  const domain = bare?.[1]?.replace(/\.$/, '').toLowerCase();
  return domain && /^[a-z0-9.-]+\.[a-z0-9-]+$/.test(domain) ? domain : null;
}
