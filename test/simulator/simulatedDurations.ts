/**
 * Task durations of the Pulp API simulator: a distribution, not a constant, and reproducible:
 * the same seed, repository and task kind give the same durations run after run, so a
 * benchmark can compute its ideal makespan from the durations the simulator actually used.
 */

export type DurationSpec =
  | { kind: 'fixed'; ms: number }
  | { kind: 'uniform'; minMs: number; maxMs: number }
  /** Long-tailed like real syncs: most are near the median, a few take many times longer. */
  | { kind: 'lognormal'; medianMs: number; sigma: number; maxMs?: number };

/** FNV-1a: a stable 32-bit hash of a string. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: a small seeded PRNG giving uniform numbers in [0, 1). */
export function seededRandom(seed: string): () => number {
  let a = hash32(seed);
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function sampleDuration(spec: DurationSpec, seed: string): number {
  const random = seededRandom(seed);
  switch (spec.kind) {
    case 'fixed':
      return spec.ms;
    case 'uniform':
      return Math.round(spec.minMs + random() * (spec.maxMs - spec.minMs));
    case 'lognormal': {
      // Box-Muller: one standard normal from two uniforms (1 - u keeps log() finite).
      const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
      const ms = spec.medianMs * Math.exp(spec.sigma * normal);
      return Math.round(Math.min(ms, spec.maxMs ?? Number.POSITIVE_INFINITY));
    }
  }
}
