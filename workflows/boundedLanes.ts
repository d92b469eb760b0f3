import { ApplicationFailure, CancellationScope, condition, log, sleep } from '@temporalio/workflow';

export interface LaneOptions<T> {
  /** How many items run at once. */
  lanes: number;
  /** Workflow time (ms) when the work must stop: max_runtime. */
  deadlineMs: number;
  /** Runs one item; `stopping()` turns true once the deadline passed or the workflow is canceled. */
  run: (item: T, stopping: () => boolean) => Promise<void>;
  /** Checked before each item: false stops pulling new items (e.g. to continue as new). */
  canContinue?: () => boolean;
  /**
   * When it turns true, runInLanes returns `handedOver` at once, leaving the lanes running: the
   * caller continues as new and the next run takes over what they hold. Checked after every
   * activation; without it the lanes are always awaited.
   */
  handOverWhen?: () => boolean;
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
export async function runInLanes<T>(
  queue: T[],
  opts: LaneOptions<T>,
): Promise<{ timedOut: boolean; handedOver?: boolean }> {
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
  const { handOverWhen } = opts;
  // No command: a condition is evaluated by the worker. Canceled with the timer once the race is
  // decided (the race handles that rejection); a cancel of the workflow rejects it like the timer.
  const handOver = handOverWhen
    ? timerScope.run(() => condition(handOverWhen)).then(() => 'handOver' as const)
    : undefined;
  try {
    await opts.onStart?.();
    const ending = await Promise.race([
      lanes.then(() => 'lanes' as const),
      timer.then(() => 'timedOut' as const),
      ...(handOver ? [handOver] : []),
    ]);
    timerScope.cancel();
    if (ending === 'handOver') return { timedOut: false, handedOver: true };
    const timedOut = ending === 'timedOut';
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

/**
 * Runs `work` against max_runtime: a timer races it, and when the deadline passes first the
 * work's scope is canceled (an activity with WAIT_CANCELLATION_COMPLETED, and so its Pulp
 * task, is canceled before this returns) and a non-retryable MaxRuntimeExceeded failure with
 * `reason()` is thrown. Without a deadline the work runs as is, with no timer in the history.
 * A cancellation of the workflow itself reaches the work through its scope and is rethrown.
 */
export async function withDeadline<T>(
  deadlineMs: number | undefined,
  reason: () => string,
  work: () => Promise<T>,
): Promise<T> {
  if (deadlineMs === undefined) return work();
  const workScope = new CancellationScope();
  const timerScope = new CancellationScope();
  let expired = false;
  timerScope
    .run(() => sleep(Math.max(0, deadlineMs - Date.now())))
    .then(
      () => {
        expired = true;
        workScope.cancel();
      },
      // Canceled: the work finished first, or the workflow itself is being canceled.
      () => undefined,
    );
  try {
    return await workScope.run(work);
  } catch (err) {
    if (expired) {
      log.warn('gave up: max_runtime exceeded', { reason: reason() });
      throw ApplicationFailure.nonRetryable(reason(), 'MaxRuntimeExceeded');
    }
    throw err;
  } finally {
    timerScope.cancel();
  }
}
