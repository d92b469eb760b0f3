// The paged lists of the API: db/listSpecs.ts specs with the route's fixed conditions. Items
// are JSON text built by the database (db/jsonItems.ts) in the shape the object path had
// (withIsoDates, taskJson): the answer is written as text, never decoded and re-encoded.
import { eq } from 'drizzle-orm';
import type { Context, TypedResponse } from 'hono';
import type { Database } from '../../db/client.js';
import { pageJsonText } from '../../db/jsonItems.js';
import { type ListPage, type ListPaging, type ListQueryInput, listPageJson } from '../../db/listQuery.js';
import {
  pulpServerList,
  serverRepoGroupList,
  serverRepoList,
  serverRepoTaskList,
  taskList,
} from '../../db/listSpecs.js';
import { pulp_server_repo_groups, pulp_server_repo_tasks, pulp_server_repos } from '../../db/schema.js';
import { listQueryParameters } from '../schemas/common.js';
import { getServer, getServerRepo } from './serverRecords.js';
import { taskJsonFields } from './taskJson.js';

/** A page answer as JSON text: what the route sends as its body. */
export type PageJson = string & { readonly __pageJson: true };

const pageJson = ({ items, ...rest }: ListPage<string>) => pageJsonText(items, rest) as PageJson;

/**
 * A 200 with the page's text as an application/json body. Typed as any JSON 200 of the route
 * (`never` data): the text is not decoded to be checked here; test/db/jsonItems.test.ts holds it
 * to the object path's items and schemathesis holds the answers to the OpenAPI schema.
 */
export function pageResponse(c: Context, page: PageJson): TypedResponse<never, 200, 'json'> {
  return c.body(page, 200, { 'Content-Type': 'application/json' }) as unknown as TypedResponse<
    never,
    200,
    'json'
  >;
}

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
  return pageJson(await listPageJson(db, pulpServerList, knownParameters(pulpServerList, query), paging));
}

/**
 * A page of the server's rows, or the 404 of a server that does not exist. Rows of the server
 * prove it exists (a foreign key), so the server is only looked up when there are none: a
 * statement less for every page a dashboard reads.
 */
async function ofExistingServer(
  db: Database,
  serverId: number,
  read: () => Promise<ListPage<string>>,
): Promise<ListPage<string>> {
  const page = await read();
  if (page.total === 0) await getServer(db, serverId);
  return page;
}

export async function listServerRepos(
  db: Database,
  serverId: number,
  query: ListQueryInput,
  paging: ListPaging,
) {
  return pageJson(
    await ofExistingServer(db, serverId, () =>
      listPageJson(db, serverRepoList, knownParameters(serverRepoList, query), paging, [
        eq(pulp_server_repos.pulp_server_id, serverId),
      ]),
    ),
  );
}

export async function listServerRepoGroups(
  db: Database,
  serverId: number,
  query: ListQueryInput,
  paging: ListPaging,
) {
  return pageJson(
    await ofExistingServer(db, serverId, () =>
      listPageJson(db, serverRepoGroupList, knownParameters(serverRepoGroupList, query), paging, [
        eq(pulp_server_repo_groups.pulp_server_id, serverId),
      ]),
    ),
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
  return pageJson(
    await listPageJson(
      db,
      serverRepoTaskList,
      knownParameters(serverRepoTaskList, query),
      paging,
      [eq(pulp_server_repo_tasks.pulp_server_repo_id, serverRepo.id)],
      taskJsonFields,
    ),
  );
}

export async function listTasks(db: Database, query: ListQueryInput, paging: ListPaging) {
  return pageJson(
    await listPageJson(db, taskList, knownParameters(taskList, query), paging, [], taskJsonFields),
  );
}
