import { createRoute } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { type ApiApp, bearerSecurity, type RouteContext } from '../context.js';
import type { ApiEnv } from '../deps.js';
import { bodyErrorResponses, errorResponses, jsonContent } from '../schemas/common.js';
import {
  ScheduleIdParams,
  ScheduleNoteSchema,
  SchedulePageQuery,
  SchedulePageSchema,
  ScheduleSchema,
} from '../schemas/schedules.js';
import {
  describeSchedule,
  listSchedules,
  pauseSchedule,
  triggerSchedule,
  unpauseSchedule,
} from '../services/schedules.js';

const tags = ['schedules'];

const listRoute = createRoute({
  method: 'get',
  path: '/v1/schedules',
  tags,
  summary: "The project's Temporal Schedules, with next and recent runs and skipped overlaps",
  request: { query: SchedulePageQuery },
  responses: {
    200: jsonContent(SchedulePageSchema, 'A page of schedules'),
    ...errorResponses(422, 503),
  },
});

const describeRoute = createRoute({
  method: 'get',
  path: '/v1/schedules/{schedule_id}',
  tags,
  summary: 'One schedule',
  request: { params: ScheduleIdParams },
  responses: { 200: jsonContent(ScheduleSchema, 'The schedule'), ...errorResponses(404, 422, 503) },
});

function actionRoute(admin: MiddlewareHandler<ApiEnv>, action: string, summary: string) {
  return createRoute({
    method: 'post',
    path: `/v1/schedules/{schedule_id}/${action}`,
    tags,
    summary,
    middleware: [admin],
    security: bearerSecurity,
    request: {
      params: ScheduleIdParams,
      body: { required: false, content: { 'application/json': { schema: ScheduleNoteSchema } } },
    },
    responses: {
      200: jsonContent(ScheduleSchema, 'The schedule afterwards'),
      ...errorResponses(401, 403, 404, 503),
      ...bodyErrorResponses(),
    },
  });
}

export function registerScheduleRoutes(app: ApiApp, ctx: RouteContext): void {
  const client = ctx.deps.temporal;
  const who = (user: { username: string } | undefined) => (user ? ` by ${user.username}` : '');
  const triggerRoute = actionRoute(
    ctx.requireAdmin,
    'trigger',
    'Run now (skipped while the previous run is going)',
  );
  const pauseRoute = actionRoute(ctx.requireAdmin, 'pause', 'Pause, with a note');
  const unpauseRoute = actionRoute(ctx.requireAdmin, 'unpause', 'Unpause, with a note');

  app.openapi(listRoute, async (c) => {
    const { page, page_size = ctx.paging.default_page_size } = c.req.valid('query');
    return c.json(await listSchedules(client, page, Math.min(page_size, ctx.paging.max_page_size)), 200);
  });
  app.openapi(describeRoute, async (c) =>
    c.json(await describeSchedule(client, c.req.valid('param').schedule_id), 200),
  );
  app.openapi(triggerRoute, async (c) =>
    c.json(await triggerSchedule(client, c.req.valid('param').schedule_id), 200),
  );
  app.openapi(pauseRoute, async (c) => {
    const note = c.req.valid('json').note ?? `paused via the API${who(c.get('user'))}`;
    return c.json(await pauseSchedule(client, c.req.valid('param').schedule_id, note), 200);
  });
  app.openapi(unpauseRoute, async (c) => {
    const note = c.req.valid('json').note ?? `unpaused via the API${who(c.get('user'))}`;
    return c.json(await unpauseSchedule(client, c.req.valid('param').schedule_id, note), 200);
  });
}
