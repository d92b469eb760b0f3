// Reporting tables of Pulp Manager: the single source of truth for the database (drizzle-kit
// generates db/migrations from this file).
//
// Property names are the column names (snake_case) on purpose: the REST API, its query
// parameters (`date_queued__ge`, `sort_by=repo_sync_health`) and the original system all use
// these names, so rows travel from the DB to JSON without a renaming layer.
//
// Enumerations are MySQL ENUM columns: one byte per row like the original's SMALLINT ids, but
// readable in ad-hoc SQL, validated by the server, and sorted in declaration order (the order
// of the lists in db/enums.ts), which keeps the original's `sort_by=state` order.
//
// ON DELETE rules, and why:
// - deleting a pulp server removes its group links, its server repos and their task links
//   (CASCADE), never the tasks: tasks are history; their pulp_server_id becomes NULL.
// - a server that is still the primary (`pulp_master_id`) of another server's group link
//   cannot be deleted (RESTRICT): silently dropping the primary would make the secondary
//   sync from the upstream feeds instead. Config apply updates the links first.
// - a repo still present on a server cannot be deleted (RESTRICT, as the original).
// - deleting a task removes its stages, its server repo links and its child tasks (CASCADE):
//   a group sync and its repo syncs are purged together.
import {
  type AnyMySqlColumn,
  boolean,
  foreignKey,
  index,
  int,
  mysqlEnum,
  mysqlTable,
  primaryKey,
  smallint,
  text,
  uniqueIndex,
  varchar,
} from 'drizzle-orm/mysql-core';
import { auditDates, exactVarchar, jsonValue, utcDatetime } from './columnTypes.js';
import { debPublishModes, repoHealthStatuses, taskStates, taskTypes } from './enums.js';

/** A value of `tasks.error` and `task_stages.error`. */
export interface TaskError {
  msg: string;
  detail?: unknown;
}

function id() {
  return int('id', { unsigned: true }).autoincrement().primaryKey();
}

function reference(name: string) {
  return int(name, { unsigned: true });
}

type OnDelete = 'cascade' | 'restrict' | 'set null';

/**
 * A foreign key named `<table>__fk__<column>` like the original's: drizzle-kit's default names
 * exceed MySQL's 64-character identifier limit on our longer table names.
 */
function fk(table: string, column: AnyMySqlColumn, target: AnyMySqlColumn, onDelete: OnDelete) {
  return foreignKey({
    name: `${table}__fk__${column.name}`,
    columns: [column],
    foreignColumns: [target],
  }).onDelete(onDelete);
}

export const pulp_servers = mysqlTable(
  'pulp_servers',
  {
    id: id(),
    /** `host[:port]` as in pulp_config.yml; at most a 253-character hostname plus a port. */
    name: exactVarchar('name', { length: 255 }).notNull(),
    username: varchar('username', { length: 255 }).notNull(),
    /** NULL for servers whose password is local (PULP_MANAGER_LOCAL_AUTH), not from Vault. */
    vault_service_account_mount: varchar('vault_service_account_mount', { length: 255 }),
    snapshot_supported: boolean('snapshot_supported').notNull().default(false),
    max_concurrent_snapshots: smallint('max_concurrent_snapshots', { unsigned: true }),
    repo_config_registration_schedule: varchar('repo_config_registration_schedule', { length: 255 }),
    /** RQ-style duration as written in the config (`300`, `20m`, `6h`, `1d`). */
    repo_config_registration_max_runtime: varchar('repo_config_registration_max_runtime', { length: 16 }),
    repo_config_registration_regex_include: text('repo_config_registration_regex_include'),
    repo_config_registration_regex_exclude: text('repo_config_registration_regex_exclude'),
    repo_sync_health_rollup: mysqlEnum('repo_sync_health_rollup', repoHealthStatuses),
    repo_sync_health_rollup_date: utcDatetime('repo_sync_health_rollup_date'),
    ...auditDates(),
  },
  (t) => [
    uniqueIndex('pulp_servers__unique__name').on(t.name),
    index('pulp_servers__index__repo_sync_health_rollup').on(t.repo_sync_health_rollup),
  ],
);

export const repo_groups = mysqlTable(
  'repo_groups',
  {
    id: id(),
    name: exactVarchar('name', { length: 255 }).notNull(),
    regex_include: text('regex_include'),
    regex_exclude: text('regex_exclude'),
    ...auditDates(),
  },
  (t) => [uniqueIndex('repo_groups__unique__name').on(t.name)],
);

