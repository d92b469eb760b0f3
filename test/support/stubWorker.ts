import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { afterAll, beforeAll } from 'vitest';
import type { Activities } from '../../activities/index.js';
import { workflowsEntry } from '../../temporal/workflowsPath.js';
import { stack } from './stack.js';

/** Stand-ins for the activities a workflow test cares about; the others are never called. */
export type StubActivities = Partial<Record<keyof Activities, (...args: never[]) => Promise<unknown>>>;

/**
 * The production workflows with stub activities on the real dev server (test namespace): for
 * testing workflow logic (stages, deadlines, continue-as-new, Task endings) in seconds. The
 * bundle is built once per file.
 */
export interface StubWorkerEnv {
  client: Client;
  /** Runs `fn` while a worker with these activities polls a task queue of its own. */
  withWorker<T>(activities: StubActivities, fn: (taskQueue: string) => Promise<T>): Promise<T>;
  teardown(): Promise<void>;
}

export async function startStubWorkerEnv(): Promise<StubWorkerEnv> {
  const env = await TestWorkflowEnvironment.createFromExistingServer({
    address: stack.temporal.address,
    namespace: stack.temporal.testNamespace,
  });
  const workflowBundle: WorkflowBundleWithSourceMap = await bundleWorkflowCode({
    workflowsPath: workflowsEntry(),
  });
  return {
    client: env.client,
    async withWorker(activities, fn) {
      const taskQueue = `wf-test-${randomBytes(4).toString('hex')}`;
      const worker = await Worker.create({
        connection: env.nativeConnection,
        namespace: stack.temporal.testNamespace,
        taskQueue,
        workflowBundle,
        activities,
        // Cancellation reaches an activity with a heartbeat answer: keep it prompt.
        maxHeartbeatThrottleInterval: '200 milliseconds',
      });
      return worker.runUntil(fn(taskQueue));
    },
    teardown: () => env.teardown(),
  };
}

/**
 * startStubWorkerEnv for the test file that calls this: started in beforeAll, torn down in
 * afterAll. Read `client` inside a hook or a test, once beforeAll has run.
 */
export function useStubWorkerEnv(): Omit<StubWorkerEnv, 'teardown'> {
  let env: StubWorkerEnv | undefined;
  beforeAll(async () => {
    env = await startStubWorkerEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });
  const started = (): StubWorkerEnv => {
    if (env === undefined)
      throw new Error('useStubWorkerEnv: used before its beforeAll ran (or after it failed)');
    return env;
  };
  return {
    get client() {
      return started().client;
    },
    withWorker: (activities, fn) => started().withWorker(activities, fn),
  };
}
