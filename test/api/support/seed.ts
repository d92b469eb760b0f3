import { randomUUID } from 'node:crypto';
import type { Database } from '../../../db/client.js';
import {
  type NewTask,
  pulp_server_repo_groups,
  pulp_server_repos,
  pulp_servers,
  repo_groups,
  repos,
  task_stages,
  tasks,
} from '../../../db/schema.js';
import { linkTasksToServerRepos } from '../../../db/taskRecords.js';
import { stack } from '../../support/stack.js';

const at = (iso: string) => new Date(iso);

export interface SeedIds {
  run: string;
  servers: { alpha: number; beta: number; primary: number };
  serverNames: { alpha: string; beta: string; primary: string };
  repos: { rpm: number; deb: number; file: number; snap: number };
  serverRepos: { alphaRpm: number; alphaDeb: number };
  groups: { external: number; internal: number };
  tasks: {
    groupSync: number;
    syncOk: number;
    syncFailed: number;
    snapshot: number;
    removal: number;
    content: number;
  };
}

const repoHref = (type: string) => `/pulp/api/v3/repositories/${type}/${randomUUID()}/`;

async function insertId(query: Promise<[{ insertId: number }, unknown]>): Promise<number> {
  const [res] = await query;
  return res.insertId;
}

/**
 * A small fleet: alpha (snapshots on, green), beta (a secondary of alpha, red) and the stack's
 * real Pulp primary; four repos, two groups and six tasks with known dates, states and stages.
 */
