import ipaddr from 'ipaddr.js';
import { hasValidDomainEnd, parseMacroString, type MacroToken } from './macros.ts';

/** RFC 7208 §4.6 record syntax: terms, mechanisms with qualifiers, modifiers; errors as values. */

export type Qualifier = '+' | '-' | '~' | '?';
export type MechanismName = 'all' | 'include' | 'a' | 'mx' | 'ptr' | 'ip4' | 'ip6' | 'exists';

/** A macro-string that names a domain, kept both as written and as parsed macro tokens. */
export interface DomainSpec {
  text: string;
  tokens: MacroToken[];
}

interface MechanismBase {
  type: 'mechanism';
  qualifier: Qualifier;
  /** The term as written in the record, qualifier included. */
  text: string;
  /** Zero-based position among the record's terms. */
  position: number;
}

export type Mechanism =
  | (MechanismBase & { name: 'all' })
  | (MechanismBase & { name: 'include' | 'exists'; target: DomainSpec })
  | (MechanismBase & { name: 'a' | 'mx'; target: DomainSpec | null; cidr4: number; cidr6: number })
  | (MechanismBase & { name: 'ptr'; target: DomainSpec | null })
  | (MechanismBase & { name: 'ip4' | 'ip6'; network: string; prefix: number });

export interface Modifier {
  type: 'modifier';
  /** Lower-cased: modifier names are case-insensitive. */
  name: string;
  value: string;
  text: string;
  position: number;
  /** For `redirect` and `exp`: the parsed domain-spec. */
  target: DomainSpec | null;
}

export type Term = Mechanism | Modifier;

export interface SpfRecord {
  text: string;
  /** Terms that parsed, in record order. */
  terms: Term[];
  mechanisms: Mechanism[];
  redirect: Modifier | null;
  exp: Modifier | null;
  unknownModifiers: Modifier[];
}

export type SpfSyntaxErrorCode =
  | 'bad-version'
  | 'invalid-character'
  | 'unknown-term'
  | 'unexpected-argument'
  | 'missing-domain'
  | 'invalid-domain-spec'
  | 'invalid-macro'
  | 'invalid-cidr'
  | 'invalid-ip4'
  | 'invalid-ip6'
  | 'qualified-modifier'
  | 'redirect-multiple'
  | 'exp-multiple';

export interface SpfSyntaxError {
  code: SpfSyntaxErrorCode;
  /** The offending term, or null for record-level problems. */
  term: string | null;
  position: number | null;
  message: string;
}

export interface ParsedSpf {
  record: SpfRecord;
  /** Empty when the record is valid; any error makes check_host() a permerror (§4.6). */
  errors: SpfSyntaxError[];
}

const VERSION = /^v=spf1(?: |$)/i;

/** Does this TXT string claim to be an SPF record (§4.5: "v=spf1" then a space or the end)? */
export function isSpfRecordText(text: string): boolean {
  return VERSION.test(text);
}

const MECHANISMS = new Set<string>(['all', 'include', 'a', 'mx', 'ptr', 'ip4', 'ip6', 'exists']);
const MODIFIER = /^([A-Za-z][A-Za-z0-9\-_.]*)=(.*)$/s;
const VISIBLE = /^[\x21-\x7e]*$/;

type TermParse = { ok: true; term: Term } | { ok: false; code: SpfSyntaxErrorCode; message: string };

function fail(code: SpfSyntaxErrorCode, message: string): TermParse {
  return { ok: false, code, message };
}

function parseDomainSpec(text: string, what: string): { ok: true; spec: DomainSpec } | { ok: false; code: SpfSyntaxErrorCode; message: string } {
  if (text === '') return { ok: false, code: 'missing-domain', message: `${what} needs a domain after it` };
  const parsed = parseMacroString(text, 'domain-spec');
  if (!parsed.ok) return { ok: false, code: 'invalid-macro', message: `${what}: ${parsed.error}` };
  if (!hasValidDomainEnd(parsed.tokens)) {
    return {
      ok: false,
      code: 'invalid-domain-spec',
      message: `${what}: "${text}" is not a domain name (it must end in a dot and a top-level label that is not all digits, or in a macro)`,
    };
  }
  return { ok: true, spec: { text, tokens: parsed.tokens } };
}

