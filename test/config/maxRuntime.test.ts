import { describe, expect, it } from 'vitest';
import { parseMaxRuntime } from '../../config/maxRuntime.js';

describe('parseMaxRuntime', () => {
  it.each([
    ['300', 300],
    [300, 300],
    ['45s', 45],
    ['20m', 1200],
    ['6h', 21600],
    ['1d', 86400],
    [' 2h ', 7200],
  ])('%j is %d seconds', (input, seconds) => {
    expect(parseMaxRuntime(input)).toBe(seconds);
  });

  it.each(['', 'abc', '6x', '1.5h', '-5', '0', '0m', '5 hours', 'h', '20mm', 1.5, -1, 0])(
    'rejects %j',
    (input) => {
      expect(parseMaxRuntime(input)).toBeUndefined();
    },
  );
});
