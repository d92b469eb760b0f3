import { ApplicationFailure, CancellationScope, proxyLocalActivities } from '@temporalio/workflow';
import type { StartTaskInput } from '../activities/db/taskActivities.js';
import type { Activities } from '../activities/index.js';
import { DB_ACTIVITY } from './activityOptions.js';
import { failureDetail, failureMessage, isCancellation } from './failures.js';

const db =
  proxyLocalActivities<Pick<Activities, 'recordStage' | 'finishTaskRecord' | 'endTaskOfRun'>>(DB_ACTIVITY);

export interface EndTaskOnError {
  /** The stage that was running, recorded as failed or canceled with the error. */
  stage?: { position: number; name: string };
  /** What failed, for the workflow's failure message, e.g. "sync repo of ext-centos". */
  context: string;
  /** Failure type of the workflow (ApplicationFailure type). */
  type: string;
  /** Non-retryable ApplicationFailures raised by the workflow itself are rethrown unchanged. */
  keepOwnFailures?: boolean;
}

/**
 * How every workflow ends its Task when it fails or is canceled: the stage (if any) and the
 * task are recorded even while the workflow is being canceled, then the caller throws what
 * this returns (the cancellation itself, or a non-retryable failure naming the context).
 */
export async function endTaskOnError(taskId: number, err: unknown, opts: EndTaskOnError): Promise<unknown> {
  const { canceled, state, error } = taskEnd(err);
  await CancellationScope.nonCancellable(async () => {
    if (opts.stage) {
      await db.recordStage({
        taskId,
        position: opts.stage.position,
        name: opts.stage.name,
        detail: { state },
        error,
      });
    }
    await db.finishTaskRecord({ taskId, state, error });
  });
  return toThrow(err, canceled, error.msg, opts);
}

/**
 * endTaskOnError for a workflow whose activity owns its Task (the row and its stages): one
 * local activity finds the Task by the workflow run, or creates it when the activity never got
 * that far, and ends it together with the stage that was running.
 */
export async function endTaskOfRunOnError(
  start: StartTaskInput,
  err: unknown,
  opts: Omit<EndTaskOnError, 'stage'>,
): Promise<unknown> {
  const { canceled, state, error } = taskEnd(err);
  await CancellationScope.nonCancellable(() => db.endTaskOfRun({ start, state, error }));
  return toThrow(err, canceled, error.msg, opts);
}

function taskEnd(err: unknown) {
  const canceled = isCancellation(err);
  const state: 'canceled' | 'failed' = canceled ? 'canceled' : 'failed';
  const error = canceled
    ? { msg: 'canceled', detail: null }
    : { msg: failureMessage(err), detail: failureDetail(err) };
  return { canceled, state, error };
}

function toThrow(err: unknown, canceled: boolean, msg: string, opts: Omit<EndTaskOnError, 'stage'>): unknown {
  if (canceled) return err;
  if (opts.keepOwnFailures && err instanceof ApplicationFailure && err.nonRetryable) return err;
  return ApplicationFailure.nonRetryable(`${opts.context} failed: ${msg}`, opts.type);
}
