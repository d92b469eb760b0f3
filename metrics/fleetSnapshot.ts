import type { Client } from '@temporalio/client';
import type { Database } from '../db/client.js';
import {
  pingDatabase,
  type RepoHealthRow,
  readRepoHealth,
  readServerHealth,
  readTaskStateCounts,
  type ServerHealthRow,
  type TaskStateCount,
} from './fleetQueries.js';
import { type PulpStatus, type PulpStatusProbe, probePulpServers } from './pulpStatus.js';
import { type ManagedScheduleState, readManagedScheduleStates } from './scheduleStates.js';
import type { TaskDurationTracker } from './taskDurations.js';

/** Everything one scrape reports, read in parallel. */
export interface FleetSnapshot {
  databaseUp: boolean;
  servers: ServerHealthRow[];
  repos: RepoHealthRow[];
  taskCounts: TaskStateCount[];
  pulpStatuses: PulpStatus[];
  /** undefined: no Temporal client given; null: Temporal did not answer. */
  schedules: ManagedScheduleState[] | null | undefined;
  collectSeconds: number;
}

export interface SnapshotSources {
  db: Database;
  pulpStatus: PulpStatusProbe;
  temporal?: Client;
  durations: TaskDurationTracker;
  pulpStatusTimeoutMs: number;
  temporalTimeoutMs: number;
  finalTaskWindowHours: number;
  /** false: the per-repo rows are not read (the per-repo series are turned off). */
  readRepos?: boolean;
  onError: (part: string, err: unknown) => void;
}

async function orNull<T>(part: string, run: () => Promise<T>, onError: SnapshotSources['onError']) {
  try {
    return await run();
  } catch (err) {
    onError(part, err);
    return null;
  }
}

/**
 * One collection: the database reads, then each server's status (the server list comes from
 * the database), while the schedules are listed alongside. A failing part is reported as
 * missing (and counted in the *_up gauges), never as a failed scrape.
 */
export async function collectFleetSnapshot(src: SnapshotSources): Promise<FleetSnapshot> {
  const t0 = performance.now();
  const schedulesRead = src.temporal
    ? orNull(
        'temporal schedules',
        () => readManagedScheduleStates(src.temporal as Client, src.temporalTimeoutMs),
        src.onError,
      )
    : Promise.resolve(undefined);
  const [servers, repos, taskCounts, observed] = await Promise.all([
    orNull('pulp servers', () => readServerHealth(src.db), src.onError),
    src.readRepos === false ? [] : orNull('server repos', () => readRepoHealth(src.db), src.onError),
    orNull('task counts', () => readTaskStateCounts(src.db, src.finalTaskWindowHours), src.onError),
    orNull('task durations', () => src.durations.refresh(src.db), src.onError),
  ]);
  const databaseUp =
    servers !== null && repos !== null && taskCounts !== null && observed !== null
      ? true
      : (await orNull('database ping', () => pingDatabase(src.db), src.onError)) !== null;
  const pulpStatuses = await probePulpServers(
    (servers ?? []).map((s) => s.name),
    src.pulpStatus,
    src.pulpStatusTimeoutMs,
  );
  const schedules = await schedulesRead;
  return {
    databaseUp,
    servers: servers ?? [],
    repos: repos ?? [],
    taskCounts: taskCounts ?? [],
    pulpStatuses,
    schedules,
    collectSeconds: (performance.now() - t0) / 1000,
  };
}
