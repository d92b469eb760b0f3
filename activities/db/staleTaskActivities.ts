import { log } from '@temporalio/activity';
import { type Client, type WorkflowExecutionStatusName, WorkflowNotFoundError } from '@temporalio/client';
import type { Database } from '../../db/client.js';
import type { TaskError } from '../../db/schema.js';
import { closeOrphanedTask, listStaleOpenTasks, type OpenTaskRow } from '../../db/taskRecords.js';
import { withSqlErrorClassification } from './sqlFailures.js';

export interface SweepStaleTasksPage {
  /** Only tasks queued at least this long ago are looked at: younger ones may not have started. */
  staleAfterSeconds: number;
  /** Rows read by this call, at most. */
  limit: number;
  /** The page starts after this task id (0 for the first page). */
  afterId: number;
}

export interface SweptTask {
  taskId: number;
  workflowId: string | null;
  runId: string | null;
  state: 'failed' | 'canceled';
  reason: string;
}

export interface SweepStaleTasksResult {
  checked: number;
  /** Tasks whose execution is still running (or paused): left as they are. */
  alive: number;
  closed: SweptTask[];
  /** Tasks whose execution could not be described (Temporal unreachable, id reused): left alone. */
  undecided: number;
  /** Where the next page starts; null when this page was the last. */
  nextAfterId: number | null;
}

type Verdict =
  | { kind: 'alive' }
  | { kind: 'ended'; status: WorkflowExecutionStatusName }
  | { kind: 'not_found' }
  | { kind: 'undecided'; why: string };

const ALIVE_STATUSES: readonly WorkflowExecutionStatusName[] = ['RUNNING', 'PAUSED'];
const ENDED_STATUSES: readonly WorkflowExecutionStatusName[] = [
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TERMINATED',
  'TIMED_OUT',
];
/** Describe calls in flight at once: enough for a page in seconds, gentle on the frontend. */
const DESCRIBE_CONCURRENCY = 8;

function verdictOf(status: WorkflowExecutionStatusName): Verdict {
  if (ALIVE_STATUSES.includes(status)) return { kind: 'alive' };
  if (ENDED_STATUSES.includes(status)) return { kind: 'ended', status };
  return { kind: 'undecided', why: `execution status ${status}` };
}

/**
 * Whether the execution a task row names still runs. The row keeps the run that created it; a
 * group sync continues as new under the same workflow id and keeps its task, so a run that
 * continued is judged by the latest run of its chain (same first run id).
 */
async function executionVerdict(client: Client, row: OpenTaskRow): Promise<Verdict> {
  if (!row.workflowId) return { kind: 'not_found' };
  try {
    const desc = await client.workflow.getHandle(row.workflowId, row.runId ?? undefined).describe();
    if (desc.status.name !== 'CONTINUED_AS_NEW') return verdictOf(desc.status.name);
    const chain = desc.raw.workflowExecutionInfo?.firstRunId;
    const latest = await client.workflow.getHandle(row.workflowId).describe();
    if (!chain || latest.raw.workflowExecutionInfo?.firstRunId !== chain) {
      return { kind: 'undecided', why: 'the latest execution of the workflow id is not of this chain' };
    }
    return verdictOf(latest.status.name);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { kind: 'not_found' };
    return { kind: 'undecided', why: err instanceof Error ? err.message : String(err) };
  }
}

function closing(row: OpenTaskRow, verdict: Extract<Verdict, { kind: 'ended' | 'not_found' }>) {
  const status = verdict.kind === 'ended' ? verdict.status : null;
  const reason =
    verdict.kind === 'not_found'
      ? row.workflowId
        ? 'workflow execution not found in Temporal; closed by the sweeper'
        : 'no workflow execution recorded; closed by the sweeper'
      : status === 'COMPLETED'
        ? 'workflow execution COMPLETED without recording the end of its task; closed by the sweeper'
        : `workflow execution ${status}; closed by the sweeper`;
  const error: TaskError = {
    msg: reason,
    detail: { workflow_id: row.workflowId, run_id: row.runId, execution_status: status },
  };
  const state: SweptTask['state'] = status === 'CANCELLED' ? 'canceled' : 'failed';
  return { state, error, reason };
}

/**
 * The stale-task sweeper's activity. A task row stays queued or running when its workflow
 * ended without recording the end (terminated, timed out, failed on a write the database never
 * took) or never started (the API went away between the row and the start). Such rows would be
 * counted as running forever by the API and the metrics.
 */
export function createStaleTaskActivities(db: Database, temporal: Client) {
  return withSqlErrorClassification({
    async sweepStaleTasks(page: SweepStaleTasksPage): Promise<SweepStaleTasksResult> {
      const queuedBefore = new Date(Date.now() - page.staleAfterSeconds * 1000);
      const rows = await listStaleOpenTasks(db, { queuedBefore, afterId: page.afterId, limit: page.limit });
      const result: SweepStaleTasksResult = {
        checked: rows.length,
        alive: 0,
        closed: [],
        undecided: 0,
        nextAfterId: rows.length === page.limit ? (rows.at(-1)?.id ?? null) : null,
      };
      const queue = [...rows];
      const lane = async () => {
        for (let row = queue.shift(); row !== undefined; row = queue.shift()) {
          const verdict = await executionVerdict(temporal, row);
          if (verdict.kind === 'alive') {
            result.alive++;
          } else if (verdict.kind === 'undecided') {
            result.undecided++;
            log.warn('stale task left open: its execution could not be judged', {
              taskId: row.id,
              workflowId: row.workflowId,
              runId: row.runId,
              why: verdict.why,
            });
          } else {
            const { state, error, reason } = closing(row, verdict);
            // False when the workflow recorded the end itself since the row was read.
            if (await closeOrphanedTask(db, row.id, state, error)) {
              result.closed.push({
                taskId: row.id,
                workflowId: row.workflowId,
                runId: row.runId,
                state,
                reason,
              });
              log.info('closed a task whose workflow execution is gone', {
                taskId: row.id,
                workflowId: row.workflowId,
                runId: row.runId,
                state,
                reason,
              });
            }
          }
        }
      };
      await Promise.all(Array.from({ length: DESCRIBE_CONCURRENCY }, lane));
      return result;
    },
  });
}
