import { randomBytes } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { createChildWorkflowWatchActivities } from '../../activities/childWorkflowWatch.js';
import type { RepoCursor, RepoPage } from '../../db/serverRepoQueries.js';
import { removeRepoContentWorkflow } from '../../workflows/removeRepoContent.js';
import { repoGroupSyncWorkflow } from '../../workflows/repoGroupSync.js';
import { repoRemovalWorkflow } from '../../workflows/repoRemoval.js';
import { snapshotReposWorkflow } from '../../workflows/snapshotRepos.js';
import { type StubActivities, useStubWorkerEnv } from '../support/stubWorker.js';

/**
 * Snapshots, removals and group syncs at fleet size, with stub activities on the real dev
 * server: each continues as new every N repos carrying a cursor (its input does not grow with
 * the number of repos) and still finishes every repo with the right totals; max_runtime ends
 * every stage, including the group's register and reconcile and a repo or content removal.
 */
const env = useStubWorkerEnv();

const wid = (kind: string) => `${kind}-test/${randomBytes(4).toString('hex')}`;

interface StubRepo {
  id: number;
  name: string;
}

/** A fleet of `n` repos with ids 1..n, paged as pageOfServerRepos pages them (id order, after the cursor). */
function fleet(n: number): StubRepo[] {
  return Array.from({ length: n }, (_, i) => ({ id: i + 1, name: `repo-${String(i + 1).padStart(3, '0')}` }));
}

function page<T extends { id: number }>(
  items: T[],
  input: { cursor: RepoCursor; limit: number; withTotal?: boolean },
): RepoPage<T> {
  const after = items.filter((r) => r.id > input.cursor.afterId);
  const got = after.slice(0, input.limit);
  const last = got[got.length - 1];
  return {
    items: got,
    next: after.length > input.limit && last ? { afterId: last.id } : null,
    ...(input.withTotal ? { total: items.length } : {}),
  };
}

interface StageCall {
  position: number;
  name: string;
  detail: Record<string, unknown>;
  error?: { msg: string };
}
interface FinishCall {
  state: string;
  error?: { msg: string } | null;
}

/** Task bookkeeping stubs that remember what the workflows recorded. */
function taskStubs() {
  const stages: StageCall[] = [];
  const finished: FinishCall[] = [];
  let nextId = 1000;
  return {
    stages,
    finished,
    stubs: {
      startTaskRecord: async (input: never) => (input as { taskId?: number }).taskId ?? nextId++,
      recordStage: async (input: never) => {
        stages.push(input as StageCall);
      },
      finishTaskRecord: async (input: never) => {
        finished.push(input as FinishCall);
      },
      linkTaskToServerRepo: async () => undefined,
      reconcileServerRepos: async () => ({ added: 0, updated: 0, removed: 0, total: 0 }),
    } satisfies StubActivities,
  };
}

interface RunInfo {
  status: string;
  /**
   * Bytes of the input this run handed to the next (continue-as-new), if it continued, less the
   * running syncs a group hands over and the repos left for the next health update: those are
   * bounded by the lanes, not the repos done, and vary with timing. `handedOver` counts them.
   */
  carriedBytes?: number;
  handedOver?: number[];
  events: number;
}

/** The carried input's size without a group's timing-dependent lists. */
function carriedSize(payloads: temporal.api.common.v1.IPayload[]): { bytes: number; handedOver?: number[] } {
  let handedOver: number[] | undefined;
  const bytes = payloads.reduce((n: number, p) => {
    const input = JSON.parse(new TextDecoder().decode(p.data ?? new Uint8Array())) as {
      carry?: { handedOver?: { id: number }[]; finishedRepoIds?: number[] };
    };
    if (input.carry?.handedOver) {
      handedOver = input.carry.handedOver.map((h) => h.id);
      delete input.carry.handedOver;
      input.carry.finishedRepoIds = [];
    }
    return n + JSON.stringify(input).length;
  }, 0);
  return { bytes, handedOver };
}

/** Follows the run chain from the first run: each run's status, history size and carried input size. */
async function runChain(handle: WorkflowHandle, firstRunId: string): Promise<RunInfo[]> {
  const runs: RunInfo[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history: temporal.api.history.v1.IHistory = await env.client.workflow
      .getHandle(handle.workflowId, runId)
      .fetchHistory();
    const events = history.events ?? [];
    const last = events[events.length - 1];
    const can = last?.workflowExecutionContinuedAsNewEventAttributes;
    if (can) {
      const { bytes, handedOver } = carriedSize(can.input?.payloads ?? []);
      runs.push({ status: 'CONTINUED_AS_NEW', carriedBytes: bytes, handedOver, events: events.length });
      runId = can.newExecutionRunId ?? undefined;
    } else {
      runs.push({
        status: last?.workflowExecutionCompletedEventAttributes ? 'COMPLETED' : 'NOT_COMPLETED',
        events: events.length,
      });
      runId = undefined;
    }
  }
  return runs;
}

