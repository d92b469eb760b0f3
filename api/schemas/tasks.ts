import { z } from '@hono/zod-openapi';
import { taskStates, taskTypes } from '../../db/enums.js';
import { isoDateTime } from './common.js';

const TaskErrorSchema = z.object({ msg: z.string(), detail: z.unknown().optional() }).openapi('TaskError');

export const TaskSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    task_type: z.enum(taskTypes),
    state: z.enum(taskStates),
    parent_task_id: z.number().int().nullable(),
    pulp_server_id: z.number().int().nullable(),
    task_args: z.record(z.string(), z.unknown()),
    date_queued: isoDateTime,
    date_started: isoDateTime.nullable(),
    date_finished: isoDateTime.nullable(),
    worker_name: z.string().nullable(),
    workflow_id: z.string().nullable().openapi({ description: 'Temporal workflow id' }),
    run_id: z.string().nullable().openapi({ description: 'Temporal run id' }),
    worker_job_id: z.string().nullable().openapi({
      description:
        "The original's name of workflow_id (there the RQ job id; a migrated task keeps its RQ job id)",
    }),
    error: TaskErrorSchema.nullable(),
    date_created: isoDateTime,
    date_last_updated: isoDateTime,
  })
  .openapi('Task');

export const TaskStageSchema = z
  .object({
    id: z.number().int(),
    task_id: z.number().int(),
    position: z.number().int(),
    name: z.string(),
    detail: z.record(z.string(), z.unknown()).nullable().openapi({
      description:
        'state, message, pulp_task… and, as the original wrote them, msg and task_href (the Pulp task)',
    }),
    error: TaskErrorSchema.nullable(),
    date_created: isoDateTime,
    date_last_updated: isoDateTime,
  })
  .openapi('TaskStage');

export const TaskDetailSchema = TaskSchema.extend({ stages: z.array(TaskStageSchema) }).openapi('TaskDetail');

export const TaskStateChangeSchema = z
  .strictObject({
    // Any other text is a 400 (as in the original), not a 422: it stays a string for zod.
    state: z
      .string()
      .openapi({ description: 'Only `canceled` is accepted', enum: ['canceled'], example: 'canceled' }),
  })
  .openapi('TaskStateChange');
