import { z } from '@hono/zod-openapi';
import { isoDateTime } from './common.js';
import { MAX_QUERY_INTEGER } from './listParams.js';

export const ScheduleSchema = z
  .object({
    schedule_id: z.string().openapi({ example: 'repo-group-sync/pulp1.example.com/external_repos' }),
    kind: z.enum(['repo_group_sync', 'repo_registration']),
    pulp_server_name: z.string(),
    repo_group: z.string().nullable(),
    workflow_type: z.string().nullable(),
    task_queue: z.string().nullable(),
    paused: z.boolean(),
    note: z.string().nullable(),
    overlap_policy: z.string().openapi({ example: 'SKIP' }),
    next_action_times: z.array(isoDateTime),
    last_action_time: isoDateTime.nullable(),
    recent_actions: z.array(
      z.object({
        scheduled_at: isoDateTime,
        taken_at: isoDateTime,
        workflow_id: z.string(),
        run_id: z.string(),
      }),
    ),
    running_workflows: z.array(z.object({ workflow_id: z.string(), run_id: z.string() })),
    num_actions_taken: z.number().int(),
    num_actions_skipped_overlap: z
      .number()
      .int()
      .openapi({ description: 'runs skipped because the previous one was still going' }),
    num_actions_missed_catchup_window: z.number().int(),
    created_at: isoDateTime,
    last_updated_at: isoDateTime.nullable(),
  })
  .openapi('Schedule');

/**
 * A page of schedules: read whole from Temporal and counted on every request (a project has
 * tens of them), so without the lists' total_as_of and cursor.
 */
export const SchedulePageSchema = z
  .object({
    items: z.array(ScheduleSchema),
    page: z.number().int(),
    page_size: z.number().int(),
    total: z.number().int(),
  })
  .openapi('SchedulePage');

export const ScheduleIdParams = z.object({
  schedule_id: z
    .string()
    .min(1)
    .max(512)
    .openapi({
      param: { name: 'schedule_id', in: 'path' },
      description: 'URL-encoded schedule id (its slashes as %2F)',
      example: 'repo-group-sync%2Fpulp1.example.com%2Fexternal_repos',
    }),
});

export const ScheduleNoteSchema = z
  .strictObject({
    note: z.string().max(1024).optional().openapi({ description: 'why; shown in the Temporal UI' }),
  })
  .openapi('ScheduleNote');

export const SchedulePageQuery = z.object({
  page: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(1)
    .openapi({ param: { name: 'page', in: 'query' } }),
  page_size: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_QUERY_INTEGER)
    .default(50)
    .openapi({
      param: { name: 'page_size', in: 'query' },
      description: 'above [paging] max_page_size it is lowered to it (the answer says what was applied)',
    }),
});