/** A bounded group's selection of `repos`, and the real wait for syncs a run hands over. */
function groupPaging(repos: StubRepo[]): StubActivities {
  return {
    ...createChildWorkflowWatchActivities(env.client),
    selectReposForSyncPage: async (input: never) =>
      page(repos, input as { cursor: RepoCursor; limit: number; withTotal?: boolean }),
  };
}

/** Runs a bounded group of `lanes` lanes and `childrenPerRun` children per run to its end: its result and run chain. */
async function runGroup(taskQueue: string, lanes: number, childrenPerRun: number) {
  const handle = await env.client.workflow.start(repoGroupSyncWorkflow, {
    taskQueue,
    workflowId: wid('repo-group-sync'),
    args: [
      {
        server: 'pulp1',
        maxConcurrentSyncs: lanes,
        maxRuntimeSeconds: 600,
        debPublishMode: 'resign',
        childrenPerRun,
      },
    ],
  });
  const result = await handle.result();
  return { result, runs: await runChain(handle, handle.firstExecutionRunId) };
}

/** The carry must not grow with the repos done: the last run hands on what the first did, give or take digits. */
function expectBoundedCarry(runs: RunInfo[], expectedRuns: number) {
  expect(runs).toHaveLength(expectedRuns);
  const carried = runs.flatMap((r) => (r.carriedBytes === undefined ? [] : [r.carriedBytes]));
  expect(carried).toHaveLength(expectedRuns - 1);
  expect(runs.at(-1)?.status).toBe('COMPLETED');
  const first = carried[0] ?? 0;
  const last = carried[carried.length - 1] ?? 0;
  expect(last - first).toBeLessThan(40);
  expect(last).toBeLessThan(2000);
}

describe('snapshotReposWorkflow', () => {
  it('continues as new every N repos with a cursor and snapshots all 60 with the right totals', async () => {
    const repos = fleet(60);
    const { stages, finished, stubs } = taskStubs();
    const snapshotted: string[] = [];
    const pages: RepoCursor[] = [];
    const { result, runs } = await env.withWorker(
      {
        ...stubs,
        loadSnapshotSupport: async () => ({ snapshotSupported: true, maxConcurrentSnapshots: 5 }),
        countReposWithPrefix: async () => ({ count: 0, first: [] }),
        selectReposForSnapshotPage: async (input: never) => {
          const req = input as { cursor: RepoCursor; limit: number; withTotal?: boolean };
          pages.push(req.cursor);
          const p = page(
            repos.map((r) => ({ ...r, repoType: 'rpm' })),
            req,
          );
          return req.withTotal ? { ...p, excluded: { count: 0, first: [] } } : p;
        },
        // The snapshotRepo children, reduced to what they read.
        loadServerRepoByName: async (input: never) => ({
          id: 1,
          name: (input as { name: string }).name,
          repoType: 'rpm',
          repoHref: '/r/',
          remoteHref: null,
          distributionHref: '/d/',
        }),
        ensureSnapshotRepository: async (input: never) => {
          snapshotted.push((input as { snapshotName: string }).snapshotName);
          return {
            repoType: 'rpm',
            repoHref: '/snap/',
            distributionHref: '/snapd/',
            basePath: 'snap',
            created: true,
            sourceVersionHref: '/r/versions/1/',
            sourceRemoteHref: null,
          };
        },
        recordServerRepo: async () => 7,
        copyVersionIntoSnapshot: async () => ({
          taskHref: '/t/',
          createdVersionHref: '/snap/versions/1/',
          latestVersionHref: '/snap/versions/1/',
          emptiedFirst: false,
        }),
        publishRepository: async () => ({ publicationHref: '/p/' }),
      },
      async (taskQueue) => {
        const handle = await env.client.workflow.start(snapshotReposWorkflow, {
          taskQueue,
          workflowId: wid('snapshot-repos'),
          args: [
            {
              server: 'pulp1',
              snapshotPrefix: 'wk',
              allowSnapshotReuse: false,
              maxRuntimeSeconds: 600,
              reposPerRun: 10,
            },
          ],
        });
        const r = await handle.result();
        return { result: r, runs: await runChain(handle, handle.firstExecutionRunId) };
      },
    );
    expect(result).toEqual({
      prefix: 'snap-wk-',
      total: 60,
      completed: 60,
      failed: 0,
      skipped: 0,
      canceled: 0,
      failedRepos: [],
    });
    expect(new Set(snapshotted)).toEqual(new Set(repos.map((r) => `snap-wk-${r.name}`)));
    expect(snapshotted).toHaveLength(60);
    expect(pages.map((c) => c.afterId)).toEqual([0, 10, 20, 30, 40, 50]);
    expectBoundedCarry(runs, 6);
    // One Task for the whole chain; its parent stage lists the first names and counts them all.
    const parentFinished = finished.filter((f) => f.state === 'completed');
    expect(parentFinished.length).toBe(61);
    const select = stages.find((s) => s.name === 'find repos to snapshot');
    expect(select?.detail).toMatchObject({ message: 'there are 60 repos to snapshot' });
    expect(select?.detail.repos).toHaveLength(10);
    expect(select?.detail.repos_not_listed).toBe(50);
    const lastSnapshotStage = stages.filter((s) => s.name === 'snapshot repos').at(-1);
    expect(lastSnapshotStage?.detail).toMatchObject({ state: 'completed', total: 60, completed: 60 });
  });
});

