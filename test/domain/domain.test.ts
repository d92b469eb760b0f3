import { describe, expect, it } from 'vitest';
import { isInternalUrl } from '../../domain/internalDomains.js';
import { repoNameMatcher } from '../../domain/repoFilter.js';
import { healthRollup, repoHealth } from '../../domain/repoHealth.js';

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

describe('repoHealth', () => {
  it.each([
    [['completed'], 'green'],
    [['completed', 'failed', 'failed', 'failed', 'failed'], 'green'],
    [['failed', 'completed'], 'amber'],
    [['failed', 'failed', 'failed', 'completed', 'completed'], 'amber'],
    [['failed', 'failed', 'failed', 'failed', 'completed'], 'red'],
    [['failed'], 'red'],
    [['canceled', 'completed'], 'amber'],
    [['running', 'completed'], 'green'],
    [['failed', 'failed', 'failed', 'failed', 'failed', 'completed'], 'red'],
    [[], 'red'],
  ] as const)('%j → %s', (states, expected) => {
    expect(repoHealth(states)).toBe(expected);
  });

  it('rolls up: any red → red, else any amber → amber, else green', () => {
    expect(healthRollup(['green', 'amber', 'red'])).toBe('red');
    expect(healthRollup(['green', 'amber'])).toBe('amber');
    expect(healthRollup(['green'])).toBe('green');
    expect(healthRollup([])).toBe('green');
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
