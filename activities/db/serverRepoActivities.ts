import { ApplicationFailure } from '@temporalio/activity';
import type { Database } from '../../db/client.js';
import type { RepoHealthStatus } from '../../db/enums.js';
import {
  listServerRepos,
  pageOfServerRepos,
  type ReconcileCounts,
  type RepoCursor,
  type RepoPage,
  reconcileServerRepos,
  requireServerId,
  updateRepoHealth,
} from '../../db/serverRepoQueries.js';
import { repoNameMatcher } from '../../domain/repoFilter.js';
import type { RepoType } from '../../pulp/hrefs.js';
import { readServerInventory } from '../../pulp/inventory.js';
import { withHeartbeatTicker } from '../heartbeat.js';
import type { PulpServerClients } from '../pulp/serverClients.js';
import { withSqlErrorClassification } from './sqlFailures.js';

export interface RepoRef {
  id: number;
  name: string;
}

export interface RepoSyncTarget {
  serverRepoId: number;
  name: string;
  repoType: RepoType;
  repoHref: string;
  remoteHref: string;
  remoteFeed: string;
  distributionHref: string | null;
}

export function createServerRepoActivities(db: Database, clients: PulpServerClients) {
  return withSqlErrorClassification({
    /** Reads repositories, remotes and distributions from Pulp and makes the DB rows equal. */
    async reconcileServerRepos(input: { server: string }): Promise<ReconcileCounts> {
      // Thousands of repositories, remotes and distributions to page through: minutes on a fleet.
      return withHeartbeatTicker(async () => {
        const inventory = await readServerInventory(await clients.forServer(input.server));
        return reconcileServerRepos(db, input.server, inventory);
      });
    },

    /**
     * Repos of the server that have a remote feed and match the group's regexes: ids and names
     * only, so that a group of thousands stays small in the workflow history; each repo sync
     * loads its own details.
     */
    async selectReposForSync(input: {
      server: string;
      regexInclude?: string;
      regexExclude?: string;
    }): Promise<RepoRef[]> {
      const matches = repoNameMatcher(input);
      const rows = await listServerRepos(db, input.server);
      return rows.flatMap((r) =>
        r.remoteHref && r.remoteFeed && matches(r.name) ? [{ id: r.serverRepoId, name: r.name }] : [],
      );
    },

    /**
     * One page of selectReposForSync, in server repo id order after the cursor: a group carries
     * the cursor from run to run instead of the list, so its continue-as-new input stays small
     * whatever the size of the group. withTotal (first run only) also counts the whole selection.
     */
    async selectReposForSyncPage(input: {
      server: string;
      regexInclude?: string;
      regexExclude?: string;
      cursor: RepoCursor;
      limit: number;
      withTotal?: boolean;
    }): Promise<RepoPage<RepoRef>> {
      const matches = repoNameMatcher(input);
      return pageOfServerRepos(db, input.server, input, (r) =>
        r.remoteHref && r.remoteFeed && matches(r.name) ? { id: r.serverRepoId, name: r.name } : undefined,
      );
    },

    async loadRepoSyncTarget(input: { server: string; serverRepoId: number }): Promise<RepoSyncTarget> {
      const [r] = await listServerRepos(db, input.server, input.serverRepoId);
      if (!r?.remoteHref || !r.remoteFeed) {
        throw ApplicationFailure.nonRetryable(
          `server repo ${input.serverRepoId} on ${input.server} no longer exists or has no remote`,
          'RepoGone',
        );
      }
      return {
        serverRepoId: r.serverRepoId,
        name: r.name,
        repoType: r.repoType as RepoType,
        repoHref: r.repoHref,
        remoteHref: r.remoteHref,
        remoteFeed: r.remoteFeed,
        distributionHref: r.distributionHref,
      };
    },

    /** Health of the synced repos and the server's rollup, computed in SQL (db/serverRepoQueries). */
    async updateRepoHealth(input: {
      server: string;
      serverRepoIds: number[];
    }): Promise<{ rollup: RepoHealthStatus }> {
      const serverId = await requireServerId(db, input.server);
      return { rollup: await updateRepoHealth(db, serverId, input.serverRepoIds) };
    },
  });
}
