import { randomBytes } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { describe, expect, it } from 'vitest';
import { createChildWorkflowWatchActivities } from '../../activities/childWorkflowWatch.js';
import { repoSyncWorkflowId } from '../../temporal/names.js';
import { type GroupProgress, repoGroupSyncWorkflow } from '../../workflows/repoGroupSync.js';
import { repoSyncWorkflow } from '../../workflows/repoSync.js';
import { type StubActivities, useStubWorkerEnv } from '../support/stubWorker.js';
import { type StubRepo, stubFleet, stubSelectionPage } from './groupStubActivities.js';

/**
 * Group sync rules that only orchestration decides, with stub activities on the real dev
 * server: never more than max_concurrent_syncs repo syncs at once (watched in the sync activity
 * itself, across continue-as-new hand-overs too), and a repo whose sync is already running
 * (started by anyone else) counted as skipped, named, left out of the health update and not
 * synced a second time. Every test uses a server name of its own, so child workflow ids
 * (repo-sync/<server>/<repo>) never meet another file's.
 */
const env = useStubWorkerEnv();

const serverName = () => `pulp-h6-${randomBytes(4).toString('hex')}`;

interface Recorded {
  stages: { name: string; detail: Record<string, unknown> }[];
  finished: { state: string }[];
  health: number[][];
}

/** Task bookkeeping, selection and health stubs for a group over `repos`. */
function groupStubs(repos: StubRepo[], rec: Recorded): StubActivities {
  let nextId = 5000;
  return {
    ...createChildWorkflowWatchActivities(env.client),
    startTaskRecord: async (input: never) => (input as { taskId?: number }).taskId ?? nextId++,
    recordStage: async (input: never) => {
      rec.stages.push(input as Recorded['stages'][number]);
    },
    finishTaskRecord: async (input: never) => {
      rec.finished.push(input as Recorded['finished'][number]);
    },
    endTaskOfRun: async () => undefined,
    linkTaskToServerRepo: async () => undefined,
    reconcileServerRepos: async () => ({ added: 0, updated: 0, removed: 0, total: repos.length }),
    selectReposForSyncPage: stubSelectionPage(repos) as (input: never) => Promise<unknown>,
    updateRepoHealth: async (input: never) => {
      rec.health.push((input as { serverRepoIds: number[] }).serverRepoIds);
      return { rollup: 'green' };
    },
  };
}

const newRecorded = (): Recorded => ({ stages: [], finished: [], health: [] });

/**
 * A sync activity that counts the syncs running at once. Each sync holds its lane until `cap`
 * syncs run together (or 4 s pass), then 400 ms more: long enough for a workflow that allowed
 * one sync too many to start it while the others still run.
 */
function concurrencyProbe(cap: number) {
  let current = 0;
  let max = 0;
  const synced: number[] = [];
  let full: () => void = () => undefined;
  let fullNow = new Promise<void>((r) => {
    full = r;
  });
  return {
    get max() {
      return max;
    },
    synced,
    runRepoSyncPipeline: async (input: never) => {
      const id = (input as { serverRepoId: number }).serverRepoId;
      synced.push(id);
      current++;
      max = Math.max(max, current);
      if (current >= cap) full();
      const ctx = Context.current();
      const beat = setInterval(() => ctx.heartbeat(), 200);
      try {
        await Promise.race([fullNow, new Promise((r) => setTimeout(r, 4000))]);
        await new Promise((r) => setTimeout(r, 400));
      } finally {
        clearInterval(beat);
        current--;
        if (current < cap) {
          fullNow = new Promise<void>((r) => {
            full = r;
          });
        }
      }
      return 'published';
    },
  };
}

async function runGroup(
  taskQueue: string,
  server: string,
  maxConcurrentSyncs: number,
  childrenPerRun?: number,
): Promise<GroupProgress> {
  return env.client.workflow.execute(repoGroupSyncWorkflow, {
    taskQueue,
    workflowId: `repo-group-sync-test/${server}`,
    args: [
      {
        server,
        maxConcurrentSyncs,
        maxRuntimeSeconds: 600,
        debPublishMode: 'resign',
        ...(childrenPerRun === undefined ? {} : { childrenPerRun }),
      },
    ],
  });
}

