import { and, eq, gt, inArray, sql } from 'drizzle-orm';
import type { Database } from './client.js';
import type { RepoHealthStatus } from './enums.js';
import { pulp_server_repos, pulp_servers, repos } from './schema.js';

/** A repository as read from Pulp, the input of the reconcile. */
export interface ServerRepoSnapshot {
  name: string;
  repoType: string;
  repoHref: string;
  remoteHref: string | null;
  remoteFeed: string | null;
  distributionHref: string | null;
}

export interface ReconcileCounts {
  added: number;
  updated: number;
  removed: number;
  total: number;
}

export class ServerNotInDatabaseError extends Error {
  readonly code = 'SERVER_NOT_IN_DATABASE';
  constructor(readonly server: string) {
    super(`Pulp server "${server}" is not in the database: run \`pulp-manager config apply\``);
    this.name = 'ServerNotInDatabaseError';
  }
}

export async function requireServerId(db: Database, server: string): Promise<number> {
  const [row] = await db
    .select({ id: pulp_servers.id })
    .from(pulp_servers)
    .where(eq(pulp_servers.name, server));
  if (!row) throw new ServerNotInDatabaseError(server);
  return row.id;
}

/**
 * Makes the server's repo rows equal to what Pulp has, in one transaction: adds new ones,
 * updates hrefs and feeds that changed, deletes rows of repositories that are gone.
 */
export async function reconcileServerRepos(
  db: Database,
  server: string,
  snapshot: readonly ServerRepoSnapshot[],
): Promise<ReconcileCounts> {
  const serverId = await requireServerId(db, server);
  return db.transaction(async (tx) => {
    const counts: ReconcileCounts = { added: 0, updated: 0, removed: 0, total: snapshot.length };
    const names = snapshot.map((s) => s.name);
    if (names.length > 0) {
      // Repo names are global; a repo row is shared by every server that has the repo.
      for (let i = 0; i < snapshot.length; i += 500) {
        const chunk = snapshot.slice(i, i + 500);
        await tx
          .insert(repos)
          .values(chunk.map((s) => ({ name: s.name, repo_type: s.repoType })))
          .onDuplicateKeyUpdate({ set: { name: sql`${repos.name}` } });
      }
    }
    const repoIds = new Map<string, number>();
    for (let i = 0; i < names.length; i += 1000) {
      const rows = await tx
        .select({ id: repos.id, name: repos.name })
        .from(repos)
        .where(inArray(repos.name, names.slice(i, i + 1000)));
      for (const r of rows) repoIds.set(r.name, r.id);
    }
    const existing = await tx
      .select()
      .from(pulp_server_repos)
      .where(eq(pulp_server_repos.pulp_server_id, serverId));
    const byRepoId = new Map(existing.map((e) => [e.repo_id, e]));
    for (const s of snapshot) {
      const repoId = repoIds.get(s.name);
      if (repoId === undefined) continue;
      const row = byRepoId.get(repoId);
      const values = {
        repo_href: s.repoHref,
        remote_href: s.remoteHref,
        remote_feed: s.remoteFeed,
        distribution_href: s.distributionHref,
      };
      if (!row) {
        await tx.insert(pulp_server_repos).values({ pulp_server_id: serverId, repo_id: repoId, ...values });
        counts.added++;
      } else if (
        row.repo_href !== values.repo_href ||
        row.remote_href !== values.remote_href ||
        row.remote_feed !== values.remote_feed ||
        row.distribution_href !== values.distribution_href
      ) {
        await tx.update(pulp_server_repos).set(values).where(eq(pulp_server_repos.id, row.id));
        counts.updated++;
      }
    }
    const keep = [...repoIds.values()];
    const gone = existing.filter((e) => !keep.includes(e.repo_id)).map((e) => e.id);
    if (gone.length > 0) {
      await tx
        .delete(pulp_server_repos)
        .where(and(eq(pulp_server_repos.pulp_server_id, serverId), inArray(pulp_server_repos.id, gone)));
      counts.removed = gone.length;
    }
    return counts;
  });
}

export interface ServerRepoRow {
  serverRepoId: number;
  name: string;
  repoType: string;
  repoHref: string;
  remoteHref: string | null;
  remoteFeed: string | null;
  distributionHref: string | null;
}

/** The columns of a ServerRepoRow: what every selection of a server's repos reads. */
const serverRepoColumns = {
  serverRepoId: pulp_server_repos.id,
  name: repos.name,
  repoType: repos.repo_type,
  repoHref: pulp_server_repos.repo_href,
  remoteHref: pulp_server_repos.remote_href,
  remoteFeed: pulp_server_repos.remote_feed,
  distributionHref: pulp_server_repos.distribution_href,
};

export async function listServerRepos(
  db: Database,
  server: string,
  serverRepoId?: number,
): Promise<ServerRepoRow[]> {
  const serverId = await requireServerId(db, server);
  const rows = await db
    .select(serverRepoColumns)
    .from(pulp_server_repos)
    .innerJoin(repos, eq(repos.id, pulp_server_repos.repo_id))
    .where(
      and(
        eq(pulp_server_repos.pulp_server_id, serverId),
        serverRepoId === undefined ? undefined : eq(pulp_server_repos.id, serverRepoId),
      ),
    )
    .orderBy(repos.name);
  return rows;
}

