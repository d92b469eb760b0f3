import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection, ScheduleNotFoundError } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pulp_server_repos, pulp_servers, repos, task_stages } from '../../db/schema.js';
import { unwrap } from '../../pulp/client.js';
import { ensureRepository } from '../../pulp/ensureRepository.js';
import {
  isManagedScheduleId,
  MANAGED_BY_MEMO,
  repoGroupSyncScheduleId,
  SWEEP_STALE_TASKS_SCHEDULE_ID,
} from '../../temporal/names.js';
import type { RepoGroupSyncArgs } from '../../workflows/args.js';
import { ensureNamespace } from '../api/support/apiHarness.js';
import { eventually } from '../support/eventually.js';
import { deleteReposByPrefix } from '../support/fixtureRepos.js';
import { groupRecords, pulpSyncTasksSince, runningTaskRows } from '../support/groupSyncRecords.js';
import { type PipelineHarness, startPipelineHarness } from '../support/pipelineHarness.js';
import { stackPulpClient } from '../support/pulp.js';
import { type SlowUpstream, startSlowUpstream } from '../support/slowUpstream.js';
import { stack } from '../support/stack.js';

// Faults on the real stack: an unreachable upstream, a sync slower than max_runtime (with a
// test-double upstream that holds file downloads), a worker process killed mid-group.
const run = `f${Date.now().toString(36)}`;
// Every Pulp task of this file's repositories is newer than this (their names are new too).
const fileStartedAt = new Date();
const primary = stackPulpClient(stack.pulp.primary);
const server = stack.pulp.primary.name;
let h: PipelineHarness;
/**
 * The worker processes' own namespace: a worker applies its config at start-up, deleting every
 * managed schedule the config does not name, so it must never see another file's schedules.
 */
const PROCESS_NAMESPACE = `${stack.temporal.testNamespace}-group-sync-faults`;
let processConnection: Connection | undefined;
let processClient: Client;

const fileRepo = (name: string, url: string) =>
  ensureRepository(primary, {
    name,
    repoType: 'file',
    basePath: `${run}/${name}`,
    remote: { url, tls_validation: false, policy: 'immediate' },
  });

async function startGroup(
  args: Partial<RepoGroupSyncArgs> & { regexInclude: string },
  on: { taskQueue: string; client: Client } = { taskQueue: h.taskQueue, client: h.client },
) {
  const { taskQueue, client } = on;
  return client.workflow.start('repoGroupSyncWorkflow', {
    taskQueue,
    workflowId: `repo-group-sync/${server}/test-${run}-${Date.now()}`,
    args: [{ server, maxConcurrentSyncs: 2, maxRuntimeSeconds: 600, debPublishMode: 'resign', ...args }],
  });
}

async function healthOf(name: string) {
  const [row] = await h.db
    .select({ health: pulp_server_repos.repo_sync_health })
    .from(pulp_server_repos)
    .innerJoin(repos, eq(repos.id, pulp_server_repos.repo_id))
    .where(eq(repos.name, name));
  const [s] = await h.db.select().from(pulp_servers).where(eq(pulp_servers.name, server));
  return { repo: row?.health, rollup: s?.repo_sync_health_rollup };
}

