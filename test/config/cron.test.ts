import { describe, expect, it } from 'vitest';
import { cronProblem } from '../../config/cron.js';

describe('cronProblem', () => {
  it.each(['0,15,30,45 * * * *', '0 0 * * *', '*/5 * * * *', '0 6 * * 1-5', '@daily'])(
    'accepts %s',
    (cron) => {
      expect(cronProblem(cron)).toBeUndefined();
    },
  );

  it.each([
    ['', /empty/],
    ['* * * *', /4 fields, expected 5/],
    ['0 * * * * *', /6 fields, expected 5/],
    ['61 * * * *', /invalid cron expression "61 \* \* \* \*"/],
    ['* 25 * * *', /invalid cron/],
    ['every day', /2 fields/],
  ])('rejects %j', (cron, reason) => {
    expect(cronProblem(cron)).toMatch(reason);
  });
});
