import { and, eq, sql } from 'drizzle-orm';
import type { Database } from './client.js';
import { pulp_server_repos, pulp_servers, repos } from './schema.js';
import { requireServerId, type ServerRepoSnapshot } from './serverRepoQueries.js';

/**
 * Adds or updates one server repo (and its repo row) without reconciling the whole server:
 * a snapshot records the repository it just created this way, so its task can link to it.
 * Returns the server repo id.
 */
export async function upsertServerRepo(db: Database, server: string, s: ServerRepoSnapshot): Promise<number> {
  const serverId = await requireServerId(db, server);
  return db.transaction(async (tx) => {
    await tx
      .insert(repos)
      .values({ name: s.name, repo_type: s.repoType })
      .onDuplicateKeyUpdate({ set: { name: sql`${repos.name}` } });
    const [repo] = await tx.select({ id: repos.id }).from(repos).where(eq(repos.name, s.name));
    if (!repo) throw new Error(`repo row ${s.name} vanished`);
    const values = {
      repo_href: s.repoHref,
      remote_href: s.remoteHref,
      remote_feed: s.remoteFeed,
      distribution_href: s.distributionHref,
    };
    await tx
      .insert(pulp_server_repos)
      .values({ pulp_server_id: serverId, repo_id: repo.id, ...values })
      .onDuplicateKeyUpdate({ set: values });
    const [row] = await tx
      .select({ id: pulp_server_repos.id })
      .from(pulp_server_repos)
      .where(and(eq(pulp_server_repos.pulp_server_id, serverId), eq(pulp_server_repos.repo_id, repo.id)));
    if (!row) throw new Error(`server repo ${s.name} on ${server} vanished`);
    return row.id;
  });
}

export interface SnapshotSupport {
  snapshotSupported: boolean;
  maxConcurrentSnapshots: number;
}

/** pulp_config.yml's snapshot_support of a server, as config apply stored it. */
export async function serverSnapshotSupport(db: Database, server: string): Promise<SnapshotSupport> {
  await requireServerId(db, server);
  const [row] = await db
    .select({ supported: pulp_servers.snapshot_supported, max: pulp_servers.max_concurrent_snapshots })
    .from(pulp_servers)
    .where(eq(pulp_servers.name, server));
  return { snapshotSupported: row?.supported ?? false, maxConcurrentSnapshots: Math.max(1, row?.max ?? 1) };
}
