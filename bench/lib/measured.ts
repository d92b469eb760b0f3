// A benchmark reports what it measured or fails: a figure that was not measured must never become
// a 0, a 1 or an empty cell that a target then counts as met (issue 17).

/** A figure a benchmark needed and did not get; `figure` names it as the report would. */
export class MissingMeasurementError extends Error {
  readonly code = 'BENCH_MEASUREMENT_MISSING';

  constructor(
    readonly figure: string,
    readonly reason: string,
  ) {
    super(`benchmark measurement missing: ${figure}: ${reason}`);
    this.name = 'MissingMeasurementError';
  }
}

/** `value` when it is a finite number, else a MissingMeasurementError naming `figure`. */
export function requireNumber(figure: string, value: number | null | undefined): number {
  if (value === undefined || value === null) throw new MissingMeasurementError(figure, 'not measured');
  if (!Number.isFinite(value)) throw new MissingMeasurementError(figure, `not a finite number (${value})`);
  return value;
}

/** `value` when it is present, else a MissingMeasurementError naming `figure`. */
export function requireValue<T>(figure: string, value: T | null | undefined): T {
  if (value === undefined || value === null) throw new MissingMeasurementError(figure, 'not measured');
  return value;
}

/** The entry of `key` in a map of measurements (per repo, per process), or a MissingMeasurementError. */
export function requireEntry<K, V>(figure: string, map: ReadonlyMap<K, V>, key: K): V {
  if (!map.has(key)) throw new MissingMeasurementError(`${figure} of ${String(key)}`, 'not measured');
  return map.get(key) as V;
}
