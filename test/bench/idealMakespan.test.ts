import { describe, expect, it } from 'vitest';
import { idealMakespan } from '../../bench/lib/idealMakespan.js';

describe('idealMakespan (the benchmark reference)', () => {
  it('is the sum on one lane and the longest item when lanes outnumber items', () => {
    expect(idealMakespan([3, 1, 2], 1)).toBe(6);
    expect(idealMakespan([3, 1, 2], 5)).toBe(3);
  });

  it('assigns in queue order to the lane that frees first', () => {
    // lanes: [5] [1] → 1 goes to lane 2 (free at 1) → [5] [1+4=5]... then 2 → lane 1 at 5 → 7
    expect(idealMakespan([5, 1, 4, 2], 2)).toBe(7);
  });
});
