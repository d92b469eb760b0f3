import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type mysql from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeDatabase, createDatabase } from '../../db/client.js';
import {
  assertMigrated,
  committedMigrationTags,
  defaultMigrationsFolder,
  migrateDatabase,
} from '../../db/migrate.js';
import { OriginalDatabaseError } from '../../db/originalDatabase.js';
import { conversionTargetMigration, originalTables } from '../../db/originalSchema.js';
import {
  connectTo,
  insertOriginalFleet,
  type OriginalFleet,
  rqJobId,
  runOriginalAlembic,
} from './originalAlembic.js';
import { createThrowawayDatabase, type ThrowawayDatabase } from './throwawayDatabase.js';

// Every database here is built by the original's own alembic migrations (originalAlembic.ts).

const fleet: OriginalFleet = {
  primaryName: 'pulp-primary.example.com',
  repo: {
    name: 'ext-centos-stream-9-baseos',
    type: 'rpm',
    href: '/pulp/api/v3/repositories/rpm/rpm/018e0c4a-1111-7000-8000-000000000001/',
    remoteHref: '/pulp/api/v3/remotes/rpm/rpm/018e0c4a-2222-7000-8000-000000000002/',
    feed: 'https://mirror.example.com/centos-stream/9-stream/BaseOS/x86_64/os/',
    distributionHref: '/pulp/api/v3/distributions/rpm/rpm/018e0c4a-3333-7000-8000-000000000003/',
  },
  groupRegex: '^ext-',
};

const scratch: ThrowawayDatabase[] = [];
const conns: mysql.Connection[] = [];

async function originalDatabase(target = 'head'): Promise<{ db: ThrowawayDatabase; conn: mysql.Connection }> {
  const db = await createThrowawayDatabase();
  scratch.push(db);
  await runOriginalAlembic(db.settings, target);
  const conn = await connectTo(db.settings);
  conns.push(conn);
  return { db, conn };
}

async function q<T = Record<string, unknown>>(conn: mysql.Connection, sql: string, params: unknown[] = []) {
  const [rows] = await conn.query(sql, params);
  return rows as T[];
}

async function tables(conn: mysql.Connection): Promise<string[]> {
  const rows = await q<{ n: string }>(
    conn,
    'SELECT TABLE_NAME AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY n',
  );
  return rows.map((r) => r.n).sort();
}

/** A JSON column's value (mysql2 parses some JSON columns itself, MariaDB sends others as text). */
const json = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v);

async function refusal(promise: Promise<unknown>): Promise<OriginalDatabaseError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OriginalDatabaseError);
  return err as OriginalDatabaseError;
}

afterEach(async () => {
  for (const c of conns.splice(0)) await c.end();
});

afterAll(async () => {
  for (const db of scratch) await db.drop();
});

describe('detection of the original database', () => {
  it('refuses an older alembic revision, naming it and the supported one, and changes nothing', async () => {
    const { db, conn } = await originalDatabase('304a2180a31e');
    const before = await tables(conn);
    const err = await refusal(migrateDatabase(db.settings));
    expect(err.code).toBe('ORIGINAL_DB_UNKNOWN_REVISION');
    expect(err.message).toContain(`database ${db.settings.database}`);
    expect(err.message).toContain('alembic revision 304a2180a31e');
    expect(err.message).toContain('converts revision 1d9d4fd3f6fa');
    expect(err.message).toContain('`alembic upgrade head`');
    expect(await tables(conn)).toEqual(before);
  });

  it('refuses an empty alembic_version', async () => {
    const { db, conn } = await originalDatabase();
    await conn.query('DELETE FROM alembic_version');
    const err = await refusal(migrateDatabase(db.settings));
    expect(err.code).toBe('ORIGINAL_DB_UNKNOWN_REVISION');
    expect(err.message).toContain('revision (none: the table is empty)');
  });

  it("refuses a database holding both the original's alembic_version and our migrations table", async () => {
    const { db, conn } = await originalDatabase();
    await conn.query(
      'CREATE TABLE __drizzle_migrations (id serial PRIMARY KEY, hash text NOT NULL, created_at bigint)',
    );
    const err = await refusal(migrateDatabase(db.settings));
    expect(err.code).toBe('ORIGINAL_DB_MIXED_STATE');
    expect(err.message).toContain('__drizzle_migrations');
  });

  it('refuses values that do not fit, listing table, column, reason and rows, before changing anything', async () => {
    const { db, conn } = await originalDatabase();
    await insertOriginalFleet(conn, fleet);
    await conn.query('UPDATE tasks SET state_id = 9 WHERE id IN (101, 102)');
    await conn.query("UPDATE repo_groups SET name = REPEAT('g', 300) WHERE id = 6");
    const before = await tables(conn);
    const err = await refusal(migrateDatabase(db.settings));
    expect(err.code).toBe('ORIGINAL_DB_UNCONVERTIBLE_VALUES');
    expect(err.message).toContain('repo_groups.name: 1 row(s) longer than 255 characters (id 6)');
    expect(err.message).toContain('tasks.state_id: 2 row(s) not a TaskState id (1-7) (id 101,102)');
    expect(err.message).toContain('Nothing was changed');
    expect(await tables(conn)).toEqual(before);
  });
});

