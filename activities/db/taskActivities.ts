import { hostname } from 'node:os';
import { Context } from '@temporalio/activity';
import type { Database } from '../../db/client.js';
import type { TaskType } from '../../db/enums.js';
import type { TaskError } from '../../db/schema.js';
import {
  finishTask,
  linkTaskToServerRepo,
  markTaskRunning,
  upsertStage,
  upsertTaskForRun,
} from '../../db/taskRecords.js';
import { withSqlErrorClassification } from './sqlFailures.js';

export const WORKER_NAME = `${hostname()}:${process.pid}`;

export interface StartTaskInput {
  /** Set when the API queued the task before starting the workflow. */
  taskId?: number;
  name: string;
  taskType: TaskType;
  parentTaskId?: number | null;
  server?: string | null;
  args: Record<string, unknown>;
}

export type FinalTaskState = 'completed' | 'failed' | 'canceled' | 'skipped';

/** Activities that keep the Task reporting records; all idempotent (see db/taskRecords.ts). */
export function createTaskActivities(db: Database) {
  return withSqlErrorClassification({
    async startTaskRecord(input: StartTaskInput): Promise<number> {
      const run = Context.current().info.workflowExecution;
      const workflowId = run?.workflowId ?? '';
      const runId = run?.runId ?? '';
      if (input.taskId !== undefined) {
        await markTaskRunning(db, input.taskId, { workerName: WORKER_NAME, workflowId, runId });
        return input.taskId;
      }
      return upsertTaskForRun(db, {
        name: input.name,
        taskType: input.taskType,
        state: 'running',
        parentTaskId: input.parentTaskId ?? null,
        serverName: input.server ?? null,
        args: input.args,
        workflowId,
        runId,
        workerName: WORKER_NAME,
      });
    },

    async finishTaskRecord(input: {
      taskId: number;
      state: FinalTaskState;
      error?: TaskError | null;
    }): Promise<void> {
      await finishTask(db, input.taskId, input.state, input.error);
    },

    async recordStage(input: {
      taskId: number;
      position: number;
      name: string;
      detail?: Record<string, unknown> | null;
      error?: TaskError | null;
    }): Promise<void> {
      await upsertStage(db, input);
    },

    async linkTaskToServerRepo(input: { taskId: number; serverRepoId: number }): Promise<void> {
      await linkTaskToServerRepo(db, input.taskId, input.serverRepoId);
    },
  });
}