/** A CIDR length: digits without a leading zero, at most `max`. */
function parsePrefix(digits: string, max: number): number | null {
  if (!/^(?:0|[1-9][0-9]{0,2})$/.test(digits)) return null;
  const value = Number(digits);
  return value <= max ? value : null;
}

function parseMechanism(qualifier: Qualifier, body: string, text: string, position: number): TermParse {
  const nameMatch = /^[A-Za-z0-9]+/.exec(body);
  const rawName = nameMatch?.[0] ?? '';
  const name = rawName.toLowerCase();
  const rest = body.slice(rawName.length);
  if (!MECHANISMS.has(name) || (rest !== '' && rest[0] !== ':' && rest[0] !== '/')) {
    return fail('unknown-term', `"${text}" is neither a known mechanism nor a modifier (name=value)`);
  }
  const base = { type: 'mechanism' as const, qualifier, text, position };

  switch (name) {
    case 'all':
      if (rest !== '') return fail('unexpected-argument', `"all" takes no argument ("${text}")`);
      return { ok: true, term: { ...base, name } };

    case 'include':
    case 'exists': {
      if (!rest.startsWith(':')) return fail('missing-domain', `"${name}" needs a domain: ${name}:<domain>`);
      const spec = parseDomainSpec(rest.slice(1), `"${text}"`);
      if (!spec.ok) return fail(spec.code, spec.message);
      return { ok: true, term: { ...base, name, target: spec.spec } };
    }

    case 'ptr': {
      if (rest === '') return { ok: true, term: { ...base, name, target: null } };
      if (!rest.startsWith(':')) return fail('unexpected-argument', `"ptr" takes only an optional domain ("${text}")`);
      const spec = parseDomainSpec(rest.slice(1), `"${text}"`);
      if (!spec.ok) return fail(spec.code, spec.message);
      return { ok: true, term: { ...base, name, target: spec.spec } };
    }

    case 'a':
    case 'mx': {
      // dual-cidr-length = [ "/" ip4-cidr ] [ "//" ip6-cidr ], always at the very end: a valid
      // domain-spec never ends in "/digits", so stripping them first is unambiguous.
      let remainder = rest;
      let cidr4 = 32;
      let cidr6 = 128;
      const six = /\/\/([0-9]+)$/.exec(remainder);
      if (six) {
        const value = parsePrefix(six[1] ?? '', 128);
        if (value === null) return fail('invalid-cidr', `"${text}": the IPv6 prefix length must be 0 to 128, without leading zeros`);
        cidr6 = value;
        remainder = remainder.slice(0, six.index);
      }
      const four = /(?<!\/)\/([0-9]+)$/.exec(remainder);
      if (four) {
        const value = parsePrefix(four[1] ?? '', 32);
        if (value === null) return fail('invalid-cidr', `"${text}": the IPv4 prefix length must be 0 to 32, without leading zeros`);
        cidr4 = value;
        remainder = remainder.slice(0, four.index);
      }
      if (remainder === '') return { ok: true, term: { ...base, name, target: null, cidr4, cidr6 } };
      if (!remainder.startsWith(':')) return fail('invalid-cidr', `"${text}" is not of the form ${name}[:domain][/ip4-prefix][//ip6-prefix]`);
      const spec = parseDomainSpec(remainder.slice(1), `"${text}"`);
      if (!spec.ok) return fail(spec.code, spec.message);
      return { ok: true, term: { ...base, name, target: spec.spec, cidr4, cidr6 } };
    }

    case 'ip4':
    case 'ip6': {
      const family = name === 'ip4' ? 4 : 6;
      const code = family === 4 ? 'invalid-ip4' : 'invalid-ip6';
      if (!rest.startsWith(':') || rest.length === 1) return fail(code, `"${name}" needs an address: ${name}:<network>[/<prefix>]`);
      let network = rest.slice(1);
      let prefix = family === 4 ? 32 : 128;
      const slash = network.lastIndexOf('/');
      if (slash >= 0) {
        const value = parsePrefix(network.slice(slash + 1), prefix);
        if (value === null) {
          return fail('invalid-cidr', `"${text}": the prefix length must be 0 to ${prefix}, without leading zeros`);
        }
        prefix = value;
        network = network.slice(0, slash);
      }
      const valid =
        family === 4 ? ipaddr.IPv4.isValidFourPartDecimal(network) : !network.includes('%') && ipaddr.IPv6.isValid(network);
      if (!valid) {
        return fail(code, `"${text}": "${network}" is not a full IPv${family} address${family === 4 ? ' (four numbers, no leading zeros)' : ''}`);
      }
      return { ok: true, term: { ...base, name, network, prefix } };
    }
  }
  return fail('unknown-term', `"${text}" is not a known mechanism`);
}

