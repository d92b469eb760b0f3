// The copy of the original's rows into this release's tables (db/originalDatabase.ts step 4):
// one INSERT … SELECT per table with every id kept, in one InnoDB transaction.
import type mysql from 'mysql2/promise';
import { repoHealthStatuses, taskStates } from './enums.js';
import {
  backupOf,
  type Conn,
  conversionRecordTable,
  type OriginalTable,
  originalTables,
} from './originalSchema.js';

/** SQL mapping the original's SMALLINT id column to our ENUM value (ELT is 1-based like the ids). */
function enumFromId(column: string, values: readonly string[]): string {
  return `ELT(${column}, ${values.map((v) => `'${v}'`).join(', ')})`;
}

/**
 * The original's TaskType ids. 5 is both `repo_removal` and `remove_repo_content` (a Python
 * enum alias, so the original stored and showed both as `repo_removal`); the original named its
 * remove-content tasks "remove repo content <server>", which tells the two apart here.
 */
const taskTypeSql = `CASE t.task_type_id
  WHEN 1 THEN 'repo_sync'
  WHEN 2 THEN 'repo_group_sync'
  WHEN 3 THEN 'repo_snapshot'
  WHEN 4 THEN 'repo_creation_from_git'
  WHEN 5 THEN IF(t.name LIKE 'remove repo content %', 'remove_repo_content', 'repo_removal')
END`;

/**
 * A JSON text column of the original (json.dumps of a dict) as our JSON object column. A value
 * that is not a JSON object (never written by the original's code, but possible by hand) is
 * kept whole under `wrapKey` instead of being lost.
 */
function jsonObjectSql(column: string, wrapKey: string): string {
  return `CASE
  WHEN ${column} IS NULL THEN NULL
  WHEN JSON_VALID(${column}) AND JSON_TYPE(${column}) = 'OBJECT' THEN ${column}
  WHEN JSON_VALID(${column}) THEN JSON_OBJECT('${wrapKey}', JSON_EXTRACT(${column}, '$'))
  ELSE JSON_OBJECT('${wrapKey}', ${column})
END`;
}

/**
 * The original's error text (json.dumps of `{"msg", "detail"}`, or `{"message": trace}` from its
 * task service) as our error object, which always has a string `msg`. Every key of the
 * original is kept; `msg` is added where it was missing. JSON `null` is no error.
 */
function errorJsonSql(column: string): string {
  return `CASE
  WHEN ${column} IS NULL THEN NULL
  WHEN NOT JSON_VALID(${column}) THEN JSON_OBJECT('msg', ${column})
  WHEN JSON_TYPE(${column}) = 'NULL' THEN NULL
  WHEN JSON_TYPE(${column}) = 'OBJECT' AND JSON_TYPE(JSON_EXTRACT(${column}, '$.msg')) = 'STRING' THEN ${column}
  WHEN JSON_TYPE(${column}) = 'OBJECT' AND JSON_TYPE(JSON_EXTRACT(${column}, '$.message')) = 'STRING'
    THEN JSON_INSERT(${column}, '$.msg', JSON_VALUE(${column}, '$.message'))
  WHEN JSON_TYPE(${column}) = 'OBJECT' THEN JSON_INSERT(${column}, '$.msg', 'error recorded by the original Pulp Manager')
  ELSE JSON_OBJECT('msg', 'error recorded by the original Pulp Manager', 'detail', JSON_EXTRACT(${column}, '$'))
END`;
}

const health = (column: string) => enumFromId(column, repoHealthStatuses);

/** One INSERT … SELECT per table, from `original__<table>` into ours, every id kept. */
function copyStatements(): Record<OriginalTable, string> {
  const o = backupOf;
  return {
    pulp_servers: `INSERT INTO pulp_servers (id, name, username, vault_service_account_mount, snapshot_supported,
        max_concurrent_snapshots, repo_config_registration_schedule, repo_config_registration_max_runtime,
        repo_config_registration_regex_include, repo_config_registration_regex_exclude,
        repo_sync_health_rollup, repo_sync_health_rollup_date, date_created, date_last_updated)
      SELECT id, name, username, vault_service_account_mount, COALESCE(snapshot_supported, 0),
        max_concurrent_snapshots, repo_config_registration_schedule, repo_config_registration_max_runtime,
        repo_config_registration_regex_include, repo_config_registration_regex_exclude,
        ${health('repo_sync_health_rollup_id')}, repo_sync_health_rollup_date, date_created, date_last_updated
      FROM ${o('pulp_servers')}`,
    repo_groups: `INSERT INTO repo_groups (id, name, regex_include, regex_exclude, date_created, date_last_updated)
      SELECT id, name, regex_include, regex_exclude, date_created, date_last_updated FROM ${o('repo_groups')}`,
    repos: `INSERT INTO repos (id, name, repo_type, date_created, date_last_updated)
      SELECT id, name, repo_type, date_created, date_last_updated FROM ${o('repos')}`,
    // deb_publish_mode takes its default (resign): the next `config apply` sets it from the file.
    pulp_server_repo_groups: `INSERT INTO pulp_server_repo_groups (pulp_server_id, repo_group_id, schedule,
        max_concurrent_syncs, max_runtime, pulp_master_id, date_created, date_last_updated)
      SELECT pulp_server_id, repo_group_id, schedule, max_concurrent_syncs, max_runtime, pulp_master_id,
        date_created, date_last_updated
      FROM ${o('pulp_server_repo_groups')}`,
    pulp_server_repos: `INSERT INTO pulp_server_repos (id, pulp_server_id, repo_id, repo_href, remote_href, remote_feed,
        distribution_href, repo_sync_health, repo_sync_health_date, date_created, date_last_updated)
      SELECT id, pulp_server_id, repo_id, repo_href, remote_href, remote_feed, distribution_href,
        ${health('repo_sync_health_id')}, repo_sync_health_date, date_created, date_last_updated
      FROM ${o('pulp_server_repos')}`,
    tasks: `INSERT INTO tasks (id, name, task_type, state, parent_task_id, pulp_server_id, task_args, date_queued,
        date_started, date_finished, worker_name, workflow_id, run_id, error, date_created, date_last_updated)
      SELECT t.id, t.name, ${taskTypeSql}, ${enumFromId('t.state_id', taskStates)}, t.parent_task_id, NULL,
        ${jsonObjectSql('t.task_args_str', 'original_task_args')}, t.date_queued, t.date_started, t.date_finished,
        t.worker_name, t.worker_job_id, NULL, ${errorJsonSql('t.error_str')}, t.date_created, t.date_last_updated
      FROM ${o('tasks')} t`,
    // The original ordered a task's stages by id; position keeps that order (0-based).
    task_stages: `INSERT INTO task_stages (id, task_id, position, name, detail, error, date_created, date_last_updated)
      SELECT s.id, s.task_id, ROW_NUMBER() OVER (PARTITION BY s.task_id ORDER BY s.id) - 1, s.name,
        ${jsonObjectSql('s.detail_str', 'original_detail')}, ${errorJsonSql('s.error_str')},
        s.date_created, s.date_last_updated
      FROM ${o('task_stages')} s`,
    pulp_server_repo_tasks: `INSERT INTO pulp_server_repo_tasks (pulp_server_repo_id, task_id, date_created, date_last_updated)
      SELECT pulp_server_repo_id, task_id, date_created, date_last_updated FROM ${o('pulp_server_repo_tasks')}`,
  };
}

