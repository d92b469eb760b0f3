import { ActivityCancellationType, type ActivityOptions } from '@temporalio/workflow';

/** Database writes and reads: quick, retried with backoff while the DB is unreachable. */
export const DB_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 20,
  },
};

/**
 * Calls that start and follow a Pulp task. The activity heartbeats every poll, so a lost
 * worker is noticed within the heartbeat timeout and the retry resumes the same Pulp task.
 * WAIT_CANCELLATION_COMPLETED: on cancel the workflow waits until the activity has canceled
 * the Pulp task, so "canceled" in our records means canceled in Pulp.
 */
export const PULP_TASK_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '24 hours',
  heartbeatTimeout: '30 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    maximumAttempts: 5,
  },
};

/** Plain Pulp reads and short writes. */
export const PULP_CALL_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 5,
  },
};