export const pulp_server_repo_groups = mysqlTable(
  'pulp_server_repo_groups',
  {
    pulp_server_id: reference('pulp_server_id').notNull(),
    repo_group_id: reference('repo_group_id').notNull(),
    /** Cron expression; NULL when the group is only synced on demand. */
    schedule: varchar('schedule', { length: 255 }),
    max_concurrent_syncs: smallint('max_concurrent_syncs', { unsigned: true }).notNull(),
    max_runtime: varchar('max_runtime', { length: 16 }).notNull(),
    /** The primary this server syncs the group from; NULL for a primary. */
    pulp_master_id: reference('pulp_master_id'),
    deb_publish_mode: mysqlEnum('deb_publish_mode', debPublishModes).notNull().default('resign'),
    ...auditDates(),
  },
  (t) => [
    primaryKey({ name: 'pulp_server_repo_groups__pk', columns: [t.pulp_server_id, t.repo_group_id] }),
    index('pulp_server_repo_groups__index__repo_group_id').on(t.repo_group_id),
    index('pulp_server_repo_groups__index__pulp_master_id').on(t.pulp_master_id),
    fk('pulp_server_repo_groups', t.pulp_server_id, pulp_servers.id, 'cascade'),
    fk('pulp_server_repo_groups', t.repo_group_id, repo_groups.id, 'cascade'),
    fk('pulp_server_repo_groups', t.pulp_master_id, pulp_servers.id, 'restrict'),
  ],
);

export const repos = mysqlTable(
  'repos',
  {
    id: id(),
    name: exactVarchar('name', { length: 512 }).notNull(),
    /** rpm, deb, file, container, python…: open-ended, so not an ENUM. */
    repo_type: exactVarchar('repo_type', { length: 32 }).notNull(),
    ...auditDates(),
  },
  (t) => [uniqueIndex('repos__unique__name').on(t.name), index('repos__index__repo_type').on(t.repo_type)],
);

export const pulp_server_repos = mysqlTable(
  'pulp_server_repos',
  {
    id: id(),
    pulp_server_id: reference('pulp_server_id').notNull(),
    repo_id: reference('repo_id').notNull(),
    repo_href: text('repo_href').notNull(),
    remote_href: text('remote_href'),
    remote_feed: text('remote_feed'),
    distribution_href: text('distribution_href'),
    repo_sync_health: mysqlEnum('repo_sync_health', repoHealthStatuses),
    repo_sync_health_date: utcDatetime('repo_sync_health_date'),
    ...auditDates(),
  },
  (t) => [
    uniqueIndex('pulp_server_repos__unique__pulp_server_id__repo_id').on(t.pulp_server_id, t.repo_id),
    index('pulp_server_repos__index__repo_id').on(t.repo_id),
    // The API lists a server's repos: pages in id order (an InnoDB secondary index ends with the
    // primary key, so this one is (pulp_server_id, id), which the unique index above is not),
    // filtered by health or by health date. Without them, a page of 10,000 server repos sorts
    // them all (bench/apiLatency.bench.ts).
    index('pulp_server_repos__index__pulp_server_id').on(t.pulp_server_id),
    index('pulp_server_repos__index__pulp_server_id__repo_sync_health').on(
      t.pulp_server_id,
      t.repo_sync_health,
    ),
    index('pulp_server_repos__index__pulp_server_id__repo_sync_health_date').on(
      t.pulp_server_id,
      t.repo_sync_health_date,
    ),
    fk('pulp_server_repos', t.pulp_server_id, pulp_servers.id, 'cascade'),
    fk('pulp_server_repos', t.repo_id, repos.id, 'restrict'),
  ],
);

