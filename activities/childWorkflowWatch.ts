import {
  CancelledFailure,
  type Client,
  WorkflowFailedError,
  WorkflowNotFoundError,
} from '@temporalio/client';
import { withHeartbeatTicker } from './heartbeat.js';

/** A workflow execution a group run handed over to the next (workflows/repoGroupSync.ts). */
export interface WatchedExecution {
  workflowId: string;
  runId: string;
}

export interface ClosedExecution extends WatchedExecution {
  outcome: 'completed' | 'failed' | 'canceled';
  /** Why it failed (its failure's message), for the group's log. */
  error?: string;
}

/** How a closed execution ended, as the group counts it; other errors (Temporal unreachable) are thrown. */
async function closeOf(client: Client, execution: WatchedExecution): Promise<ClosedExecution> {
  const handle = client.workflow.getHandle(execution.workflowId, execution.runId, { followRuns: false });
  try {
    await handle.result();
    return { ...execution, outcome: 'completed' };
  } catch (err) {
    if (err instanceof WorkflowFailedError) {
      if (err.cause instanceof CancelledFailure) return { ...execution, outcome: 'canceled' };
      return { ...execution, outcome: 'failed', error: err.cause?.message ?? err.message };
    }
    if (err instanceof WorkflowNotFoundError) {
      return { ...execution, outcome: 'failed', error: `execution not found: ${err.message}` };
    }
    throw err;
  }
}

/**
 * Lets a workflow learn when executions it did not start end: a group run that continued as
 * new leaves its running repo syncs to the next run, which has no child events for them.
 */
export function createChildWorkflowWatchActivities(client: Client) {
  return {
    /**
     * Waits until at least one of `executions` closes and returns those that have (one long poll
     * of each history for its close event; the others are abandoned when this returns). A read:
     * an attempt lost with its worker is simply made again.
     */
    async awaitExecutionsClosed(input: { executions: WatchedExecution[] }): Promise<ClosedExecution[]> {
      if (input.executions.length === 0) return [];
      const abort = new AbortController();
      const closed: ClosedExecution[] = [];
      let failure: unknown;
      let wake: () => void = () => undefined;
      const first = new Promise<void>((resolve) => {
        wake = resolve;
      });
      for (const execution of input.executions) {
        client
          .withAbortSignal(abort.signal, () => closeOf(client, execution))
          .then(
            (c) => {
              closed.push(c);
              wake();
            },
            (err: unknown) => {
              if (abort.signal.aborted) return;
              failure ??= err;
              wake();
            },
          );
      }
      try {
        await withHeartbeatTicker(() => first);
        if (closed.length === 0) throw failure;
        return closed;
      } finally {
        abort.abort();
      }
    },
  };
}
