// Converts, in place, a database of the ORIGINAL Pulp Manager (Python, SQLAlchemy + alembic,
// pulp/Pulp-manager) to this release's schema. `pulp-manager migrate` calls it before applying
// the committed migrations (db/migrate.ts).
//
// How, and why this way. MariaDB commits every DDL statement on its own, so the conversion
// cannot be one transaction. It is made of steps that each either finish or leave the database
// where a re-run picks up:
//  1. Checks, read-only: the alembic revision is one this release knows, and every value fits
//     the new columns (too-long names, unknown enum ids). Any problem refuses before a change.
//  2. One RENAME TABLE (atomic in MariaDB) moves the original's tables, alembic_version
//     included, aside as `original__<name>`: that is the backup and the "converting" mark.
//  3. Their foreign keys are dropped (InnoDB constraint names are unique per database, and ours
//     are the original's names), the new tables are created by our own migrations up to the
//     one this conversion was written against, and each is given the original's AUTO_INCREMENT
//     so an id the original handed out (and deleted) is never handed out again.
//  4. One InnoDB transaction copies every row, ids kept, and records the conversion in
//     `original__conversion`. A crash before the commit leaves empty new tables, which a re-run
//     drops and creates again; after it, the re-run finds the record and only applies the
//     remaining migrations.
// Building the new tables with our migrations (instead of ALTERing the original's) means the
// converted database is exactly what a fresh install is, so later migrations apply unchanged.
// The `original__*` tables stay as the backup until the operator drops them (the CLI prints how).
//
// RQ job ids: the original's `tasks.worker_job_id` goes to `tasks.workflow_id` (run_id NULL).
// The API serves it back as `worker_job_id` and filters on it; an RQ id never names a Temporal
// workflow, so cancelling such a task and the stale-task sweeper find "workflow not found" and
// only update the row, which is what must happen to an RQ job that no longer exists.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type mysql from 'mysql2/promise';
import { mysqlErrorNumber } from './driverErrors.js';
import { repoHealthStatuses, taskStates } from './enums.js';

const unknownSystemVariable = 1193;

/** The original's alembic head at pulp/Pulp-manager 8d3e650, the revision this converts. */
export const originalHeadRevision = '1d9d4fd3f6fa';
/** Alembic revisions whose schema this release converts (the original's head only). */
export const supportedOriginalRevisions: readonly string[] = [originalHeadRevision];

/** The original's tables, parents first. Ours have the same names. */
export const originalTables = [
  'pulp_servers',
  'repo_groups',
  'repos',
  'pulp_server_repo_groups',
  'pulp_server_repos',
  'tasks',
  'task_stages',
  'pulp_server_repo_tasks',
] as const;
type OriginalTable = (typeof originalTables)[number];

export const backupPrefix = 'original__';
const backupOf = (table: string) => `${backupPrefix}${table}`;
const conversionRecordTable = `${backupPrefix}conversion`;

/**
 * The committed migration whose schema the copy below was written against: the conversion
 * applies the migrations up to it, copies, and leaves the later ones to the normal migrate.
 */
export const conversionTargetMigration = '0002_tasks_unique_workflow_run';

export type OriginalDatabaseErrorCode =
  | 'ORIGINAL_DB_UNKNOWN_REVISION'
  | 'ORIGINAL_DB_MIXED_STATE'
  | 'ORIGINAL_DB_UNCONVERTIBLE_VALUES';

export class OriginalDatabaseError extends Error {
  constructor(
    readonly code: OriginalDatabaseErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'OriginalDatabaseError';
  }
}

export interface OriginalConversion {
  /** The alembic revision the original's schema was at. */
  revision: string;
  /** Rows copied, per table (0 for every table when an earlier run had already copied them). */
  rows: Record<OriginalTable, number>;
  /** Whether this call did the copy (false: a previous run had, this one finished the rest). */
  copied: boolean;
  /** The original's tables, kept as they were (without foreign keys) as the backup. */
  backupTables: string[];
}

type Conn = mysql.Connection;

async function rows<T>(conn: Conn, query: string, params: unknown[] = []): Promise<T[]> {
  const [result] = await conn.query(query, params);
  return result as T[];
}

async function tableNames(conn: Conn): Promise<Set<string>> {
  const found = await rows<{ name: string }>(
    conn,
    'SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()',
  );
  return new Set(found.map((r) => r.name));
}

async function databaseName(conn: Conn): Promise<string> {
  const [row] = await rows<{ name: string | null }>(conn, 'SELECT DATABASE() AS name');
  return row?.name ?? '(no database selected)';
}

