import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Context } from '@temporalio/activity';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PulpTaskSteps, readStepProgress } from '../../../activities/pulp/pulpTaskSteps.js';
import type { PulpClient } from '../../../pulp/client.js';
import { stack } from '../../support/stack.js';

describe('readStepProgress', () => {
  it('reads its own details back', () => {
    const p = { tasks: { sync: '/t/1/' }, values: { taskId: 4, baseVersionHref: null } };
    expect(readStepProgress(p, 'sync')).toEqual(p);
  });

  it('reads the details of attempts started by the release before it as the legacy step', () => {
    expect(readStepProgress({ taskHref: '/t/9/', baseVersionHref: '/v/3/' }, 'sync')).toEqual({
      tasks: { sync: '/t/9/' },
      values: { baseVersionHref: '/v/3/' },
    });
  });

  it('starts empty on a first attempt', () => {
    expect(readStepProgress(undefined, 'sync')).toEqual({ tasks: {}, values: {} });
  });
});

describe('PulpTaskSteps heartbeat ticker (real dev server)', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createFromExistingServer({
      address: stack.temporal.address,
      namespace: stack.temporal.testNamespace,
    });
  });

  afterAll(async () => {
    await env?.teardown();
  });

  it('keeps an attempt alive through an operation three times longer than its heartbeat timeout', async () => {
    const taskQueue = `ticker-${randomBytes(4).toString('hex')}`;
    let attempts = 0;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: stack.temporal.testNamespace,
      taskQueue,
      workflowsPath: fileURLToPath(new URL('../../fixtures/workflows/heartbeatProbe.ts', import.meta.url)),
      activities: {
        // Paging through a huge repository, a slow Pulp call: no heartbeat of its own.
        async longOperation(ms: number) {
          attempts = Context.current().info.attempt;
          const steps = new PulpTaskSteps({} as PulpClient, { heartbeatEveryMs: 500 });
          return steps.withHeartbeat(() => new Promise<number>((r) => setTimeout(() => r(ms), ms)));
        },
      },
      maxHeartbeatThrottleInterval: '500 milliseconds',
      defaultHeartbeatThrottleInterval: '500 milliseconds',
    });
    const result = await worker.runUntil(
      env.client.workflow.execute('heartbeatProbeWorkflow', {
        taskQueue,
        workflowId: `ticker-${randomBytes(4).toString('hex')}`,
        args: [6000],
      }),
    );
    expect(result).toBe(6000);
    expect(attempts).toBe(1);
  });
});
