import { describe, expect, it } from 'vitest';
import {
  compilePythonRegex,
  PythonRegexError,
  pythonRegexForPostgres,
  pythonRegexProblem,
  translatePythonRegex,
} from '../../config/pythonRegex.js';

// Expected matches come from CPython 3.11: re.search(pattern, text).group(0), or null.
const pythonSearch: [string, string, string | null][] = [
  ['(?P<org>[a-z]+)-(?P<env>[a-z]+)', 'acme-prod-x', 'acme-prod'],
  ['(?P<w>ab)-(?P=w)', 'ab-ab', 'ab-ab'],
  ['(?P<w>ab)-(?P=w)', 'ab-ac', null],
  ['(?i)^EXT-', 'ext-centos', 'ext-'],
  ['^EXT-', 'ext-centos', null],
  ['(?s)a.b', 'a\nb', 'a\nb'],
  ['a.b', 'a\nb', null],
  ['(?m)^b$', 'a\nb\nc', 'b'],
  ['^b$', 'a\nb\nc', null],
  ['(?im)^B$', 'a\nb\nc', 'b'],
  ['\\Aext', 'ext-a', 'ext'],
  ['\\Aext', 'A-ext', null],
  ['centos\\Z', 'ext-centos', 'centos'],
  ['centos\\Z', 'ext-centosZ', null],
  ['centos\\Z', 'centos\n', null],
  ['(?x) ^ext  # prefix\n - centos', 'ext-centos', 'ext-centos'],
  ['(?x)a\\ b', 'a b', 'a b'],
  ['(?x)[ ]x', ' x', ' x'],
  ['a{,2}c', 'aac', 'aac'],
  ['^a{,2}c', 'aaac', null],
  ['a{}', 'a{}', 'a{}'],
  ['x{2}', 'xx', 'xx'],
  ['[]a]', ']', ']'],
  ['[^]a]', 'b', 'b'],
  ['\\bfoo\\b', 'a foo b', 'foo'],
  ['\\bfoo\\b', 'afoob', null],
  ['a(?#comment)b', 'ab', 'ab'],
  ['\\x41\\u0042\\101', 'ABA', 'ABA'],
  ['[\\d-]+x', '12-3x', '12-3x'],
  ['^foo#bar;baz$', 'foo#bar;baz', 'foo#bar;baz'],
  ['(?i)(?P<a>x)\\1', 'XX', 'XX'],
  ['\\-\\.', '-.', '-.'],
  ['(?<=a)b', 'ab', 'b'],
  ['\\a', '\x07', '\x07'],
];

describe('compilePythonRegex matches as Python re.search does', () => {
  it.each(pythonSearch)('%j on %j finds %j', (pattern, text, expected) => {
    expect(compilePythonRegex(pattern).exec(text)?.[0] ?? null).toBe(expected);
  });

  it('keeps named groups for the name replacement rule, anchored like re.match with y', () => {
    const re = compilePythonRegex('(?P<org>[a-z]+)-(?P<env>[a-z]+)-(?P<pkg>.+)$', 'y');
    expect(re.exec('acme-prod-tools')?.groups).toEqual({ org: 'acme', env: 'prod', pkg: 'tools' });
    expect(re.exec('x/acme-prod-tools')).toBeNull();
  });

  it('still accepts the JavaScript named-group form written before', () => {
    expect(compilePythonRegex('(?<org>[a-z]+)').exec('acme')?.groups?.org).toBe('acme');
  });
});

describe('what cannot be translated is refused with the reason', () => {
  it.each([
    ['a(?i)b', 'only allowed at the start'],
    ['(?i:a)b', 'for part of the pattern'],
    ['(?L)a', '(?L)'],
    ['(a)?(?(1)b|c)', 'conditional'],
    ['(?>ab)', 'atomic'],
    ['a*+', 'possessive'],
    ['a{1,2}+', 'possessive'],
    ['\\q', 'bad escape \\q'],
    ['[\\A]', 'bad escape \\A'],
    ['\\1', 'invalid group reference 1'],
    ['(?P=x)', 'unknown group name "x"'],
    ['(?P<a>x)(?P<a>y)', 'redefinition'],
    ['\\N{DIGIT ONE}', 'Unicode character names'],
    ['[abc', 'unterminated character set'],
    ['\\400', 'outside of range'],
    ['(?Q)', 'unknown extension'],
    ['(abc', 'Unterminated group'],
  ])('%j: %s', (pattern, reason) => {
    const t = translatePythonRegex(pattern);
    expect(t.ok).toBe(false);
    if (!t.ok) expect(t.reason).toContain(reason);
    expect(pythonRegexProblem(pattern)).toMatch(new RegExp(`^invalid regex "${escapeForRegex(pattern)}": `));
    expect(() => compilePythonRegex(pattern)).toThrow(PythonRegexError);
  });

  it('accepts what Python accepts', () => {
    for (const [pattern] of pythonSearch) expect(pythonRegexProblem(pattern)).toBeUndefined();
  });
});

describe('pythonRegexForPostgres (Pulp package__iregex)', () => {
  it.each([
    ['bannedexample|another', 'bannedexample|another'],
    ['^(?P<a>foo)-(?P=a)$', '^(foo)-\\1$'],
    ['(?i)\\bfoo\\B', '(?i)\\yfoo\\Y'],
    ['(?m)^x$', '(?n)^x$'],
    ['\\Afoo\\Z', '\\Afoo\\Z'],
    ['a{,3}', 'a{0,3}'],
    ['\\x41', '\\u0041'],
  ])('%j becomes %j', (pattern, expected) => {
    expect(pythonRegexForPostgres(pattern)).toBe(expected);
  });

  it('refuses what PostgreSQL cannot read', () => {
    expect(() => pythonRegexForPostgres('[\\D]')).toThrow(/PostgreSQL/);
  });
});

function escapeForRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
