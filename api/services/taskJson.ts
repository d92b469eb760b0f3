// Tasks and stages as the API answers them: ISO dates, plus the fields and detail keys the
// original Pulp Manager answered, so that its clients keep reading what they read before.
import { getTableColumns } from 'drizzle-orm';
import { type Task, type TaskStage, tasks } from '../../db/schema.js';
import { type JsonDates, withIsoDates } from '../schemas/common.js';

/**
 * `worker_job_id` was the original's RQ job id; here it is the Temporal workflow id, which a
 * database migrated from the original holds in the same column (its RQ job ids).
 */
export function taskJson(task: Task) {
  const json = withIsoDates(task) as JsonDates<Task> & { worker_job_id: string | null };
  json.worker_job_id = task.workflow_id;
  return json;
}

/** taskJson's fields for a list item the database writes as JSON (db/jsonItems.ts). */
export const taskJsonFields = { ...getTableColumns(tasks), worker_job_id: tasks.workflow_id };

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * The original wrote every stage detail as `{msg, task_href?}`; this project writes `state`,
 * `message`, `reason`, `pulp_task`… Both are answered: keys already in the row (a stage migrated
 * from the original) win over the derived ones.
 */
export function stageDetailJson(
  name: string,
  detail: Record<string, unknown> | null,
): Record<string, unknown> | null {
  // A migrated stage may hold any JSON the original wrote: only an object gets the extra keys.
  if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) return detail;
  const state = text(detail.state);
  const reason = text(detail.reason);
  const derivedMsg =
    text(detail.message) ??
    (state === undefined ? undefined : `${name} ${state}${reason === undefined ? '' : `: ${reason}`}`);
  const taskHref = text(detail.pulp_task);
  return {
    ...(derivedMsg === undefined ? {} : { msg: derivedMsg }),
    ...(taskHref === undefined ? {} : { task_href: taskHref }),
    ...detail,
  };
}

export function stageJson(stage: TaskStage) {
  return { ...withIsoDates(stage), detail: stageDetailJson(stage.name, stage.detail) };
}
