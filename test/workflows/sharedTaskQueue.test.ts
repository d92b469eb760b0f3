import { randomBytes } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChildWorkflowWatchActivities } from '../../activities/childWorkflowWatch.js';
import { workflowsEntry } from '../../temporal/workflowsPath.js';
import { repoGroupSyncWorkflow } from '../../workflows/repoGroupSync.js';
import { stack } from '../support/stack.js';
import { stubFleet, stubSelectionPage } from './groupStubActivities.js';

/**
 * Several workers on one task queue (README: scale out by starting more `pulp-manager worker`s):
 * two Worker instances with their own activity stubs poll the same queue while one group sync
 * runs, continuing as new on the way. Workflow tasks, children and activities are shared between
 * them by the server; every repo must be synced exactly once, and the group's counts must add up.
 */
let env: TestWorkflowEnvironment;
let workflowBundle: Awaited<ReturnType<typeof bundleWorkflowCode>>;

beforeAll(async () => {
  env = await TestWorkflowEnvironment.createFromExistingServer({
    address: stack.temporal.address,
    namespace: stack.temporal.testNamespace,
  });
  workflowBundle = await bundleWorkflowCode({ workflowsPath: workflowsEntry() });
});

afterAll(async () => {
  await env?.teardown();
});

const repos = stubFleet(16);

describe('two workers on one task queue', () => {
  it('share one group sync; each repo is synced exactly once', async () => {
    const taskQueue = `wf-shared-${randomBytes(4).toString('hex')}`;
    const server = `pulp-h6-${randomBytes(4).toString('hex')}`;
    const syncsBy: number[][] = [[], []];
    const health: number[] = [];
    let taskIds = 7000;
    const activitiesFor = (worker: 0 | 1) => ({
      ...createChildWorkflowWatchActivities(env.client),
      startTaskRecord: async (input: { taskId?: number }) => input.taskId ?? taskIds++,
      recordStage: async () => undefined,
      finishTaskRecord: async () => undefined,
      endTaskOfRun: async () => undefined,
      linkTaskToServerRepo: async () => undefined,
      reconcileServerRepos: async () => ({ added: 0, updated: 0, removed: 0, total: repos.length }),
      selectReposForSyncPage: stubSelectionPage(repos),
      updateRepoHealth: async (input: { serverRepoIds: number[] }) => {
        health.push(...input.serverRepoIds);
        return { rollup: 'green' };
      },
      runRepoSyncPipeline: async (input: { serverRepoId: number }) => {
        syncsBy[worker]?.push(input.serverRepoId);
        const ctx = Context.current();
        const beat = setInterval(() => ctx.heartbeat(), 100);
        try {
          await new Promise((r) => setTimeout(r, 300));
        } finally {
          clearInterval(beat);
        }
        return 'published';
      },
    });
    // A connection each, as two worker processes have (the SDK refuses two workers of one
    // connection on the same queue).
    const connections = await Promise.all(
      [0, 1].map(() => NativeConnection.connect({ address: stack.temporal.address })),
    );
    const workers = await Promise.all(
      ([0, 1] as const).map((i) =>
        Worker.create({
          connection: connections[i] as NativeConnection,
          namespace: stack.temporal.testNamespace,
          taskQueue,
          workflowBundle,
          activities: activitiesFor(i),
          identity: `h6-worker-${i}`,
          maxHeartbeatThrottleInterval: '200 milliseconds',
        }),
      ),
    );
    const [a, b] = workers as [Worker, Worker];
    const result = await a
      .runUntil(
        b.runUntil(
          env.client.workflow.execute(repoGroupSyncWorkflow, {
            taskQueue,
            workflowId: `repo-group-sync-test/${server}`,
            args: [
              {
                server,
                maxConcurrentSyncs: 4,
                maxRuntimeSeconds: 600,
                debPublishMode: 'resign',
                childrenPerRun: 6,
              },
            ],
          }),
        ),
      )
      .finally(() => Promise.all(connections.map((c) => c.close())));
    const all = [...(syncsBy[0] ?? []), ...(syncsBy[1] ?? [])].sort((x, y) => x - y);
    expect(all).toEqual(repos.map((r) => r.id));
    // Both workers took part: the test is not one worker doing everything.
    expect(syncsBy[0]?.length).toBeGreaterThan(0);
    expect(syncsBy[1]?.length).toBeGreaterThan(0);
    expect([...health].sort((x, y) => x - y)).toEqual(repos.map((r) => r.id));
    expect(result).toEqual({
      total: 16,
      pending: 0,
      running: 0,
      completed: 16,
      failed: 0,
      skipped: 0,
      canceled: 0,
    });
  });
});
