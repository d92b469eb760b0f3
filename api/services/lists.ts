// The paged lists of the API: db/listSpecs.ts specs with the route's fixed conditions.
import { eq } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { type ListPage, type ListPaging, type ListQueryInput, listPage } from '../../db/listQuery.js';
import {
  pulpServerList,
  serverRepoGroupList,
  serverRepoList,
  serverRepoTaskList,
  taskList,
} from '../../db/listSpecs.js';
import {
  pulp_server_repo_groups,
  pulp_server_repo_tasks,
  pulp_server_repos,
  type Task,
} from '../../db/schema.js';
import { listQueryParameters, withIsoDates } from '../schemas/common.js';
import { getServer, getServerRepo } from './serverRecords.js';
import { taskJson } from './taskJson.js';

type Page<T> = ListPage<T>;

const asJson = <T extends object>(page: Page<T>) => ({ ...page, items: page.items.map(withIsoDates) });
const tasksAsJson = (page: Page<Task>) => ({ ...page, items: page.items.map(taskJson) });

/**
 * The request's documented list parameters only. The original (FastAPI) ignored any other
 * query parameter, and its clients send some (e.g. a filter another route has): they are
 * dropped, not refused. A documented one with a bad value is still a 422.
 */
function knownParameters(spec: Parameters<typeof listQueryParameters>[0], query: ListQueryInput) {
  const known = listQueryParameters(spec);
  return Object.fromEntries(Object.entries(query).filter(([key]) => known.has(key)));
}

export async function listServers(db: Database, query: ListQueryInput, paging: ListPaging) {
  return asJson(await listPage(db, pulpServerList, knownParameters(pulpServerList, query), paging));
}

export async function listServerRepos(
  db: Database,
  serverId: number,
  query: ListQueryInput,
  paging: ListPaging,
) {
  await getServer(db, serverId);
  return asJson(
    await listPage(db, serverRepoList, knownParameters(serverRepoList, query), paging, [
      eq(pulp_server_repos.pulp_server_id, serverId),
    ]),
  );
}

export async function listServerRepoGroups(
  db: Database,
  serverId: number,
  query: ListQueryInput,
  paging: ListPaging,
) {
  await getServer(db, serverId);
  return asJson(
    await listPage(db, serverRepoGroupList, knownParameters(serverRepoGroupList, query), paging, [
      eq(pulp_server_repo_groups.pulp_server_id, serverId),
    ]),
  );
}

export async function listServerRepoTasks(
  db: Database,
  serverId: number,
  repoId: number,
  query: ListQueryInput,
  paging: ListPaging,
) {
  const serverRepo = await getServerRepo(db, serverId, repoId);
  return tasksAsJson(
    await listPage(db, serverRepoTaskList, knownParameters(serverRepoTaskList, query), paging, [
      eq(pulp_server_repo_tasks.pulp_server_repo_id, serverRepo.id),
    ]),
  );
}

export async function listTasks(db: Database, query: ListQueryInput, paging: ListPaging) {
  return tasksAsJson(await listPage(db, taskList, knownParameters(taskList, query), paging));
}
