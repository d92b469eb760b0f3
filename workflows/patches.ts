/**
 * Patch ids of changes to shipped workflows (README "Changing a workflow"). A history recorded
 * before a change replays down the old branch; `deprecatePatch` replaces `patched` once no run
 * older than the change can still be open, and the old branch goes when the patch call does.
 */
export const PATCHES = {
  /**
   * repoGroupSyncWorkflow starts its repoSyncWorkflow children with `pipeline: 'one-activity'`:
   * the whole pipeline as one resumable activity (was 3 activities and 10 local activities).
   */
  repoSyncOneActivity: 'repo-sync-one-activity-pipeline',
  /** repoGroupSyncWorkflow: sets PulpServer, RepoGroup, PulpManagerTaskId and FailedRepoCount. */
  groupSearchAttributes: 'group-search-attributes',
  /**
   * repoGroupSyncWorkflow: max_runtime covers register and reconcile (a timer races them); the
   * selection is read a page per run and the runs carry a cursor and counts, not the repo list;
   * health is updated per run for that run's repos.
   */
  groupBoundedRuns: 'group-bounded-runs',
  /**
   * repoGroupSyncWorkflow: a run continues as new as soon as it has started its share of
   * children, handing the ones still running to the next run (their ids in the carry; started
   * with ParentClosePolicy ABANDON) instead of waiting for all of them: no lane idles until the
   * slowest sync of the run ends.
   */
  groupHandOverChildren: 'group-hand-over-children',
  /** snapshotReposWorkflow continues as new every N repos, carrying a cursor. */
  snapshotBoundedRuns: 'snapshot-bounded-runs',
  /** repoRemovalWorkflow continues as new every N repos, carrying a cursor; max_runtime enforced. */
  removalBoundedRuns: 'removal-bounded-runs',
  /** removeRepoContentWorkflow enforces max_runtime (a timer races its stages). */
  contentRemovalDeadline: 'content-removal-deadline',
} as const;
