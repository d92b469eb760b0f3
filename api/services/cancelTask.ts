import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { Database } from '../../db/client.js';
import { finalTaskStates } from '../../db/enums.js';
import type { Task } from '../../db/schema.js';
import { finishTask } from '../../db/taskRecords.js';
import { ApiError, conflict } from '../errors.js';
import type { ApiLogger } from '../logging.js';
import { getTask } from './taskRecords.js';

const isFinal = (state: Task['state']) => (finalTaskStates as readonly string[]).includes(state);

/**
 * PATCH /v1/tasks/{id} {state: "canceled"}: asks Temporal to cancel the task's workflow (which
 * cancels its children and their Pulp tasks) and marks the task canceled at once, as the
 * original did. The workflow's own final write cannot overwrite a final state.
 */
export async function cancelTask(
  deps: { db: Database; temporal: Client; logger: ApiLogger },
  id: number,
  requestedState: string,
  requestedBy: string | undefined,
): Promise<Task> {
  if (requestedState !== 'canceled') {
    throw new ApiError(
      'BAD_REQUEST',
      `a task can only be moved to "canceled", not "${requestedState}"`,
      'body.state',
    );
  }
  const task = await getTask(deps.db, id);
  if (isFinal(task.state)) throw conflict(`task ${id} is already ${task.state}`);
  if (task.workflow_id) {
    // By first run id: never cancel a later workflow that happens to reuse the id.
    const handle = deps.temporal.workflow.getHandle(task.workflow_id, undefined, {
      firstExecutionRunId: task.run_id ?? undefined,
    });
    try {
      await handle.cancel();
    } catch (err) {
      // Already closed or gone (e.g. history expired): the Task row is all there is to fix.
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
  await finishTask(deps.db, id, 'canceled');
  deps.logger.info('task canceled', { task_id: id, workflow_id: task.workflow_id, user: requestedBy });
  return getTask(deps.db, id);
}
