import { describe, expect, it } from 'vitest';
import { formatIni, parseIni, readIniValue } from '../../config/pythonIni.js';

/** Every section's values as configparser's `dict(config[section])` gives them (interpolated). */
function asConfigparser(text: string): Record<string, Record<string, string>> | { problems: string[] } {
  const { doc, problems } = parseIni(text);
  if (problems.length > 0) return { problems: problems.map((p) => `line ${p.line}: ${p.message}`) };
  const out: Record<string, Record<string, string>> = {
    DEFAULT: Object.fromEntries([...doc.defaults].map(([k, v]) => [k, v.raw])),
  };
  for (const [name, section] of doc.sections) {
    const keys = new Set([...section.values.keys(), ...doc.defaults.keys()]);
    out[name] = Object.fromEntries(
      [...keys].map((k) => {
        const v = readIniValue(doc, name, k);
        return [k, v?.ok ? v.value : `!${v?.ok === false ? v.reason : 'missing'}`];
      }),
    );
  }
  return out;
}

// Expected values are CPython 3.11's configparser.ConfigParser() read_string() results.
describe('config.ini is read as configparser reads it', () => {
  it.each([
    [
      'inline ; and # are part of the value',
      '[pulp]\nbanned_package_regex=^foo#bar;baz$\nx = a ; b\n',
      { DEFAULT: {}, pulp: { banned_package_regex: '^foo#bar;baz$', x: 'a ; b' } },
    ],
    [
      'key: value lines, mixed-case keys, the first delimiter splits',
      '[auth]\nMethod: ldap\nJWT_Algorithm = HS256\nk:v=w\nk2=v:w\n',
      { DEFAULT: {}, auth: { method: 'ldap', jwt_algorithm: 'HS256', k: 'v=w', k2: 'v:w' } },
    ],
    [
      'full-line comments, indented too',
      '# top\n; semi\n[a]\n  # indented comment\nx=1\n',
      { DEFAULT: {}, a: { x: '1' } },
    ],
    [
      'continuation lines join with newlines, blank lines inside are kept',
      '[a]\nx=first\n  second\n\n  third\ny=2\n',
      { DEFAULT: {}, a: { x: 'first\nsecond\n\nthird', y: '2' } },
    ],
    [
      'a comment inside a continued value is dropped',
      '[a]\nx=first\n  # c\n  second\n',
      { DEFAULT: {}, a: { x: 'first\nsecond' } },
    ],
    ['tab continuation', '[a]\nx=1\n\ty\n', { DEFAULT: {}, a: { x: '1\ny' } }],
    [
      '[DEFAULT] values appear in every section and interpolate',
      '[DEFAULT]\nbase=/etc\n[a]\np=%(base)s/x\n[b]\nq=1\n',
      { DEFAULT: { base: '/etc' }, a: { p: '/etc/x', base: '/etc' }, b: { q: '1', base: '/etc' } },
    ],
    ['%% is a %', '[a]\np=100%%\n', { DEFAULT: {}, a: { p: '100%' } }],
    [
      'interpolation keys are case-insensitive',
      '[a]\nBase=1\np=%(BASE)s\n',
      { DEFAULT: {}, a: { base: '1', p: '1' } },
    ],
    [
      '${...} is not interpolated',
      '[database]\nport=${DB_PORT:3306}\n',
      { DEFAULT: {}, database: { port: '${DB_PORT:3306}' } },
    ],
    ['empty values', '[a]\nx=\ny =  \n', { DEFAULT: {}, a: { x: '', y: '' } }],
    [
      'text after the header bracket is ignored; the last ] closes the name',
      '[a] junk\nx=1\n[b]c]\ny=2\n',
      { DEFAULT: {}, a: { x: '1' }, 'b]c': { y: '2' } },
    ],
    [
      'section names are case-sensitive',
      '[Pulp]\nx=1\n[pulp]\ny=2\n',
      { DEFAULT: {}, Pulp: { x: '1' }, pulp: { y: '2' } },
    ],
    ['keys may contain spaces', '[a]\nmy key = v v \n', { DEFAULT: {}, a: { 'my key': 'v v' } }],
    ['trailing blank lines', '[a]\nx=1\n\n\n[b]\n', { DEFAULT: {}, a: { x: '1' }, b: {} }],
    [
      'indented keys of equal indent are separate keys',
      '[a]\n  x=1\n  y=2\n',
      { DEFAULT: {}, a: { x: '1', y: '2' } },
    ],
    ['two [DEFAULT] headers merge', '[DEFAULT]\nx=1\n[DEFAULT]\ny=2\n', { DEFAULT: { x: '1', y: '2' } }],
    ['CRLF line ends', '[a]\r\nx=1\r\n', { DEFAULT: {}, a: { x: '1' } }],
  ])('%s', (_name, text, expected) => {
    expect(asConfigparser(text)).toEqual(expected);
  });

  it.each([
    ['a lone % (InterpolationSyntaxError)', '[a]\nq=50%\n', 'q', '"%" must be followed by "%" or "("'],
    [
      'a missing reference (InterpolationMissingOptionError)',
      '[a]\np=%(nope)s\n',
      'p',
      '"%(nope)s" refers to no key',
    ],
    ['a reference loop (InterpolationDepthError)', '[a]\np=%(q)s\nq=%(p)s\n', 'p', 'nest deeper than 10'],
    ['an unclosed reference', '[a]\np=%(q\n', 'p', 'bad interpolation reference'],
  ])('refuses to read %s', (_name, text, key, reason) => {
    const { doc, problems } = parseIni(text);
    expect(problems).toEqual([]);
    const v = readIniValue(doc, 'a', key);
    expect(v?.ok).toBe(false);
    if (v && !v.ok) expect(v.reason).toContain(reason);
  });

  it.each([
    [
      'a duplicate section (DuplicateSectionError)',
      '[a]\nx=1\n[a]\ny=2\n',
      ['line 3: section [a] already exists (line 1)'],
    ],
    [
      'a duplicate key, whatever its case (DuplicateOptionError)',
      '[a]\nx=1\nX=2\n',
      ['line 3: key already set in [a] (line 2); keys are case-insensitive'],
    ],
    [
      'a duplicate key of [DEFAULT]',
      '[DEFAULT]\nx=1\n[DEFAULT]\nx=2\n',
      ['line 4: key already set in [DEFAULT] (line 2); keys are case-insensitive'],
    ],
    [
      'a key before any section (MissingSectionHeaderError)',
      'x=1\n[a]\n',
      ['line 1: no [section] header before this line: x=1'],
    ],
    [
      'every line that is no key (ParsingError lists them all)',
      '[a]\nnot a key\ny=2\nalso bad\n',
      [
        'line 2: not a "key = value" or "key: value" line: not a key',
        'line 4: not a "key = value" or "key: value" line: also bad',
      ],
    ],
    ['an empty key', '[a]\n=v\n', ['line 2: not a "key = value" or "key: value" line: =v']],
  ])('reports %s with its line', (_name, text, expected) => {
    expect(asConfigparser(text)).toEqual({ problems: expected });
  });
});

describe('formatIni', () => {
  it('writes what configparser reads back unchanged (% doubled, newlines continued)', () => {
    const sections = { a: { x: '50%', y: 'a\nb', uid_tpl: 'uid={username},ou=people', n: 3, b: false } };
    expect(asConfigparser(formatIni(sections))).toEqual({
      DEFAULT: {},
      a: { x: '50%', y: 'a\nb', uid_tpl: 'uid={username},ou=people', n: '3', b: 'false' },
    });
  });
});