describe('repoRemovalWorkflow', () => {
  const removalStubs = (repos: StubRepo[], deleted: string[]) => ({
    selectReposForRemovalPage: async (input: never) =>
      page(
        repos.map((r) => ({
          ...r,
          repoType: 'rpm',
          repoHref: `/r/${r.id}/`,
          remoteHref: null,
          distributionHref: null,
        })),
        input as { cursor: RepoCursor; limit: number; withTotal?: boolean },
      ),
    deleteRepositoryObjects: async (input: never) => {
      deleted.push((input as { repoHref: string }).repoHref);
    },
  });

  it('continues as new every N repos with a cursor, removes all 60, then reconciles once', async () => {
    const repos = fleet(60);
    const { stages, finished, stubs } = taskStubs();
    const deleted: string[] = [];
    let reconciles = 0;
    const { result, runs } = await env.withWorker(
      {
        ...stubs,
        ...removalStubs(repos, deleted),
        reconcileServerRepos: async () => {
          reconciles++;
          return { added: 0, updated: 0, removed: 0, total: 0 };
        },
      },
      async (taskQueue) => {
        const handle = await env.client.workflow.start(repoRemovalWorkflow, {
          taskQueue,
          workflowId: wid('repo-removal'),
          args: [
            {
              server: 'pulp1',
              regexInclude: '^repo-',
              dryRun: false,
              maxRuntimeSeconds: 600,
              reposPerRun: 10,
            },
          ],
        });
        const r = await handle.result();
        return { result: r, runs: await runChain(handle, handle.firstExecutionRunId) };
      },
    );
    expect(result).toMatchObject({
      dryRun: false,
      removed: 60,
      failed: {},
      matchedCount: 60,
      failedCount: 0,
    });
    expect(result.matched).toHaveLength(10);
    expect(new Set(deleted).size).toBe(60);
    expect(deleted).toHaveLength(60);
    expectBoundedCarry(runs, 6);
    // Before and after the removals, not per run.
    expect(reconciles).toBe(2);
    expect(finished).toEqual([{ taskId: 1000, state: 'completed' }]);
    expect(stages.map((s) => s.name).filter((n, i, all) => all.indexOf(n) === i)).toEqual([
      'reconcile repos',
      'find repos to remove',
      'remove repos',
      'reconcile repos after removal',
    ]);
    expect(stages.filter((s) => s.name === 'remove repos').at(-1)?.detail).toMatchObject({
      state: 'completed',
      removed: 60,
      message: 'removed 60, failed to remove 0 of 60',
    });
  });

  it('max_runtime cancels the running deletions and fails the removal with the reason', async () => {
    const repos = fleet(8);
    const { stages, finished, stubs } = taskStubs();
    const canceled: string[] = [];
    const failure = await env.withWorker(
      {
        ...stubs,
        ...removalStubs(repos, []),
        deleteRepositoryObjects: async (input: never) => {
          const ctx = Context.current();
          const beat = setInterval(() => ctx.heartbeat(), 100);
          try {
            await ctx.cancelled;
          } catch (err) {
            canceled.push((input as { repoHref: string }).repoHref);
            throw err;
          } finally {
            clearInterval(beat);
          }
        },
      },
      (taskQueue) =>
        env.client.workflow
          .execute(repoRemovalWorkflow, {
            taskQueue,
            workflowId: wid('repo-removal'),
            args: [{ server: 'pulp1', regexInclude: '^repo-', dryRun: false, maxRuntimeSeconds: 3 }],
          })
          .catch((err: unknown) => err),
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = (failure as WorkflowFailedError).cause;
    expect(cause?.message).toBe('max_runtime of 3s exceeded: removed 0, failed to remove 0, 8 not removed');
    // Four lanes were deleting; each was canceled (and waited for) before the task ended.
    expect(canceled).toHaveLength(4);
    expect(finished.at(-1)).toMatchObject({ state: 'failed', error: { msg: cause?.message } });
    expect(stages.filter((s) => s.name === 'remove repos').at(-1)?.detail).toMatchObject({ state: 'failed' });
    expect(stages.at(-1)).toMatchObject({
      name: 'reconcile repos after removal',
      detail: { state: 'skipped' },
    });
  });
});

describe('repoGroupSyncWorkflow', () => {
  it('continues as new every N children with a cursor, updates health per run, finishes all 60', async () => {
    const repos = fleet(60);
    const { stages, stubs } = taskStubs();
    const synced: number[] = [];
    const health: number[][] = [];
    const { result, runs } = await env.withWorker(
      {
        ...stubs,
        ...groupPaging(repos),
        runRepoSyncPipeline: async (input: never) => {
          synced.push((input as { serverRepoId: number }).serverRepoId);
          return 'published';
        },
        updateRepoHealth: async (input: never) => {
          health.push((input as { serverRepoIds: number[] }).serverRepoIds);
          return { rollup: 'green' };
        },
      },
      (taskQueue) => runGroup(taskQueue, 5, 10),
    );
    expect(result).toEqual({
      total: 60,
      pending: 0,
      running: 0,
      completed: 60,
      failed: 0,
      skipped: 0,
      canceled: 0,
    });
    expect([...synced].sort((a, b) => a - b)).toEqual(repos.map((r) => r.id));
    expectBoundedCarry(runs, 6);
    // Each run updates the health of the repos whose sync ended in it (a sync a run hands over
    // ends in the next): one update per run, every repo once.
    expect(health).toHaveLength(6);
    expect(health.flat().sort((a, b) => a - b)).toEqual(repos.map((r) => r.id));
    for (const run of runs) expect((run.handedOver ?? []).length).toBeLessThanOrEqual(5);
    expect(
      stages.find((s) => s.name === 'update repo health' && s.detail.state === 'completed')?.detail,
    ).toMatchObject({
      repos_updated: 60,
    });
  });

  it('hands its running syncs to the next run instead of waiting for them (lanes never drain)', async () => {
    const repos = fleet(12);
    const { stages, stubs } = taskStubs();
    const started: number[] = [];
    const health: number[][] = [];
    // Repo 1 (run 1) ends only once repo 5, the first of run 2's page, has started: a run that
    // waited for its children before continuing as new would hold repo 5 back until the stub
    // gave up.
    let releaseRepo1: () => void = () => undefined;
    const repo5Started = new Promise<void>((r) => {
      releaseRepo1 = r;
    });
    let repo1WaitedInVain = false;
    const { result, runs } = await env.withWorker(
      {
        ...stubs,
        ...groupPaging(repos),
        runRepoSyncPipeline: async (input: never) => {
          const id = (input as { serverRepoId: number }).serverRepoId;
          started.push(id);
          if (id === 5) releaseRepo1();
          if (id === 1) {
            const gaveUp = await Promise.race([
              repo5Started.then(() => false),
              new Promise<boolean>((r) => setTimeout(() => r(true), 15_000)),
            ]);
            repo1WaitedInVain = gaveUp;
          }
          return 'published';
        },
        updateRepoHealth: async (input: never) => {
          health.push((input as { serverRepoIds: number[] }).serverRepoIds);
          return { rollup: 'green' };
        },
      },
      (taskQueue) => runGroup(taskQueue, 3, 4),
    );
    expect(repo1WaitedInVain).toBe(false);
    expect(started.indexOf(5)).toBeGreaterThan(started.indexOf(1));
    // Run 1 handed repo 1 (still running) to run 2.
    expect(runs[0]?.handedOver).toContain(1);
    expect(result).toEqual({
      total: 12,
      pending: 0,
      running: 0,
      completed: 12,
      failed: 0,
      skipped: 0,
      canceled: 0,
    });
    // One sync per repo, one health update per repo, whatever run it ended in.
    expect([...started].sort((a, b) => a - b)).toEqual(repos.map((r) => r.id));
    expect(health.flat().sort((a, b) => a - b)).toEqual(repos.map((r) => r.id));
    expect(runs).toHaveLength(3);
    expect(
      stages.find((s) => s.name === 'update repo health' && s.detail.state === 'completed')?.detail,
    ).toMatchObject({ repos_updated: 12 });
  });

  it.each([
    ['a cancel of the group', 'canceled'],
    ['max_runtime', 'failed'],
  ] as const)(
    '%s cancels the syncs handed over by the run before and waits for their end',
    async (how, state) => {
      const repos = fleet(12);
      const { finished, stubs } = taskStubs();
      const canceled: number[] = [];
      let startedRepo5: () => void = () => undefined;
      const repo5 = new Promise<void>((r) => {
        startedRepo5 = r;
      });
      const ended = await env.withWorker(
        {
          ...stubs,
          ...groupPaging(repos),
          endTaskOfRun: async () => undefined,
          updateRepoHealth: async () => ({ rollup: 'green' }),
          runRepoSyncPipeline: async (input: never) => {
            const id = (input as { serverRepoId: number }).serverRepoId;
            if (id === 5) startedRepo5();
            if (id !== 1 && id !== 5) return 'published';
            // Repos 1 (handed over to run 2) and 5 (run 2's own) run until canceled.
            const ctx = Context.current();
            const beat = setInterval(() => ctx.heartbeat(), 100);
            try {
              await ctx.cancelled;
            } catch (err) {
              canceled.push(id);
              throw err;
            } finally {
              clearInterval(beat);
            }
            return 'published';
          },
        },
        async (taskQueue) => {
          const handle = await env.client.workflow.start(repoGroupSyncWorkflow, {
            taskQueue,
            workflowId: wid('repo-group-sync'),
            args: [
              {
                server: 'pulp1',
                maxConcurrentSyncs: 3,
                maxRuntimeSeconds: how === 'max_runtime' ? 6 : 600,
                debPublishMode: 'resign',
                childrenPerRun: 4,
              },
            ],
          });
          // A run that drained its children before continuing as new would never start repo 5.
          await Promise.race([
            repo5,
            new Promise((_, reject) => setTimeout(() => reject(new Error('repo 5 never started')), 20_000)),
          ]);
          if (how !== 'max_runtime') await handle.cancel();
          return handle.result().catch((err: unknown) => err);
        },
      );
      // A canceled group ends canceled; max_runtime ends it with its counts and the task failed.
      if (how === 'max_runtime') expect(ended).toMatchObject({ total: 12, completed: 10, canceled: 2 });
      else expect(ended).toBeInstanceOf(WorkflowFailedError);
      // Both ended canceled before the group's task did: repo 1 through the run that held it.
      expect([...canceled].sort((a, b) => a - b)).toEqual([1, 5]);
      expect(finished.at(-1)).toMatchObject({ state });
    },
  );

  it('a run continued by the previous release (pending list in its carry) finishes the old way', async () => {
    const repos = fleet(5);
    const { stages, stubs } = taskStubs();
    const synced: number[] = [];
    const health: number[][] = [];
    const { result, runs } = await env.withWorker(
      {
        ...stubs,
        runRepoSyncPipeline: async (input: never) => {
          synced.push((input as { serverRepoId: number }).serverRepoId);
          return 'published';
        },
        updateRepoHealth: async (input: never) => {
          health.push((input as { serverRepoIds: number[] }).serverRepoIds);
          return { rollup: 'green' };
        },
      },
      async (taskQueue) => {
        const handle = await env.client.workflow.start(repoGroupSyncWorkflow, {
          taskQueue,
          workflowId: wid('repo-group-sync'),
          args: [
            {
              server: 'pulp1',
              maxConcurrentSyncs: 2,
              maxRuntimeSeconds: 600,
              debPublishMode: 'resign',
              childrenPerRun: 2,
              // The input shape a run of the previous release continues as: 3 repos done, 5 left.
              carry: {
                taskId: 77,
                deadlineMs: Date.now() + 600_000,
                pending: repos,
                progress: {
                  total: 8,
                  pending: 5,
                  running: 0,
                  completed: 3,
                  failed: 0,
                  skipped: 0,
                  canceled: 0,
                },
                finishedRepoIds: [101, 102, 103],
                failedRepos: [],
                skippedRepos: [],
              },
            },
          ],
        });
        const r = await handle.result();
        return { result: r, runs: await runChain(handle, handle.firstExecutionRunId) };
      },
    );
    expect(result).toMatchObject({ total: 8, completed: 8, pending: 0 });
    expect([...synced].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
    // 2 children per run: 3 runs, still carrying the list; health once, for every repo of the group.
    expect(runs.map((r) => r.status)).toEqual(['CONTINUED_AS_NEW', 'CONTINUED_AS_NEW', 'COMPLETED']);
    // Children finish in any order across the two lanes: compare the sets.
    const byId = (a: number, b: number) => a - b;
    expect(health).toHaveLength(1);
    expect([...(health[0] ?? [])].sort(byId)).toEqual([101, 102, 103, ...synced].sort(byId));
    expect(stages.at(-1)).toMatchObject({ name: 'update repo health', detail: { repos_updated: 8 } });
  });

  it.each([
    ['register repos from primary', 0, { sourceServer: 'primary1' }],
    ['reconcile repos', 1, {}],
  ])(
    'max_runtime ends a hanging %s stage and fails the group with the reason',
    async (stageName, position, extra) => {
      const { stages, finished, stubs } = taskStubs();
      // Never answers within max_runtime; a plain Pulp call has no heartbeat, so it ends with the worker.
      const hang = async () => {
        await Promise.race([Context.current().cancelled, new Promise((r) => setTimeout(r, 30_000))]).catch(
          (err: unknown) => err,
        );
        return { added: 0, updated: 0, removed: 0, total: 0, registered: 0, failed: {} };
      };
      const started = Date.now();
      const failure = await env.withWorker(
        { ...stubs, registerReposFromPrimary: hang, reconcileServerRepos: hang },
        (taskQueue) =>
          env.client.workflow
            .execute(repoGroupSyncWorkflow, {
              taskQueue,
              workflowId: wid('repo-group-sync'),
              args: [
                {
                  server: 'pulp1',
                  maxConcurrentSyncs: 1,
                  maxRuntimeSeconds: 2,
                  debPublishMode: 'resign',
                  ...extra,
                },
              ],
            })
            .catch((err: unknown) => err),
      );
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      const cause = (failure as WorkflowFailedError).cause;
      expect(cause?.message).toBe(`max_runtime of 2s exceeded during ${stageName}`);
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(finished).toEqual([
        expect.objectContaining({ state: 'failed', error: expect.objectContaining({ msg: cause?.message }) }),
      ]);
      expect(stages.at(-1)).toMatchObject({ position, name: stageName, detail: { state: 'failed' } });
    },
  );
});

describe('removeRepoContentWorkflow', () => {
  it('max_runtime cancels the running Pulp task and fails the task with the reason', async () => {
    const { stages, finished, stubs } = taskStubs();
    let canceled = false;
    const failure = await env.withWorker(
      {
        ...stubs,
        loadServerRepoByName: async () => ({
          id: 3,
          name: 'ext-rpm',
          repoType: 'rpm',
          repoHref: '/r/',
          remoteHref: null,
          distributionHref: '/d/',
        }),
        removeContentUnit: async () => {
          const ctx = Context.current();
          const beat = setInterval(() => ctx.heartbeat(), 100);
          try {
            await ctx.cancelled;
          } catch (err) {
            canceled = true;
            throw err;
          } finally {
            clearInterval(beat);
          }
        },
      },
      (taskQueue) =>
        env.client.workflow
          .execute(removeRepoContentWorkflow, {
            taskQueue,
            workflowId: wid('remove-repo-content'),
            args: [
              {
                server: 'pulp1',
                repoName: 'ext-rpm',
                contentHref: '/pulp/api/v3/content/rpm/packages/1/',
                forcePublish: false,
                maxRuntimeSeconds: 2,
              },
            ],
          })
          .catch((err: unknown) => err),
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = (failure as WorkflowFailedError).cause;
    expect(cause?.message).toBe('max_runtime of 2s exceeded during remove content');
    expect(canceled).toBe(true);
    expect(finished).toEqual([expect.objectContaining({ state: 'failed' })]);
    expect(stages.at(-1)).toMatchObject({ name: 'remove content', detail: { state: 'failed' } });
  });
});
