import { describe, expect, it } from 'vitest';
import { TtlCache } from '../../db/ttlCache.js';

// The cache behind list totals and deep-page boundaries, on a clock the test moves.
function setup(maxEntries = 10) {
  let now = 1_000;
  const cache = new TtlCache<number>(maxEntries, () => now);
  let loads = 0;
  const load = (value: number) => async () => {
    loads++;
    return value;
  };
  return {
    cache,
    load,
    loads: () => loads,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('TtlCache', () => {
  it('reuses a value within the TTL, answers the old one while refreshing for one more TTL, then waits', async () => {
    const t = setup();
    expect(await t.cache.get('k', 100, t.load(1))).toEqual({ value: 1, at: 1_000 });
    t.advance(99);
    expect((await t.cache.get('k', 100, t.load(2))).value).toBe(1);
    expect(t.loads()).toBe(1);
    // Stale: answered at once, refreshed behind it.
    t.advance(50);
    expect((await t.cache.get('k', 100, t.load(3))).value).toBe(1);
    await Promise.resolve();
    expect(t.loads()).toBe(2);
    expect((await t.cache.get('k', 100, t.load(4))).value).toBe(3);
    // Older than twice the TTL: the caller waits for a new value.
    t.advance(250);
    expect((await t.cache.get('k', 100, t.load(5))).value).toBe(5);
    expect(t.loads()).toBe(3);
  });

  it('runs one load for concurrent requests of one key', async () => {
    const t = setup();
    let release: (v: number) => void = () => undefined;
    let loads = 0;
    const slow = () => {
      loads++;
      return new Promise<number>((resolve) => {
        release = resolve;
      });
    };
    const all = Promise.all(Array.from({ length: 20 }, () => t.cache.get('k', 100, slow)));
    release(7);
    expect((await all).map((c) => c.value)).toEqual(Array(20).fill(7));
    expect(loads).toBe(1);
  });

  it('passes a failed load to its waiters and loads again on the next request', async () => {
    const t = setup();
    const failing = async () => {
      throw new Error('count timed out');
    };
    await expect(t.cache.get('k', 100, failing)).rejects.toThrow('count timed out');
    expect((await t.cache.get('k', 100, t.load(9))).value).toBe(9);
  });

  it('keeps at most maxEntries keys, forgetting the least recently used', async () => {
    const t = setup(2);
    await t.cache.get('a', 100, t.load(1));
    await t.cache.get('b', 100, t.load(2));
    await t.cache.get('a', 100, t.load(3)); // a is now the most recent
    await t.cache.get('c', 100, t.load(4)); // b goes
    expect((await t.cache.get('a', 100, t.load(5))).value).toBe(1);
    expect((await t.cache.get('b', 100, t.load(6))).value).toBe(6);
  });
});