describe('conversion of the original database', () => {
  let db: ThrowawayDatabase;
  let conn: mysql.Connection;

  beforeAll(async () => {
    db = await createThrowawayDatabase();
    scratch.push(db);
    await runOriginalAlembic(db.settings);
    const setup = await connectTo(db.settings);
    await insertOriginalFleet(setup, fleet);
    await setup.end();
  });

  it('converts in place, applies our migrations and records them', async () => {
    const result = await migrateDatabase(db.settings);
    expect(result.applied).toEqual(committedMigrationTags());
    expect(result.original).toMatchObject({
      revision: '1d9d4fd3f6fa',
      copied: true,
      rows: {
        pulp_servers: 2,
        repo_groups: 2,
        repos: 2,
        pulp_server_repo_groups: 3,
        pulp_server_repos: 3,
        tasks: 8,
        task_stages: 4,
        pulp_server_repo_tasks: 2,
      },
    });
    const pool = createDatabase(db.settings);
    await expect(assertMigrated(pool)).resolves.toBeUndefined();
    await closeDatabase(pool);
    conn = await connectTo(db.settings);
    conns.push(conn);
    expect(await tables(conn)).toEqual(
      [
        '__drizzle_migrations',
        ...originalTables,
        ...originalTables.map((t) => `original__${t}`),
        'original__alembic_version',
        'original__conversion',
      ].sort(),
    );
  });

  it('keeps servers with their ids, health rollup and snapshot settings', async () => {
    conn = await connectTo(db.settings);
    conns.push(conn);
    const servers = await q(
      conn,
      `SELECT id, name, username, vault_service_account_mount, snapshot_supported, max_concurrent_snapshots,
              repo_config_registration_schedule, repo_config_registration_max_runtime,
              repo_config_registration_regex_include, repo_sync_health_rollup,
              DATE_FORMAT(repo_sync_health_rollup_date, '%Y-%m-%d %T') AS rollup_date
         FROM pulp_servers ORDER BY id`,
    );
    expect(servers).toEqual([
      {
        id: 3,
        name: fleet.primaryName,
        username: 'svc-pulp-manager',
        vault_service_account_mount: 'service-accounts',
        snapshot_supported: 1,
        max_concurrent_snapshots: 2,
        repo_config_registration_schedule: '0 3 * * *',
        repo_config_registration_max_runtime: '3h',
        repo_config_registration_regex_include: '^ext-',
        repo_sync_health_rollup: 'green',
        rollup_date: '2024-03-01 02:14:09',
      },
      {
        id: 7,
        name: 'pulp-secondary.example.com',
        username: 'svc-pulp-manager',
        vault_service_account_mount: 'service-accounts',
        // NULL in the original meant "not supported".
        snapshot_supported: 0,
        max_concurrent_snapshots: null,
        repo_config_registration_schedule: null,
        repo_config_registration_max_runtime: null,
        repo_config_registration_regex_include: null,
        repo_sync_health_rollup: 'red',
        rollup_date: '2024-03-01 02:40:51',
      },
    ]);
  });

  it('keeps groups, server-group links with the primary, repos and server repos with their health', async () => {
    conn = await connectTo(db.settings);
    conns.push(conn);
    expect(
      await q(conn, 'SELECT id, name, regex_include, regex_exclude FROM repo_groups ORDER BY id'),
    ).toEqual([
      { id: 5, name: 'external_repos', regex_include: '^ext-', regex_exclude: null },
      { id: 6, name: 'internal_repos', regex_include: '^int-', regex_exclude: '^int-old-' },
    ]);
    expect(
      await q(
        conn,
        `SELECT pulp_server_id, repo_group_id, schedule, max_concurrent_syncs, max_runtime, pulp_master_id,
                deb_publish_mode FROM pulp_server_repo_groups ORDER BY pulp_server_id, repo_group_id`,
      ),
    ).toEqual([
      {
        pulp_server_id: 3,
        repo_group_id: 5,
        schedule: '0 2 * * *',
        max_concurrent_syncs: 2,
        max_runtime: '6h',
        pulp_master_id: null,
        deb_publish_mode: 'resign',
      },
      {
        pulp_server_id: 7,
        repo_group_id: 5,
        schedule: '30 2 * * *',
        max_concurrent_syncs: 1,
        max_runtime: '6h',
        pulp_master_id: 3,
        deb_publish_mode: 'resign',
      },
      {
        pulp_server_id: 7,
        repo_group_id: 6,
        schedule: null,
        max_concurrent_syncs: 1,
        max_runtime: '2h',
        pulp_master_id: null,
        deb_publish_mode: 'resign',
      },
    ]);
    expect(await q(conn, 'SELECT id, name, repo_type FROM repos ORDER BY id')).toEqual([
      { id: 11, name: fleet.repo.name, repo_type: 'rpm' },
      { id: 12, name: 'int-tools', repo_type: 'deb' },
    ]);
    expect(
      await q(
        conn,
        `SELECT id, pulp_server_id, repo_id, repo_href, remote_href, remote_feed, distribution_href, repo_sync_health,
                DATE_FORMAT(repo_sync_health_date, '%Y-%m-%d %T') AS health_date FROM pulp_server_repos ORDER BY id`,
      ),
    ).toEqual([
      {
        id: 41,
        pulp_server_id: 3,
        repo_id: 11,
        repo_href: fleet.repo.href,
        remote_href: fleet.repo.remoteHref,
        remote_feed: fleet.repo.feed,
        distribution_href: fleet.repo.distributionHref,
        repo_sync_health: 'red',
        health_date: '2024-03-01 02:14:09',
      },
      expect.objectContaining({ id: 42, pulp_server_id: 7, repo_id: 11, repo_sync_health: 'amber' }),
      expect.objectContaining({ id: 43, pulp_server_id: 7, repo_id: 12, repo_sync_health: 'green' }),
    ]);
  });

  it('maps every task type and state, keeps args, dates, the RQ job id (workflow_id) and errors', async () => {
    conn = await connectTo(db.settings);
    conns.push(conn);
    const rows = await q<Record<string, unknown>>(
      conn,
      `SELECT id, task_type, state, parent_task_id, pulp_server_id, workflow_id, run_id, worker_name,
              DATE_FORMAT(date_queued, '%Y-%m-%d %T') AS queued, DATE_FORMAT(date_finished, '%Y-%m-%d %T') AS finished,
              task_args, error
         FROM tasks ORDER BY id`,
    );
    const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
    expect(rows.map((r) => [r.id, r.task_type, r.state, r.parent_task_id, r.pulp_server_id])).toEqual([
      [100, 'repo_group_sync', 'completed', null, 3],
      [101, 'repo_sync', 'completed', 100, 3],
      [102, 'repo_sync', 'failed', 103, 7],
      [103, 'repo_group_sync', 'failed', null, 7],
      // TaskType 5 is both removal kinds in the original; its name tells remove-content apart.
      [104, 'remove_repo_content', 'canceled', null, 7],
      [105, 'repo_creation_from_git', 'running', null, 3],
      [106, 'repo_snapshot', 'failed_to_start', null, 3],
      [107, 'repo_removal', 'queued', null, 3],
    ]);
    expect(byId[100]).toMatchObject({
      workflow_id: rqJobId,
      run_id: null,
      worker_name: 'pm-worker-1',
      queued: '2024-03-01 02:00:00',
      finished: '2024-03-01 02:14:09',
      error: null,
    });
    expect(json(byId[100]?.task_args)).toEqual({
      name: fleet.primaryName,
      regex_include: '^ext-',
      regex_exclude: null,
      max_runtime: '6h',
      max_concurrent_syncs: 2,
      source_pulp_server_name: null,
      sync_options: {},
    });
    expect(byId[101]?.workflow_id).toBe(rqJobId);
    expect(json(byId[102]?.error)).toEqual({
      msg: 'failed to sync repo',
      detail: expect.stringContaining('Traceback'),
    });
    // The original's task service wrote {"message": …}: msg is added, message kept.
    const groupError = json(byId[103]?.error) as Record<string, string>;
    expect(groupError.msg).toBe(groupError.message);
    expect(groupError.msg).toContain('Traceback');
  });

  it('keeps stages in id order with their detail keys (msg, task_href) and errors', async () => {
    conn = await connectTo(db.settings);
    conns.push(conn);
    const stages = await q<Record<string, unknown>>(
      conn,
      'SELECT id, task_id, position, name, detail, error FROM task_stages ORDER BY id',
    );
    expect(stages.map((s) => [s.id, s.task_id, s.position, s.name])).toEqual([
      [900, 101, 0, 'sync repo'],
      [901, 101, 1, 'publish repo'],
      [902, 102, 0, 'sync repo'],
      [903, 104, 0, 'remove content'],
    ]);
    expect(json(stages[0]?.detail)).toEqual({
      msg: 'sync completed',
      task_href: '/pulp/api/v3/tasks/018e0c50-0000-7000-8000-000000000001/',
    });
    expect(json(stages[2]?.error)).toMatchObject({ msg: 'failed to sync repo' });
    expect(stages[3]?.detail).toBeNull();
    expect(
      await q(conn, 'SELECT pulp_server_repo_id, task_id FROM pulp_server_repo_tasks ORDER BY task_id'),
    ).toEqual([
      { pulp_server_repo_id: 41, task_id: 101 },
      { pulp_server_repo_id: 42, task_id: 102 },
    ]);
  });

  it("hands out new ids after the original's last ones, deleted rows included", async () => {
    conn = await connectTo(db.settings);
    conns.push(conn);
    await conn.query(
      "INSERT INTO tasks (name, task_type, state, task_args, date_queued) VALUES ('new', 'repo_sync', 'queued', '{}', UTC_TIMESTAMP())",
    );
    const [row] = await q<{ id: number }>(conn, "SELECT id FROM tasks WHERE name = 'new'");
    expect(row?.id).toBe(251);
    await conn.query("DELETE FROM tasks WHERE name = 'new'");
  });

  it('does not convert twice: a second run only reports the earlier conversion', async () => {
    const again = await migrateDatabase(db.settings);
    expect(again.applied).toEqual([]);
    expect(again.original).toMatchObject({ copied: false, revision: '1d9d4fd3f6fa' });
    conn = await connectTo(db.settings);
    conns.push(conn);
    const [count] = await q<{ n: number }>(conn, 'SELECT COUNT(*) AS n FROM tasks');
    expect(Number(count?.n)).toBe(8);
  });
});

