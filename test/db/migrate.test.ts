import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDatabase, createDatabase, type Database } from '../../db/client.js';
import { mysqlErrorNumber } from '../../db/driverErrors.js';
import {
  assertMigrated,
  committedMigrationTags,
  DatabaseNotMigratedError,
  defaultMigrationsFolder,
  migrateDatabase,
} from '../../db/migrate.js';
import { createThrowawayDatabase, type ThrowawayDatabase } from './throwawayDatabase.js';

const expectedTables = [
  '__drizzle_migrations',
  'pulp_server_repo_groups',
  'pulp_server_repo_tasks',
  'pulp_server_repos',
  'pulp_servers',
  'repo_groups',
  'repos',
  'task_stages',
  'tasks',
];

const committedTags = committedMigrationTags();

async function rows<T>(db: Database, query: ReturnType<typeof sql>): Promise<T[]> {
  const [result] = await db.execute(query);
  return result as unknown as T[];
}

async function tableNames(db: Database): Promise<string[]> {
  const found = await rows<{ name: string }>(
    db,
    sql`SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()`,
  );
  return found.map((row) => row.name).sort();
}

async function migrationRows(db: Database): Promise<number> {
  const [row] = await rows<{ n: number }>(db, sql`SELECT COUNT(*) AS n FROM __drizzle_migrations`);
  return Number(row?.n);
}