const ids = (repos: StubRepo[]) => repos.map((r) => r.id);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

describe('group sync: max_concurrent_syncs', () => {
  it.each([1, 3])('runs at most %i repo syncs at once, and reaches that many', async (cap) => {
    const repos = stubFleet(3 * cap + 1);
    const rec = newRecorded();
    const probe = concurrencyProbe(cap);
    const result = await env.withWorker(
      { ...groupStubs(repos, rec), runRepoSyncPipeline: probe.runRepoSyncPipeline },
      (taskQueue) => runGroup(taskQueue, serverName(), cap),
    );
    expect(probe.max).toBe(cap);
    expect(sorted(probe.synced)).toEqual(ids(repos));
    expect(result).toMatchObject({ total: repos.length, completed: repos.length, failed: 0, skipped: 0 });
  });

  it('keeps the cap across continue-as-new, while the next run holds the syncs handed over', async () => {
    const cap = 3;
    const repos = stubFleet(14);
    const rec = newRecorded();
    const probe = concurrencyProbe(cap);
    const result = await env.withWorker(
      { ...groupStubs(repos, rec), runRepoSyncPipeline: probe.runRepoSyncPipeline },
      // 4 children per run: the runs hand running syncs over 3 times.
      (taskQueue) => runGroup(taskQueue, serverName(), cap, 4),
    );
    expect(probe.max).toBe(cap);
    expect(sorted(probe.synced)).toEqual(ids(repos));
    expect(result).toMatchObject({ total: 14, completed: 14, failed: 0, skipped: 0, canceled: 0 });
    expect(sorted(rec.health.flat())).toEqual(ids(repos));
  });
});

describe('group sync: a repo whose sync is already running', () => {
  it('is counted as skipped and named, not synced again, and left out of the health update', async () => {
    const server = serverName();
    const repos = stubFleet(4);
    const busy = repos[1] as StubRepo;
    const rec = newRecorded();
    const synced: number[] = [];
    let releaseBusy: () => void = () => undefined;
    const busyReleased = new Promise<void>((r) => {
      releaseBusy = r;
    });
    let busyStarted: () => void = () => undefined;
    const busyRunning = new Promise<void>((r) => {
      busyStarted = r;
    });
    const outcome = await env.withWorker(
      {
        ...groupStubs(repos, rec),
        runRepoSyncPipeline: async (input: never) => {
          const id = (input as { serverRepoId: number; parentTaskId?: number }).serverRepoId;
          synced.push(id);
          if (id === busy.id && synced.filter((s) => s === busy.id).length === 1) {
            // The sync started outside the group (API or another group): runs until released.
            busyStarted();
            const ctx = Context.current();
            const beat = setInterval(() => ctx.heartbeat(), 200);
            try {
              await busyReleased;
            } finally {
              clearInterval(beat);
            }
          }
          return 'published';
        },
      },
      async (taskQueue) => {
        const solo = await env.client.workflow.start(repoSyncWorkflow, {
          taskQueue,
          workflowId: repoSyncWorkflowId(server, busy.name),
          args: [
            {
              server,
              serverRepoId: busy.id,
              repoName: busy.name,
              debPublishMode: 'resign',
              pipeline: 'one-activity',
            },
          ],
        });
        await busyRunning;
        const result = await runGroup(taskQueue, server, 2);
        releaseBusy();
        return { result, solo: await solo.result() };
      },
    );
    expect(outcome.result).toEqual({
      total: 4,
      pending: 0,
      running: 0,
      completed: 3,
      failed: 0,
      skipped: 1,
      canceled: 0,
    });
    expect(outcome.solo).toBe('published');
    // The running sync was not started a second time.
    expect(sorted(synced)).toEqual([1, 2, 3, 4]);
    const syncStage = rec.stages.filter((s) => s.name === 'sync repos').at(-1);
    expect(syncStage?.detail).toMatchObject({ skipped: 1, skipped_repos: [busy.name], failed_repos: [] });
    expect(sorted(rec.health.flat())).toEqual([1, 3, 4]);
    expect(rec.finished.at(-1)).toMatchObject({ state: 'completed' });
  });
});
