import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { drizzle, type MySql2Database } from 'drizzle-orm/mysql2';
import { migrate } from 'drizzle-orm/mysql2/migrator';
import mysql from 'mysql2/promise';
import { z } from 'zod';
import { connectionOptions, type DatabaseSettings, sessionSetupSql } from './client.js';
import { mysqlErrno, mysqlErrorNumber } from './driverErrors.js';
import { convertOriginalDatabase, type OriginalConversion } from './originalDatabase.js';

/**
 * The committed migrations (drizzle-kit output). A build must ship this folder next to the
 * compiled migrate.js.
 */
export const defaultMigrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

/** drizzle's default bookkeeping table, named here because assertMigrated reads it too. */
const migrationsTable = '__drizzle_migrations';

const journalSchema = z.object({
  entries: z.array(z.object({ idx: z.number(), when: z.number(), tag: z.string() })),
});

export interface MigrationStatus {
  database: string;
  /** Rows in the migrations table (0 when it does not exist). */
  applied: number;
  /** Tags of committed migrations not applied yet, oldest first. */
  pending: string[];
}

export class DatabaseNotMigratedError extends Error {
  readonly code = 'DB_NOT_MIGRATED';
  readonly database: string;
  readonly pending: string[];

  constructor(status: MigrationStatus) {
    const detail =
      status.applied === 0
        ? 'no migration has been applied'
        : `${status.pending.length} migration(s) pending: ${status.pending.join(', ')}`;
    super(`database ${status.database} is not migrated: run \`pulp-manager migrate\` (${detail})`);
    this.name = 'DatabaseNotMigratedError';
    this.database = status.database;
    this.pending = status.pending;
  }
}

export interface MigrateOptions {
  migrationsFolder?: string;
  /** How long to wait for another `migrate` running against the same database. */
  lockTimeoutSeconds?: number;
}

export interface MigrateResult {
  database: string;
  /** Tags applied by this call; empty when the database was already up to date. */
  applied: string[];
  /**
   * Set when the database was the original Pulp Manager's (db/originalDatabase.ts): its tables
   * were converted in place (or a conversion an earlier run began was finished).
   */
  original?: OriginalConversion;
}

// Any drizzle mysql2 database, whatever schema it was created with.
type AnyMySql2Database = MySql2Database<Record<string, unknown>>;

function readJournal(migrationsFolder: string) {
  const text = readFileSync(`${migrationsFolder}/meta/_journal.json`, 'utf8');
  return journalSchema.parse(JSON.parse(text)).entries;
}

/** The tags of the committed migrations, oldest first, as the journal lists them. */
export function committedMigrationTags(migrationsFolder = defaultMigrationsFolder): string[] {
  return readJournal(migrationsFolder).map((e) => e.tag);
}

async function queryRows<T>(db: AnyMySql2Database, query: ReturnType<typeof sql>): Promise<T[]> {
  const [rows] = await db.execute(query);
  return rows as unknown as T[];
}

/** Which committed migrations the database lacks, judged as drizzle's migrator does (by date). */
export async function migrationStatus(
  db: AnyMySql2Database,
  migrationsFolder = defaultMigrationsFolder,
): Promise<MigrationStatus> {
  const journal = readJournal(migrationsFolder);
  const [current] = await queryRows<{ name: string | null }>(db, sql`SELECT DATABASE() AS name`);
  const database = current?.name ?? '(no database selected)';
  let applied = 0;
  let lastAppliedAt = Number.NEGATIVE_INFINITY;
  try {
    const [row] = await queryRows<{ applied: number | string; last: number | string | null }>(
      db,
      sql`SELECT COUNT(*) AS applied, MAX(created_at) AS last FROM ${sql.identifier(migrationsTable)}`,
    );
    applied = Number(row?.applied ?? 0);
    if (row?.last !== null && row?.last !== undefined) lastAppliedAt = Number(row.last);
  } catch (err) {
    if (mysqlErrorNumber(err) !== mysqlErrno.noSuchTable) throw err;
  }
  const pending = journal.filter((entry) => entry.when > lastAppliedAt).map((entry) => entry.tag);
  return { database, applied, pending };
}

/**
 * Refuses to go on against a database that lacks committed migrations: the worker, the API
 * and the exporter call this at start-up. A database migrated by a newer release passes.
 */
export async function assertMigrated(
  db: AnyMySql2Database,
  migrationsFolder = defaultMigrationsFolder,
): Promise<void> {
  const status = await migrationStatus(db, migrationsFolder);
  if (status.pending.length > 0) throw new DatabaseNotMigratedError(status);
}

/**
 * Applies the pending committed migrations (what `pulp-manager migrate` runs). A named lock
 * serialises concurrent runs against the same database; a second run finds nothing to do.
 */
export async function migrateDatabase(
  settings: DatabaseSettings,
  options: MigrateOptions = {},
): Promise<MigrateResult> {
  const migrationsFolder = options.migrationsFolder ?? defaultMigrationsFolder;
  const conn = await mysql.createConnection(connectionOptions(settings));
  try {
    await conn.query(sessionSetupSql);
    const db = drizzle({ client: conn });
    const lockName = `pulp_manager.migrate.${settings.database}`;
    const [locked] = await queryRows<{ got: number | null }>(
      db,
      sql`SELECT GET_LOCK(${lockName}, ${options.lockTimeoutSeconds ?? 60}) AS got`,
    );
    if (locked?.got !== 1) {
      throw new Error(`database ${settings.database}: another migration holds the lock ${lockName}`);
    }
    try {
      // A database of the original has no migrations table: what the conversion applies (the
      // migrations its copy was written against) counts as applied by this call.
      const before = await migrationStatus(db, migrationsFolder);
      const original = await convertOriginalDatabase(conn, {
        migrationsFolder,
        applyMigrations: (folder) => migrate(db, { migrationsFolder: folder, migrationsTable }),
      });
      await migrate(db, { migrationsFolder, migrationsTable });
      const after = await migrationStatus(db, migrationsFolder);
      return {
        database: before.database,
        applied: before.pending.filter((tag) => !after.pending.includes(tag)),
        ...(original === null ? {} : { original }),
      };
    } finally {
      await db.execute(sql`SELECT RELEASE_LOCK(${lockName})`);
    }
  } finally {
    await conn.end();
  }
}
