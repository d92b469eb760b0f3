import { log, proxyActivities } from '@temporalio/workflow';
import type { SweepStaleTasksResult } from '../activities/db/staleTaskActivities.js';
import type { Activities } from '../activities/index.js';

export interface SweepStaleTasksArgs {
  /** Tasks queued at least this long ago are checked; younger ones may be about to start. */
  staleAfterSeconds: number;
  /** Rows per activity call. */
  pageSize: number;
  /**
   * Pages per run, so a run stays short whatever the backlog. Each run starts from the oldest
   * id: more than pageSize × maxPages live open tasks would hide the rest until fewer are open.
   */
  maxPages: number;
}

export interface SweepStaleTasksSummary {
  checked: number;
  alive: number;
  closed: number;
  undecided: number;
}

// A page is a database read plus at most pageSize describe calls. Retried a few times only: the
// schedule runs the sweep again soon, so a run need not outlast an outage.
const { sweepStaleTasks } = proxyActivities<Pick<Activities, 'sweepStaleTasks'>>({
  startToCloseTimeout: '5 minutes',
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 3,
  },
});

/**
 * Closes Task rows left queued or running by workflow executions that ended without recording
 * it (terminated, timed out, failed on a write the database never took) or were never started.
 * Run by the managed schedule `SWEEP_STALE_TASKS_SCHEDULE_ID` (temporal/names.ts), with the
 * args of temporal/desiredSchedules.ts.
 */
export async function sweepStaleTasksWorkflow(args: SweepStaleTasksArgs): Promise<SweepStaleTasksSummary> {
  const summary: SweepStaleTasksSummary = { checked: 0, alive: 0, closed: 0, undecided: 0 };
  let afterId: number | null = 0;
  for (let page = 0; page < args.maxPages && afterId !== null; page++) {
    const result: SweepStaleTasksResult = await sweepStaleTasks({
      staleAfterSeconds: args.staleAfterSeconds,
      limit: args.pageSize,
      afterId,
    });
    summary.checked += result.checked;
    summary.alive += result.alive;
    summary.closed += result.closed.length;
    summary.undecided += result.undecided;
    afterId = result.nextAfterId;
  }
  if (summary.closed > 0 || summary.undecided > 0) log.info('stale tasks swept', { ...summary });
  return summary;
}
