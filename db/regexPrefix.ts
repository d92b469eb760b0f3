// An indexable prefilter for `<field>__match`: when a pattern can only match values that start
// with a known literal, `column LIKE 'literal%'` lets MariaDB read an index range and evaluate
// REGEXP on those candidate rows only, instead of on every row.
//
// The match is case-insensitive ((?i), PCRE2 in UTF mode) while the columns are utf8mb4_bin,
// so one LIKE is not enough: each ASCII letter of the prefix matches its two ASCII cases, and
// the prefilter is the OR of the case variants (capped; a shorter prefix is still a correct
// prefilter). Characters whose caseless equivalents are not just their two ASCII cases end
// the prefix: `k` and `s` (PCRE2 also matches U+212A KELVIN SIGN and U+017F LONG S) and every
// non-ASCII character. test/db/regexPrefix.test.ts checks that list against the server.
import { or, type SQL, sql } from 'drizzle-orm';
import type { MySqlColumn } from 'drizzle-orm/mysql-core';

/** At most this many LIKE ranges per pattern: 2^5 case variants of five letters. */
const MAX_VARIANTS = 32;

// Characters that stand for themselves in a PCRE pattern outside a class, unescaped.
const plainLiteral = /^[A-Za-z0-9\-_/:@=,;'"<>!~%&# ]$/;
// After a backslash, a non-alphanumeric ASCII character is itself (PCRE: `\.`, `\-`, `\/`, …).
const escapedLiteral = /^[!-/:-@[-`{-~ ]$/;
// Letters PCRE2 matches caselessly to more than their two ASCII cases.
const multiCaseLetters = new Set(['k', 's']);

/** Whether `|` occurs outside every group and class: then `^…` binds only one alternative. */
function hasTopLevelAlternation(pattern: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') {
      inClass = true;
      // A `]` right after `[` or `[^` is a literal member of the class.
      if (pattern[i + 1] === '^') i++;
      if (pattern[i + 1] === ']') i++;
    } else if (c === '(') {
      depth++;
    } else if (c === ')') {
      depth = Math.max(0, depth - 1);
    } else if (c === '|' && depth === 0) {
      return true;
    }
  }
  return false;
}

/**
 * The literal every match of `pattern` starts with ('' when there is none usable): the pattern
 * must start with `^` and have no top-level alternation; the literal ends before the first
 * metacharacter, and a character made optional by a quantifier is not part of it.
 */
export function literalPrefix(pattern: string): string {
  if (!pattern.startsWith('^') || hasTopLevelAlternation(pattern)) return '';
  const chars: string[] = [];
  let i = 1;
  while (i < pattern.length) {
    const c = pattern[i] ?? '';
    let literal: string | undefined;
    let width = 1;
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      if (escapedLiteral.test(next)) {
        literal = next;
        width = 2;
      }
    } else if (plainLiteral.test(c)) {
      literal = c;
    }
    if (literal === undefined) break;
    const after = pattern[i + width];
    // `a?`, `a*`, `a{0,…}`: the character may be absent. `a+` still starts with `a`.
    if (after === '?' || after === '*' || after === '{') break;
    if (!isCaseSafe(literal)) break;
    chars.push(literal);
    i += width;
    if (after === '+') break;
  }
  return chars.join('');
}

function isCaseSafe(c: string): boolean {
  const code = c.charCodeAt(0);
  return code < 128 && !multiCaseLetters.has(c.toLowerCase());
}

/** The spellings of `prefix` a caseless match accepts, longest prefix within MAX_VARIANTS. */
export function caseVariants(prefix: string): string[] {
  let variants = [''];
  for (const c of prefix) {
    const cases = c.toLowerCase() === c.toUpperCase() ? [c] : [c.toLowerCase(), c.toUpperCase()];
    if (variants.length * cases.length > MAX_VARIANTS) break;
    variants = variants.flatMap((v) => cases.map((k) => v + k));
  }
  return variants.filter((v) => v !== '');
}

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** `column LIKE 'v1%' OR …` for a pattern with a literal prefix; undefined without one. */
export function prefixPrefilter(column: MySqlColumn, pattern: string): SQL | undefined {
  const variants = caseVariants(literalPrefix(pattern));
  if (variants.length === 0) return undefined;
  return or(...variants.map((v) => sql`${column} LIKE ${`${escapeLike(v)}%`}`));
}
