import { promisify } from 'node:util';
import {
  constants,
  crc32,
  deflateRaw as deflateRawCallback,
  deflateRawSync,
  type ZlibOptions,
} from 'node:zlib';
import { Counter, Gauge, Registry } from 'prom-client';

const deflateRaw = promisify(deflateRawCallback) as (data: Buffer, options: ZlibOptions) => Promise<Buffer>;

// The gzip answer is one gzip member whose deflate data is the fleet text's (compressed once
// per build, ended with a sync flush so more blocks may follow) and then the status text's
// (compressed on every attempt, final): two gzip members would be simpler, but curl
// --compressed reads only the first. Level 1: on 14 MB of exposition text (50,000 server
// repos) about 40 ms of CPU against 130 ms at the default level 6, for an answer of the same
// size (~0.5 MB): the text is repetitive.
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
const fleetDeflate = (text: Buffer) =>
  deflateRaw(text, { level: constants.Z_BEST_SPEED, finishFlush: constants.Z_SYNC_FLUSH });

function gzipMember(fleet: Built, status: Buffer): Buffer {
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(status, fleet.crc), 0);
  trailer.writeUInt32LE((fleet.text.length + status.length) % 2 ** 32, 4);
  return Buffer.concat([GZIP_HEADER, fleet.deflate, deflateRawSync(status), trailer]);
}

/** When the exposition text is rebuilt ([exporter] in config.ini, in seconds there). */
export interface RefreshSettings {
  /** How often the change probe runs. */
  checkIntervalMs: number;
  /** A change seen by the probe rebuilds the text at most this often (a busy fleet changes constantly). */
  minIntervalMs: number;
  /** The text is rebuilt at least this often, changed or not (Pulp status, schedules, ages). */
  maxAgeMs: number;
}

export const DEFAULT_REFRESH: RefreshSettings = {
  checkIntervalMs: 2000,
  minIntervalMs: 5000,
  maxAgeMs: 15000,
};

/** One answer to /metrics, shared by every scrape until the next refresh attempt. */
export interface Exposition {
  text: Buffer;
  /** The same text gzip-compressed (one gzip member). */
  gzip: Buffer;
  /** Date.now() of the build whose fleet text this is. */
  builtAt: number;
}

export interface ReadyExpositionSources {
  /** The fleet's whole exposition text (one collection). */
  build(): Promise<string | Buffer>;
  /** A cheap fingerprint of the data; a new value means the text is out of date. */
  changeMarker(): Promise<string>;
  onError(part: string, err: unknown): void;
  now?: () => number;
}

