/** Workflow type names and id schemes shared by schedules, the API and the worker. */
export const WORKFLOW_TYPES = {
  repoGroupSync: 'repoGroupSyncWorkflow',
  repoRegistration: 'repoRegistrationWorkflow',
  repoSync: 'repoSyncWorkflow',
  snapshotRepos: 'snapshotReposWorkflow',
  repoRemoval: 'repoRemovalWorkflow',
  removeRepoContent: 'removeRepoContentWorkflow',
  sweepStaleTasks: 'sweepStaleTasksWorkflow',
} as const;

export const repoGroupSyncScheduleId = (server: string, group: string) =>
  `repo-group-sync/${server}/${group}`;
export const repoRegistrationScheduleId = (server: string) => `repo-registration/${server}`;
/** Per-server schedules: the id's second segment is the Pulp server (the API and metrics read it). */
export const MANAGED_SCHEDULE_PREFIXES = ['repo-group-sync/', 'repo-registration/'] as const;
/** The stale-task sweeper (workflows/sweepStaleTasks.ts): one per namespace, whatever the fleet. */
export const SWEEP_STALE_TASKS_SCHEDULE_ID = 'pulp-manager/sweep-stale-tasks';
/** Schedules of Pulp Manager itself, not of a server: reconciled, not listed per server. */
export const MAINTENANCE_SCHEDULE_IDS: readonly string[] = [SWEEP_STALE_TASKS_SCHEDULE_ID];

/** Whether the reconciler owns this id (it also requires the MANAGED_BY_MEMO memo). */
export const isManagedScheduleId = (scheduleId: string) =>
  MANAGED_SCHEDULE_PREFIXES.some((p) => scheduleId.startsWith(p)) ||
  MAINTENANCE_SCHEDULE_IDS.includes(scheduleId);

/** Schedule memo marking what this project created; anything without it is never touched. */
export const MANAGED_BY_MEMO = { managedBy: 'pulp-manager' } as const;
