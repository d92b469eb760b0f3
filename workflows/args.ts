/**
 * Inputs of the workflows that schedules and the API start. Plain serialisable data: these
 * shapes are stored in Temporal histories and schedules, so fields are only ever added.
 */

/**
 * Names a Task or a workflow result lists of a selection, or of the repos that failed or were
 * skipped; the rest are counted. Keeps stage details, results and continue-as-new inputs small
 * at any fleet size.
 */
export const LISTED_NAMES = 100;

export type DebPublishMode = 'resign' | 'verbatim';

/** Any JSON value a type's Pulp sync takes (pulp/syncOptions.ts); type-only, nothing is bundled. */
import type { SyncOptionValue } from '../pulp/syncOptions.js';

export type { SyncOptionValue };

export interface RepoGroupSyncArgs extends TaskRef {
  /** Pulp server name (host[:port]) the repos live on. */
  server: string;
  /** Config repo group this run came from, when it came from one. */
  repoGroup?: string;
  regexInclude?: string;
  regexExclude?: string;
  maxConcurrentSyncs: number;
  maxRuntimeSeconds: number;
  /** The primary to register repositories from before syncing (pulp_master). */
  sourceServer?: string;
  syncOptions?: Record<string, SyncOptionValue>;
  debPublishMode: DebPublishMode;
}

export interface RepoRegistrationArgs extends TaskRef {
  server: string;
  regexInclude?: string;
  regexExclude?: string;
  maxRuntimeSeconds: number;
}

/**
 * Every workflow records a Task. The API creates the task row before it starts the workflow
 * (so it can answer 201 with it, or mark it failed_to_start) and passes its id; scheduled
 * runs have none and the workflow creates its own.
 */
export interface TaskRef {
  taskId?: number;
}

export interface SnapshotReposArgs extends TaskRef {
  server: string;
  snapshotPrefix: string;
  regexInclude?: string;
  regexExclude?: string;
  allowSnapshotReuse: boolean;
  maxRuntimeSeconds?: number;
}

export interface RepoRemovalArgs extends TaskRef {
  server: string;
  regexInclude?: string;
  regexExclude?: string;
  dryRun: boolean;
  /** Enforced by the workflow (runs started before it existed have none: no deadline). */
  maxRuntimeSeconds?: number;
}

export interface RemoveRepoContentArgs extends TaskRef {
  server: string;
  repoName: string;
  contentHref: string;
  forcePublish: boolean;
  /** Enforced by the workflow (runs started before it existed have none: no deadline). */
  maxRuntimeSeconds?: number;
}
