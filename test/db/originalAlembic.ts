import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import type { DatabaseSettings } from '../../db/client.js';

// Builds a database exactly as the ORIGINAL Pulp Manager left it: its own alembic migrations
// (test/fixtures/original-alembic, copied from pulp/Pulp-manager) run by its pinned alembic from
// PyPI (dev/original-alembic.sh, installed by dev/up), then rows written as its code wrote them.

const sh = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const alembicIni = fileURLToPath(new URL('../fixtures/original-alembic/alembic.ini', import.meta.url));

async function venvDir(): Promise<string> {
  const { stdout } = await sh('bash', ['dev/original-alembic.sh', 'path'], { cwd: root });
  const dir = stdout.trim();
  if (!existsSync(`${dir}/.pm-installed`)) {
    throw new Error(
      `the original Pulp Manager's alembic venv is missing (${dir}): run \`bash dev/original-alembic.sh install\` ` +
        '(dev/up and `make test` do)',
    );
  }
  return dir;
}

/** `alembic upgrade <target>` of the original's migrations against the database. */
export async function runOriginalAlembic(settings: DatabaseSettings, target = 'head'): Promise<void> {
  const venv = await venvDir();
  const url = `mysql+pymysql://${encodeURIComponent(settings.user)}:${encodeURIComponent(settings.password)}@${settings.host}:${settings.port}/${settings.database}`;
  try {
    await sh(`${venv}/bin/alembic`, ['-c', alembicIni, 'upgrade', target], {
      cwd: root,
      env: { ...process.env, ORIGINAL_ALEMBIC_DB_URL: url },
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`the original's alembic upgrade ${target} failed: ${e.stderr ?? e.message}`);
  }
}

export async function connectTo(settings: DatabaseSettings): Promise<mysql.Connection> {
  const conn = await mysql.createConnection({ ...settings, multipleStatements: true, timezone: 'Z' });
  await conn.query("SET time_zone = '+00:00'");
  return conn;
}

export interface OriginalFleet {
  /** Name of server 3, the primary the original synced from upstream (the dev stack's in e2e). */
  primaryName: string;
  /** The repo the primary holds (server repo 41); in e2e a real repository of the stack's Pulp. */
  repo: {
    name: string;
    type: string;
    href: string;
    remoteHref: string;
    feed: string;
    distributionHref: string;
  };
  /** regex_include of repo group 5 (external_repos). */
  groupRegex: string;
}

/** The RQ job id the original recorded on the group sync 100 and its children. */
export const rqJobId = '6f1c2a4e-93b7-4d52-9a0e-2c7d8e1f4b3a';
export const secondaryName = 'pulp-secondary.example.com';

/**
 * A small fleet's history as the original's code wrote it: servers (3 primary, 7 secondary
 * syncing group 5 from 3), groups, repos with health, group syncs with repo-sync children and
 * stages, tasks of every type in several states, and task 250 deleted (AUTO_INCREMENT 251).
 * JSON columns hold `json.dumps` text (spaces after separators) as Python wrote it.
 */
export async function insertOriginalFleet(conn: mysql.Connection, fleet: OriginalFleet): Promise<void> {
  const p = fleet.primaryName;
  const r = fleet.repo;
  const dumps = (v: unknown) => JSON.stringify(v).replaceAll('":', '": ').replaceAll(',"', ', "');
  await conn.query(
    `INSERT INTO pulp_servers (id, name, repo_sync_health_rollup_id, repo_sync_health_rollup_date, username,
       vault_service_account_mount, snapshot_supported, max_concurrent_snapshots, repo_config_registration_schedule,
       repo_config_registration_max_runtime, repo_config_registration_regex_include,
       repo_config_registration_regex_exclude, date_created, date_last_updated) VALUES
     (3, ?, 1, '2024-03-01 02:14:09', 'svc-pulp-manager', 'service-accounts', 1, 2, '0 3 * * *', '3h', '^ext-', NULL,
      '2023-11-20 09:12:44', '2024-03-01 02:14:09'),
     (7, ?, 3, '2024-03-01 02:40:51', 'svc-pulp-manager', 'service-accounts', NULL, NULL, NULL, NULL, NULL, NULL,
      '2023-11-20 09:12:44', '2024-03-01 02:40:51')`,
    [p, secondaryName],
  );
  await conn.query(
    `INSERT INTO repo_groups (id, name, regex_include, regex_exclude, date_created, date_last_updated) VALUES
     (5, 'external_repos', ?, NULL, '2023-11-20 09:12:44', '2023-11-20 09:12:44'),
     (6, 'internal_repos', '^int-', '^int-old-', '2023-11-20 09:12:44', '2024-01-05 16:00:00')`,
    [fleet.groupRegex],
  );
  await conn.query(
    `INSERT INTO pulp_server_repo_groups (pulp_server_id, repo_group_id, schedule, max_concurrent_syncs, max_runtime,
       pulp_master_id, date_created, date_last_updated) VALUES
     (3, 5, '0 2 * * *', 2, '6h', NULL, '2023-11-20 09:12:44', '2023-11-20 09:12:44'),
     (7, 5, '30 2 * * *', 1, '6h', 3, '2023-11-20 09:12:44', '2023-11-20 09:12:44'),
     (7, 6, NULL, 1, '2h', NULL, '2023-11-20 09:12:44', '2023-11-20 09:12:44')`,
  );
  await conn.query(
    `INSERT INTO repos (id, name, repo_type, date_created, date_last_updated) VALUES
     (11, ?, ?, '2023-11-20 09:30:00', '2023-11-20 09:30:00'),
     (12, 'int-tools', 'deb', '2023-11-21 10:00:00', '2023-11-21 10:00:00')`,
    [r.name, r.type],
  );
  await conn.query(
    `INSERT INTO pulp_server_repos (id, pulp_server_id, repo_id, repo_href, remote_href, remote_feed, distribution_href,
       repo_sync_health_id, repo_sync_health_date, date_created, date_last_updated) VALUES
     (41, 3, 11, ?, ?, ?, ?, 3, '2024-03-01 02:14:09', '2023-11-20 09:30:00', '2024-03-01 02:14:09'),
     (42, 7, 11, '/pulp/api/v3/repositories/rpm/rpm/018e0c4b-7b1e-7d4a-9a51-3f0e2d1c9b8a/',
      '/pulp/api/v3/remotes/rpm/rpm/018e0c4b-8c2f-7e5b-8b62-4a1f3e2d0c9b/', ?, NULL, 2, '2024-03-01 02:40:51',
      '2023-11-20 09:31:00', '2024-03-01 02:40:51'),
     (43, 7, 12, '/pulp/api/v3/repositories/deb/apt/018e0c4c-1a2b-7c3d-8e4f-5a6b7c8d9e0f/', NULL, NULL, NULL, 1,
      '2024-03-01 02:40:51', '2023-11-21 10:00:00', '2024-03-01 02:40:51')`,
    [r.href, r.remoteHref, r.feed, r.distributionHref, `https://${p}/pulp/content/${r.name}/`],
  );
  const groupArgs = (server: string, master: string | null) =>
    dumps({
      name: server,
      regex_include: fleet.groupRegex,
      regex_exclude: null,
      max_runtime: '6h',
      max_concurrent_syncs: 2,
      source_pulp_server_name: master,
      sync_options: {},
    });
  const tb =
    'Traceback (most recent call last):\n  File "/app/pulp_manager/app/services/repo_syncher.py", line 463\n';
  const tasks: unknown[][] = [
    // id, name, parent, type, args, queued, started, finished, state, worker, job, error
    [
      100,
      `repo sync ${p}`,
      null,
      2,
      groupArgs(p, null),
      '2024-03-01 02:00:00',
      '2024-03-01 02:00:01',
      '2024-03-01 02:14:09',
      3,
      'pm-worker-1',
      rqJobId,
      null,
    ],
    [
      101,
      `${p} repo sync ${r.name}`,
      100,
      1,
      dumps({ pulp_server_repo_id: 41, repo_href: r.href }),
      '2024-03-01 02:00:02',
      '2024-03-01 02:00:03',
      '2024-03-01 02:14:08',
      3,
      'pm-worker-1',
      rqJobId,
      null,
    ],
    [
      103,
      `repo sync ${secondaryName}`,
      null,
      2,
      groupArgs(secondaryName, p),
      '2024-03-01 02:30:00',
      '2024-03-01 02:30:01',
      '2024-03-01 02:40:51',
      4,
      'pm-worker-2',
      'a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d',
      dumps({ message: tb }),
    ],
    [
      102,
      `${secondaryName} repo sync ${r.name}`,
      103,
      1,
      dumps({
        pulp_server_repo_id: 42,
        repo_href: '/pulp/api/v3/repositories/rpm/rpm/018e0c4b-7b1e-7d4a-9a51-3f0e2d1c9b8a/',
      }),
      '2024-03-01 02:30:02',
      '2024-03-01 02:30:03',
      '2024-03-01 02:40:50',
      4,
      'pm-worker-2',
      'a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d',
      dumps({ msg: 'failed to sync repo', detail: tb }),
    ],
    [
      104,
      `remove repo content ${secondaryName}`,
      null,
      5,
      dumps({
        max_runtime: '1h',
        pulp_server_name: secondaryName,
        repo_name: 'int-tools',
        content_href: '/pulp/api/v3/content/deb/packages/018e0c4d-0000-7000-8000-000000000001/',
        force_publish: true,
      }),
      '2024-03-02 09:00:00',
      '2024-03-02 09:00:01',
      '2024-03-02 09:00:20',
      5,
      'pm-worker-1',
      'b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e',
      null,
    ],
    [
      105,
      `${p} repo registration`,
      null,
      4,
      dumps({ regex_include: '^ext-', regex_exclude: null, local_repo_config_dir: null }),
      '2024-03-03 03:00:00',
      '2024-03-03 03:00:01',
      null,
      2,
      'pm-worker-1',
      'c2d3e4f5-a6b7-4c8d-9e0f-1a2b3c4d5e6f',
      null,
    ],
    [
      106,
      `snapshot repos ${p}`,
      null,
      3,
      dumps({
        max_runtime: '6h',
        snapshot_prefix: 'snap-20240304',
        regex_include: '^ext-',
        regex_exclude: null,
        allow_snapshot_reuse: false,
      }),
      '2024-03-04 04:00:00',
      null,
      '2024-03-04 04:00:01',
      6,
      null,
      null,
      dumps({ msg: `error occured enqueing snapshot job for ${p}`, detail: tb }),
    ],
    [
      107,
      `remove repos ${p}`,
      null,
      5,
      dumps({ max_runtime: '1h', regex_include: '^ext-old-', regex_exclude: null, dry_run: true }),
      '2024-03-05 05:00:00',
      null,
      null,
      1,
      null,
      'd3e4f5a6-b7c8-4d9e-8f0a-1b2c3d4e5f6a',
      null,
    ],
    [
      250,
      `repo sync ${p}`,
      null,
      2,
      groupArgs(p, null),
      '2024-03-06 02:00:00',
      null,
      null,
      1,
      null,
      null,
      null,
    ],
  ];
  await conn.query(
    `INSERT INTO tasks (id, name, parent_task_id, task_type_id, task_args_str, date_queued, date_started, date_finished,
       state_id, worker_name, worker_job_id, error_str, date_created, date_last_updated) VALUES ?`,
    [tasks.map((t) => [...t, t[5], t[7] ?? t[6] ?? t[5]])],
  );
  // The original deleted rows too: its next task id stays 251, never 108.
  await conn.query('DELETE FROM tasks WHERE id = 250');
  const taskHref = (n: number) => `/pulp/api/v3/tasks/018e0c50-0000-7000-8000-00000000000${n}/`;
  await conn.query(
    `INSERT INTO task_stages (id, task_id, name, detail_str, error_str, date_created, date_last_updated) VALUES ?`,
    [
      [
        [
          900,
          101,
          'sync repo',
          dumps({ msg: 'sync completed', task_href: taskHref(1) }),
          null,
          '2024-03-01 02:00:03',
          '2024-03-01 02:10:00',
        ],
        [
          901,
          101,
          'publish repo',
          dumps({ msg: 'publication created', task_href: taskHref(2) }),
          null,
          '2024-03-01 02:10:00',
          '2024-03-01 02:14:08',
        ],
        [
          902,
          102,
          'sync repo',
          dumps({ msg: 'sync failed', task_href: taskHref(3) }),
          dumps({ msg: 'failed to sync repo', detail: tb }),
          '2024-03-01 02:30:03',
          '2024-03-01 02:40:50',
        ],
        [903, 104, 'remove content', null, null, '2024-03-02 09:00:01', '2024-03-02 09:00:20'],
      ],
    ],
  );
  await conn.query(
    `INSERT INTO pulp_server_repo_tasks (pulp_server_repo_id, task_id, date_created, date_last_updated) VALUES
     (41, 101, '2024-03-01 02:00:02', '2024-03-01 02:00:02'), (42, 102, '2024-03-01 02:30:02', '2024-03-01 02:30:02')`,
  );
}
