/**
 * Every workflow id and schedule id, in one module that workflows, the API, schedules and tests
 * share (plain functions and constants: the workflow bundle imports it too).
 */

/**
 * A repo's sync, whoever starts it. One id per server repo: Temporal refuses a second
 * concurrent run with the same id, which is what keeps two syncs of a repo from overlapping.
 */
export const repoSyncWorkflowId = (server: string, repo: string) => `repo-sync/${server}/${repo}`;
/** One snapshot repository's copy: two runs never write the same snapshot at once. */
export const snapshotRepoWorkflowId = (server: string, snapshotName: string) =>
  `repo-snapshot/${server}/${snapshotName}`;

/** First segments of the ids of workflows the API starts (schedules use their own ids). */
export const API_WORKFLOW_ID_PREFIXES = {
  repoGroupSync: 'repo-group-sync',
  snapshotRepos: 'snapshot-repos',
  repoRemoval: 'repo-removal',
  removeRepoContent: 'remove-repo-content',
} as const;
export type ApiWorkflowKind = keyof typeof API_WORKFLOW_ID_PREFIXES;
/** `<prefix>/<server>/api-<unique>`: chosen by the API before the start, stored in the Task. */
export const apiWorkflowId = (kind: ApiWorkflowKind, server: string, unique: string) =>
  `${API_WORKFLOW_ID_PREFIXES[kind]}/${server}/api-${unique}`;

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
