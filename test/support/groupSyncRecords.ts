import type { Client } from '@temporalio/client';
import { and, asc, eq } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { task_stages, tasks } from '../../db/schema.js';
import type { PulpClient } from '../../pulp/client.js';
import { unwrap } from '../../pulp/client.js';
import { listAll } from '../../pulp/listAll.js';

/**
 * What a group sync left behind, read from its two witnesses: our task records and Pulp's own
 * task list. Fault tests compare them with what must hold after the fault.
 */

type TaskRow = typeof tasks.$inferSelect;

export interface GroupRecords {
  group: TaskRow;
  /** The repo_sync tasks of the group, by repo name. */
  children: Map<string, TaskRow>;
}

export async function groupRecords(db: Database, workflowId: string): Promise<GroupRecords> {
  const [group] = await db
    .select()
    .from(tasks)
    .where(and(eq(tasks.workflow_id, workflowId), eq(tasks.task_type, 'repo_group_sync')));
  if (!group) throw new Error(`no repo_group_sync task row for workflow ${workflowId}`);
  const rows = await db.select().from(tasks).where(eq(tasks.parent_task_id, group.id));
  const children = new Map<string, TaskRow>();
  for (const row of rows) {
    const repo = (row.task_args as { repo?: unknown }).repo;
    if (typeof repo !== 'string') throw new Error(`task ${row.id} has no repo in its args`);
    if (children.has(repo)) throw new Error(`two repo_sync task rows for ${repo} in group task ${group.id}`);
    children.set(repo, row);
  }
  return { group, children };
}

/** Every task row still `running`, whatever its type (the database belongs to one test file). */
export async function runningTaskRows(db: Database): Promise<TaskRow[]> {
  return db.select().from(tasks).where(eq(tasks.state, 'running'));
}

export async function stagesOf(db: Database, taskId: number) {
  return db
    .select({ position: task_stages.position, name: task_stages.name, detail: task_stages.detail })
    .from(task_stages)
    .where(eq(task_stages.task_id, taskId))
    .orderBy(asc(task_stages.position));
}

/**
 * Pulp sync tasks of a repository created at or after `since`, from Pulp itself: a sync locks
 * the repository, so it appears in the task's reserved resources (by PRN).
 */
export async function pulpSyncTasksSince(client: PulpClient, repoName: string, since: Date) {
  const [repo] = (
    await unwrap(client.GET('/pulp/api/v3/repositories/', { params: { query: { name: repoName } } }))
  ).results;
  if (!repo?.prn) throw new Error(`Pulp has no repository named ${repoName}`);
  return listAll((q) =>
    unwrap(
      client.GET('/pulp/api/v3/tasks/', {
        params: {
          query: {
            ...q,
            reserved_resources: repo.prn ?? '',
            name__contains: 'synchroniz',
            pulp_created__gte: since.toISOString(),
          },
        },
      }),
    ),
  );
}

/**
 * The group's result, or a clear failure when it has not come within `timeoutMs` (a worker that
 * never recovered would otherwise surface only as the test's own timeout).
 */
export async function groupResultWithin<T>(
  handle: { workflowId: string; result(): Promise<T> },
  timeoutMs: number,
  context: () => string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new Error(`group ${handle.workflowId} did not finish within ${timeoutMs} ms: ${context()}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([handle.result(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The attempt number of each activity of a workflow's latest run that has ended or is running,
 * by activity type, from Temporal's history (an ActivityTaskStarted event is written once, with
 * the attempt that ended the activity): 1 means no retry was needed.
 */
export async function activityAttempts(
  client: Client,
  workflowId: string,
): Promise<Record<string, number[]>> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const typeOf = new Map<string, string>();
  const out: Record<string, number[]> = {};
  for (const e of history.events ?? []) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) typeOf.set(String(e.eventId), scheduled.activityType?.name ?? '?');
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const type = typeOf.get(String(started.scheduledEventId)) ?? '?';
      out[type] = [...(out[type] ?? []), started.attempt ?? 0];
    }
  }
  return out;
}