describe('migrateDatabase / assertMigrated', () => {
  // latin1 on purpose: the first migration must make the database utf8mb4 whatever its default.
  let scratch: ThrowawayDatabase;
  let db: Database;

  beforeAll(async () => {
    scratch = await createThrowawayDatabase({ charset: 'latin1' });
    db = createDatabase(scratch.settings);
  });

  afterAll(async () => {
    if (db !== undefined) await closeDatabase(db);
    await scratch?.drop();
  });

  it('refuses an empty database with DB_NOT_MIGRATED and says how to fix it', async () => {
    const err = await assertMigrated(db).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseNotMigratedError);
    const notMigrated = err as DatabaseNotMigratedError;
    expect(notMigrated.code).toBe('DB_NOT_MIGRATED');
    expect(notMigrated.database).toBe(scratch.settings.database);
    expect(notMigrated.message).toContain(
      `database ${scratch.settings.database} is not migrated: run \`pulp-manager migrate\``,
    );
    expect(notMigrated.pending).toEqual(committedTags);
  });

  it('migrates, after which assertMigrated passes and every table exists', async () => {
    const result = await migrateDatabase(scratch.settings);
    expect(committedTags[0]).toBe('0000_initial_tables');
    expect(result).toEqual({ database: scratch.settings.database, applied: committedTags });
    await expect(assertMigrated(db)).resolves.toBeUndefined();
    expect(await tableNames(db)).toEqual(expectedTables);
    const [charset] = await rows<{ cs: string; coll: string }>(
      db,
      sql`SELECT CHARACTER_SET_NAME AS cs, COLLATION_NAME AS coll FROM information_schema.COLUMNS
          WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'pulp_servers' AND COLUMN_NAME = 'username'`,
    );
    expect(charset).toEqual({ cs: 'utf8mb4', coll: 'utf8mb4_unicode_ci' });
  });

  it('is a no-op the second time', async () => {
    const before = await migrationRows(db);
    const result = await migrateDatabase(scratch.settings);
    expect(result.applied).toEqual([]);
    expect(await migrationRows(db)).toBe(before);
    expect(await tableNames(db)).toEqual(expectedTables);
  });

  it('refuses a database that is behind the committed journal, naming the missing migration', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'pm-migrations-'));
    try {
      cpSync(defaultMigrationsFolder, folder, { recursive: true });
      const journalPath = join(folder, 'meta', '_journal.json');
      const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as {
        entries: { idx: number; when: number; tag: string; version: string; breakpoints: boolean }[];
      };
      const last = journal.entries.at(-1);
      if (last === undefined) throw new Error('empty journal');
      const future = `${String(last.idx + 1).padStart(4, '0')}_future_change`;
      journal.entries.push({ ...last, idx: last.idx + 1, when: last.when + 1000, tag: future });
      writeFileSync(journalPath, JSON.stringify(journal));
      writeFileSync(join(folder, `${future}.sql`), 'CREATE TABLE future_change (id int PRIMARY KEY);');

      const err = await assertMigrated(db, folder).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DatabaseNotMigratedError);
      expect((err as DatabaseNotMigratedError).pending).toEqual([future]);
      expect((err as Error).message).toMatch(
        /is not migrated: run `pulp-manager migrate` \(1 migration\(s\) pending/,
      );

      expect((await migrateDatabase(scratch.settings, { migrationsFolder: folder })).applied).toEqual([
        future,
      ]);
      await expect(assertMigrated(db, folder)).resolves.toBeUndefined();
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe('migrateDatabase run twice at once', () => {
  it('applies the migrations once: the second run waits for the lock and finds nothing to do', async () => {
    const scratch = await createThrowawayDatabase();
    try {
      const results = await Promise.all([
        migrateDatabase(scratch.settings),
        migrateDatabase(scratch.settings),
      ]);
      expect(results.map((r) => r.applied.length).sort()).toEqual([0, committedTags.length]);
      const db = createDatabase(scratch.settings);
      try {
        expect(await migrationRows(db)).toBe(committedTags.length);
        await assertMigrated(db);
      } finally {
        await closeDatabase(db);
      }
    } finally {
      await scratch.drop();
    }
  });
});

describe('0002_tasks_unique_workflow_run on a database with duplicate task rows', () => {
  // Rows a retried check-then-insert duplicated before the unique key existed: the migration
  // must not fail on them, and keeps the lowest id with what the duplicates carried.
  it('merges each duplicate into the lowest id, then adds the key', async () => {
    const scratch = await createThrowawayDatabase();
    const folder = mkdtempSync(join(tmpdir(), 'pm-migrations-'));
    const db = createDatabase(scratch.settings);
    try {
      cpSync(defaultMigrationsFolder, folder, { recursive: true });
      const journalPath = join(folder, 'meta', '_journal.json');
      const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] };
      const upTo = journal.entries.findIndex((e) => e.tag === '0002_tasks_unique_workflow_run');
      expect(upTo).toBeGreaterThan(0);
      journal.entries = journal.entries.slice(0, upTo);
      writeFileSync(journalPath, JSON.stringify(journal));
      await migrateDatabase(scratch.settings, { migrationsFolder: folder });

      const insertTask = async (values: Record<string, unknown>) => {
        const [res] = await db.execute(sql`INSERT INTO tasks
          (name, task_type, state, task_args, date_queued, workflow_id, run_id, parent_task_id, date_finished, error)
          VALUES (${values.name}, ${values.type}, ${values.state}, '{}', UTC_TIMESTAMP(3), ${values.wf},
                  ${values.run}, ${values.parent ?? null}, ${values.finished ?? null}, ${values.error ?? null})`);
        return (res as unknown as { insertId: number }).insertId;
      };
      // A group run recorded twice: the first row was abandoned, the workflow went on with the second.
      const keep = await insertTask({
        name: 'g',
        type: 'repo_group_sync',
        state: 'running',
        wf: 'g/1',
        run: 'r1',
      });
      const dup = await insertTask({
        name: 'g',
        type: 'repo_group_sync',
        state: 'completed',
        wf: 'g/1',
        run: 'r1',
        finished: '2026-01-01 00:00:00.000',
        error: null,
      });
      const child = await insertTask({
        name: 'c',
        type: 'repo_sync',
        state: 'completed',
        wf: 'c/1',
        run: 'r2',
        parent: dup,
      });
      await db.execute(sql`INSERT INTO task_stages (task_id, position, name, detail) VALUES
        (${dup}, 1, 'reconcile repos', '{"state":"completed"}'), (${dup}, 2, 'sync repos', '{"state":"completed"}')`);
      // Not duplicates: another run, another type, and queued rows without a run id.
      const otherRun = await insertTask({
        name: 'g',
        type: 'repo_group_sync',
        state: 'running',
        wf: 'g/1',
        run: 'r9',
      });
      const otherType = await insertTask({
        name: 's',
        type: 'repo_snapshot',
        state: 'running',
        wf: 'g/1',
        run: 'r1',
      });
      const queuedA = await insertTask({
        name: 'q',
        type: 'repo_removal',
        state: 'queued',
        wf: 'q/1',
        run: null,
      });
      const queuedB = await insertTask({
        name: 'q',
        type: 'repo_removal',
        state: 'queued',
        wf: 'q/1',
        run: null,
      });

      // 0002 first; later migrations (indexes) follow it.
      expect((await migrateDatabase(scratch.settings)).applied[0]).toBe('0002_tasks_unique_workflow_run');

      const ids = await rows<{ id: number }>(db, sql`SELECT id FROM tasks ORDER BY id`);
      expect(ids.map((r) => r.id)).toEqual([keep, child, otherRun, otherType, queuedA, queuedB]);
      const [kept] = await rows<{ state: string; date_finished: unknown }>(
        db,
        sql`SELECT state, date_finished FROM tasks WHERE id = ${keep}`,
      );
      expect(kept?.state).toBe('completed');
      expect(kept?.date_finished).not.toBeNull();
      const [childRow] = await rows<{ parent_task_id: number }>(
        db,
        sql`SELECT parent_task_id FROM tasks WHERE id = ${child}`,
      );
      expect(childRow?.parent_task_id).toBe(keep);
      const stages = await rows<{ task_id: number; position: number }>(
        db,
        sql`SELECT task_id, position FROM task_stages ORDER BY position`,
      );
      expect(stages).toEqual([
        { task_id: keep, position: 1 },
        { task_id: keep, position: 2 },
      ]);
      const dupInsert = await insertTask({
        name: 'g',
        type: 'repo_group_sync',
        state: 'running',
        wf: 'g/1',
        run: 'r1',
      }).catch((e: unknown) => e);
      expect(mysqlErrorNumber(dupInsert)).toBe(1062);
    } finally {
      await closeDatabase(db);
      rmSync(folder, { recursive: true, force: true });
      await scratch.drop();
    }
  });
});
