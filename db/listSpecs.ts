// The list endpoints' rows and allow-lists, one spec per endpoint of SPEC "REST API". Filters
// are the original's for each route; every filterable field also sorts, plus id/name where
// the original let any attribute be sorted on. Fixed conditions from the route (server id,
// server repo id) are passed to listPage as `where`.
import { eq, getTableColumns } from 'drizzle-orm';
import { repoHealthStatuses, taskStates, taskTypes } from './enums.js';
import { defineListSpec } from './listQuery.js';
import {
  pulp_server_repo_groups,
  pulp_server_repo_tasks,
  pulp_server_repos,
  pulp_servers,
  repo_groups,
  repos,
  tasks,
} from './schema.js';

/** GET /v1/pulp_servers */
export const pulpServerList = defineListSpec({
  from: pulp_servers,
  select: getTableColumns(pulp_servers),
  fields: {
    id: { column: pulp_servers.id, kind: 'number', filter: false },
    name: { column: pulp_servers.name, kind: 'string' },
    repo_sync_health_rollup: {
      column: pulp_servers.repo_sync_health_rollup,
      kind: 'enum',
      values: repoHealthStatuses,
    },
    repo_sync_health_rollup_date: { column: pulp_servers.repo_sync_health_rollup_date, kind: 'date' },
    snapshot_supported: { column: pulp_servers.snapshot_supported, kind: 'boolean' },
  },
});

/** GET /v1/pulp_servers/{id}/repos — where: eq(pulp_server_repos.pulp_server_id, id) */
export const serverRepoList = defineListSpec({
  from: pulp_server_repos,
  joins: [{ type: 'inner', table: repos, on: eq(repos.id, pulp_server_repos.repo_id), exactlyOne: true }],
  select: {
    ...getTableColumns(pulp_server_repos),
    name: repos.name,
    repo_type: repos.repo_type,
  },
  fields: {
    id: { column: pulp_server_repos.id, kind: 'number', filter: false },
    repo_id: { column: pulp_server_repos.repo_id, kind: 'number', filter: false },
    name: { column: repos.name, kind: 'string' },
    repo_type: { column: repos.repo_type, kind: 'string' },
    repo_sync_health: {
      column: pulp_server_repos.repo_sync_health,
      kind: 'enum',
      values: repoHealthStatuses,
    },
    repo_sync_health_date: { column: pulp_server_repos.repo_sync_health_date, kind: 'date' },
  },
});

/** GET /v1/pulp_servers/{id}/repo_groups — where: eq(pulp_server_repo_groups.pulp_server_id, id) */
export const serverRepoGroupList = defineListSpec({
  from: pulp_server_repo_groups,
  joins: [
    {
      type: 'inner',
      table: repo_groups,
      on: eq(repo_groups.id, pulp_server_repo_groups.repo_group_id),
      exactlyOne: true,
    },
  ],
  select: {
    ...getTableColumns(pulp_server_repo_groups),
    name: repo_groups.name,
    regex_include: repo_groups.regex_include,
    regex_exclude: repo_groups.regex_exclude,
  },
  fields: {
    repo_group_id: { column: pulp_server_repo_groups.repo_group_id, kind: 'number', filter: false },
    name: { column: repo_groups.name, kind: 'string' },
  },
});

const taskFilterFields = {
  task_type: { column: tasks.task_type, kind: 'enum', values: taskTypes },
  state: { column: tasks.state, kind: 'enum', values: taskStates },
  worker_name: { column: tasks.worker_name, kind: 'string' },
  date_queued: { column: tasks.date_queued, kind: 'date' },
  date_started: { column: tasks.date_started, kind: 'date' },
  date_finished: { column: tasks.date_finished, kind: 'date' },
} as const;

/** GET /v1/tasks */
export const taskList = defineListSpec({
  from: tasks,
  select: getTableColumns(tasks),
  fields: {
    id: { column: tasks.id, kind: 'number', filter: false },
    name: { column: tasks.name, kind: 'string' },
    parent_task_id: { column: tasks.parent_task_id, kind: 'number' },
    pulp_server_id: { column: tasks.pulp_server_id, kind: 'number' },
    workflow_id: { column: tasks.workflow_id, kind: 'string' },
    // The original's name of the same column (its RQ job id; migrated rows keep it there).
    worker_job_id: { column: tasks.workflow_id, kind: 'string' },
    ...taskFilterFields,
  },
});

/**
 * GET /v1/pulp_servers/{id}/repos/{repo_id}/tasks —
 * where: eq(pulp_server_repo_tasks.pulp_server_repo_id, <the server repo's id>)
 */
export const serverRepoTaskList = defineListSpec({
  from: tasks,
  joins: [{ type: 'inner', table: pulp_server_repo_tasks, on: eq(pulp_server_repo_tasks.task_id, tasks.id) }],
  select: getTableColumns(tasks),
  fields: {
    id: { column: tasks.id, kind: 'number', filter: false },
    name: { column: tasks.name, kind: 'string', filter: false },
    ...taskFilterFields,
    // The link's copy of the task's date_queued: with the link's task_id as the tiebreak, the
    // order by date (the API's "newest first") is the index (pulp_server_repo_id,
    // task_date_queued, task_id) read from one end, 51 entries a page, not every task of the repo.
    date_queued: { column: pulp_server_repo_tasks.task_date_queued, kind: 'date' },
  },
  tiebreak: [pulp_server_repo_tasks.task_id],
});