export const tasks = mysqlTable(
  'tasks',
  {
    id: id(),
    name: exactVarchar('name', { length: 1024 }).notNull(),
    task_type: mysqlEnum('task_type', taskTypes).notNull(),
    state: mysqlEnum('state', taskStates).notNull(),
    parent_task_id: reference('parent_task_id'),
    /**
     * The server the task worked on, so metrics and filters need not parse it out of the name
     * as the original did. SET NULL: the task outlives the server.
     */
    pulp_server_id: reference('pulp_server_id'),
    task_args: jsonValue<Record<string, unknown>>('task_args').notNull(),
    date_queued: utcDatetime('date_queued').notNull(),
    date_started: utcDatetime('date_started'),
    date_finished: utcDatetime('date_finished'),
    worker_name: exactVarchar('worker_name', { length: 255 }),
    // Temporal ids are case-sensitive.
    workflow_id: exactVarchar('workflow_id', { length: 255 }),
    run_id: exactVarchar('run_id', { length: 64 }),
    error: jsonValue<TaskError>('error'),
    ...auditDates(),
  },
  (t) => [
    // (state) is (state, id) in InnoDB: `state = x` in id order, the API's default. (state,
    // date_queued): `state = x` by date (newest failures first), and the exporter's final-state
    // counts of the last 24 hours, one range per state.
    index('tasks__index__state').on(t.state),
    index('tasks__index__state__date_queued').on(t.state, t.date_queued),
    index('tasks__index__task_type').on(t.task_type),
    index('tasks__index__date_queued').on(t.date_queued),
    index('tasks__index__date_started').on(t.date_started),
    index('tasks__index__date_finished').on(t.date_finished),
    index('tasks__index__parent_task_id').on(t.parent_task_id),
    index('tasks__index__pulp_server_id__state').on(t.pulp_server_id, t.state),
    // A server's tasks of one type in id order (its group syncs, newest first): (pulp_server_id,
    // task_type, id), a range read in order instead of every task of the server.
    index('tasks__index__pulp_server_id__task_type').on(t.pulp_server_id, t.task_type),
    index('tasks__index__worker_name').on(t.worker_name),
    // One task per workflow run and type, so a retried or concurrent start of the same run
    // upserts instead of adding a row (db/taskRecords.ts upsertTaskForRun). The API's queued
    // rows have no run id until the start returns: NULLs never collide in a unique key. It also
    // serves lookups by workflow_id (leftmost column).
    uniqueIndex('tasks__unique__workflow_id__run_id__task_type').on(t.workflow_id, t.run_id, t.task_type),
    fk('tasks', t.parent_task_id, t.id, 'cascade'),
    fk('tasks', t.pulp_server_id, pulp_servers.id, 'set null'),
  ],
);

export const task_stages = mysqlTable(
  'task_stages',
  {
    id: id(),
    task_id: reference('task_id').notNull(),
    /**
     * Order of the stage within its task, chosen by the workflow (deterministic), so that a
     * retried activity upserts the same (task_id, position) row instead of adding a duplicate.
     */
    position: smallint('position', { unsigned: true }).notNull(),
    name: varchar('name', { length: 255 }).notNull(),
    detail: jsonValue<Record<string, unknown>>('detail'),
    error: jsonValue<TaskError>('error'),
    ...auditDates(),
  },
  (t) => [
    uniqueIndex('task_stages__unique__task_id__position').on(t.task_id, t.position),
    fk('task_stages', t.task_id, tasks.id, 'cascade'),
  ],
);

export const pulp_server_repo_tasks = mysqlTable(
  'pulp_server_repo_tasks',
  {
    pulp_server_repo_id: reference('pulp_server_repo_id').notNull(),
    task_id: reference('task_id').notNull(),
    /**
     * The task's date_queued (which never changes once the task is created), kept here so that
     * a repo's tasks by date are one index range: the busiest repo of a year's fleet has ~4,400
     * tasks, which sorting through the tasks table read row by row (~17 ms a page).
     */
    task_date_queued: utcDatetime('task_date_queued').notNull(),
    ...auditDates(),
  },
  (t) => [
    primaryKey({ name: 'pulp_server_repo_tasks__pk', columns: [t.pulp_server_repo_id, t.task_id] }),
    index('pulp_server_repo_tasks__index__task_id').on(t.task_id),
    // A repo's tasks newest first (the API's repo task list, the health window of each repo).
    index('pulp_server_repo_tasks__index__repo__date_queued').on(
      t.pulp_server_repo_id,
      t.task_date_queued,
      t.task_id,
    ),
    fk('pulp_server_repo_tasks', t.pulp_server_repo_id, pulp_server_repos.id, 'cascade'),
    fk('pulp_server_repo_tasks', t.task_id, tasks.id, 'cascade'),
  ],
);

export type PulpServer = typeof pulp_servers.$inferSelect;
export type NewPulpServer = typeof pulp_servers.$inferInsert;
export type RepoGroup = typeof repo_groups.$inferSelect;
export type NewRepoGroup = typeof repo_groups.$inferInsert;
export type PulpServerRepoGroup = typeof pulp_server_repo_groups.$inferSelect;
export type NewPulpServerRepoGroup = typeof pulp_server_repo_groups.$inferInsert;
export type Repo = typeof repos.$inferSelect;
export type NewRepo = typeof repos.$inferInsert;
export type PulpServerRepo = typeof pulp_server_repos.$inferSelect;
export type NewPulpServerRepo = typeof pulp_server_repos.$inferInsert;
export type Task = typeof tasks.$inferSelect;
export type NewTask = typeof tasks.$inferInsert;
export type TaskStage = typeof task_stages.$inferSelect;
export type NewTaskStage = typeof task_stages.$inferInsert;
export type PulpServerRepoTask = typeof pulp_server_repo_tasks.$inferSelect;
