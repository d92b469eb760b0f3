/**
 * Regexes in config.ini, pulp_config.yml, the repo config and the API's request bodies are
 * written for Python's `re` (the original system matched them with it). This module is the one
 * place they are translated: to a JavaScript RegExp for matching here, and to PostgreSQL's
 * regex dialect for filters that Pulp runs in its database (`package__iregex`). What has no
 * equivalent is refused with the reason, never passed on to match something else.
 *
 * JavaScript's legacy (non-`u`) mode is the target because Python patterns lean on its
 * leniency (`\-`, `{` as a literal); `\A`, `\Z`, `\a`, unknown escapes and `{,n}` are exactly
 * where that mode would silently match something different, so they are translated or refused.
 */

export type RegexDialect = 'javascript' | 'postgres';

export interface TranslatedRegex {
  /** The pattern for the target dialect. */
  source: string;
  /** JavaScript flags from the leading inline flags (`i`, `m`, `s`); empty for postgres. */
  flags: string;
}

export type RegexTranslation = { ok: true; regex: TranslatedRegex } | { ok: false; reason: string };

class Refusal extends Error {}

const refuse = (reason: string): never => {
  throw new Refusal(reason);
};

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
  x: boolean;
}

const LEADING_FLAGS = /^\(\?([aiLmsux]+)\)/;
const GROUP_NAME = /^[\p{L}_][\p{L}\p{N}_]*$/u;
const HEX = /^[0-9a-fA-F]+$/;

/** A code point as an escape both dialects read the same way (never `\x`, which ARE reads greedily). */
function charEscape(code: number, dialect: RegexDialect): string {
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
  if (dialect === 'postgres') return `\\U${code.toString(16).padStart(8, '0')}`;
  const c = code - 0x10000;
  return charEscape(0xd800 + (c >> 10), dialect) + charEscape(0xdc00 + (c & 0x3ff), dialect);
}

function parseLeadingFlags(pattern: string): { flags: Flags; rest: string } {
  const flags: Flags = { i: false, m: false, s: false, x: false };
  let rest = pattern;
  for (let m = LEADING_FLAGS.exec(rest); m; m = LEADING_FLAGS.exec(rest)) {
    for (const f of m[1] ?? '') {
      if (f === 'L') refuse('(?L) (locale) is only for bytes patterns; Python refuses it for text too');
      // (?a) and (?u) change what \w, \d, \s cover beyond ASCII; names are ASCII in practice.
      if (f === 'i' || f === 'm' || f === 's' || f === 'x') flags[f] = true;
    }
    rest = rest.slice(m[0].length);
  }
  return { flags, rest };
}