describe('a release with migrations newer than the conversion', () => {
  it('copies into the schema the conversion was written for, then applies the newer migrations', async () => {
    const { db, conn } = await originalDatabase();
    await insertOriginalFleet(conn, fleet);
    // A later release: one more migration after the conversion's target, touching copied rows.
    const folder = mkdtempSync(join(tmpdir(), 'pm-migrations-'));
    try {
      cpSync(defaultMigrationsFolder, folder, { recursive: true });
      const journalPath = join(folder, 'meta', '_journal.json');
      const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as {
        entries: { idx: number; version: string; when: number; tag: string; breakpoints: boolean }[];
      };
      const last = journal.entries.at(-1);
      if (last === undefined) throw new Error('no committed migration');
      const tag = `${String(last.idx + 1).padStart(4, '0')}_later_release`;
      journal.entries.push({ ...last, idx: last.idx + 1, when: last.when + 1000, tag });
      writeFileSync(journalPath, JSON.stringify(journal));
      writeFileSync(
        join(folder, `${tag}.sql`),
        "ALTER TABLE `tasks` ADD `later_column` varchar(16);--> statement-breakpoint\nUPDATE `tasks` SET `later_column` = 'seen';",
      );
      const result = await migrateDatabase(db.settings, { migrationsFolder: folder });
      expect(result.applied).toEqual([...committedMigrationTags(), tag]);
      expect(result.original).toMatchObject({ copied: true, rows: { tasks: 8 } });
      const rows = await q<{ n: number }>(
        conn,
        "SELECT COUNT(*) AS n FROM tasks WHERE later_column = 'seen'",
      );
      expect(Number(rows[0]?.n)).toBe(8);
      expect((await migrateDatabase(db.settings, { migrationsFolder: folder })).applied).toEqual([]);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe('a conversion that stopped half way', () => {
  it('finishes after a stop right after the tables were moved aside', async () => {
    const { db, conn } = await originalDatabase();
    await insertOriginalFleet(conn, fleet);
    await conn.query(
      `RENAME TABLE ${['alembic_version', ...originalTables].map((t) => `\`${t}\` TO \`original__${t}\``).join(', ')}`,
    );
    const result = await migrateDatabase(db.settings);
    expect(result.original).toMatchObject({ copied: true, rows: { tasks: 8, task_stages: 4 } });
    const [row] = await q<{ n: number }>(conn, 'SELECT COUNT(*) AS n FROM pulp_server_repos');
    expect(Number(row?.n)).toBe(3);
  });

  it('finishes after a stop between building the new tables and committing the copy', async () => {
    const { db, conn } = await originalDatabase();
    await insertOriginalFleet(conn, fleet);
    // What a run leaves when it stops inside the copy: tables moved aside, their foreign keys
    // dropped, new tables built (empty, the copy rolled back), no conversion record.
    const first = migrateDatabase(db.settings);
    await first;
    await conn.query('SET FOREIGN_KEY_CHECKS = 0');
    for (const t of originalTables) await conn.query(`DELETE FROM \`${t}\``);
    await conn.query('SET FOREIGN_KEY_CHECKS = 1');
    await conn.query('DELETE FROM original__conversion');
    await conn.query(
      "DELETE FROM __drizzle_migrations WHERE created_at > (SELECT `when` FROM JSON_TABLE(?, '$[*]' COLUMNS (tag varchar(64) PATH '$.tag', `when` bigint PATH '$.when')) j WHERE j.tag = ?)",
      [
        JSON.stringify(
          (
            JSON.parse(readFileSync(`${defaultMigrationsFolder}/meta/_journal.json`, 'utf8')) as {
              entries: unknown[];
            }
          ).entries,
        ),
        conversionTargetMigration,
      ],
    );
    const result = await migrateDatabase(db.settings);
    expect(result.original).toMatchObject({ copied: true, rows: { pulp_servers: 2, tasks: 8 } });
    const [row] = await q<{ n: number }>(conn, 'SELECT COUNT(*) AS n FROM task_stages');
    expect(Number(row?.n)).toBe(4);
  });

  it('refuses to go on when new tables already hold rows but no conversion was recorded', async () => {
    const { db, conn } = await originalDatabase();
    await insertOriginalFleet(conn, fleet);
    await migrateDatabase(db.settings);
    await conn.query('DELETE FROM original__conversion');
    const err = await refusal(migrateDatabase(db.settings));
    expect(err.code).toBe('ORIGINAL_DB_MIXED_STATE');
    expect(err.message).toContain('already holds rows and no conversion was recorded');
  });
});