/** Where a paged selection stands: the last server repo id it handed out (0 before the first). */
export interface RepoCursor {
  afterId: number;
}

export interface RepoPage<T> {
  items: T[];
  /** Cursor of the next page, null when this page ended the selection. */
  next: RepoCursor | null;
  /** Every item of the whole selection, counted only when asked (the first page of a run chain). */
  total?: number;
}

/** Rows read per statement while scanning for a page: most of a server's repos may not match. */
const SCAN_CHUNK = 1000;

/**
 * One page of a selection over a server's repos, in server repo id order after `cursor`: `pick`
 * says whether a row belongs to the selection (and what to hand out for it). Id order, unlike
 * name order, stays stable while repos are added or removed between pages, so a workflow can
 * carry a cursor instead of the list. With `withTotal` the whole selection is counted as well.
 */
export async function pageOfServerRepos<T extends { id: number }>(
  db: Database,
  server: string,
  opts: { cursor: RepoCursor; limit: number; withTotal?: boolean },
  pick: (row: ServerRepoRow) => T | undefined,
): Promise<RepoPage<T>> {
  const serverId = await requireServerId(db, server);
  const items: T[] = [];
  let total = 0;
  let afterId = opts.withTotal ? 0 : opts.cursor.afterId;
  let more = false;
  for (;;) {
    const rows = await db
      .select(serverRepoColumns)
      .from(pulp_server_repos)
      .innerJoin(repos, eq(repos.id, pulp_server_repos.repo_id))
      .where(and(eq(pulp_server_repos.pulp_server_id, serverId), gt(pulp_server_repos.id, afterId)))
      .orderBy(pulp_server_repos.id)
      .limit(SCAN_CHUNK);
    for (const row of rows) {
      const item = pick(row);
      if (item === undefined) continue;
      total++;
      if (row.serverRepoId <= opts.cursor.afterId) continue;
      if (items.length < opts.limit) items.push(item);
      else more = true;
    }
    if (rows.length < SCAN_CHUNK) break;
    // Past the page and nothing left to count: the next page starts where this one stopped.
    if (more && !opts.withTotal) break;
    afterId = rows[rows.length - 1]?.serverRepoId ?? afterId;
  }
  const last = items[items.length - 1];
  return {
    items,
    next: more && last !== undefined ? { afterId: last.id } : null,
    ...(opts.withTotal ? { total } : {}),
  };
}

/** How many of a repo's most recent finished sync tasks its health looks at. */
export const HEALTH_WINDOW = 5;

/**
 * Sets the health of the given server repos from their last HEALTH_WINDOW finished sync tasks,
 * in one statement: the latest completed → green; otherwise at most 3 failures and at least one
 * success → amber; otherwise red. Then the server's rollup: any red → red, else any amber →
 * amber, else green. Returns the rollup.
 */
export async function updateRepoHealth(
  db: Database,
  serverId: number,
  serverRepoIds: readonly number[],
): Promise<RepoHealthStatus> {
  if (serverRepoIds.length > 0) {
    await db.execute(sql`
      UPDATE pulp_server_repos psr
      JOIN (
        SELECT pulp_server_repo_id,
               MAX(CASE WHEN rn = 1 THEN state END) AS latest,
               SUM(state = 'completed') AS successes,
               SUM(state <> 'completed') AS failures
        FROM (
          SELECT prt.pulp_server_repo_id, t.state,
                 ROW_NUMBER() OVER (PARTITION BY prt.pulp_server_repo_id ORDER BY t.date_queued DESC, t.id DESC) AS rn
          FROM pulp_server_repo_tasks prt
          JOIN tasks t ON t.id = prt.task_id
          WHERE t.task_type = 'repo_sync'
            AND t.state NOT IN ('queued', 'running')
            AND prt.pulp_server_repo_id IN (${sql.join(
              serverRepoIds.map((id) => sql`${id}`),
              sql`, `,
            )})
        ) recent
        WHERE rn <= ${HEALTH_WINDOW}
        GROUP BY pulp_server_repo_id
      ) h ON h.pulp_server_repo_id = psr.id
      SET psr.repo_sync_health = CASE
            WHEN h.latest = 'completed' THEN 'green'
            WHEN h.failures <= 3 AND h.successes >= 1 THEN 'amber'
            ELSE 'red' END,
          psr.repo_sync_health_date = UTC_TIMESTAMP(3)
      WHERE psr.pulp_server_id = ${serverId}`);
  }
  await db.execute(sql`
    UPDATE pulp_servers s
    SET s.repo_sync_health_rollup = (
          SELECT CASE WHEN SUM(repo_sync_health = 'red') > 0 THEN 'red'
                      WHEN SUM(repo_sync_health = 'amber') > 0 THEN 'amber'
                      ELSE 'green' END
          FROM pulp_server_repos WHERE pulp_server_id = ${serverId}),
        s.repo_sync_health_rollup_date = UTC_TIMESTAMP(3)
    WHERE s.id = ${serverId}`);
  const [row] = await db
    .select({ rollup: pulp_servers.repo_sync_health_rollup })
    .from(pulp_servers)
    .where(eq(pulp_servers.id, serverId));
  return row?.rollup ?? 'green';
}