async function alembicRevisions(conn: Conn, table: string): Promise<string[]> {
  const found = await rows<{ v: string }>(conn, `SELECT version_num AS v FROM \`${table}\``);
  return found.map((r) => r.v);
}

// ------------------------------------------------------------------------------ value checks --

interface ValueCheck {
  table: OriginalTable;
  column: string;
  /** SQL condition true for a row whose value does not fit. */
  bad: string;
  reason: string;
  /** Column that identifies a row in the message (the original's composite keys have no id). */
  key?: string;
}

const linkKey = "CONCAT(pulp_server_id, '/', repo_group_id)";

const tooLong = (table: OriginalTable, column: string, key?: string): ValueCheck => ({
  table,
  column,
  bad: `CHAR_LENGTH(${column}) > 255`,
  reason: 'longer than 255 characters',
  key,
});

const negative = (table: OriginalTable, column: string, key?: string): ValueCheck => ({
  table,
  column,
  bad: `${column} < 0`,
  reason: 'negative',
  key,
});

/** A SMALLINT id of one of the original's Python enums, 1…count. */
const notAnId = (table: OriginalTable, column: string, enumName: string, count: number): ValueCheck => ({
  table,
  column,
  bad: `${column} NOT BETWEEN 1 AND ${count}`,
  reason: `not a ${enumName} id (1-${count})`,
});

/** Values of the original's columns that would not fit ours; each one refuses the conversion. */
const valueChecks: ValueCheck[] = [
  tooLong('pulp_servers', 'name'),
  tooLong('pulp_servers', 'repo_config_registration_schedule'),
  negative('pulp_servers', 'max_concurrent_snapshots'),
  notAnId('pulp_servers', 'repo_sync_health_rollup_id', 'RepoHealthStatus', repoHealthStatuses.length),
  tooLong('repo_groups', 'name'),
  tooLong('pulp_server_repo_groups', 'schedule', linkKey),
  negative('pulp_server_repo_groups', 'max_concurrent_syncs', linkKey),
  notAnId('pulp_server_repos', 'repo_sync_health_id', 'RepoHealthStatus', repoHealthStatuses.length),
  // TaskType has six names but five ids (5 is both removal kinds, see taskTypeSql).
  notAnId('tasks', 'task_type_id', 'TaskType', 5),
  notAnId('tasks', 'state_id', 'TaskState', taskStates.length),
  tooLong('tasks', 'worker_name'),
  tooLong('tasks', 'worker_job_id'),
  tooLong('task_stages', 'name'),
];

/** Every value that would not fit, one line per table and column (at most 10 row keys each). */
export async function findUnconvertibleValues(conn: Conn, tablePrefix = ''): Promise<string[]> {
  const problems: string[] = [];
  for (const check of valueChecks) {
    const key = check.key ?? 'id';
    const found = await rows<{ n: number | string; sample: string | null }>(
      conn,
      `SELECT COUNT(*) AS n, SUBSTRING_INDEX(GROUP_CONCAT(${key} ORDER BY ${key} SEPARATOR ','), ',', 10) AS sample
       FROM \`${tablePrefix}${check.table}\` WHERE ${check.bad}`,
    );
    const n = Number(found[0]?.n ?? 0);
    if (n > 0) {
      const keyName = check.key === undefined ? 'id' : 'pulp_server_id/repo_group_id';
      problems.push(
        `${check.table}.${check.column}: ${n} row(s) ${check.reason} (${keyName} ${found[0]?.sample ?? ''}${n > 10 ? ', …' : ''})`,
      );
    }
  }
  return problems;
}

// --------------------------------------------------------------------------------- mappings --

/** SQL mapping the original's SMALLINT id column to our ENUM value (ELT is 1-based like the ids). */
function enumFromId(column: string, values: readonly string[]): string {
  return `ELT(${column}, ${values.map((v) => `'${v}'`).join(', ')})`;
}

/**
 * The original's TaskType ids. 5 is both `repo_removal` and `remove_repo_content` (a Python
 * enum alias, so the original stored and showed both as `repo_removal`); the original named its
 * remove-content tasks "remove repo content <server>", which tells the two apart here.
 */
