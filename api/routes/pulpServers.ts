import { createRoute, z } from '@hono/zod-openapi';
import { repoHealthStatuses } from '../../db/enums.js';
import {
  pulpServerList,
  serverRepoGroupList,
  serverRepoList,
  serverRepoTaskList,
} from '../../db/listSpecs.js';
import type { ApiApp, RouteContext } from '../context.js';
import {
  errorResponses,
  jsonContent,
  listQuerySchema,
  pageOf,
  ServerIdParams,
  ServerRepoParams,
  withIsoDates,
} from '../schemas/common.js';
import {
  PulpServerSchema,
  RepoGroupParams,
  ServerRepoGroupSchema,
  ServerRepoSchema,
} from '../schemas/pulpServers.js';
import { TaskSchema } from '../schemas/tasks.js';
import {
  listServerRepoGroups,
  listServerRepos,
  listServerRepoTasks,
  listServers,
  pageResponse,
} from '../services/lists.js';
import { getServer, getServerRepo, getServerRepoGroup } from '../services/serverRecords.js';

const tags = ['pulp_servers'];

const listServersRoute = createRoute({
  method: 'get',
  path: '/v1/pulp_servers',
  tags,
  summary: 'Pulp servers',
  request: { query: listQuerySchema(pulpServerList) },
  responses: {
    200: jsonContent(pageOf(PulpServerSchema, 'PulpServerPage'), 'A page of servers'),
    ...errorResponses(422, 503),
  },
});

const healthStatusesRoute = createRoute({
  method: 'get',
  path: '/v1/pulp_servers/repo_health_statuses',
  tags,
  summary: 'Repo sync health values',
  responses: { 200: jsonContent(z.array(z.string()), 'green, amber, red') },
});

const getServerRoute = createRoute({
  method: 'get',
  path: '/v1/pulp_servers/{id}',
  tags,
  summary: 'One Pulp server',
  request: { params: ServerIdParams },
  responses: { 200: jsonContent(PulpServerSchema, 'The server'), ...errorResponses(404, 422, 503) },
});

const listReposRoute = createRoute({
  method: 'get',
  path: '/v1/pulp_servers/{id}/repos',
  tags,
  summary: 'Repos of a server',
  request: { params: ServerIdParams, query: listQuerySchema(serverRepoList) },
  responses: {
    200: jsonContent(pageOf(ServerRepoSchema, 'PulpServerRepoPage'), 'A page of the server repos'),
    ...errorResponses(404, 422, 503),
  },
});

const getRepoRoute = createRoute({
  method: 'get',
  path: '/v1/pulp_servers/{id}/repos/{repo_id}',
  tags,
  summary: 'One repo of a server (repo_id is the repo id)',
  request: { params: ServerRepoParams },
  responses: { 200: jsonContent(ServerRepoSchema, 'The server repo'), ...errorResponses(404, 422, 503) },
});

const listRepoTasksRoute = createRoute({
  method: 'get',
  path: '/v1/pulp_servers/{id}/repos/{repo_id}/tasks',
  tags,
  summary: 'Tasks that touched a repo of a server',
  request: { params: ServerRepoParams, query: listQuerySchema(serverRepoTaskList) },
  responses: {
    200: jsonContent(pageOf(TaskSchema, 'TaskPage'), 'A page of tasks'),
    ...errorResponses(404, 422, 503),
  },
});

const listRepoGroupsRoute = createRoute({
  method: 'get',
  path: '/v1/pulp_servers/{id}/repo_groups',
  tags,
  summary: 'Repo groups linked to a server',
  request: { params: ServerIdParams, query: listQuerySchema(serverRepoGroupList) },
  responses: {
    200: jsonContent(pageOf(ServerRepoGroupSchema, 'PulpServerRepoGroupPage'), 'A page of repo groups'),
    ...errorResponses(404, 422, 503),
  },
});

const getRepoGroupRoute = createRoute({
  method: 'get',
  path: '/v1/pulp_servers/{id}/repo_groups/{repo_group_id}',
  tags,
  summary: 'One repo group of a server',
  request: { params: RepoGroupParams },
  responses: {
    200: jsonContent(ServerRepoGroupSchema, 'The repo group link'),
    ...errorResponses(404, 422, 503),
  },
});

/** Read-only routes of /v1/pulp_servers. Static paths first: they must win over `{id}`. */
export function registerPulpServerRoutes(app: ApiApp, { deps, paging }: RouteContext): void {
  const { db } = deps;
  app.openapi(listServersRoute, async (c) => pageResponse(c, await listServers(db, c.req.query(), paging)));
  app.openapi(healthStatusesRoute, (c) => c.json([...repoHealthStatuses], 200));
  app.openapi(getServerRoute, async (c) => {
    const { id } = c.req.valid('param');
    return c.json(withIsoDates(await getServer(db, id)), 200);
  });
  app.openapi(listReposRoute, async (c) => {
    const { id } = c.req.valid('param');
    return pageResponse(c, await listServerRepos(db, id, c.req.query(), paging));
  });
  app.openapi(getRepoRoute, async (c) => {
    const { id, repo_id } = c.req.valid('param');
    return c.json(withIsoDates(await getServerRepo(db, id, repo_id)), 200);
  });
  app.openapi(listRepoTasksRoute, async (c) => {
    const { id, repo_id } = c.req.valid('param');
    return pageResponse(c, await listServerRepoTasks(db, id, repo_id, c.req.query(), paging));
  });
  app.openapi(listRepoGroupsRoute, async (c) => {
    const { id } = c.req.valid('param');
    return pageResponse(c, await listServerRepoGroups(db, id, c.req.query(), paging));
  });
  app.openapi(getRepoGroupRoute, async (c) => {
    const { id, repo_group_id } = c.req.valid('param');
    return c.json(withIsoDates(await getServerRepoGroup(db, id, repo_group_id)), 200);
  });
}