/**
 * tasks.pulp_server_id is new: the original kept the server only in a task's name and args.
 * Filled from, in order: the server repo the task is linked to; the server named in the args
 * (`name` of a group sync, `pulp_server_name` of a remove-content task); the server in the
 * name as the original wrote it; the parent task's server. A task none of these name keeps NULL.
 */
const serverOfTaskStatements = [
  `UPDATE tasks t
     JOIN (SELECT l.task_id, MIN(r.pulp_server_id) AS server_id
             FROM pulp_server_repo_tasks l JOIN pulp_server_repos r ON r.id = l.pulp_server_repo_id
            GROUP BY l.task_id) s ON s.task_id = t.id
     SET t.pulp_server_id = s.server_id
   WHERE t.pulp_server_id IS NULL`,
  `UPDATE tasks t JOIN pulp_servers p
       ON p.name = COALESCE(JSON_VALUE(t.task_args, '$.pulp_server_name'), JSON_VALUE(t.task_args, '$.name'))
     SET t.pulp_server_id = p.id
   WHERE t.pulp_server_id IS NULL AND t.task_type IN ('repo_group_sync', 'remove_repo_content')`,
  `UPDATE tasks t JOIN pulp_servers p
       ON t.name IN (CONCAT('repo sync ', p.name), CONCAT('remove repo content ', p.name),
                     CONCAT('snapshot repos ', p.name), CONCAT('remove repos ', p.name),
                     CONCAT(p.name, ' repo registration'), CONCAT(p.name, ' repo removal'))
          OR t.name LIKE CONCAT(REPLACE(REPLACE(REPLACE(p.name, '\\\\', '\\\\\\\\'), '%', '\\\\%'), '_', '\\\\_'), ' repo sync %')
     SET t.pulp_server_id = p.id
   WHERE t.pulp_server_id IS NULL`,
];

/** Children get their parent's server, one generation per statement (a group sync has two). */
const serverFromParentStatement = `UPDATE tasks c JOIN tasks p ON p.id = c.parent_task_id
     SET c.pulp_server_id = p.pulp_server_id
   WHERE c.pulp_server_id IS NULL AND p.pulp_server_id IS NOT NULL`;

/** Copies every row and records the conversion, all or nothing; returns the rows per table. */
export async function copyRows(conn: Conn, revision: string): Promise<Record<OriginalTable, number>> {
  const statements = copyStatements();
  const counts = Object.fromEntries(originalTables.map((t) => [t, 0])) as Record<OriginalTable, number>;
  await conn.beginTransaction();
  try {
    // The original enforced the same references; checking them row by row would only impose an
    // insert order (tasks reference tasks).
    await conn.query('SET FOREIGN_KEY_CHECKS = 0');
    for (const table of originalTables) {
      try {
        const [res] = await conn.query<mysql.ResultSetHeader>(statements[table]);
        counts[table] = res.affectedRows;
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        throw new Error(`copying ${backupOf(table)} into ${table} failed: ${reason}`, { cause: err });
      }
    }
    for (const statement of serverOfTaskStatements) await conn.query(statement);
    for (let generation = 0; generation < 5; generation++) {
      const [res] = await conn.query<mysql.ResultSetHeader>(serverFromParentStatement);
      if (res.affectedRows === 0) break;
    }
    await conn.query(
      `INSERT INTO \`${conversionRecordTable}\` (alembic_revision, converted_at) VALUES (?, UTC_TIMESTAMP(3))`,
      [revision],
    );
    await conn.query('SET FOREIGN_KEY_CHECKS = 1');
    await conn.commit();
  } catch (err) {
    await conn.rollback();
    await conn.query('SET FOREIGN_KEY_CHECKS = 1');
    throw err;
  }
  return counts;
}
