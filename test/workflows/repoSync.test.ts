import { randomBytes } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { repoSyncWorkflow } from '../../workflows/repoSync.js';
import { useStubWorkerEnv } from '../support/stubWorker.js';

/**
 * repoSyncWorkflow's own logic, with stub activities on the real dev server: what it asks of the
 * pipeline, how it ends the Task when the pipeline fails or is canceled, and how few history
 * events a repo costs. The pipeline itself runs against real Pulp in the e2e tests.
 */
const env = useStubWorkerEnv();

const args = {
  server: 'pulp1',
  serverRepoId: 7,
  repoName: 'ext-centos',
  debPublishMode: 'resign' as const,
  pipeline: 'one-activity' as const,
};

describe('repoSyncWorkflow', () => {
  it('runs the whole pipeline as one activity: 12 history events, no Task bookkeeping of its own', async () => {
    const calls: unknown[] = [];
    const ended: unknown[] = [];
    const { result, events } = await env.withWorker(
      {
        runRepoSyncPipeline: async (input: never) => {
          calls.push(input);
          return 'published';
        },
        endTaskOfRun: async (input: never) => {
          ended.push(input);
        },
      },
      async (taskQueue) => {
        const handle = await env.client.workflow.start(repoSyncWorkflow, {
          taskQueue,
          workflowId: `repo-sync-test/${randomBytes(4).toString('hex')}`,
          args: [args],
        });
        const r = await handle.result();
        return { result: r, events: (await handle.fetchHistory()).events ?? [] };
      },
    );
    expect(result).toBe('published');
    expect(calls).toEqual([args]);
    expect(ended).toEqual([]);
    // Started, 2 workflow tasks of 3 events, the activity's 3, Completed.
    expect(events.length).toBeLessThanOrEqual(12);
  });

  it('a failed pipeline ends the Task of the run as failed, with the reason, and fails the workflow', async () => {
    const ended: { state: string; error: { msg: string }; start: { taskType: string } }[] = [];
    const failure = await env.withWorker(
      {
        runRepoSyncPipeline: async () => {
          throw ApplicationFailure.nonRetryable('Pulp task /t/1/ ended failed: boom', 'PulpTaskFailedError');
        },
        endTaskOfRun: async (input: never) => {
          ended.push(input);
        },
      },
      async (taskQueue) =>
        env.client.workflow
          .execute(repoSyncWorkflow, {
            taskQueue,
            workflowId: `repo-sync-test/${randomBytes(4).toString('hex')}`,
            args: [args],
          })
          .catch((err: unknown) => err),
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(String((failure as WorkflowFailedError).cause?.message)).toMatch(
      /repo sync of ext-centos failed: Pulp task \/t\/1\/ ended failed: boom/,
    );
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ state: 'failed', start: { taskType: 'repo_sync' } });
    expect(ended[0]?.error.msg).toMatch(/boom/);
  });

  it('a canceled run ends its Task canceled after the pipeline has stopped', async () => {
    const ended: { state: string }[] = [];
    let pipelineStopped = false;
    let pipelineStarted: () => void = () => undefined;
    const started = new Promise<void>((r) => {
      pipelineStarted = r;
    });
    const outcome = await env.withWorker(
      {
        runRepoSyncPipeline: async () => {
          const { Context } = await import('@temporalio/activity');
          const ctx = Context.current();
          pipelineStarted();
          const beat = setInterval(() => ctx.heartbeat(), 200);
          try {
            await ctx.cancelled;
          } finally {
            clearInterval(beat);
            pipelineStopped = true;
          }
          return 'published';
        },
        endTaskOfRun: async (input: never) => {
          ended.push({ state: (input as { state: string }).state, stopped: pipelineStopped } as never);
        },
      },
      async (taskQueue) => {
        const handle = await env.client.workflow.start(repoSyncWorkflow, {
          taskQueue,
          workflowId: `repo-sync-test/${randomBytes(4).toString('hex')}`,
          args: [args],
        });
        // Canceled while its pipeline runs, however long the worker took to start it.
        await started;
        await handle.cancel();
        return handle.result().catch((err: unknown) => err);
      },
    );
    expect(outcome).toBeInstanceOf(WorkflowFailedError);
    expect(ended).toEqual([{ state: 'canceled', stopped: true }]);
  });
});
