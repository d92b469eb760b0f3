import type { Client } from '@temporalio/client';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { pulpApiOrigin } from '../activities/pulp/serverClients.js';
import type { AppConfig } from '../config/loadAppConfig.js';
import type { Database } from '../db/client.js';
import { type TaskState, taskStates } from '../db/enums.js';
import { formatGaugeFamilyChunks, type GaugeFamily } from './exposition.js';
import { type RepoHealthRow, readChangeMarker } from './fleetQueries.js';
import { collectFleetSnapshot, type FleetSnapshot } from './fleetSnapshot.js';
import { type PulpStatusProbe, pulpStatusProbe } from './pulpStatus.js';
import { DEFAULT_REFRESH, ReadyExposition, type RefreshSettings } from './readyExposition.js';
import { TaskDurationTracker } from './taskDurations.js';

export interface MetricsDeps {
  db: Database;
  /** Gives the Pulp API scheme ([pulp] use_https_for_api) for the default status probe. */
  config: AppConfig;
  /** When given, the paused state of the managed schedules is exported too. */
  temporal?: Client;
  /** Replaces the HTTP probe of each server's status API. */
  pulpStatus?: PulpStatusProbe;
  /** Where collection problems are reported (default: a JSON line on stderr). */
  onError?: (part: string, err: unknown) => void;
}

export interface MetricsOptions {
  /** Deadline of each Pulp status call; all servers are asked at once. */
  pulpStatusTimeoutMs?: number;
  /** Deadline of the schedule listing. */
  temporalTimeoutMs?: number;
  /** Final-state task gauges count tasks created within this many hours (the original: 24). */
  finalTaskWindowHours?: number;
  /** How far back each refresh re-reads finished tasks (late commits, clock skew). */
  durationLookbackMs?: number;
  /** Adds prom-client's process and Node.js metrics (the exporter process itself). */
  defaultMetrics?: boolean;
  /**
   * The two series per server repo (health and its age; default true: the alert rules and the
   * dashboard use them). false leaves them out, for a fleet whose Prometheus only needs the
   * per-server rollups.
   */
  perRepoSeries?: boolean;
  /** When the served text is rebuilt (default DEFAULT_REFRESH). */
  refresh?: RefreshSettings;
}

export interface MetricsRegistry {
  /**
   * Everything but the per-server-repo families, which render() writes straight from the rows
   * (metrics/exposition.ts); registry.metrics() alone therefore lacks them.
   */
  registry: Registry;
  /** One collection and the whole exposition text (single flight: concurrent calls share it). */
  render(): Promise<string>;
  /** render() as UTF-8, without building the whole text as one string. */
  renderBuffer(): Promise<Buffer>;
  /** render()'s text kept ready for /metrics; started by its first current() or by start(). */
  exposition: ReadyExposition;
  /** Counts a failed part in pulp_manager_exporter_collect_errors_total and logs it. */
  onError(part: string, err: unknown): void;
  durations: TaskDurationTracker;
  /** The last collection, for /ready and logs. */
  lastSnapshot(): FleetSnapshot | undefined;
}

/** Buckets for work that takes from seconds (no-op sync) to hours (a first mirror of a big repo). */
export const DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800];

const HEALTH_NONE = 'None';

/** Metric names of the per-state task gauges, one per db/enums taskStates value. */
export const taskStateMetricName = (state: TaskState) => `pulp_manager_pulp_server_tasks_in_${state}_state`;

function defaultOnError(part: string, err: unknown): void {
  const error = err instanceof Error ? err.message : String(err);
  process.stderr.write(
    `${JSON.stringify({ level: 'warn', msg: 'metrics collection failed', part, error })}\n`,
  );
}

/**
 * The exporter's registry. render() makes one collection and prints it: the prom-client gauges
 * are filled from it in their collect() (pinned to that collection), the per-server-repo
 * families are written from its rows. The exporter serves render()'s text from a buffer kept
 * ready (metrics/readyExposition.ts), so a scrape does not pay for it.
 */