export const taskTypeSql = `CASE t.task_type_id
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
export function jsonObjectSql(column: string, wrapKey: string): string {
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
export function errorJsonSql(column: string): string {
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

// ---------------------------------------------------------------------------------- steps --

/**
 * A folder holding the committed migrations up to `conversionTargetMigration`, for drizzle's
 * migrator: the copy is written against that schema, whatever later releases add.
 */
function migrationsUpToTarget(migrationsFolder: string): string {
  const journal = JSON.parse(readFileSync(`${migrationsFolder}/meta/_journal.json`, 'utf8')) as {
    entries: { tag: string }[];
  };
  const end = journal.entries.findIndex((e) => e.tag === conversionTargetMigration);
  if (end < 0) {
    throw new Error(
      `${migrationsFolder}: the migration ${conversionTargetMigration} the conversion needs is missing`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'pulp-manager-convert-'));
  const entries = journal.entries.slice(0, end + 1);
  mkdirSync(join(dir, 'meta'));
  writeFileSync(join(dir, 'meta', '_journal.json'), JSON.stringify({ ...journal, entries }));
  for (const entry of entries) {
    writeFileSync(join(dir, `${entry.tag}.sql`), readFileSync(`${migrationsFolder}/${entry.tag}.sql`));
  }
  return dir;
}

async function dropBackupForeignKeys(conn: Conn): Promise<void> {
  const backups = originalTables.map(backupOf);
  const fks = await rows<{ name: string; tableName: string }>(
    conn,
    `SELECT CONSTRAINT_NAME AS name, TABLE_NAME AS tableName FROM information_schema.REFERENTIAL_CONSTRAINTS
      WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME IN (?)`,
    [backups],
  );
  for (const fk of fks) await conn.query(`ALTER TABLE \`${fk.tableName}\` DROP FOREIGN KEY \`${fk.name}\``);
}

/**
 * Our tables left by a run that stopped before its copy committed: they can only be empty
 * (the copy is one transaction), so they are dropped and built again from the migrations.
 */
async function dropUncommittedNewTables(conn: Conn, tables: Set<string>, database: string): Promise<void> {
  const present = originalTables.filter((t) => tables.has(t));
  for (const table of present) {
    const [row] = await rows<{ n: number | string }>(conn, `SELECT COUNT(*) AS n FROM \`${table}\``);
    if (Number(row?.n ?? 0) > 0) {
      throw new OriginalDatabaseError(
        'ORIGINAL_DB_MIXED_STATE',
        `database ${database}: the original's tables were moved aside as ${backupPrefix}* but table ${table} already ` +
          `holds rows and no conversion was recorded in ${conversionRecordTable}; restore the backup taken before ` +
          '`pulp-manager migrate` and run it again',
      );
    }
  }
  await conn.query('SET FOREIGN_KEY_CHECKS = 0');
  try {
    for (const table of [...present, '__drizzle_migrations'])
      await conn.query(`DROP TABLE IF EXISTS \`${table}\``);
  } finally {
    await conn.query('SET FOREIGN_KEY_CHECKS = 1');
  }
}

/** The original's next id per table, so an id it handed out and deleted is not reused. */
async function carryAutoIncrements(conn: Conn): Promise<void> {
  // MySQL 8 answers information_schema.TABLES from statistics cached up to a day; MariaDB has
  // no such variable (error 1193) and answers live values.
  await conn.query('SET SESSION information_schema_stats_expiry = 0').catch((err: unknown) => {
    if (mysqlErrorNumber(err) !== unknownSystemVariable) throw err;
  });
  const withIds = originalTables.filter(
    (t) => !['pulp_server_repo_groups', 'pulp_server_repo_tasks'].includes(t),
  );
  for (const table of withIds) {
    const [row] = await rows<{ next: number | string | null }>(
      conn,
      `SELECT GREATEST(COALESCE((SELECT AUTO_INCREMENT FROM information_schema.TABLES
                                  WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?), 1),
                       COALESCE((SELECT MAX(id) + 1 FROM \`${backupOf(table)}\`), 1)) AS next`,
      [backupOf(table)],
    );
    const next = Number(row?.next ?? 1);
    if (next > 1) await conn.query(`ALTER TABLE \`${table}\` AUTO_INCREMENT = ${next}`);
  }
}

