// A small in-process cache of values that are expensive to compute and may lag the database
// by a few seconds (list totals, deep-page boundaries). Bounded (least recently used out),
// single-flight (concurrent requests for one key share one load), and stale-while-revalidate:
// for one more TTL after expiry the old value is answered while one load refreshes it, so
// requests never queue behind a refresh; older than that, the caller waits for a new load.

export interface Cached<V> {
  value: V;
  /** When the value was computed (ms since the epoch). */
  at: number;
}

interface Entry<V> {
  cached?: Cached<V>;
  loading?: Promise<Cached<V>>;
}

export class TtlCache<V> {
  readonly #entries = new Map<string, Entry<V>>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The value for `key`: cached if younger than ttlMs, else from `load` (shared, see above). */
  async get(key: string, ttlMs: number, load: () => Promise<V>): Promise<Cached<V>> {
    const entry = this.#entries.get(key) ?? {};
    this.#touch(key, entry);
    const age = entry.cached === undefined ? Number.POSITIVE_INFINITY : this.now() - entry.cached.at;
    if (entry.cached !== undefined && age < ttlMs) return entry.cached;
    const loading = entry.loading ?? this.#load(entry, load);
    if (entry.cached !== undefined && age < 2 * ttlMs) {
      // The refresh's failure reaches the next caller that has to wait for a load.
      loading.catch(() => undefined);
      return entry.cached;
    }
    return loading;
  }

  /** Forget every value (tests, and callers that know the data changed). */
  clear(): void {
    this.#entries.clear();
  }

  #load(entry: Entry<V>, load: () => Promise<V>): Promise<Cached<V>> {
    const at = this.now();
    const loading = load().then(
      (value) => {
        const cached = { value, at };
        entry.cached = cached;
        entry.loading = undefined;
        return cached;
      },
      (err: unknown) => {
        entry.loading = undefined;
        throw err;
      },
    );
    entry.loading = loading;
    return loading;
  }

  #touch(key: string, entry: Entry<V>): void {
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }
}
