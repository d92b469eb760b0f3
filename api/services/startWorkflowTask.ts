import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Database } from '../../db/client.js';
import type { TaskType } from '../../db/enums.js';
import type { PulpServer, Task } from '../../db/schema.js';
import { finishTask, linkTaskToServerRepo } from '../../db/taskRecords.js';
import { EXECUTION_TIMEOUT_MARGIN_SECONDS } from '../../temporal/desiredSchedules.js';
import { type ApiWorkflowKind, apiWorkflowId } from '../../temporal/names.js';
import { SEARCH_ATTRIBUTES } from '../../temporal/searchAttributes.js';
import type { TaskRef } from '../../workflows/args.js';
import type { ApiLogger } from '../logging.js';
import { getTask, insertQueuedTask, recordRunId } from './taskRecords.js';

export interface WorkflowStarter {
  db: Database;
  temporal: Client;
  taskQueue: string;
  logger: ApiLogger;
}

/** A workflow the API starts: its one input carries the Task id the API created. */
// biome-ignore lint/suspicious/noExplicitAny: each workflow has its own input type; W keeps it.
type TaskWorkflow = (args: any) => Promise<unknown>;

export interface WorkflowTaskRequest<W extends TaskWorkflow> {
  taskType: TaskType;
  /** Task name, as the original named them (`repo sync <server>`). */
  name: string;
  server: PulpServer;
  /** What the Task row shows as task_args: the request, never a secret. */
  taskArgs: Record<string, unknown>;
  /** Started by its function, so the arguments are checked against its input type. */
  workflow: W;
  /** Which API id scheme (temporal/names.ts): `<prefix>/<server>/api-<uuid>`. */
  workflowKind: ApiWorkflowKind;
  workflowArgs: Omit<Parameters<W>[0] & TaskRef, 'taskId'>;
  /** The workflow enforces max_runtime itself; Temporal's timeout is a backstop past it. */
  maxRuntimeSeconds: number;
  /** Server repo the task works on, so it lists under /repos/{repo_id}/tasks. */
  serverRepoId?: number;
  requestedBy?: string;
}

/**
 * Records a queued Task, then starts its workflow with the task id in its arguments. The
 * workflow id is chosen here and stored before the start, so the Task always names the
 * workflow it belongs to. A start Temporal refuses leaves the Task failed_to_start, with why.
 */
export async function startWorkflowTask<W extends TaskWorkflow>(
  starter: WorkflowStarter,
  req: WorkflowTaskRequest<W>,
): Promise<Task> {
  const { db, temporal, taskQueue, logger } = starter;
  const workflowId = apiWorkflowId(req.workflowKind, req.server.name, randomUUID());
  const workflowType = req.workflow.name;
  const taskId = await insertQueuedTask(db, {
    name: req.name,
    taskType: req.taskType,
    pulpServerId: req.server.id,
    args: req.taskArgs,
    workflowId,
  });
  if (req.serverRepoId !== undefined) await linkTaskToServerRepo(db, taskId, req.serverRepoId);
  try {
    const handle = await temporal.workflow.start(req.workflow, {
      taskQueue,
      workflowId,
      // The request's arguments are typed from W's input; the Task id completes it.
      args: [{ ...req.workflowArgs, taskId }] as unknown as Parameters<W>,
      workflowExecutionTimeout: `${req.maxRuntimeSeconds + EXECUTION_TIMEOUT_MARGIN_SECONDS}s`,
      memo: { pulpManagerTaskId: taskId, requestedBy: req.requestedBy ?? null },
      // Found by server and Task id from the first event on (README "Operations").
      typedSearchAttributes: [
        { key: SEARCH_ATTRIBUTES.pulpServer, value: req.server.name },
        { key: SEARCH_ATTRIBUTES.taskId, value: taskId },
      ],
      staticSummary: `${req.name} (task ${taskId})`,
    });
    await recordRunId(db, taskId, handle.firstExecutionRunId);
    logger.info('workflow started', {
      task_id: taskId,
      workflow_id: workflowId,
      workflow_type: workflowType,
    });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    logger.error('workflow start failed', { task_id: taskId, workflow_id: workflowId, error: reason });
    await finishTask(db, taskId, 'failed_to_start', {
      msg: `Temporal did not start workflow ${workflowType}: ${reason}`,
      detail: {
        workflow_id: workflowId,
        task_queue: taskQueue,
        error: err instanceof Error ? err.name : 'Error',
      },
    });
  }
  return getTask(db, taskId);
}
