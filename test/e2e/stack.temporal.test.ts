import { fileURLToPath } from 'node:url';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as activities from '../fixtures/workflows/echoActivities.js';
import { stack } from '../support/stack.js';

describe('local stack: Temporal dev server', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createFromExistingServer({
      address: stack.temporal.address,
      namespace: stack.temporal.namespace,
    });
  });

  afterAll(async () => {
    await env?.teardown();
  });

  it('runs a workflow and its activity on a real worker', async () => {
    const taskQueue = `smoke-${Date.now()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: stack.temporal.namespace,
      taskQueue,
      workflowsPath: fileURLToPath(new URL('../fixtures/workflows/echoWorkflow.ts', import.meta.url)),
      activities,
    });
    const result = await worker.runUntil(
      env.client.workflow.execute('echoWorkflow', {
        taskQueue,
        workflowId: `smoke-echo-${Date.now()}`,
        args: ['pulp'],
      }),
    );
    expect(result).toBe('echo: PULP');
  });
});
