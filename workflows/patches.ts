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
} as const;
