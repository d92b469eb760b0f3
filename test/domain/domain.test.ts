import { describe, expect, it } from 'vitest';
import { isInternalUrl } from '../../domain/internalDomains.js';
import { repoNameMatcher } from '../../domain/repoFilter.js';

describe('repoNameMatcher', () => {
  it.each([
    [{ regexInclude: '^ext-' }, 'ext-centos', true],
    [{ regexInclude: '^ext-' }, 'int-app', false],
    [{ regexInclude: '^ext-', regexExclude: 'centos' }, 'ext-centos', false],
    [{ regexExclude: 'old$' }, 'anything-old', false],
    [{ regexExclude: 'old$' }, 'anything', true],
    [{}, 'anything', true],
    [{ regexInclude: 'a', regexExclude: 'a' }, 'a', false],
  ])('%j on %s is %s', (filter, name, expected) => {
    expect(repoNameMatcher(filter)(name)).toBe(expected);
  });
});

describe('isInternalUrl', () => {
  it.each([
    ['https://repo.example.com/x', ['example.com'], true],
    ['https://example.com/x', ['example.com'], true],
    ['https://notexample.com/x', ['example.com'], false],
    ['http://localhost:18800/deb-flat/', ['localhost'], true],
    ['http://127.0.0.1:18800/rpm/', ['localhost'], false],
    ['not a url', ['example.com'], false],
  ])('%s in %j is %s', (url, domains, expected) => {
    expect(isInternalUrl(url, domains)).toBe(expected);
  });
});