export class ExpositionNotReadyError extends Error {
  readonly code = 'EXPORTER_NOT_READY';
  constructor(cause: unknown) {
    super(`no metrics built yet: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'ExpositionNotReadyError';
  }
}

interface Built {
  text: Buffer;
  /** The text's raw deflate data, not final (ends with a sync flush). */
  deflate: Buffer;
  /** CRC-32 of the text, continued over the status text in the gzip trailer. */
  crc: number;
  builtAt: number;
}

/**
 * The exposition text kept ready, so that a scrape is a copy of a buffer: a background loop
 * probes for changes every checkIntervalMs and rebuilds (text and its gzip, compressed once)
 * when the probe's marker changed or the text reached maxAgeMs. A failed rebuild keeps the last
 * good text and says so in the refresh status families appended to it
 * (pulp_manager_exporter_refresh_failures_total, _refresh_age_seconds, _last_refresh_success_
 * timestamp_seconds), which are re-rendered on every attempt, good or bad.
 */
export class ReadyExposition {
  private built: Built | undefined;
  private answer: Exposition | undefined;
  private refreshing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private lastMarker: string | undefined;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private lastError: unknown;
  private probeFailing = false;
  private readonly now: () => number;
  /** The refresh status families, printed after the fleet's on every attempt. */
  readonly statusRegistry = new Registry();
  private readonly failures: Counter;
  private readonly age: Gauge;
  private readonly lastSuccess: Gauge;

  constructor(
    private readonly sources: ReadyExpositionSources,
    private readonly settings: RefreshSettings = DEFAULT_REFRESH,
  ) {
    this.now = sources.now ?? Date.now;
    const registers = [this.statusRegistry];
    this.failures = new Counter({
      name: 'pulp_manager_exporter_refresh_failures_total',
      help: 'Rebuilds of the exporter answer that failed (the last good answer is served meanwhile)',
      registers,
    });
    this.age = new Gauge({
      name: 'pulp_manager_exporter_refresh_age_seconds',
      help: 'Age of the served fleet metrics at the last refresh attempt (seconds since their build)',
      registers,
    });
    this.lastSuccess = new Gauge({
      name: 'pulp_manager_exporter_last_refresh_success_timestamp_seconds',
      help: 'Unix time of the build of the served fleet metrics',
      registers,
    });
  }

  /** Starts the background loop (and a first build). Timers do not hold the process open. */
  start(): void {
    if (this.running) return;
    this.running = true;
    void this.refresh();
    this.schedule();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  /** Waits for the refresh in flight, if any (stop() then settle, or a test's barrier). */
  async settled(): Promise<void> {
    await this.refreshing;
  }

  /**
   * The answer to serve. Before the first good build it waits for that build (one build for
   * every waiting scrape); if there never was a good build it throws ExpositionNotReadyError.
   */
  async current(): Promise<Exposition> {
    if (!this.running) this.start();
    if (this.answer) return this.answer;
    await this.refresh();
    if (this.answer) return this.answer;
    throw new ExpositionNotReadyError(this.lastError);
  }

  /** One rebuild; concurrent callers share it. */
  refresh(): Promise<void> {
    this.refreshing ??= this.rebuild().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      void this.tick().finally(() => this.schedule());
    }, this.settings.checkIntervalMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.refreshing) return;
    const now = this.now();
    const sinceAttempt = now - this.lastAttemptAt;
    const builtAge = this.built ? now - this.built.builtAt : Number.POSITIVE_INFINITY;
    if (builtAge >= this.settings.maxAgeMs && sinceAttempt >= this.settings.minIntervalMs) {
      await this.refresh();
      return;
    }
    if (sinceAttempt < this.settings.minIntervalMs) return;
    let marker: string;
    try {
      marker = await this.sources.changeMarker();
      this.probeFailing = false;
    } catch (err) {
      // Reported once per outage, not every check interval; the max age still rebuilds (and a
      // down database shows there as database_up 0).
      if (!this.probeFailing) this.sources.onError('change probe', err);
      this.probeFailing = true;
      return;
    }
    if (marker !== this.lastMarker) await this.refresh();
  }

  private async rebuild(): Promise<void> {
    const startedAt = this.now();
    this.lastAttemptAt = startedAt;
    try {
      // Read before the build: a change committed while building triggers the next one.
      const marker = await this.sources.changeMarker().catch((err: unknown) => {
        this.sources.onError('change probe', err);
        return undefined;
      });
      const built = await this.sources.build();
      const text = typeof built === 'string' ? Buffer.from(built) : built;
      // Compressed once per build, off the event loop (zlib's thread pool).
      this.built = { text, deflate: await fleetDeflate(text), crc: crc32(text), builtAt: startedAt };
      this.lastMarker = marker;
      this.lastError = undefined;
    } catch (err) {
      this.failures.inc();
      this.lastError = err;
      this.sources.onError('refresh', err);
    }
    await this.publish();
  }

  /** The answer: the last good fleet text followed by the status of this attempt. */
  private async publish(): Promise<void> {
    const built = this.built;
    if (!built) return;
    this.age.set(Math.max(0, (this.now() - built.builtAt) / 1000));
    this.lastSuccess.set(built.builtAt / 1000);
    const status = Buffer.from(`\n${await this.statusRegistry.metrics()}`);
    this.answer = {
      text: Buffer.concat([built.text, status]),
      gzip: gzipMember(built, status),
      builtAt: built.builtAt,
    };
  }
}
