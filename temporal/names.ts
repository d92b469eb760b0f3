/** Workflow type names and id schemes shared by schedules, the API and the worker. */
export const WORKFLOW_TYPES = {
  repoGroupSync: 'repoGroupSyncWorkflow',
  repoRegistration: 'repoRegistrationWorkflow',
  repoSync: 'repoSyncWorkflow',
  snapshotRepos: 'snapshotReposWorkflow',
  repoRemoval: 'repoRemovalWorkflow',
  removeRepoContent: 'removeRepoContentWorkflow',
} as const;

export const repoGroupSyncScheduleId = (server: string, group: string) =>
  `repo-group-sync/${server}/${group}`;
export const repoRegistrationScheduleId = (server: string) => `repo-registration/${server}`;
export const MANAGED_SCHEDULE_PREFIXES = ['repo-group-sync/', 'repo-registration/'] as const;

/** Schedule memo marking what this project created; anything without it is never touched. */
export const MANAGED_BY_MEMO = { managedBy: 'pulp-manager' } as const;
