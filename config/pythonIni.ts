/**
 * config.ini read the way the original read it: Python's `configparser.ConfigParser()` with its
 * defaults (strict, `=` and `:` delimiters, `#`/`;` full-line comments only, lower-cased keys,
 * case-sensitive section names, indented continuation lines, `[DEFAULT]`, BasicInterpolation
 * `%(name)s` / `%%` when a value is read). `${…}` means nothing to configparser and is kept.
 *
 * Unlike configparser, which stops at the first duplicate, every problem is collected so that
 * an operator fixes the file in one pass.
 */

export const DEFAULT_SECTION = 'DEFAULT';

export interface IniValue {
  /** As written: continuation lines joined with newlines, no interpolation. */
  raw: string;
  line: number;
}

export interface IniSection {
  name: string;
  line: number;
  values: Map<string, IniValue>;
}

export interface IniDocument {
  defaults: Map<string, IniValue>;
  /** In file order; `[DEFAULT]` is not among them. */
  sections: Map<string, IniSection>;
}

export interface IniProblem {
  line: number;
  /** `section` or `section.key` when the problem belongs to one. */
  path: string;
  message: string;
}

const SECTION_HEADER = /^\[(.+)\]/;
// configparser's OPTCRE: the first `=` or `:` splits; the key may not be empty.
const OPTION_LINE = /^(.*?)\s*([=:])\s*(.*)$/;

interface OpenValue {
  lines: string[];
}

/** Parses the text into sections and raw values; problems are the ones configparser raises. */
export function parseIni(text: string): { doc: IniDocument; problems: IniProblem[] } {
  const doc: IniDocument = { defaults: new Map(), sections: new Map() };
  const problems: IniProblem[] = [];
  const seenSections = new Set<string>();
  const open = new Map<IniValue, OpenValue>();
  let current: Map<string, IniValue> | undefined;
  let currentName = '';
  let option: IniValue | undefined;
  let indentLevel = 0;
  // configparser reads text files with universal newlines; a UTF-8 BOM is an editor artefact.
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  if (lines.at(-1) === '') lines.pop();

  lines.forEach((line, index) => {
    const lineNo = index + 1;
    const stripped = line.trim();
    const isComment = stripped.startsWith('#') || stripped.startsWith(';');
    const value = isComment ? '' : stripped;
    if (value === '') {
      // Blank lines belong to the value being read (its continuation may follow); comments don't.
      if (!isComment && option) open.get(option)?.lines.push('');
      return;
    }
    const indent = line.search(/\S/);
    if (current && option && indent > indentLevel) {
      open.get(option)?.lines.push(value);
      return;
    }
    indentLevel = indent;
    const header = SECTION_HEADER.exec(value);
    if (header) {
      const name = header[1] ?? '';
      option = undefined;
      if (name === DEFAULT_SECTION) {
        current = doc.defaults;
      } else {
        const existing = doc.sections.get(name);
        if (existing && seenSections.has(name)) {
          problems.push({
            line: lineNo,
            path: name,
            message: `section [${name}] already exists (line ${existing.line})`,
          });
        }
        const section = existing ?? { name, line: lineNo, values: new Map() };
        doc.sections.set(name, section);
        seenSections.add(name);
        current = section.values;
      }
      currentName = name;
      return;
    }
    if (!current) {
      problems.push({ line: lineNo, path: '', message: `no [section] header before this line: ${value}` });
      return;
    }
    const m = OPTION_LINE.exec(value);
    const key = m?.[1]?.trimEnd().toLowerCase() ?? '';
    if (!m || key === '') {
      option = undefined;
      problems.push({
        line: lineNo,
        path: currentName,
        message: `not a "key = value" or "key: value" line: ${value}`,
      });
      return;
    }
    const previous = current.get(key);
    if (previous) {
      problems.push({
        line: lineNo,
        path: `${currentName}.${key}`,
        message: `key already set in [${currentName}] (line ${previous.line}); keys are case-insensitive`,
      });
    }
    option = { raw: '', line: lineNo };
    open.set(option, { lines: [m[3] ?? ''] });
    current.set(key, option);
  });

  for (const [value, { lines: valueLines }] of open) value.raw = valueLines.join('\n').trimEnd();
  return { doc, problems };
}

const INTERPOLATION_DEPTH = 10;

export type InterpolatedValue = { ok: true; value: string } | { ok: false; reason: string };

/**
 * The value `section.key` has when the original read it: the section's own value or
 * `[DEFAULT]`'s, with BasicInterpolation applied (`%(name)s` from the same section or
 * `[DEFAULT]`, `%%` for `%`).
 */
export function readIniValue(doc: IniDocument, section: string, key: string): InterpolatedValue | undefined {
  const values = doc.sections.get(section)?.values;
  const lookup = (k: string) => values?.get(k) ?? doc.defaults.get(k);
  const start = lookup(key);
  if (!start) return undefined;

  const expand = (raw: string, depth: number): string => {
    if (depth > INTERPOLATION_DEPTH) {
      throw new InterpolationProblem(
        `"%(...)s" references nest deeper than ${INTERPOLATION_DEPTH} (a loop?); raw value: ${start.raw}`,
      );
    }
    let out = '';
    let rest = raw;
    for (let at = rest.indexOf('%'); at >= 0; at = rest.indexOf('%')) {
      out += rest.slice(0, at);
      rest = rest.slice(at);
      const next = rest[1];
      if (next === '%') {
        out += '%';
        rest = rest.slice(2);
      } else if (next === '(') {
        const ref = /^%\(([^)]+)\)s/.exec(rest);
        if (!ref) throw new InterpolationProblem(`bad interpolation reference "${rest}"; write %% for a %`);
        const name = (ref[1] ?? '').toLowerCase();
        const target = lookup(name);
        if (!target) {
          throw new InterpolationProblem(
            `"%(${name})s" refers to no key of [${section}] or [DEFAULT]; write %% for a %`,
          );
        }
        out += target.raw.includes('%') ? expand(target.raw, depth + 1) : target.raw;
        rest = rest.slice(ref[0].length);
      } else {
        throw new InterpolationProblem(
          `"%" must be followed by "%" or "(" (configparser interpolation); write %% for a %`,
        );
      }
    }
    return out + rest;
  };

  try {
    return { ok: true, value: expand(start.raw, 1) };
  } catch (err) {
    if (err instanceof InterpolationProblem) return { ok: false, reason: err.message };
    throw err;
  }
}

class InterpolationProblem extends Error {}

/** The line a value of a section was written on (its own or `[DEFAULT]`'s). */
export function iniValueLine(doc: IniDocument, section: string, key: string): number | undefined {
  return (doc.sections.get(section)?.values.get(key) ?? doc.defaults.get(key))?.line;
}

/**
 * Writes sections as configparser reads them back (ConfigParser.write): `%` doubled for
 * interpolation, newlines as indented continuation lines. For tests and generated configs.
 */
export function formatIni(sections: Record<string, Record<string, string | number | boolean>>): string {
  return Object.entries(sections)
    .map(([name, values]) => {
      const lines = Object.entries(values).map(
        ([key, value]) => `${key} = ${String(value).replaceAll('%', '%%').replaceAll('\n', '\n\t')}`,
      );
      return [`[${name}]`, ...lines, ''].join('\n');
    })
    .join('\n');
}