/** Translates one Python pattern; throws Refusal with the reason when it cannot. */
function translate(pattern: string, dialect: RegexDialect): TranslatedRegex {
  const { flags, rest: p } = parseLeadingFlags(pattern);
  const pg = dialect === 'postgres';
  const names = new Map<string, number>();
  let groups = 0;
  let out = '';
  let i = 0;
  // True right after a quantifier: a following `+` would make it possessive.
  let quantified = false;

  const readEscapeChar = (inClass: boolean): string => {
    const c = p[i + 1];
    if (c === undefined) return refuse('bad escape (end of pattern)');
    i += 2;
    switch (c) {
      case 'd':
      case 's':
      case 'w':
        return `\\${c}`;
      case 'D':
      case 'S':
      case 'W':
        if (inClass && pg) refuse(`\\${c} inside [...] is not supported by PostgreSQL (Pulp's filter)`);
        return `\\${c}`;
      case 'f':
      case 'n':
      case 'r':
      case 't':
      case 'v':
        return `\\${c}`;
      case 'a':
        return charEscape(7, dialect);
      case 'x':
      case 'u':
      case 'U': {
        const len = c === 'x' ? 2 : c === 'u' ? 4 : 8;
        const hex = p.slice(i, i + len);
        if (hex.length !== len || !HEX.test(hex)) refuse(`bad escape \\${c}${hex}`);
        i += len;
        const code = Number.parseInt(hex, 16);
        if (code > 0x10ffff) refuse(`bad escape \\${c}${hex}`);
        return charEscape(code, dialect);
      }
      case 'N':
        return refuse('\\N{...} (Unicode character names) cannot be translated; write the character');
      case 'b':
        if (inClass) return charEscape(8, dialect);
        return pg ? '\\y' : '\\b';
      case 'B':
        if (inClass) return refuse('bad escape \\B');
        return pg ? '\\Y' : '\\B';
      case 'A':
        if (inClass) return refuse('bad escape \\A');
        return pg ? '\\A' : '(?<![\\s\\S])';
      case 'Z':
        if (inClass) return refuse('bad escape \\Z');
        return pg ? '\\Z' : '(?![\\s\\S])';
    }
    if (c >= '0' && c <= '9') {
      const three = p.slice(i - 1, i + 2);
      if (c === '0' || inClass || /^[0-7]{3}$/.test(three)) {
        // Octal: \0, \0oo, \ooo (three digits), and any digits inside [...].
        const digits = /^[0-7]{1,3}/.exec(p.slice(i - 1))?.[0] ?? '';
        if (digits === '') return refuse(`bad escape \\${c}`);
        i += digits.length - 1;
        const code = Number.parseInt(digits, 8);
        if (code > 0o377) refuse(`octal escape value \\${digits} outside of range 0-0o377`);
        return charEscape(code, dialect);
      }
      const ref = /^\d{1,2}/.exec(p.slice(i - 1))?.[0] ?? c;
      i += ref.length - 1;
      if (Number(ref) > groups) refuse(`invalid group reference ${ref}`);
      return `\\${ref}`;
    }
    if (/[A-Za-z]/.test(c)) return refuse(`bad escape \\${c}`);
    if (c.charCodeAt(0) > 0x7e) return charEscape(c.codePointAt(0) ?? 0, dialect);
    return `\\${c}`;
  };

  const readClass = () => {
    // Python: a `]` first in the set (after an optional `^`) is a literal.
    out += '[';
    i += 1;
    if (p[i] === '^') {
      out += '^';
      i += 1;
    }
    if (p[i] === ']') {
      out += '\\]';
      i += 1;
    }
    for (;;) {
      const c = p[i];
      if (c === undefined) refuse('unterminated character set [...]');
      if (c === ']') {
        out += ']';
        i += 1;
        return;
      }
      if (c === '\\') out += readEscapeChar(true);
      else if (c === '[') {
        // A literal for Python; both targets would read `[:`, `[.`, `[=` as class syntax.
        out += '\\[';
        i += 1;
      } else {
        out += c;
        i += 1;
      }
    }
  };

  const readGroupOpen = () => {
    const ahead = p.slice(i);
    const named = /^\(\?P?<([^>=!][^>]*)>/.exec(ahead);
    const namedRef = /^\(\?P=([^)]*)\)/.exec(ahead);
    const plainExtension = /^\(\?(?::|=|!|<=|<!)/.exec(ahead);
    quantified = false;
    if (named) {
      const name = named[1] ?? '';
      if (!GROUP_NAME.test(name)) refuse(`bad character in group name "${name}"`);
      if (names.has(name)) refuse(`redefinition of group name "${name}"`);
      groups += 1;
      names.set(name, groups);
      out += pg ? '(' : `(?<${name}>`;
      i += named[0].length;
    } else if (namedRef) {
      const name = namedRef[1] ?? '';
      const n = names.get(name);
      if (n === undefined) refuse(`unknown group name "${name}" in (?P=${name})`);
      out += pg ? `\\${n}` : `\\k<${name}>`;
      i += namedRef[0].length;
    } else if (plainExtension) {
      out += plainExtension[0];
      i += plainExtension[0].length;
    } else if (ahead.startsWith('(?#')) {
      const end = p.indexOf(')', i);
      if (end < 0) refuse('missing ), unterminated comment (?#...');
      i = end + 1;
    } else if (ahead.startsWith('(?>')) {
      refuse('atomic groups (?>...) cannot be translated');
    } else if (ahead.startsWith('(?(')) {
      refuse('conditional groups (?(id)yes|no) cannot be translated');
    } else if (/^\(\?[aiLmsux]+\)/.test(ahead)) {
      refuse('inline flags like (?i) are only allowed at the start of the pattern');
    } else if (/^\(\?[aiLmsux-]+:/.test(ahead)) {
      refuse(
        'inline flags for part of the pattern, e.g. (?i:...), cannot be translated; put (?i) at the start',
      );
    } else if (ahead.startsWith('(?')) {
      refuse(`unknown extension ${ahead.slice(0, 3)}`);
    } else {
      groups += 1;
      out += '(';
      i += 1;
    }
  };

  while (i < p.length) {
    const c = p[i] as string;
    if (flags.x && /\s/.test(c)) {
      i += 1;
      continue;
    }
    if (flags.x && c === '#') {
      const nl = p.indexOf('\n', i);
      i = nl < 0 ? p.length : nl + 1;
      continue;
    }
    if (c === '\\') {
      out += readEscapeChar(false);
      quantified = false;
    } else if (c === '[') {
      readClass();
      quantified = false;
    } else if (c === '(') {
      readGroupOpen();
    } else if (c === '*' || c === '+' || c === '?') {
      if (quantified && c === '+') refuse('possessive quantifiers (*+, ++, ?+, {m,n}+) cannot be translated');
      if (quantified && c === '?') {
        // Lazy modifier of the quantifier before it.
        out += '?';
        i += 1;
        quantified = false;
        continue;
      }
      out += c;
      i += 1;
      quantified = true;
    } else if (c === '{') {
      const m = /^\{(\d*)(?:(,)(\d*))?\}/.exec(p.slice(i));
      if (m && (m[1] !== '' || m[2] !== undefined)) {
        if (quantified) refuse('multiple repeat');
        const min = m[1] === '' ? '0' : m[1];
        out += m[2] === undefined ? `{${min}}` : `{${min},${m[3] ?? ''}}`;
        i += m[0].length;
        quantified = true;
        continue;
      }
      out += '\\{';
      i += 1;
      quantified = false;
    } else if (c === '}') {
      out += '\\}';
      i += 1;
      quantified = false;
    } else {
      out += c;
      i += 1;
      quantified = false;
    }
  }

  if (pg) {
    // ARE embedded options: i as written; `n` makes ^/$ match at lines like Python's (?m).
    const opts = `${flags.i ? 'i' : ''}${flags.m ? (flags.s ? 'w' : 'n') : ''}`;
    return { source: opts ? `(?${opts})${out}` : out, flags: '' };
  }
  return { source: out, flags: `${flags.i ? 'i' : ''}${flags.m ? 'm' : ''}${flags.s ? 's' : ''}` };
}

/** Translates a Python `re` pattern for a dialect; the JavaScript result is known to compile. */
export function translatePythonRegex(
  pattern: string,
  dialect: RegexDialect = 'javascript',
): RegexTranslation {
  let regex: TranslatedRegex;
  try {
    regex = translate(pattern, dialect);
  } catch (err) {
    if (err instanceof Refusal) return { ok: false, reason: err.message };
    throw err;
  }
  if (dialect === 'javascript') {
    try {
      new RegExp(regex.source, regex.flags);
    } catch (err) {
      // JavaScript's message quotes the translated pattern; the operator wrote the Python one.
      const why = (err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
      return { ok: false, reason: why };
    }
  }
  return { ok: true, regex };
}

/** Why a Python pattern cannot be used here, or undefined; for schema checks. */
export function pythonRegexProblem(pattern: string): string | undefined {
  const t = translatePythonRegex(pattern);
  return t.ok ? undefined : `invalid regex "${pattern}": ${t.reason}`;
}

/** The error of compiling a pattern that was not validated at the edge (e.g. read from the database). */
export class PythonRegexError extends Error {
  readonly code = 'REGEX_INVALID';
  constructor(
    readonly pattern: string,
    reason: string,
  ) {
    super(`invalid regex "${pattern}": ${reason}`);
    this.name = 'PythonRegexError';
  }
}

/**
 * Compiles a Python pattern to a RegExp; `extraFlags` adds JavaScript flags (`y` anchors at the
 * start like Python's re.match, `i` for a case-insensitive match).
 */
export function compilePythonRegex(pattern: string, extraFlags = ''): RegExp {
  const t = translatePythonRegex(pattern);
  if (!t.ok) throw new PythonRegexError(pattern, t.reason);
  const flags = [...new Set(t.regex.flags + extraFlags)].join('');
  return new RegExp(t.regex.source, flags);
}

/** The pattern for a PostgreSQL regex filter (Pulp's `__iregex`); throws PythonRegexError. */
export function pythonRegexForPostgres(pattern: string): string {
  const js = translatePythonRegex(pattern);
  if (!js.ok) throw new PythonRegexError(pattern, js.reason);
  const t = translatePythonRegex(pattern, 'postgres');
  if (!t.ok) throw new PythonRegexError(pattern, t.reason);
  return t.regex.source;
}
