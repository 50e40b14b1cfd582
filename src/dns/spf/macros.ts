/**
 * SPF macros (RFC 7208 §7): parsed once with the record (a bad macro is a syntax error of the whole
 * record, §4.6), expanded when a term is evaluated.
 */

export type MacroLetter = 's' | 'l' | 'o' | 'd' | 'i' | 'p' | 'h' | 'c' | 'r' | 't' | 'v';

export type MacroToken =
  | { kind: 'literal'; text: string }
  /** `%%`, `%_` and `%-`: fixed text, but a macro-expand for the domain-end rule. */
  | { kind: 'escape'; text: '%' | ' ' | '%20'; source: '%%' | '%_' | '%-' }
  | {
      kind: 'macro';
      letter: MacroLetter;
      /** Written in upper case: the value is URL-escaped after the transformers (§7.3). */
      urlEscape: boolean;
      /** Keep this many right-hand parts (a nonzero DIGIT transformer), or all. */
      keep: number | null;
      reverse: boolean;
      /** Characters to split on; empty means the default `.`. */
      delimiters: string;
      source: string;
    };

/**
 * Where the macro-string appears. `c`, `r` and `t` are allowed only in explanation text (§7.1);
 * explanation text may also contain spaces. Unknown modifiers only need valid macro syntax.
 */
export type MacroContext = 'domain-spec' | 'explanation' | 'modifier';

export type MacroParse = { ok: true; tokens: MacroToken[] } | { ok: false; error: string };

const LETTERS = new Set<string>(['s', 'l', 'o', 'd', 'i', 'p', 'h', 'c', 'r', 't', 'v']);
const EXPLANATION_ONLY = new Set<string>(['c', 'r', 't']);
const MACRO_EXPAND = /^%\{([A-Za-z])([0-9]*)([rR]?)([.\-+,/_=]*)\}/;

function isLiteralChar(code: number, context: MacroContext): boolean {
  // macro-literal = %x21-24 / %x26-7E; explain-string adds SP.
  if (code === 0x20) return context === 'explanation';
  return code >= 0x21 && code <= 0x7e && code !== 0x25;
}

export function parseMacroString(input: string, context: MacroContext): MacroParse {
  const tokens: MacroToken[] = [];
  let literal = '';
  const flush = () => {
    if (literal !== '') tokens.push({ kind: 'literal', text: literal });
    literal = '';
  };
  let index = 0;
  while (index < input.length) {
    const char = input[index] as string;
    if (char !== '%') {
      const code = input.charCodeAt(index);
      if (!isLiteralChar(code, context)) {
        const shown = code >= 0x21 && code <= 0x7e ? `"${char}"` : `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
        return { ok: false, error: `character ${shown} is not allowed in ${describe(context)}` };
      }
      literal += char;
      index += 1;
      continue;
    }
    const next = input[index + 1];
    if (next === '%' || next === '_' || next === '-') {
      flush();
      const source = `%${next}` as '%%' | '%_' | '%-';
      tokens.push({ kind: 'escape', source, text: source === '%%' ? '%' : source === '%_' ? ' ' : '%20' });
      index += 2;
      continue;
    }
    if (next !== '{') {
      return { ok: false, error: `"%" must be followed by "{", "%", "_" or "-" (found ${next === undefined ? 'the end' : `"${next}"`})` };
    }
    const match = MACRO_EXPAND.exec(input.slice(index));
    if (!match) return { ok: false, error: `malformed macro at "${input.slice(index, index + 12)}"` };
    const [source, rawLetter = '', digits = '', reverse = '', delimiters = ''] = match;
    const letter = rawLetter.toLowerCase();
    if (!LETTERS.has(letter)) return { ok: false, error: `unknown macro letter "${rawLetter}" in ${source}` };
    if (context === 'domain-spec' && EXPLANATION_ONLY.has(letter)) {
      return { ok: false, error: `macro letter "${rawLetter}" is allowed only in explanation text (${source})` };
    }
    let keep: number | null = null;
    if (digits !== '') {
      keep = Number(digits);
      if (keep === 0) return { ok: false, error: `the part count in ${source} must not be zero` };
    }
    flush();
    tokens.push({
      kind: 'macro',
      letter: letter as MacroLetter,
      urlEscape: rawLetter !== letter,
      keep,
      reverse: reverse !== '',
      delimiters: [...new Set(delimiters)].join(''),
      source,
    });
    index += source.length;
  }
  flush();
  return { ok: true, tokens };
}

function describe(context: MacroContext): string {
  return context === 'explanation' ? 'explanation text' : context === 'domain-spec' ? 'a domain-spec' : 'a modifier value';
}

const TOPLABEL = /^(?:[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*|[A-Za-z0-9]+-[A-Za-z0-9-]*[A-Za-z0-9])$/;

/**
 * `domain-end = ( "." toplabel [ "." ] ) / macro-expand` (§7.1): a domain-spec ends in a macro or
 * in a dot and a top label that is not all digits and does not start or end with a hyphen.
 */
export function hasValidDomainEnd(tokens: readonly MacroToken[]): boolean {
  const last = tokens[tokens.length - 1];
  if (last === undefined) return false;
  if (last.kind !== 'literal') return true;
  const text = last.text.endsWith('.') ? last.text.slice(0, -1) : last.text;
  const dot = text.lastIndexOf('.');
  return dot >= 0 && TOPLABEL.test(text.slice(dot + 1));
}

export function usesLetter(tokens: readonly MacroToken[], letter: MacroLetter): boolean {
  return tokens.some((token) => token.kind === 'macro' && token.letter === letter);
}

/** Values of the macro letters for one evaluation step (§7.3). */
export type MacroValues = Record<MacroLetter, string>;

const UNRESERVED = /[A-Za-z0-9\-._~]/;
const encoder = new TextEncoder();

/** URL-escape per §7.3: every octet outside the URI "unreserved" set becomes %XX. */
export function urlEscape(value: string): string {
  let out = '';
  for (const char of value) {
    if (UNRESERVED.test(char)) {
      out += char;
      continue;
    }
    for (const byte of encoder.encode(char)) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function transform(value: string, token: Extract<MacroToken, { kind: 'macro' }>): string {
  const delimiters = token.delimiters === '' ? '.' : token.delimiters;
  let parts: string[] = [];
  let current = '';
  for (const char of value) {
    if (delimiters.includes(char)) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  if (token.reverse) parts = parts.reverse();
  if (token.keep !== null && token.keep < parts.length) parts = parts.slice(parts.length - token.keep);
  // Whatever the delimiters, the parts are joined with dots (§7.3).
  return parts.join('.');
}

export function expandMacros(tokens: readonly MacroToken[], values: MacroValues): string {
  let out = '';
  for (const token of tokens) {
    if (token.kind !== 'macro') {
      out += token.text;
      continue;
    }
    const transformed = transform(values[token.letter], token);
    out += token.urlEscape ? urlEscape(transformed) : transformed;
  }
  return out;
}
