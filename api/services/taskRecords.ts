import { and, eq, isNull } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import type { TaskType } from '../../db/enums.js';
import { type Task, tasks } from '../../db/schema.js';
import { notFound } from '../errors.js';

export async function getTask(db: Database, id: number): Promise<Task> {
  const [task] = await db.select().from(tasks).where(eq(tasks.id, id));
  if (task === undefined) throw notFound('Task');
  return task;
}

export interface QueuedTask {
  name: string;
  taskType: TaskType;
  pulpServerId: number;
  args: Record<string, unknown>;
  workflowId: string;
}

/** The Task row of work the API is about to start. */
export async function insertQueuedTask(db: Database, t: QueuedTask): Promise<number> {
  const [res] = await db.insert(tasks).values({
    name: t.name,
    task_type: t.taskType,
    state: 'queued',
    pulp_server_id: t.pulpServerId,
    task_args: t.args,
    date_queued: new Date(),
    workflow_id: t.workflowId,
  });
  return res.insertId;
}

/** Records the run id the start returned, unless the workflow already did. */
export async function recordRunId(db: Database, taskId: number, runId: string): Promise<void> {
  await db
    .update(tasks)
    .set({ run_id: runId })
    .where(and(eq(tasks.id, taskId), isNull(tasks.run_id)));
}
