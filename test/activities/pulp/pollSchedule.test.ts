import { describe, expect, it } from 'vitest';
import { nextPollWaitMs } from '../../../activities/pulp/tasks.js';

describe('Pulp task poll schedule', () => {
  it('starts short and doubles up to the minimum interval, for tasks that finish in ms', () => {
    expect([1, 2, 3, 4, 5, 40].map((n) => nextPollWaitMs(n, 0, 250, 5000))).toEqual([
      50, 100, 200, 250, 250, 250,
    ]);
  });

  it('then waits 5% of the task age, capped at the maximum interval', () => {
    expect(nextPollWaitMs(10, 20_000, 250, 5000)).toBe(1000);
    expect(nextPollWaitMs(30, 600_000, 250, 5000)).toBe(5000);
  });

  it('never waits longer than a minimum interval below the first wait', () => {
    expect([1, 2, 3].map((n) => nextPollWaitMs(n, 0, 5, 5000))).toEqual([5, 5, 5]);
  });
});
