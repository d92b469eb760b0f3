import { describe, expect, it } from 'vitest';
import { nextPollWaitMs } from '../../pulp/tasks.js';

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

  it('notices a task done at most the minimum interval or 5% of its age late, in few polls', () => {
    // Poll times as waitForPulpTask makes them (a read at 0, then the waits), for tasks from
    // 10 ms to 1 h: the first poll at or after the task's end is when it is noticed.
    for (let durationMs = 10; durationMs <= 3_600_000; durationMs = Math.ceil(durationMs * 1.3)) {
      let t = 0;
      let polls = 1;
      while (t < durationMs) t += nextPollWaitMs(polls++, t, 250, 5000);
      expect(t - durationMs, `lateness of a ${durationMs} ms task`).toBeLessThanOrEqual(
        Math.max(250, 0.05 * t),
      );
      // At most: 4 short early waits, 20 of 250 ms up to 5 s, ~62 growing by 5% up to 100 s, then
      // one every 5 s.
      expect(polls, `polls of a ${durationMs} ms task`).toBeLessThanOrEqual(90 + durationMs / 5000);
    }
  });
});
