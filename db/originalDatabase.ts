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
import { mysqlErrorNumber } from './driverErrors.js';
import { copyRows } from './originalRowCopy.js';
import {
  backupOf,
  backupPrefix,
  type Conn,
  conversionRecordTable,
  conversionTargetMigration,
  type OriginalTable,
  originalTables,
  queryRows as rows,
  supportedOriginalRevisions,
} from './originalSchema.js';
import { findUnconvertibleValues } from './originalValueChecks.js';

const unknownSystemVariable = 1193;

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
