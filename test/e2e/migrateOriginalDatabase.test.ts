import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../api/logging.js';
import { type RunningApi, runApiServer } from '../../api/runApiServer.js';
import { type AppConfig, loadAppConfig } from '../../config/loadAppConfig.js';
import { ensureRepository } from '../../pulp/ensureRepository.js';
import {
  connectTo,
  insertOriginalFleet,
  rqJobId,
  runOriginalAlembic,
  secondaryName,
} from '../db/originalAlembic.js';
import { createThrowawayDatabase, type ThrowawayDatabase } from '../db/throwawayDatabase.js';
import { eventually } from '../support/eventually.js';
import { deleteReposByPrefix, fixtureRepoSpecs } from '../support/fixtureRepos.js';
import { type PipelineHarness, startPipelineHarness } from '../support/pipelineHarness.js';
import { stackPulpClient } from '../support/pulp.js';
import { stack } from '../support/stack.js';

// A team switching from the original Pulp Manager: its database, built by the original's own
// alembic migrations (run by its pinned alembic from PyPI) and filled as its code filled it, is
// converted by `pulp-manager migrate` (the CLI, as an operator runs it); the API then serves
// the same ids and rows, and the next group sync runs on it against the stack's Pulp primary.

const sh = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const devConfig = (name: string) => fileURLToPath(new URL(`../../dev/config/${name}`, import.meta.url));
const run = `mo${Date.now().toString(36)}`;
const primary = stackPulpClient(stack.pulp.primary);
const spec = fixtureRepoSpecs(run).find((s) => s.repoType === 'rpm');
if (spec === undefined) throw new Error('fixtureRepoSpecs has no rpm repository');
const groupRegex = `^ext-${run}-`;

let throwaway: ThrowawayDatabase;
let migrateOutput = '';
let repoHref = '';

/** The database settings as the operator gives them to every role (config.ini + DB_* variables). */
const operatorEnv = () => ({
  PULP_MANAGER_CONFIG_PATH: devConfig('config.ini'),
  PULP_SYNC_CONFIG_PATH: devConfig('pulp_config.yml'),
  PULP_MANAGER_LOCAL_AUTH: 'true',
  DB_HOSTNAME: throwaway.settings.host,
  DB_PORT: String(throwaway.settings.port),
  DB_USER: throwaway.settings.user,
  DB_NAME: throwaway.settings.database,
  DB_PASSWORD: throwaway.settings.password,
});