function parseTerm(text: string, position: number): TermParse {
  if (!VISIBLE.test(text)) {
    return fail('invalid-character', `"${printable(text)}" contains a character other than printable ASCII (terms are separated by single spaces only)`);
  }
  const modifier = MODIFIER.exec(text);
  if (modifier) {
    const name = (modifier[1] ?? '').toLowerCase();
    const value = modifier[2] ?? '';
    if (name === 'redirect' || name === 'exp') {
      const spec = parseDomainSpec(value, `"${name}="`);
      if (!spec.ok) return fail(spec.code, spec.message);
      return { ok: true, term: { type: 'modifier', name, value, text, position, target: spec.spec } };
    }
    const parsed = parseMacroString(value, 'modifier');
    if (!parsed.ok) return fail('invalid-macro', `"${text}": ${parsed.error}`);
    return { ok: true, term: { type: 'modifier', name, value, text, position, target: null } };
  }
  const first = text[0];
  const qualified = first === '+' || first === '-' || first === '~' || first === '?';
  const body = qualified ? text.slice(1) : text;
  if (qualified && MODIFIER.test(body)) {
    return fail('qualified-modifier', `"${text}": a modifier cannot have a qualifier`);
  }
  return parseMechanism(qualified ? (first as Qualifier) : '+', body, text, position);
}

function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Parse a whole record; every term is checked, so all syntax errors are reported at once. */
export function parseSpfRecord(text: string): ParsedSpf {
  const record: SpfRecord = { text, terms: [], mechanisms: [], redirect: null, exp: null, unknownModifiers: [] };
  const errors: SpfSyntaxError[] = [];
  if (!isSpfRecordText(text)) {
    errors.push({ code: 'bad-version', term: null, position: null, message: 'the record must start with "v=spf1" followed by a space' });
    return { record, errors };
  }
  const terms = text.slice('v=spf1'.length).split(' ').filter((term) => term !== '');
  terms.forEach((termText, position) => {
    const parsed = parseTerm(termText, position);
    if (!parsed.ok) {
      errors.push({ code: parsed.code, term: termText, position, message: parsed.message });
      return;
    }
    const term = parsed.term;
    record.terms.push(term);
    if (term.type === 'mechanism') {
      record.mechanisms.push(term);
    } else if (term.name === 'redirect' || term.name === 'exp') {
      if (record[term.name] !== null) {
        errors.push({
          code: term.name === 'redirect' ? 'redirect-multiple' : 'exp-multiple',
          term: termText,
          position,
          message: `"${term.name}=" appears more than once`,
        });
      } else {
        record[term.name] = term;
      }
    } else {
      record.unknownModifiers.push(term);
    }
  });
  return { record, errors };
}
