import { describe, expect, it } from 'vitest';
import { compilePythonRegex, pythonRegexForPostgres } from '../../config/pythonRegex.js';
import { stack } from '../support/stack.js';

// banned_package_regex reaches Pulp as `package__iregex`, run by PostgreSQL. Pulp's built-in
// role names (present on every Pulp) stand in for package names: the `name__iregex` filter of
// /roles/ is the same Django lookup. What PostgreSQL selects with the translated pattern must be
// what the JavaScript translation (and so Python's re, see pythonRegex.test.ts) selects.

async function roleNames(iregex?: string): Promise<string[]> {
  const url = new URL('/pulp/api/v3/roles/', stack.pulp.primary.url);
  url.searchParams.set('fields', 'name');
  url.searchParams.set('limit', '1000');
  if (iregex !== undefined) url.searchParams.set('name__iregex', iregex);
  const auth = Buffer.from(`${stack.pulp.username}:${stack.pulp.password}`).toString('base64');
  const res = await fetch(url, { headers: { authorization: `Basic ${auth}` } });
  expect(res.status, `${url}: ${await res.clone().text()}`).toBe(200);
  const body = (await res.json()) as { count: number; results: { name: string }[] };
  expect(body.results.length).toBe(body.count);
  return body.results.map((r) => r.name).sort();
}

describe('Python regexes in PostgreSQL (Pulp __iregex) select what they select here', () => {
  it.each([
    '^rpm\\.',
    '(?i)^RPM\\.',
    '^(?P<plugin>core|rpm)\\.(?P<what>task)_\\w+$',
    '(?P<x>[a-z])(?P=x)',
    '\\bviewer\\Z',
    '\\Acore\\.\\w+_(owner|viewer)\\b',
    '(?x) ^ core \\. task   # tasks\n _ \\w+',
    '(?m)^file\\..*er$',
    '_(creator|owner){1}$',
    'x{,1}remote_v',
    '[^a-z.]{1}owner',
    'core\\.(?!task)\\w+_viewer',
  ])('%j', async (pattern) => {
    const everything = await roleNames();
    const here = everything.filter((n) => compilePythonRegex(pattern, 'i').test(n));
    expect(here.length, 'the pattern should select some roles').toBeGreaterThan(0);
    expect(await roleNames(pythonRegexForPostgres(pattern))).toEqual(here);
  });
});
