import { createRoute, z } from '@hono/zod-openapi';
import { taskStates, taskTypes } from '../../db/enums.js';
import { taskList } from '../../db/listSpecs.js';
import { findTaskWithStages } from '../../db/taskQueries.js';
import { type ApiApp, bearerSecurity, type RouteContext } from '../context.js';
import { notFound } from '../errors.js';
import {
  bodyErrorResponses,
  errorResponses,
  jsonBody,
  jsonContent,
  listQuerySchema,
  pageOf,
  pathId,
} from '../schemas/common.js';
import { TaskDetailSchema, TaskSchema, TaskStateChangeSchema } from '../schemas/tasks.js';
import { cancelTask } from '../services/cancelTask.js';
import { listTasks, pageResponse } from '../services/lists.js';
import { stageJson, taskJson } from '../services/taskJson.js';

const tags = ['tasks'];
const TaskIdParams = z.object({ id: pathId('id') });

const listRoute = createRoute({
  method: 'get',
  path: '/v1/tasks',
  tags,
  summary: 'Tasks',
  request: { query: listQuerySchema(taskList) },
  responses: {
    200: jsonContent(pageOf(TaskSchema, 'TaskListPage'), 'A page of tasks'),
    ...errorResponses(422, 503),
  },
});

const typesRoute = createRoute({
  method: 'get',
  path: '/v1/tasks/task_types',
  tags,
  summary: 'Task types',
  responses: { 200: jsonContent(z.array(z.string()), 'Every task type') },
});

const statesRoute = createRoute({
  method: 'get',
  path: '/v1/tasks/task_states',
  tags,
  summary: 'Task states',
  responses: { 200: jsonContent(z.array(z.string()), 'Every task state') },
});

const getRoute = createRoute({
  method: 'get',
  path: '/v1/tasks/{id}',
  tags,
  summary: 'One task with its stages in order',
  request: { params: TaskIdParams },
  responses: { 200: jsonContent(TaskDetailSchema, 'The task'), ...errorResponses(404, 422, 503) },
});

export function registerTaskRoutes(app: ApiApp, ctx: RouteContext): void {
  const { db, temporal } = ctx.deps;
  const changeStateRoute = createRoute({
    method: 'patch',
    path: '/v1/tasks/{id}',
    tags,
    summary: 'Cancel a task: cancels its workflow, its child workflows and their Pulp tasks',
    // Always an admin, even with require_jwt_auth = false: the original never let anyone cancel.
    middleware: [ctx.requireAdminAlways],
    security: bearerSecurity,
    request: { params: TaskIdParams, body: jsonBody(TaskStateChangeSchema) },
    responses: {
      200: jsonContent(TaskSchema, 'The task, now canceled'),
      ...errorResponses(401, 403, 404, 409, 503),
      ...bodyErrorResponses(),
    },
  });

  app.openapi(listRoute, async (c) => pageResponse(c, await listTasks(db, c.req.query(), ctx.paging)));
  app.openapi(typesRoute, (c) => c.json([...taskTypes], 200));
  app.openapi(statesRoute, (c) => c.json([...taskStates], 200));
  app.openapi(getRoute, async (c) => {
    const task = await findTaskWithStages(db, c.req.valid('param').id);
    if (task === undefined) throw notFound('Task');
    return c.json({ ...taskJson(task), stages: task.stages.map(stageJson) }, 200);
  });
  app.openapi(changeStateRoute, async (c) => {
    const task = await cancelTask(
      { db, temporal, logger: ctx.logger },
      c.req.valid('param').id,
      c.req.valid('json').state,
      c.get('user')?.username,
    );
    return c.json(taskJson(task), 200);
  });
}
