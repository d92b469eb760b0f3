import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { WorkflowHandle } from '@temporalio/client';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePulpConfig } from '../../config/loadPulpConfig.js';
import { type NewTask, task_stages, tasks } from '../../db/schema.js';
import { desiredSchedules } from '../../temporal/desiredSchedules.js';
import { SWEEP_STALE_TASKS_SCHEDULE_ID } from '../../temporal/names.js';
import { sweepStaleTasksWorkflow } from '../../workflows/sweepStaleTasks.js';
import { eventually } from '../support/eventually.js';
import { type PipelineHarness, startPipelineHarness } from '../support/pipelineHarness.js';

// A real worker (the production one, with its Temporal client dep) on the dev server, and task
// rows pointing at real executions. The executions run on a task queue nobody polls: they stay
// RUNNING until terminated, which is all the sweeper looks at.
const run = randomBytes(3).toString('hex');
const idleQueue = `sweeper-idle-${run}`;
const hourAgo = () => new Date(Date.now() - 3600_000);

describe('sweepStaleTasksWorkflow', () => {
  let h: PipelineHarness;
  const idle: WorkflowHandle[] = [];

  const startIdle = async (name: string) => {
    const handle = await h.client.workflow.start('sweeperTestIdleWorkflow', {
      taskQueue: idleQueue,
      workflowId: `sweeper-test/${run}/${name}`,
      args: [],
    });
    idle.push(handle);
    return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
  };

  const insertTask = async (values: Partial<NewTask> & Pick<NewTask, 'state'>) => {
    const [res] = await h.db.insert(tasks).values({
      name: `sweeper test ${run}`,
      task_type: 'repo_sync',
      task_args: {},
      date_queued: hourAgo(),
      ...values,
    });
    return res.insertId;
  };

  const taskRow = async (id: number) => {
    const [row] = await h.db.select().from(tasks).where(eq(tasks.id, id));
    if (!row) throw new Error(`task ${id} is gone`);
    return row;
  };

  beforeAll(async () => {
    h = await startPipelineHarness();
  });

  afterAll(async () => {
    for (const handle of idle) {
      await handle.terminate('sweeper test done').catch((err: unknown) => {
        // Already terminated by the test itself.
        if (!(err instanceof Error && /not found|completed|already/i.test(err.message))) throw err;
      });
    }
    await h?.close();
  });

  it('closes tasks whose execution ended or never existed, and leaves live and young ones', async () => {
    const terminated = await startIdle('terminated');
    const alive = await startIdle('alive');
    await h.client.workflow.getHandle(terminated.workflowId).terminate('operator gave up');

    const closedRunning = await insertTask({
      state: 'running',
      workflow_id: terminated.workflowId,
      run_id: terminated.runId,
    });
    await h.db.insert(task_stages).values([
      { task_id: closedRunning, position: 0, name: 'sync repo', detail: { state: 'completed' } },
      { task_id: closedRunning, position: 1, name: 'publish repo', detail: { state: 'running' } },
    ]);
    const liveRunning = await insertTask({
      state: 'running',
      workflow_id: alive.workflowId,
      run_id: alive.runId,
    });
    const liveQueued = await insertTask({
      state: 'queued',
      workflow_id: alive.workflowId,
      task_type: 'repo_removal',
    });
    // The API recorded the row, then went away before the start reached Temporal.
    const neverStarted = await insertTask({
      state: 'queued',
      task_type: 'repo_group_sync',
      workflow_id: `repo-group-sync/nowhere/api-${run}`,
    });
    // Young enough that its workflow may still be starting: not looked at.
    const young = await insertTask({
      state: 'running',
      task_type: 'repo_snapshot',
      workflow_id: terminated.workflowId,
      run_id: terminated.runId,
      date_queued: new Date(),
    });
    const finished = await insertTask({
      state: 'completed',
      task_type: 'remove_repo_content',
      workflow_id: terminated.workflowId,
      run_id: terminated.runId,
    });

    // Pages of two rows: four candidates take three pages (the last one short).
    const summary = await h.client.workflow.execute(sweepStaleTasksWorkflow, {
      taskQueue: h.taskQueue,
      workflowId: `sweep-stale-tasks/test-${run}`,
      args: [{ staleAfterSeconds: 300, pageSize: 2, maxPages: 10 }],
    });
    expect(summary).toEqual({ checked: 4, alive: 2, closed: 2, undecided: 0 });

    expect(await taskRow(closedRunning)).toMatchObject({
      state: 'failed',
      error: {
        msg: 'workflow execution TERMINATED; closed by the sweeper',
        detail: {
          workflow_id: terminated.workflowId,
          run_id: terminated.runId,
          execution_status: 'TERMINATED',
        },
      },
    });
    expect((await taskRow(closedRunning)).date_finished).not.toBeNull();
    const stages = await h.db.select().from(task_stages).where(eq(task_stages.task_id, closedRunning));
    expect(stages.map((s) => [s.position, s.detail?.state]).sort()).toEqual([
      [0, 'completed'],
      [1, 'failed'],
    ]);
    expect(stages.find((s) => s.position === 1)?.error?.msg).toBe(
      'workflow execution TERMINATED; closed by the sweeper',
    );
    expect(await taskRow(neverStarted)).toMatchObject({
      state: 'failed',
      error: { msg: 'workflow execution not found in Temporal; closed by the sweeper' },
    });
    for (const [id, state] of [
      [liveRunning, 'running'],
      [liveQueued, 'queued'],
      [young, 'running'],
      [finished, 'completed'],
    ] as const) {
      expect((await taskRow(id)).state, `task ${id}`).toBe(state);
    }
  });

  it('the managed schedule from config starts it with its args; a second sweep finds nothing to close', async () => {
    const cfg = parsePulpConfig(readFileSync(h.config.pulpConfigPath, 'utf8'), h.config.pulpConfigPath);
    const d = desiredSchedules(cfg, h.config.ini).find((s) => s.scheduleId === SWEEP_STALE_TASKS_SCHEDULE_ID);
    if (!d) throw new Error('desiredSchedules has no sweeper schedule');
    // Under a test id: the fixed id belongs to whoever applies the config in this namespace.
    const schedule = await h.client.schedule.create({
      scheduleId: `test-${run}/${d.scheduleId}`,
      spec: { cronExpressions: [d.cron] },
      action: {
        type: 'startWorkflow',
        workflowType: d.workflowType,
        workflowId: `${d.workflowId}/test-${run}`,
        taskQueue: h.taskQueue,
        args: d.args,
      },
      state: { paused: true },
    });
    try {
      await schedule.trigger();
      const workflowId = await eventually(async () => {
        const id = (await schedule.describe()).info.recentActions[0]?.action.workflow.workflowId;
        if (!id) throw new Error('not started yet');
        return id;
      });
      const summary = await h.client.workflow.getHandle<typeof sweepStaleTasksWorkflow>(workflowId).result();
      // The two live tasks of the first test are still open; nothing else is left to close.
      expect(summary).toEqual({ checked: 2, alive: 2, closed: 0, undecided: 0 });
      const open = await h.db
        .select({ id: tasks.id })
        .from(tasks)
        .where(inArray(tasks.state, ['queued', 'running']));
      expect(open).toHaveLength(3);
    } finally {
      await schedule.delete();
    }
  });
});
