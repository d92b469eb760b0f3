// Value lists shared by the schema (MySQL ENUM columns), the API (zod enums, /task_types,
// /task_states, /repo_health_statuses) and the metrics exporter. The order is part of the
// contract: MySQL sorts an ENUM column by declaration order, so `sort_by=state` orders tasks
// queued → running → … exactly like the original's integer ids did. Append new values at the
// end (an append is a metadata-only ALTER in MariaDB and keeps the existing order).

export const taskTypes = [
  'repo_sync',
  'repo_group_sync',
  'repo_snapshot',
  'repo_creation_from_git',
  'repo_removal',
  'remove_repo_content',
] as const;
export type TaskType = (typeof taskTypes)[number];

export const taskStates = [
  'queued',
  'running',
  'completed',
  'failed',
  'canceled',
  'failed_to_start',
  'skipped',
] as const;
export type TaskState = (typeof taskStates)[number];

/** States a task never leaves. */
export const finalTaskStates = [
  'completed',
  'failed',
  'canceled',
  'failed_to_start',
  'skipped',
] as const satisfies readonly TaskState[];

export const repoHealthStatuses = ['green', 'amber', 'red'] as const;
export type RepoHealthStatus = (typeof repoHealthStatuses)[number];

/**
 * How a secondary publishes deb repositories synced from its primary: `resign` publishes with
 * its own signing service, `verbatim` keeps the primary's signed Release files byte for byte.
 */
export const debPublishModes = ['resign', 'verbatim'] as const;
export type DebPublishMode = (typeof debPublishModes)[number];
