import { asc, eq } from 'drizzle-orm';
import type { MySql2Database } from 'drizzle-orm/mysql2';
import { type Task, type TaskStage, task_stages, tasks } from './schema.js';

export type TaskWithStages = Task & { stages: TaskStage[] };

/** GET /v1/tasks/{id}: the task and its stages in order; undefined when there is no such task. */
export async function findTaskWithStages(
  db: MySql2Database,
  id: number,
): Promise<TaskWithStages | undefined> {
  const [task] = await db.select().from(tasks).where(eq(tasks.id, id));
  if (task === undefined) return undefined;
  const stages = await db
    .select()
    .from(task_stages)
    .where(eq(task_stages.task_id, id))
    .orderBy(asc(task_stages.position), asc(task_stages.id));
  return { ...task, stages };
}
