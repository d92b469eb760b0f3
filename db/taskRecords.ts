import { and, asc, eq, gt, inArray, lt, sql } from 'drizzle-orm';
import type { Database } from './client.js';
import type { TaskState, TaskType } from './enums.js';
import { pulp_servers, type TaskError, task_stages, tasks } from './schema.js';

/** States a task is in until its workflow records how it ended. */
const openTaskStates = ['queued', 'running'] as const satisfies readonly TaskState[];

/**
 * Writes of the Task reporting records. Each write is idempotent, because activities that call
 * them are retried by Temporal: a task is identified by its workflow run (workflow_id, run_id),
 * a stage by (task_id, position).
 */

export interface NewTaskRecord {
  name: string;
  taskType: TaskType;
  state: Extract<TaskState, 'queued' | 'running'>;
  parentTaskId?: number | null;
  serverName?: string | null;
  args: Record<string, unknown>;
  workflowId: string;
  runId: string;
  workerName?: string | null;
}

/**
 * Creates the task of a workflow run, or returns the one a previous attempt created: one
 * statement against the unique key (workflow_id, run_id, task_type), so attempts that overlap
 * (a local activity retried while the first attempt's INSERT is still in flight) cannot both
 * insert. `id = LAST_INSERT_ID(id)` makes the existing row's id the statement's insert id.
 */
export async function upsertTaskForRun(db: Database, t: NewTaskRecord): Promise<number> {
  const now = new Date();
  const [res] = await db
    .insert(tasks)
    .values({
      name: t.name,
      task_type: t.taskType,
      state: t.state,
      parent_task_id: t.parentTaskId ?? null,
      pulp_server_id: t.serverName
        ? sql`(SELECT ${pulp_servers.id} FROM ${pulp_servers} WHERE ${pulp_servers.name} = ${t.serverName})`
        : null,
      task_args: t.args,
      date_queued: now,
      date_started: t.state === 'running' ? now : null,
      worker_name: t.workerName ?? null,
      workflow_id: t.workflowId,
      run_id: t.runId,
    })
    .onDuplicateKeyUpdate({ set: { id: sql`LAST_INSERT_ID(${tasks.id})` } });
  return res.insertId;
}

/** A task the API queued moves to running when its workflow starts; the run id is recorded then. */
export async function markTaskRunning(
  db: Database,
  taskId: number,
  run: { workerName: string | null; workflowId: string; runId: string },
): Promise<void> {
  await db
    .update(tasks)
    .set({
      state: 'running',
      date_started: new Date(),
      worker_name: run.workerName,
      workflow_id: run.workflowId,
      run_id: run.runId,
    })
    .where(and(eq(tasks.id, taskId), eq(tasks.state, 'queued')));
}

/** Moves a task to a final state once; a later call (a retried activity) changes nothing. */
export async function finishTask(
  db: Database,
  taskId: number,
  state: Extract<TaskState, 'completed' | 'failed' | 'canceled' | 'skipped' | 'failed_to_start'>,
  error?: TaskError | null,
): Promise<void> {
  await db
    .update(tasks)
    .set({ state, date_finished: new Date(), error: error ?? null })
    .where(and(eq(tasks.id, taskId), inArray(tasks.state, openTaskStates)));
}

export interface StageRecord {
  taskId: number;
  position: number;
  name: string;
  detail?: Record<string, unknown> | null;
  error?: TaskError | null;
}

export async function upsertStage(db: Database, s: StageRecord): Promise<void> {
  await db
    .insert(task_stages)
    .values({
      task_id: s.taskId,
      position: s.position,
      name: s.name,
      detail: s.detail ?? null,
      error: s.error ?? null,
    })
    .onDuplicateKeyUpdate({ set: { name: s.name, detail: s.detail ?? null, error: s.error ?? null } });
}

export async function linkTaskToServerRepo(
  db: Database,
  taskId: number,
  serverRepoId: number,
): Promise<void> {
  await linkTasksToServerRepos(db, [{ taskId, serverRepoId }]);
}

/**
 * Links tasks to the server repos they touched, each with its task's date_queued (read from the
 * task, so a link can never disagree with it); a link that exists already is left as it is.
 */
export async function linkTasksToServerRepos(
  db: Database,
  links: readonly { taskId: number; serverRepoId: number }[],
): Promise<void> {
  for (let i = 0; i < links.length; i += LINK_CHUNK) {
    const rows = links
      .slice(i, i + LINK_CHUNK)
      .map((l, j) =>
        j === 0
          ? sql`SELECT ${l.serverRepoId} AS server_repo_id, ${l.taskId} AS task_id`
          : sql`SELECT ${l.serverRepoId}, ${l.taskId}`,
      );
    await db.execute(sql`
      INSERT INTO pulp_server_repo_tasks (pulp_server_repo_id, task_id, task_date_queued)
      SELECT l.server_repo_id, t.id, t.date_queued
      FROM (${sql.join(rows, sql` UNION ALL `)}) l JOIN tasks t ON t.id = l.task_id
      ON DUPLICATE KEY UPDATE task_id = pulp_server_repo_tasks.task_id`);
  }
}

/** Links per statement: two parameters each, far below the protocol's 65,535. */
const LINK_CHUNK = 1000;

/** A task still queued or running, with the workflow execution it belongs to. */
export interface OpenTaskRow {
  id: number;
  state: TaskState;
  workflowId: string | null;
  runId: string | null;
  dateQueued: Date;
}

/**
 * One page, in id order, of the tasks queued before `queuedBefore` that are still queued or
 * running: the candidates of the stale-task sweeper. Served by (state, date_queued).
 */
export async function listStaleOpenTasks(
  db: Database,
  page: { queuedBefore: Date; afterId: number; limit: number },
): Promise<OpenTaskRow[]> {
  return db
    .select({
      id: tasks.id,
      state: tasks.state,
      workflowId: tasks.workflow_id,
      runId: tasks.run_id,
      dateQueued: tasks.date_queued,
    })
    .from(tasks)
    .where(
      and(
        inArray(tasks.state, openTaskStates),
        lt(tasks.date_queued, page.queuedBefore),
        gt(tasks.id, page.afterId),
      ),
    )
    .orderBy(asc(tasks.id))
    .limit(page.limit);
}

/**
 * Ends a task whose workflow execution is gone, and its stages still marked running, with the
 * same error. Only a task still queued or running changes (its workflow may have recorded the
 * end meanwhile); returns whether it did.
 */
export async function closeOrphanedTask(
  db: Database,
  taskId: number,
  state: Extract<TaskState, 'failed' | 'canceled'>,
  error: TaskError,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [res] = await tx
      .update(tasks)
      .set({ state, date_finished: new Date(), error })
      .where(and(eq(tasks.id, taskId), inArray(tasks.state, openTaskStates)));
    if (res.affectedRows === 0) return false;
    await tx
      .update(task_stages)
      .set({ detail: sql`JSON_SET(${task_stages.detail}, '$.state', ${state})`, error })
      .where(
        and(
          eq(task_stages.task_id, taskId),
          sql`JSON_UNQUOTE(JSON_EXTRACT(${task_stages.detail}, '$.state')) = 'running'`,
        ),
      );
    return true;
  });
}
