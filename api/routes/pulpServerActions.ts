import { createRoute, z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import type { ApiApp, RouteContext } from '../context.js';
import { bearerSecurity } from '../context.js';
import type { ApiEnv } from '../deps.js';
import {
  FindPackageContentBodySchema,
  PackageContentSchema,
  RemoveRepoContentBodySchema,
  RemoveReposBodySchema,
  SnapshotReposBodySchema,
  SyncReposBodySchema,
} from '../schemas/actions.js';
import {
  bodyErrorResponses,
  errorResponses,
  jsonBody,
  jsonContent,
  ServerIdParams,
  ServerRepoParams,
} from '../schemas/common.js';
import { TaskSchema } from '../schemas/tasks.js';
import { findPackageContent } from '../services/findPackageContent.js';
import { getServer, getServerRepo } from '../services/serverRecords.js';
import { taskJson } from '../services/taskJson.js';
import {
  type StartContext,
  startRemoveRepoContent,
  startRepoGroupSync,
  startRepoRemoval,
  startSnapshotRepos,
} from '../services/workflowStarts.js';

const tags = ['pulp_servers'];
const started = jsonContent(TaskSchema, 'The Task recording the work (state queued, or failed_to_start)');

function startRoute<P extends string, B extends z.ZodType, Q extends z.ZodObject>(
  admin: MiddlewareHandler<ApiEnv>,
  path: P,
  summary: string,
  body: B,
  params: Q,
) {
  return createRoute({
    method: 'post',
    path,
    tags,
    summary,
    middleware: [admin],
    security: bearerSecurity,
    request: { params, body: jsonBody(body) },
    responses: { 201: started, ...errorResponses(401, 403, 404, 409, 503), ...bodyErrorResponses() },
  });
}

const findContentRoute = createRoute({
  method: 'post',
  path: '/v1/pulp_servers/{id}/repos/{repo_id}/find_package_content',
  tags,
  summary: 'Find packages in the latest version of a repo by name, version or sha256 (read from Pulp)',
  request: { params: ServerRepoParams, body: jsonBody(FindPackageContentBodySchema) },
  responses: {
    201: jsonContent(z.array(PackageContentSchema), 'The matching content units'),
    ...errorResponses(404, 502, 503),
    ...bodyErrorResponses(),
  },
});

/** Routes of /v1/pulp_servers that start work (admin only) or read Pulp directly. */
export function registerPulpServerActionRoutes(app: ApiApp, ctx: RouteContext): void {
  const { db, pulpClients } = ctx.deps;
  const startContext = (c: Context<ApiEnv>): StartContext => ({
    ...ctx.starter,
    requestedBy: c.get('user')?.username,
  });

  const syncRoute = startRoute(
    ctx.requireAdmin,
    '/v1/pulp_servers/{id}/sync_repos',
    'Sync the repos matching the regexes (ad hoc repo group sync)',
    SyncReposBodySchema,
    ServerIdParams,
  );
  const snapshotRoute = startRoute(
    ctx.requireAdmin,
    '/v1/pulp_servers/{id}/snapshot_repos',
    'Snapshot the rpm and deb repos matching the regexes',
    SnapshotReposBodySchema,
    ServerIdParams,
  );
  const removeReposRoute = startRoute(
    ctx.requireAdmin,
    '/v1/pulp_servers/{id}/remove_repos',
    'Remove the repos matching the regexes (dry run by default)',
    RemoveReposBodySchema,
    ServerIdParams,
  );
  const removeContentRoute = startRoute(
    ctx.requireAdmin,
    '/v1/pulp_servers/{id}/repos/{repo_id}/remove_repo_content',
    'Remove one content unit from the latest version of a repo and publish',
    RemoveRepoContentBodySchema,
    ServerRepoParams,
  );

  app.openapi(syncRoute, async (c) => {
    const server = await getServer(db, c.req.valid('param').id);
    const task = await startRepoGroupSync(startContext(c), server, c.req.valid('json'));
    return c.json(taskJson(task), 201);
  });
  app.openapi(snapshotRoute, async (c) => {
    const server = await getServer(db, c.req.valid('param').id);
    const task = await startSnapshotRepos(startContext(c), server, c.req.valid('json'));
    return c.json(taskJson(task), 201);
  });
  app.openapi(removeReposRoute, async (c) => {
    const server = await getServer(db, c.req.valid('param').id);
    const task = await startRepoRemoval(startContext(c), server, c.req.valid('json'));
    return c.json(taskJson(task), 201);
  });
  app.openapi(removeContentRoute, async (c) => {
    const { id, repo_id } = c.req.valid('param');
    const server = await getServer(db, id);
    const serverRepo = await getServerRepo(db, id, repo_id);
    const task = await startRemoveRepoContent(startContext(c), server, serverRepo, c.req.valid('json'));
    return c.json(taskJson(task), 201);
  });
  app.openapi(findContentRoute, async (c) => {
    const { id, repo_id } = c.req.valid('param');
    const server = await getServer(db, id);
    const serverRepo = await getServerRepo(db, id, repo_id);
    const found = await findPackageContent(
      pulpClients,
      server.name,
      serverRepo.repo_href,
      c.req.valid('json'),
    );
    return c.json(found, 201);
  });
}