async function copyRows(conn: Conn, revision: string): Promise<Record<OriginalTable, number>> {
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

export interface ConvertOriginalOptions {
  migrationsFolder: string;
  /** Applies the migrations of a folder (db/migrate.ts passes drizzle's migrator). */
  applyMigrations: (folder: string) => Promise<void>;
}

/**
 * Converts a database of the original Pulp Manager (recognised by its alembic_version table),
 * or finishes a conversion an earlier run began; returns null for any other database. Refuses,
 * before changing anything, an alembic revision it does not know, values that do not fit, and
 * a database holding both the original's tables and ours. Call it holding the migrate lock.
 */
export async function convertOriginalDatabase(
  conn: Conn,
  options: ConvertOriginalOptions,
): Promise<OriginalConversion | null> {
  const database = await databaseName(conn);
  let tables = await tableNames(conn);
  if (tables.has('alembic_version')) {
    if (tables.has(backupOf('alembic_version'))) {
      throw new OriginalDatabaseError(
        'ORIGINAL_DB_MIXED_STATE',
        `database ${database} has both alembic_version and ${backupOf('alembic_version')}: it was converted ` +
          "before and the original's tables were brought back beside the backup; restore the backup taken before " +
          'the first `pulp-manager migrate` (or drop one of the two sets of tables) and run it again',
      );
    }
    const revisions = await alembicRevisions(conn, 'alembic_version');
    const revision = revisions[0];
    if (revisions.length !== 1 || revision === undefined || !supportedOriginalRevisions.includes(revision)) {
      const found = revisions.length === 0 ? '(none: the table is empty)' : revisions.join(', ');
      throw new OriginalDatabaseError(
        'ORIGINAL_DB_UNKNOWN_REVISION',
        `database ${database} holds the original Pulp Manager's schema at alembic revision ${found}; this release ` +
          `converts revision ${supportedOriginalRevisions.join(', ')} (the original's head) only: run the ` +
          "original's `alembic upgrade head` first, then `pulp-manager migrate` again. Nothing was changed.",
      );
    }
    if (tables.has('__drizzle_migrations')) {
      throw new OriginalDatabaseError(
        'ORIGINAL_DB_MIXED_STATE',
        `database ${database} has both the original's alembic_version and this release's __drizzle_migrations; ` +
          'point `pulp-manager migrate` at a database holding one or the other. Nothing was changed.',
      );
    }
    const missing = originalTables.filter((t) => !tables.has(t));
    const taken = [...originalTables, 'alembic_version', 'conversion']
      .map(backupOf)
      .filter((t) => tables.has(t));
    if (missing.length > 0 || taken.length > 0) {
      const why = [
        missing.length > 0 ? `it lacks the original's table(s) ${missing.join(', ')}` : '',
        taken.length > 0 ? `the backup name(s) ${taken.join(', ')} are taken` : '',
      ].filter((s) => s !== '');
      throw new OriginalDatabaseError(
        'ORIGINAL_DB_MIXED_STATE',
        `database ${database} has the original's alembic_version at ${revision} but ${why.join(' and ')}. Nothing was changed.`,
      );
    }
    const problems = await findUnconvertibleValues(conn);
    if (problems.length > 0) {
      throw new OriginalDatabaseError(
        'ORIGINAL_DB_UNCONVERTIBLE_VALUES',
        `database ${database}: ${problems.length} column(s) of the original hold values this release cannot ` +
          `store; fix them (in the original, or with SQL) and run \`pulp-manager migrate\` again. Nothing was changed.\n${problems
            .map((p) => `  - ${p}`)
            .join('\n')}`,
      );
    }
    // One statement: MariaDB renames all or none.
    await conn.query(
      `RENAME TABLE ${['alembic_version', ...originalTables].map((t) => `\`${t}\` TO \`${backupOf(t)}\``).join(', ')}`,
    );
    tables = await tableNames(conn);
  }
  if (!tables.has(backupOf('alembic_version'))) return null;

  const revision = (await alembicRevisions(conn, backupOf('alembic_version')))[0] ?? '';
  const backupTables = [...originalTables, 'alembic_version'].map(backupOf);
  if (tables.has(conversionRecordTable)) {
    const [done] = await rows<{ n: number | string }>(
      conn,
      `SELECT COUNT(*) AS n FROM \`${conversionRecordTable}\``,
    );
    if (Number(done?.n ?? 0) > 0) {
      const rows0 = Object.fromEntries(originalTables.map((t) => [t, 0])) as Record<OriginalTable, number>;
      return { revision, rows: rows0, copied: false, backupTables: [...backupTables, conversionRecordTable] };
    }
  }
  await dropBackupForeignKeys(conn);
  await conn.query(
    `CREATE TABLE IF NOT EXISTS \`${conversionRecordTable}\` (alembic_revision varchar(32) NOT NULL, converted_at datetime(3) NOT NULL)`,
  );
  await dropUncommittedNewTables(conn, tables, database);
  const folder = migrationsUpToTarget(options.migrationsFolder);
  try {
    await options.applyMigrations(folder);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
  await carryAutoIncrements(conn);
  const counts = await copyRows(conn, revision);
  return { revision, rows: counts, copied: true, backupTables: [...backupTables, conversionRecordTable] };
}
