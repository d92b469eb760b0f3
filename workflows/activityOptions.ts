import {
  ActivityCancellationType,
  type ActivityOptions,
  type LocalActivityOptions,
} from '@temporalio/workflow';

/**
 * Database writes and reads: quick, retried with backoff while the DB is unreachable. Local
 * activities: they run in the worker that runs the workflow, without a round trip through the
 * Temporal server per call, and their results are recorded as markers. A repo sync makes about
 * ten of them; as regular activities they cost ~1.5 s of orchestration per repo on a loaded
 * machine (BENCHMARKS.md), as local activities a few milliseconds each. They are idempotent
 * (upserts on unique keys), so a re-execution after a worker crash changes nothing.
 *
 * A database outage must not fail a workflow whose Pulp work succeeded, nor hold its workflow
 * task: the first retries (1, 2, 4, 8 s) run inside the worker, and every backoff longer than
 * localRetryThreshold becomes a durable timer, so the workflow task is released and queries,
 * cancels and child results go on while the database is down. Attempts are not capped; the
 * schedule-to-close budget (measured from the first attempt, across timers) outlasts any outage
 * worth riding out, and the workflow's own execution timeout ends it sooner where one is set.
 * Statements the database rejects for what they are fail at once (activities/db/sqlFailures.ts).
 */
export const DB_ACTIVITY: LocalActivityOptions = {
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '24 hours',
  localRetryThreshold: '10 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '2 minutes',
  },
};

/**
 * Calls that start and follow a Pulp task. The activity heartbeats from a ticker every 5 s
 * whatever its Pulp calls are doing (activities/pulp/pulpTaskSteps.ts), so the heartbeat
 * timeout only has to notice a lost worker; it is twice the default Pulp request timeout
 * (api_request_timeout, 60 s) so that no single slow call can look like one. A new attempt
 * resumes the Pulp task of its step from the heartbeat details. The Pulp task is canceled only
 * when the workflow cancels the activity; WAIT_CANCELLATION_COMPLETED makes the workflow wait
 * until it is, so "canceled" in our records means canceled in Pulp.
 */
export const PULP_TASK_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '24 hours',
  heartbeatTimeout: '2 minutes',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    maximumAttempts: 5,
  },
};

/**
 * A repo's whole pipeline (activities/repoSyncPipeline.ts): the Pulp task rules above. Its
 * database writes wait out an outage inside the attempt, so the attempts are Pulp's.
 */
export const REPO_SYNC_PIPELINE_ACTIVITY: ActivityOptions = PULP_TASK_ACTIVITY;

/**
 * Pulp reads and idempotent writes without a Pulp task to follow: quick ones, and the
 * inventory of a whole server (reconcile, registration from a primary) which pages through
 * thousands of objects. Those heartbeat from a ticker (activities/heartbeat.ts), so a lost worker
 * is noticed within the heartbeat timeout while a long inventory may take its time.
 */
export const PULP_CALL_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '2 minutes',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 5,
  },
};

/**
 * Waiting for executions a group run handed over to the next one (activities/childWorkflowWatch.ts):
 * a read that lasts as long as a repo sync. The ticker heartbeats every 5 s, so a lost worker is
 * noticed within the minute and the wait is simply made again; attempts are not capped (the
 * group's deadline cancels the executions it waits for, and so ends the wait).
 */
export const EXECUTION_WATCH_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '24 hours',
  heartbeatTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
  },
};