/** Whether a schedule exists (describe() is consistent, list() is not). */
async function scheduleExists(client: Client, scheduleId: string): Promise<boolean> {
  try {
    await client.schedule.getHandle(scheduleId).describe();
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}

describe('repo group sync under faults', () => {
  let slow: SlowUpstream | undefined;

  beforeAll(async () => {
    h = await startPipelineHarness();
    processConnection = await Connection.connect({ address: stack.temporal.address });
    await ensureNamespace(processConnection, PROCESS_NAMESPACE);
    processClient = new Client({ connection: processConnection, namespace: PROCESS_NAMESPACE });
  });

  afterAll(async () => {
    // What the worker processes created at start-up (the stale-task sweeper) goes with them.
    if (processClient) {
      for await (const s of processClient.schedule.list()) {
        if (isManagedScheduleId(s.scheduleId)) await processClient.schedule.getHandle(s.scheduleId).delete();
      }
    }
    await processConnection?.close();
    await slow?.close();
    await deleteReposByPrefix(primary, stack.pulp.primary.url, `ext-${run}-`);
    await h?.close();
  });

  it('an unreachable upstream fails only its repo, with Pulp error text; health goes amber then red', async () => {
    const good = `ext-${run}-good`;
    const flaky = `ext-${run}-flaky`;
    await fileRepo(good, `${stack.fixtures.baseUrl}/file/PULP_MANIFEST`);
    const flakyRepo = await fileRepo(flaky, `${stack.fixtures.baseUrl}/file/PULP_MANIFEST`);
    const regexInclude = `^ext-${run}-(good|flaky)$`;

    await (await startGroup({ regexInclude })).result();
    expect(await healthOf(flaky)).toEqual({ repo: 'green', rollup: expect.any(String) });

    // Port 1 on loopback: nothing listens, Pulp gets "connection refused".
    await unwrap(
      primary.PATCH('{file_file_remote_href}', {
        params: { path: { file_file_remote_href: flakyRepo.remoteHref ?? '' } },
        body: { url: 'http://127.0.0.1:1/file/PULP_MANIFEST' },
      }),
    );
    const handle = await startGroup({ regexInclude });
    expect(await handle.result()).toMatchObject({ total: 2, completed: 1, failed: 1 });
    const { group, children } = await groupRecords(h.db, handle.workflowId);
    expect(group.state).toBe('completed');
    const failed = children.get(flaky);
    expect(failed?.state).toBe('failed');
    const [syncStage] = await h.db
      .select()
      .from(task_stages)
      .where(eq(task_stages.task_id, failed?.id ?? -1));
    expect(syncStage?.name).toBe('sync repo');
    expect(JSON.stringify(syncStage?.error)).toMatch(/Cannot connect to host 127\.0\.0\.1:1/);
    expect(await healthOf(good)).toMatchObject({ repo: 'green' });
    // latest failed, 1 failure and 1 success among the last five → amber; rollup follows
    expect(await healthOf(flaky)).toEqual({ repo: 'amber', rollup: 'amber' });

    for (let i = 0; i < 3; i++) await (await startGroup({ regexInclude })).result();
    // 4 failures out of 5 → red
    expect(await healthOf(flaky)).toEqual({ repo: 'red', rollup: 'red' });
  });

  it('max_runtime shorter than a slow sync cancels the Pulp task, the child and fails the group', async () => {
    slow = await startSlowUpstream(120_000);
    const name = `ext-${run}-slow`;
    await fileRepo(name, slow.manifestUrl);
    const handle = await startGroup({ regexInclude: `^${name}$`, maxRuntimeSeconds: 8 });
    expect(await handle.result()).toMatchObject({ total: 1, canceled: 1, completed: 0 });

    const { group, children } = await groupRecords(h.db, handle.workflowId);
    expect(group.state).toBe('failed');
    expect(group.error).toMatchObject({ msg: 'max_runtime of 8s exceeded: 1 repo syncs canceled' });
    expect([...children.values()].map((c) => c.state)).toEqual(['canceled']);
    const pulpTasks = await pulpSyncTasksSince(primary, name, fileStartedAt);
    expect(pulpTasks.map((t) => t.state)).toEqual(['canceled']);
    await slow.close();
    slow = undefined;
  });

  /**
   * Real `pulp-manager worker` processes on a task queue and in a namespace of their own, with
   * the harness's database. Applying their config at start-up touches only schedules of that
   * namespace; metrics are off (no fixed port), so that several can run at once.
   */
  async function workerProcesses(taskQueue: string) {
    const dir = await mkdtemp(join(tmpdir(), 'pm-worker-'));
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const ini = (await readFile(join(root, 'dev/config/config.ini'), 'utf8'))
      .replace(/^namespace=.*$/m, `namespace=${PROCESS_NAMESPACE}`)
      .replace(/^task_queue=.*$/m, `task_queue=${taskQueue}`);
    if (!ini.includes(`namespace=${PROCESS_NAMESPACE}\n`) || !ini.includes(`task_queue=${taskQueue}\n`)) {
      throw new Error(
        'dev/config/config.ini: no namespace=/task_queue= line to point the worker processes at',
      );
    }
    await writeFile(join(dir, 'config.ini'), ini);
    await writeFile(
      join(dir, 'pulp_config.yml'),
      `pulp_servers:\n  ${server}:\n    credentials: local\ncredentials:\n  local:\n    username: admin\n    vault_service_account_mount: local-auth\nrepo_groups: {}\n`,
    );
    const env = {
      ...process.env,
      PULP_MANAGER_CONFIG_PATH: join(dir, 'config.ini'),
      PULP_SYNC_CONFIG_PATH: join(dir, 'pulp_config.yml'),
      PULP_MANAGER_LOCAL_AUTH: 'true',
      DB_NAME: h.config.database.database,
      DB_PASSWORD: stack.mariadb.password,
    };
    const started: ChildProcess[] = [];
    const pollingOf = new Map<ChildProcess, Promise<void>>();
    return {
      start(): ChildProcess {
        const p = spawn('node', ['--import', 'tsx', 'cli/main.ts', 'worker', '--metrics-port', '0'], {
          cwd: root,
          env,
          stdio: ['ignore', 'pipe', 'ignore'],
          detached: false,
        });
        let out = '';
        const polling = new Promise<void>((resolve, reject) => {
          // Always drained: a full pipe would block the process.
          p.stdout?.on('data', (chunk: Buffer) => {
            if (out.includes('worker polling ')) return;
            out += chunk.toString();
            if (out.includes('worker polling ')) resolve();
          });
          p.once('exit', (code, signal) =>
            reject(new Error(`worker process exited (${code ?? signal}) before polling; stdout:\n${out}`)),
          );
        });
        // Processes killed later reject this; only a test that awaits polling() cares.
        polling.catch(() => undefined);
        pollingOf.set(p, polling);
        started.push(p);
        return p;
      },
      /** Resolves once the process polls its task queue: it has applied its config by then (cli/main.ts). */
      polling: (p: ChildProcess) => pollingOf.get(p) ?? Promise.reject(new Error('not started here')),
      alive: () => started.filter((p) => p.exitCode === null && p.signalCode === null).length,
      stopAll() {
        for (const p of started) if (p.exitCode === null) p.kill('SIGKILL');
      },
    };
  }

  const exited = (p: ChildProcess) =>
    new Promise<void>((r) => (p.exitCode !== null ? r() : p.once('exit', () => r())));

  /** Waits until every named repo has exactly one Pulp sync, at least one of them running. */
  async function untilSyncsStarted(names: string[]) {
    await eventually(
      async () => {
        const states = (
          await Promise.all(names.map((n) => pulpSyncTasksSince(primary, n, fileStartedAt)))
        ).map((ts) => ts.map((t) => t.state));
        for (const s of states) expect(s).toHaveLength(1);
        expect(states.flat()).toContain('running');
        expect(states.flat().every((s) => s === 'running' || s === 'waiting')).toBe(true);
      },
      90_000,
      250,
    );
  }

  it('a worker process applies its config in its own namespace: a managed schedule of the shared test namespace survives its start-up', async () => {
    // Looks like one the reconciler owns (managed id and memo): an apply in the shared namespace
    // with this file's empty config would delete it.
    const sentinel = repoGroupSyncScheduleId(server, `sentinel-${run}`);
    await h.client.schedule.create({
      scheduleId: sentinel,
      spec: { cronExpressions: ['0 0 1 1 *'] },
      action: {
        type: 'startWorkflow',
        workflowType: 'repoGroupSyncWorkflow',
        taskQueue: h.taskQueue,
        args: [],
      },
      memo: { ...MANAGED_BY_MEMO },
      state: { paused: true },
    });
    const workers = await workerProcesses(`${h.taskQueue}-ns`);
    try {
      // The apply finds stale schedules with list(), which lags: it must be able to see this one.
      await eventually(
        async () => {
          const ids: string[] = [];
          for await (const s of h.client.schedule.list()) ids.push(s.scheduleId);
          expect(ids).toContain(sentinel);
        },
        30_000,
        250,
      );
      // Recreated by the process's apply: proof that it applied its config, and where.
      if (await scheduleExists(processClient, SWEEP_STALE_TASKS_SCHEDULE_ID))
        await processClient.schedule.getHandle(SWEEP_STALE_TASKS_SCHEDULE_ID).delete();
      await workers.polling(workers.start());
      expect(
        await scheduleExists(h.client, sentinel),
        `${sentinel} in the shared namespace ${stack.temporal.testNamespace}`,
      ).toBe(true);
      expect(
        await scheduleExists(processClient, SWEEP_STALE_TASKS_SCHEDULE_ID),
        `${SWEEP_STALE_TASKS_SCHEDULE_ID} in ${PROCESS_NAMESPACE}`,
      ).toBe(true);
    } finally {
      workers.stopAll();
      if (await scheduleExists(h.client, sentinel)) await h.client.schedule.getHandle(sentinel).delete();
    }
  }, 120_000);

  it('two worker processes share a group, one is killed mid-group: the group finishes and no repo is synced twice', async () => {
    slow = await startSlowUpstream(15_000);
    const names = [`ext-${run}-crash-a`, `ext-${run}-crash-b`];
    for (const n of names) await fileRepo(n, slow.manifestUrl);
    const taskQueue = `${h.taskQueue}-proc`;
    const workers = await workerProcesses(taskQueue);
    const victim = workers.start();
    workers.start();
    try {
      const handle = await startGroup(
        { regexInclude: `^ext-${run}-crash-` },
        { taskQueue, client: processClient },
      );
      // Both Pulp syncs are started (one running, held by the slow upstream; the other running
      // or waiting for the Pulp worker) when one worker process dies.
      await untilSyncsStarted(names);
      // Both came up (each applied the config at start-up) and keep running.
      expect(workers.alive()).toBe(2);
      victim.kill('SIGKILL');
      await exited(victim);
      expect(await handle.result()).toMatchObject({ total: 2, completed: 2, failed: 0 });
      for (const n of names) {
        const syncs = await pulpSyncTasksSince(primary, n, fileStartedAt);
        expect(
          syncs.map((t) => t.state),
          n,
        ).toEqual(['completed']);
      }
      const { group, children } = await groupRecords(h.db, handle.workflowId);
      expect(group.state).toBe('completed');
      expect([...children.values()].map((c) => c.state)).toEqual(['completed', 'completed']);
      // Nothing the killed process was doing stays 'running' in the records (the file's earlier
      // tests have all finished their tasks too).
      expect(await runningTaskRows(h.db)).toEqual([]);
    } finally {
      workers.stopAll();
      await slow.close();
      slow = undefined;
    }
  }, 400_000);

  it('a rolling deploy (SIGTERM) mid-sync longer than the shutdown grace: another worker resumes the same Pulp sync, never canceled', async () => {
    // Longer than the worker's 30 s shutdown grace: the activity is aborted while Pulp syncs.
    slow = await startSlowUpstream(50_000, 1);
    const name = `ext-${run}-deploy`;
    await fileRepo(name, slow.manifestUrl);
    const taskQueue = `${h.taskQueue}-deploy`;
    const workers = await workerProcesses(taskQueue);
    const old = workers.start();
    try {
      const handle = await startGroup({ regexInclude: `^${name}$` }, { taskQueue, client: processClient });
      await untilSyncsStarted([name]);
      const [original] = await pulpSyncTasksSince(primary, name, fileStartedAt);
      const next = workers.start();
      old.kill('SIGTERM');
      await exited(old);
      expect(old.exitCode ?? old.signalCode).not.toBe(null);
      expect(next.exitCode).toBe(null);
      expect(await handle.result()).toMatchObject({ total: 1, completed: 1, failed: 0 });
      const syncs = await pulpSyncTasksSince(primary, name, fileStartedAt);
      // The sync the old worker started, completed: not canceled, and no second one.
      expect(syncs.map((t) => [t.pulp_href, t.state])).toEqual([[original?.pulp_href, 'completed']]);
      const { group, children } = await groupRecords(h.db, handle.workflowId);
      expect(group.state).toBe('completed');
      expect([...children.values()].map((c) => c.state)).toEqual(['completed']);
    } finally {
      workers.stopAll();
      await slow.close();
      slow = undefined;
    }
  }, 400_000);
});
