const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/**
 * Parses a max_runtime the way RQ accepted it: bare seconds (`300`) or a number with one unit
 * suffix (`20m`, `6h`, `1d`; `s` too). Returns seconds, or undefined for anything else.
 */
export function parseMaxRuntime(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value > 0 ? value : undefined;
  const m = /^\s*(\d+)\s*([smhd]?)\s*$/.exec(value);
  if (!m?.[1]) return undefined;
  const seconds = Number(m[1]) * UNIT_SECONDS[(m[2] || 's') as keyof typeof UNIT_SECONDS];
  return seconds > 0 && Number.isSafeInteger(seconds) ? seconds : undefined;
}