export function createMetricsRegistry(deps: MetricsDeps, options: MetricsOptions = {}): MetricsRegistry {
  const registry = new Registry();
  const registers = [registry];
  // Every collect() below awaits current() (defined further down): it runs at scrape time only.
  const errors = new Counter({
    name: 'pulp_manager_exporter_collect_errors_total',
    help: 'Collection steps of the exporter that failed (the metrics they feed are missing from that scrape)',
    labelNames: ['part'] as const,
    registers,
    // Printed after this scrape's collection, so its own failures are in it.
    async collect() {
      await current();
    },
  });
  const onError = (part: string, err: unknown) => {
    errors.inc({ part });
    (deps.onError ?? defaultOnError)(part, err);
  };
  const histogram = (name: string, help: string) =>
    new Histogram({
      name,
      help,
      labelNames: ['pulp_server_name', 'state'] as const,
      buckets: DURATION_BUCKETS,
      registers,
      async collect() {
        await current();
      },
    });
  const durations = new TaskDurationTracker(
    [
      {
        taskType: 'repo_sync',
        histogram: histogram(
          'pulp_manager_repo_sync_duration_seconds',
          'Duration of one repo sync task (sync, banned package removal, publish), by final state',
        ),
      },
      {
        taskType: 'repo_group_sync',
        histogram: histogram(
          'pulp_manager_repo_group_sync_duration_seconds',
          'Duration of one repo group sync task (all its repo syncs), by final state',
        ),
      },
      {
        taskType: 'repo_snapshot',
        child: true,
        histogram: histogram(
          'pulp_manager_repo_snapshot_duration_seconds',
          'Duration of the snapshot of one repo (copy and publish), by final state',
        ),
      },
    ],
    options.durationLookbackMs ?? 10 * 60_000,
    new Date(),
  );

  let inFlight: Promise<FleetSnapshot> | undefined;
  let last: FleetSnapshot | undefined;
  // The snapshot render() is printing: registry.metrics() runs every collect() below, which
  // must print that same snapshot, not start another collection.
  let pinned: FleetSnapshot | undefined;
  const current = (): Promise<FleetSnapshot> => {
    if (pinned) return Promise.resolve(pinned);
    inFlight ??= collectFleetSnapshot({
      db: deps.db,
      pulpStatus: deps.pulpStatus ?? pulpStatusProbe((server) => pulpApiOrigin(server, deps.config)),
      temporal: deps.temporal,
      durations,
      pulpStatusTimeoutMs: options.pulpStatusTimeoutMs ?? 2000,
      temporalTimeoutMs: options.temporalTimeoutMs ?? 3000,
      finalTaskWindowHours: options.finalTaskWindowHours ?? 24,
      readRepos: options.perRepoSeries ?? true,
      onError,
    })
      .then((s) => {
        last = s;
        return s;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };

  /** A gauge that is reset and refilled from the current collection at each scrape. */
  function gauge<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    fill: (g: Gauge<L>, s: FleetSnapshot) => void,
  ): void {
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers,
      async collect() {
        const s = await current();
        this.reset();
        fill(this, s);
      },
    });
  }

  gauge(
    'pulp_manager_pulp_server_repo_sync_health_rollup',
    'Pulp server repo sync health rollup (1 for the current value of repo_sync_health_rollup; None when never computed)',
    ['pulp_server_name', 'repo_sync_health_rollup'],
    (g, s) => {
      for (const server of s.servers)
        g.set({ pulp_server_name: server.name, repo_sync_health_rollup: server.rollup ?? HEALTH_NONE }, 1);
    },
  );
  gauge(
    'pulp_manager_pulp_server_repo_sync_health_rollup_last_run_seconds',
    'Seconds since the pulp server repo sync health rollup was last computed. -1 means never',
    ['pulp_server_name'],
    (g, s) => {
      for (const server of s.servers) g.set({ pulp_server_name: server.name }, server.rollupAgeSeconds ?? -1);
    },
  );
  for (const state of taskStates) {
    const live = state === 'queued' || state === 'running';
    gauge(
      taskStateMetricName(state),
      live
        ? `Pulp server count of tasks currently in the ${state} state`
        : `Pulp server count of tasks created in the last ${options.finalTaskWindowHours ?? 24} hours that are in the ${state} state`,
      ['pulp_server_name'],
      (g, s) => {
        // Every server gets every state, 0 included: a missing series and "none" read differently.
        for (const server of s.servers) g.set({ pulp_server_name: server.name }, 0);
        for (const c of s.taskCounts) if (c.state === state) g.set({ pulp_server_name: c.server }, c.count);
      },
    );
  }
  gauge(
    'pulp_manager_pulp_server_database_connection',
    "Status of the Pulp server's database connectivity from its status API (0 when the API does not answer)",
    ['pulp_server_name'],
    (g, s) => {
      for (const p of s.pulpStatuses) g.set({ pulp_server_name: p.server }, p.databaseConnected ? 1 : 0);
    },
  );
  gauge(
    'pulp_manager_pulp_server_redis_connection',
    "Status of the Pulp server's redis connectivity from its status API (0 when the API does not answer or reports none)",
    ['pulp_server_name'],
    (g, s) => {
      for (const p of s.pulpStatuses) g.set({ pulp_server_name: p.server }, p.redisConnected ? 1 : 0);
    },
  );
  gauge(
    'pulp_manager_pulp_server_status_api_up',
    "Whether the Pulp server's status API answered within the exporter's deadline",
    ['pulp_server_name'],
    (g, s) => {
      for (const p of s.pulpStatuses) g.set({ pulp_server_name: p.server }, p.reachable ? 1 : 0);
    },
  );
  if (deps.temporal) {
    gauge(
      'pulp_manager_schedule_paused',
      'Whether a Temporal schedule managed by Pulp Manager is paused (1) or active (0)',
      ['schedule_id', 'pulp_server_name'],
      (g, s) => {
        for (const sc of s.schedules ?? [])
          g.set({ schedule_id: sc.scheduleId, pulp_server_name: sc.server }, sc.paused ? 1 : 0);
      },
    );
    gauge(
      'pulp_manager_exporter_temporal_up',
      'Whether the exporter could list the schedules from Temporal',
      [],
      (g, s) => g.set(s.schedules === null ? 0 : 1),
    );
  }
  gauge('pulp_manager_exporter_database_up', 'Whether the exporter could read the database', [], (g, s) =>
    g.set(s.databaseUp ? 1 : 0),
  );
  gauge(
    'pulp_manager_exporter_collect_duration_seconds',
    'How long the last collection took (database, Pulp status APIs, schedules)',
    [],
    (g, s) => g.set(s.collectSeconds),
  );

  if (options.defaultMetrics) {
    collectDefaultMetrics({ register: registry });
    // Gauges that prom-client names like counters (promtool flags the `_total` suffix); the
    // same numbers remain in nodejs_active_handles / _requests / _resources by type.
    for (const name of [
      'nodejs_active_handles_total',
      'nodejs_active_requests_total',
      'nodejs_active_resources_total',
    ])
      registry.removeSingleMetric(name);
  }
  const perRepo = options.perRepoSeries ?? true;
  let rendering: Promise<Buffer> | undefined;
  const renderOnce = async (): Promise<Buffer> => {
    const snapshot = await current();
    pinned = snapshot;
    let text: string;
    try {
      text = await registry.metrics();
    } finally {
      pinned = undefined;
    }
    if (!perRepo) return Buffer.from(text);
    // prom-client separates families with a blank line and ends with a newline; so do these.
    const blank = Buffer.from('\n');
    const parts: Buffer[] = [Buffer.from(text)];
    for (const family of PER_REPO_FAMILIES)
      parts.push(blank, ...(await formatGaugeFamilyChunks(family, snapshot.repos)));
    return Buffer.concat(parts);
  };
  const renderBuffer = (): Promise<Buffer> => {
    rendering ??= renderOnce().finally(() => {
      rendering = undefined;
    });
    return rendering;
  };
  const exposition = new ReadyExposition(
    { build: renderBuffer, changeMarker: () => readChangeMarker(deps.db), onError },
    options.refresh ?? DEFAULT_REFRESH,
  );
  return {
    registry,
    render: async () => (await renderBuffer()).toString(),
    renderBuffer,
    exposition,
    onError,
    durations,
    lastSnapshot: () => last,
  };
}

/** The original's per-repo health gauge: 1 for the current value, None when never computed. */
export const repoHealthFamily: GaugeFamily<RepoHealthRow> = {
  name: 'pulp_manager_pulp_server_repo_sync_health',
  help: 'Pulp server repo sync health of each repo (1 for the current value of repo_sync_health; None when never computed)',
  labelNames: ['pulp_server_name', 'repo_name', 'repo_sync_health', 'has_remote'],
  labels: (r) => [r.server, r.repo, r.health ?? HEALTH_NONE, r.hasRemote ? '1' : '0'],
  value: () => 1,
};

export const repoHealthAgeFamily: GaugeFamily<RepoHealthRow> = {
  name: 'pulp_manager_pulp_server_repo_sync_health_last_run_seconds',
  help: 'Seconds since the repo sync health of each repo was last computed. -1 means never',
  labelNames: ['pulp_server_name', 'repo_name'],
  labels: (r) => [r.server, r.repo],
  value: (r) => r.healthAgeSeconds ?? -1,
};

/** The families written from rows rather than registered in prom-client (one series per server repo). */
export const PER_REPO_FAMILIES: readonly GaugeFamily<RepoHealthRow>[] = [
  repoHealthFamily,
  repoHealthAgeFamily,
];
