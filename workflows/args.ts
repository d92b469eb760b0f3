/**
 * Inputs of the workflows that schedules and the API start. Plain serialisable data: these
 * shapes are stored in Temporal histories and schedules, so fields are only ever added.
 */

export type DebPublishMode = 'resign' | 'verbatim';
export type SyncOptionValue = string | number | boolean;

export interface RepoGroupSyncArgs {
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

export interface RepoRegistrationArgs {
  server: string;
  regexInclude?: string;
  regexExclude?: string;
  maxRuntimeSeconds: number;
}
