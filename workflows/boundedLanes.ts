import { CancellationScope, sleep } from '@temporalio/workflow';

export interface LaneOptions<T> {
  /** How many items run at once. */
  lanes: number;
  /** Workflow time (ms) when the work must stop: max_runtime. */
  deadlineMs: number;
  /** Runs one item; `stopping()` turns true once the deadline passed or the workflow is canceled. */
  run: (item: T, stopping: () => boolean) => Promise<void>;
  /** Checked before each item: false stops pulling new items (e.g. to continue as new). */
  canContinue?: () => boolean;
  /** Runs once the lanes are going (first progress report). */
  onStart?: () => Promise<void>;
  /** Runs, not cancellable, after the lanes settled when this workflow was canceled from outside. */
  onCanceled: () => Promise<void>;
}

/**
 * Works through `queue` (it is consumed) in bounded concurrent lanes, racing a deadline. The
 * lanes run in a scope of their own: when the deadline passes that scope is canceled, and with
 * it the children and their Pulp tasks, and the lanes' own promise is awaited (scope.run()
 * would reject at once, before the children have finished cleaning up). A cancellation of the
 * workflow itself waits for the lanes the same way, runs onCanceled, and is rethrown.
 *
 * The SDK has no semaphore, and `condition(() => running < max)` can wake more waiters than
 * there are free slots: N lanes pulling from one queue cannot.
 */
export async function runInLanes<T>(queue: T[], opts: LaneOptions<T>): Promise<{ timedOut: boolean }> {
  let stopping = false;
  const isStopping = () => stopping;
  const lane = async () => {
    while (queue.length > 0 && !stopping && (opts.canContinue?.() ?? true)) {
      await opts.run(queue.shift() as T, isStopping);
    }
  };
  const lanesScope = new CancellationScope();
  let lanes: Promise<unknown> = Promise.resolve();
  lanesScope
    .run(() => {
      lanes = Promise.allSettled(Array.from({ length: Math.max(1, opts.lanes) }, () => lane()));
      return lanes;
    })
    .catch(() => undefined);
  const timerScope = new CancellationScope();
  const timer = timerScope.run(() => sleep(Math.max(0, opts.deadlineMs - Date.now())));
  try {
    await opts.onStart?.();
    const timedOut = await Promise.race([lanes.then(() => false), timer.then(() => true)]);
    timerScope.cancel();
    if (timedOut) {
      stopping = true;
      lanesScope.cancel();
      await lanes;
    }
    return { timedOut };
  } catch (err) {
    stopping = true;
    await CancellationScope.nonCancellable(async () => {
      await lanes;
      await opts.onCanceled();
    });
    throw err;
  }
}