async function startApi(
  config: AppConfig,
): Promise<{ api: RunningApi; get: (path: string) => Promise<unknown> }> {
  const api = await runApiServer(config, { host: '127.0.0.1', port: 0, logger: silentLogger });
  const base = `http://127.0.0.1:${api.server.address.port}`;
  const get = async (path: string) => {
    const res = await fetch(`${base}${path}`);
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  return { api, get };
}

/** The operator's pulp_config.yml: the original's two servers, the primary now the stack's. */
const fleetYaml = () =>
  [
    'pulp_servers:',
    `  ${stack.pulp.primary.name}:`,
    '    credentials: local',
    '    repo_groups:',
    '      external_repos:',
    '        schedule: "0 2 * * *"',
    '        max_concurrent_syncs: 2',
    '        max_runtime: "6h"',
    '    snapshot_support:',
    '      max_concurrent_snapshots: 2',
    `  ${secondaryName}:`,
    '    credentials: local',
    '    repo_groups:',
    '      external_repos:',
    '        schedule: "30 2 * * *"',
    '        max_concurrent_syncs: 1',
    '        max_runtime: "6h"',
    `        pulp_master: ${stack.pulp.primary.name}`,
    '      internal_repos:',
    '        max_concurrent_syncs: 1',
    '        max_runtime: "2h"',
    'credentials:',
    '  local:',
    '    username: admin',
    '    vault_service_account_mount: local-auth',
    'repo_groups:',
    '  external_repos:',
    `    regex_include: ${groupRegex}`,
    '  internal_repos:',
    '    regex_include: ^int-',
    '    regex_exclude: ^int-old-',
    '',
  ].join('\n');

describe("migrating the original Pulp Manager's database", () => {
  beforeAll(async () => {
    // The repository the original had registered on the primary (server repo 41).
    const repo = await ensureRepository(primary, spec);
    repoHref = repo.repoHref;
    throwaway = await createThrowawayDatabase();
    await runOriginalAlembic(throwaway.settings);
    const conn = await connectTo(throwaway.settings);
    try {
      await insertOriginalFleet(conn, {
        primaryName: stack.pulp.primary.name,
        repo: {
          name: spec.name,
          type: spec.repoType,
          href: repo.repoHref,
          remoteHref: repo.remoteHref ?? '',
          feed: spec.remote?.url ?? '',
          distributionHref: repo.distributionHref,
        },
        groupRegex,
      });
    } finally {
      await conn.end();
    }
    const { stdout } = await sh('npx', ['tsx', 'cli/main.ts', 'migrate'], {
      cwd: root,
      env: { ...process.env, ...operatorEnv() },
    });
    migrateOutput = stdout;
  }, 180_000);

  afterAll(async () => {
    if (!process.env.PM_TEST_KEEP_PULP)
      await deleteReposByPrefix(primary, stack.pulp.primary.url, `ext-${run}-`);
    await throwaway?.drop();
  });

  it('`pulp-manager migrate` says what it converted and which migrations it applied', () => {
    expect(migrateOutput).toContain(
      `converted database ${throwaway.settings.database} of the original Pulp Manager (alembic revision 1d9d4fd3f6fa) in place, every id kept:`,
    );
    expect(migrateOutput).toContain('  tasks: 8 row(s)');
    expect(migrateOutput).toContain('  task_stages: 4 row(s)');
    expect(migrateOutput).toContain("the original's tables are kept unchanged as original__pulp_servers");
    expect(migrateOutput).toMatch(/applied \d+ migration\(s\) to \S+: 0000_initial_tables, /);
  });

  it('the API serves the same ids and rows: servers, repos with health, tasks with stages, RQ job ids', async () => {
    const config = await loadAppConfig(operatorEnv());
    config.ini.auth.require_jwt_auth = false;
    const { api, get } = await startApi(config);
    try {
      expect(await get('/v1/pulp_servers/3')).toMatchObject({
        id: 3,
        name: stack.pulp.primary.name,
        username: 'svc-pulp-manager',
        vault_service_account_mount: 'service-accounts',
        snapshot_supported: true,
        max_concurrent_snapshots: 2,
        repo_sync_health_rollup: 'green',
        repo_sync_health_rollup_date: '2024-03-01T02:14:09.000Z',
      });
      expect(await get('/v1/pulp_servers/7')).toMatchObject({
        id: 7,
        name: secondaryName,
        repo_sync_health_rollup: 'red',
      });
      const repos = (await get('/v1/pulp_servers/7/repos')) as { items: Record<string, unknown>[] };
      expect(repos.items.map((r) => [r.id, r.repo_id, r.repo_sync_health])).toEqual([
        [42, 11, 'amber'],
        [43, 12, 'green'],
      ]);
      expect(await get('/v1/pulp_servers/3/repos/11')).toMatchObject({
        id: 41,
        repo_id: 11,
        repo_href: repoHref,
        repo_sync_health: 'red',
        repo_sync_health_date: '2024-03-01T02:14:09.000Z',
      });
      const groups = (await get('/v1/pulp_servers/7/repo_groups')) as { items: Record<string, unknown>[] };
      expect(groups.items).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ repo_group_id: 5, pulp_master_id: 3, schedule: '30 2 * * *' }),
          expect.objectContaining({ repo_group_id: 6, max_runtime: '2h' }),
        ]),
      );
      const task = (await get('/v1/tasks/101')) as Record<string, unknown> & {
        stages: Record<string, unknown>[];
      };
      expect(task).toMatchObject({
        id: 101,
        name: `${stack.pulp.primary.name} repo sync ${spec.name}`,
        task_type: 'repo_sync',
        state: 'completed',
        parent_task_id: 100,
        worker_name: 'pm-worker-1',
        worker_job_id: rqJobId,
        date_queued: '2024-03-01T02:00:02.000Z',
        task_args: { pulp_server_repo_id: 41, repo_href: repoHref },
      });
      expect(task.stages.map((s) => [s.id, s.position, s.name, (s.detail as { msg?: string }).msg])).toEqual([
        [900, 0, 'sync repo', 'sync completed'],
        [901, 1, 'publish repo', 'publication created'],
      ]);
      // The original's stage detail keys, as its clients read them.
      expect(task.stages[0]?.detail).toEqual({
        msg: 'sync completed',
        task_href: '/pulp/api/v3/tasks/018e0c50-0000-7000-8000-000000000001/',
      });
      expect(await get('/v1/tasks/102')).toMatchObject({
        id: 102,
        state: 'failed',
        error: { msg: 'failed to sync repo', detail: expect.stringContaining('Traceback') },
        stages: [
          expect.objectContaining({
            id: 902,
            error: expect.objectContaining({ msg: 'failed to sync repo' }),
          }),
        ],
      });
      expect(await get('/v1/tasks/103')).toMatchObject({
        id: 103,
        task_type: 'repo_group_sync',
        state: 'failed',
        error: { msg: expect.stringContaining('Traceback') },
      });
      const byJob = (await get(`/v1/tasks?worker_job_id=${rqJobId}&sort_by=id`)) as {
        items: { id: number }[];
      };
      expect(byJob.items.map((t) => t.id)).toEqual([100, 101]);
      const repoTasks = (await get('/v1/pulp_servers/3/repos/11/tasks')) as { items: { id: number }[] };
      expect(repoTasks.items.map((t) => t.id)).toEqual([101]);
    } finally {
      await api.stop();
    }
  });

  describe('after the switch', () => {
    let h: PipelineHarness;

    beforeAll(async () => {
      // What an operator does next: the worker (config apply) with their pulp_config.yml.
      h = await startPipelineHarness({
        database: throwaway.settings,
        pulpConfigYaml: fleetYaml(),
        configure: (c) => {
          c.ini.auth.require_jwt_auth = false;
        },
      });
    }, 120_000);

    afterAll(async () => {
      await h?.close();
    });

    it('config apply keeps the ids; a group sync started through the API syncs the migrated repo', async () => {
      const { api, get } = await startApi(h.config);
      try {
        expect(await get('/v1/pulp_servers/3')).toMatchObject({ id: 3, name: stack.pulp.primary.name });
        const base = `http://127.0.0.1:${api.server.address.port}`;
        const res = await fetch(`${base}/v1/pulp_servers/3/sync_repos`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            max_runtime: '30m',
            max_concurrent_syncs: 1,
            regex_include: `${groupRegex}rpm$`,
          }),
        });
        expect(res.status).toBe(201);
        const started = (await res.json()) as { id: number };
        // The original handed out ids up to 250: new ones come after them.
        expect(started.id).toBeGreaterThanOrEqual(251);
        const done = (await eventually(
          async () => {
            const t = (await get(`/v1/tasks/${started.id}`)) as { state: string };
            if (t.state === 'queued' || t.state === 'running')
              throw new Error(`task ${started.id} ${t.state}`);
            return t;
          },
          240_000,
          1000,
        )) as { state: string; pulp_server_id: number };
        expect(done).toMatchObject({ state: 'completed', pulp_server_id: 3 });
        // The same server repo row (id 41) was synced: new health, a new task next to the original's.
        const repo = (await get('/v1/pulp_servers/3/repos/11')) as {
          repo_sync_health: string;
          repo_sync_health_date: string;
        };
        expect(repo.repo_sync_health).toBe('green');
        expect(Date.parse(repo.repo_sync_health_date)).toBeGreaterThan(Date.parse('2024-03-02T00:00:00Z'));
        const repoTasks = (await get('/v1/pulp_servers/3/repos/11/tasks?sort_by=id')) as {
          items: { id: number; state: string; parent_task_id: number | null }[];
        };
        expect(repoTasks.items.map((t) => t.id)).toContain(101);
        expect(repoTasks.items).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ parent_task_id: started.id, state: 'completed' }),
          ]),
        );
        // The original's history is still there, ids unchanged.
        expect(await get('/v1/tasks/100')).toMatchObject({
          id: 100,
          worker_job_id: rqJobId,
          state: 'completed',
        });
      } finally {
        await api.stop();
      }
    });
  });
});