export async function seedFleet(db: Database, run: string): Promise<SeedIds> {
  const serverNames = {
    alpha: `alpha-${run}.example.com`,
    beta: `beta-${run}.example.com:8443`,
    primary: stack.pulp.primary.name,
  };
  const alpha = await insertId(
    db.insert(pulp_servers).values({
      name: serverNames.alpha,
      username: 'svc-pulp',
      vault_service_account_mount: 'service-accounts',
      snapshot_supported: true,
      max_concurrent_snapshots: 2,
      repo_sync_health_rollup: 'green',
      repo_sync_health_rollup_date: at('2024-01-10T00:00:00Z'),
    }),
  );
  const beta = await insertId(
    db.insert(pulp_servers).values({
      name: serverNames.beta,
      username: 'svc-pulp',
      vault_service_account_mount: 'service-accounts',
      repo_sync_health_rollup: 'red',
      repo_sync_health_rollup_date: at('2024-02-10T00:00:00Z'),
    }),
  );
  const primary = await insertId(
    db.insert(pulp_servers).values({ name: serverNames.primary, username: stack.pulp.username }),
  );

  const repo = (name: string, repo_type: string) => insertId(db.insert(repos).values({ name, repo_type }));
  const rpm = await repo('ext-centos-rpm', 'rpm');
  const deb = await repo('ext-debian-deb', 'deb');
  const file = await repo('int-tools-file', 'file');
  const snap = await repo('snap-2024-01-ext-centos-rpm', 'rpm');

  const serverRepo = (
    pulp_server_id: number,
    repo_id: number,
    type: string,
    health?: 'green' | 'amber' | 'red',
    date?: string,
  ) =>
    insertId(
      db.insert(pulp_server_repos).values({
        pulp_server_id,
        repo_id,
        repo_href: repoHref(type),
        remote_href: `/pulp/api/v3/remotes/${type}/${randomUUID()}/`,
        remote_feed: `https://mirror.example.com/${repo_id}/`,
        repo_sync_health: health ?? null,
        repo_sync_health_date: date ? at(date) : null,
      }),
    );
  const alphaRpm = await serverRepo(alpha, rpm, 'rpm/rpm', 'green', '2024-01-05T00:00:00Z');
  const alphaDeb = await serverRepo(alpha, deb, 'deb/apt', 'amber', '2024-01-06T00:00:00Z');
  await serverRepo(alpha, file, 'file/file', 'red', '2024-01-07T00:00:00Z');
  await serverRepo(alpha, snap, 'rpm/rpm');
  await serverRepo(beta, rpm, 'rpm/rpm', 'green', '2024-01-08T00:00:00Z');

  const external = await insertId(
    db.insert(repo_groups).values({ name: 'external_repos', regex_include: '^ext-' }),
  );
  const internal = await insertId(
    db.insert(repo_groups).values({ name: 'internal_repos', regex_include: '^int-', regex_exclude: '-old$' }),
  );
  await db.insert(pulp_server_repo_groups).values([
    {
      pulp_server_id: alpha,
      repo_group_id: external,
      schedule: '0 1 * * *',
      max_concurrent_syncs: 2,
      max_runtime: '6h',
    },
    { pulp_server_id: alpha, repo_group_id: internal, max_concurrent_syncs: 1, max_runtime: '1h' },
    {
      pulp_server_id: beta,
      repo_group_id: external,
      schedule: '0 6 * * *',
      max_concurrent_syncs: 3,
      max_runtime: '1d',
      pulp_master_id: alpha,
    },
  ]);

  const task = (t: Omit<NewTask, 'task_args'> & { task_args?: Record<string, unknown> }) =>
    insertId(db.insert(tasks).values({ task_args: {}, ...t }));
  const groupSync = await task({
    name: `repo sync ${serverNames.alpha}`,
    task_type: 'repo_group_sync',
    state: 'completed',
    pulp_server_id: alpha,
    date_queued: at('2024-03-01T10:00:00Z'),
    date_started: at('2024-03-01T10:00:30Z'),
    date_finished: at('2024-03-01T10:10:00Z'),
    worker_name: 'worker-1',
    workflow_id: `repo-group-sync/${serverNames.alpha}/external_repos`,
  });
  const syncOk = await task({
    name: 'repo sync ext-centos-rpm',
    task_type: 'repo_sync',
    state: 'completed',
    parent_task_id: groupSync,
    pulp_server_id: alpha,
    date_queued: at('2024-03-01T10:01:00Z'),
    worker_name: 'worker-1',
  });
  const syncFailed = await task({
    name: 'repo sync ext-debian-deb',
    task_type: 'repo_sync',
    state: 'failed',
    parent_task_id: groupSync,
    pulp_server_id: alpha,
    date_queued: at('2024-03-01T10:02:00Z'),
    worker_name: 'worker-1',
    error: { msg: 'Pulp task failed', detail: { description: 'checksum mismatch' } },
  });
  const snapshot = await task({
    name: `snapshot repos ${serverNames.alpha}`,
    task_type: 'repo_snapshot',
    state: 'running',
    pulp_server_id: alpha,
    date_queued: at('2024-03-02T08:00:00Z'),
    worker_name: 'worker-2',
  });
  const removal = await task({
    name: `remove repos ${serverNames.beta}`,
    task_type: 'repo_removal',
    state: 'queued',
    pulp_server_id: beta,
    date_queued: at('2024-03-03T00:00:00Z'),
  });
  const content = await task({
    name: `remove repo content ${serverNames.beta}`,
    task_type: 'remove_repo_content',
    state: 'canceled',
    pulp_server_id: beta,
    date_queued: at('2024-03-04T00:00:00Z'),
  });
  // Inserted out of order: the API must order stages by position.
  await db.insert(task_stages).values([
    {
      task_id: syncOk,
      position: 2,
      name: 'publish repo',
      detail: { publication: '/pulp/api/v3/publications/rpm/rpm/1/' },
    },
    { task_id: syncOk, position: 0, name: 'sync repo', detail: { created_version: true } },
    { task_id: syncOk, position: 1, name: 'remove banned packages', detail: { skipped: 'no banned regex' } },
  ]);
  await linkTasksToServerRepos(db, [
    { serverRepoId: alphaRpm, taskId: syncOk },
    { serverRepoId: alphaDeb, taskId: syncFailed },
  ]);

  return {
    run,
    servers: { alpha, beta, primary },
    serverNames,
    repos: { rpm, deb, file, snap },
    serverRepos: { alphaRpm, alphaDeb },
    groups: { external, internal },
    tasks: { groupSync, syncOk, syncFailed, snapshot, removal, content },
  };
}
