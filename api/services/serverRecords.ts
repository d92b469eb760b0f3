// Reads of the reporting tables behind the pulp_servers routes (the lists go through listPage).
import { and, eq, like, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { serverRepoGroupList, serverRepoList } from '../../db/listSpecs.js';
import {
  type PulpServer,
  pulp_server_repo_groups,
  pulp_server_repos,
  pulp_servers,
  repo_groups,
  repos,
} from '../../db/schema.js';
import { notFound } from '../errors.js';

export async function getServer(db: Database, id: number): Promise<PulpServer> {
  const [server] = await db.select().from(pulp_servers).where(eq(pulp_servers.id, id));
  if (server === undefined) throw notFound('Pulp server');
  return server;
}

export async function serverIdByName(db: Database, name: string): Promise<number | undefined> {
  const [row] = await db
    .select({ id: pulp_servers.id })
    .from(pulp_servers)
    .where(eq(pulp_servers.name, name));
  return row?.id;
}

/** The repo `repoId` (a repos.id, as in the original's routes) as held on server `serverId`. */
export async function getServerRepo(db: Database, serverId: number, repoId: number) {
  const [row] = await db
    .select(serverRepoList.select)
    .from(pulp_server_repos)
    .innerJoin(repos, eq(repos.id, pulp_server_repos.repo_id))
    .where(and(eq(pulp_server_repos.pulp_server_id, serverId), eq(pulp_server_repos.repo_id, repoId)));
  if (row === undefined) throw notFound('Repo');
  return row;
}

export async function getServerRepoGroup(db: Database, serverId: number, repoGroupId: number) {
  const [row] = await db
    .select(serverRepoGroupList.select)
    .from(pulp_server_repo_groups)
    .innerJoin(repo_groups, eq(repo_groups.id, pulp_server_repo_groups.repo_group_id))
    .where(
      and(
        eq(pulp_server_repo_groups.pulp_server_id, serverId),
        eq(pulp_server_repo_groups.repo_group_id, repoGroupId),
      ),
    );
  if (row === undefined) throw notFound('Repo group');
  return row;
}

/** Names of up to `limit` repos of the server that start with `prefix` (taken literally). */
export async function serverRepoNamesWithPrefix(
  db: Database,
  serverId: number,
  prefix: string,
  limit = 5,
): Promise<string[]> {
  const pattern = `${prefix.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
  const rows = await db
    .select({ name: repos.name })
    .from(pulp_server_repos)
    .innerJoin(repos, eq(repos.id, pulp_server_repos.repo_id))
    .where(and(eq(pulp_server_repos.pulp_server_id, serverId), like(repos.name, pattern)))
    .orderBy(repos.name)
    .limit(limit);
  return rows.map((r) => r.name);
}

/** For readiness: a round trip to the database. */
export async function pingDatabase(db: Database): Promise<void> {
  await db.execute(sql`SELECT 1`);
}
