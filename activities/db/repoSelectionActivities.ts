import { ApplicationFailure } from '@temporalio/activity';
import type { Database } from '../../db/client.js';
import { listServerRepos, type ServerRepoSnapshot } from '../../db/serverRepoQueries.js';
import { type SnapshotSupport, serverSnapshotSupport, upsertServerRepo } from '../../db/serverRepoUpsert.js';
import { repoNameMatcher } from '../../domain/repoFilter.js';
import { SNAPSHOT_REPO_TYPES } from '../../domain/snapshotPrefix.js';
import type { RepoType } from '../pulp/hrefs.js';
import { withSqlErrorClassification } from './sqlFailures.js';

/** A server repo with everything a removal or a content removal needs: hrefs only. */
export interface ServerRepoTarget {
  id: number;
  name: string;
  repoType: RepoType;
  repoHref: string;
  remoteHref: string | null;
  distributionHref: string | null;
}

export interface SnapshotSelection {
  repos: { id: number; name: string; repoType: RepoType }[];
  /** Repos the regexes match that are not snapshotted, with the reason. */
  excluded: { name: string; reason: string }[];
}

interface RegexFilter {
  server: string;
  regexInclude?: string;
  regexExclude?: string;
}

/** DB reads that pick the repos a snapshot, a removal or a content removal works on. */
export function createRepoSelectionActivities(db: Database) {
  return withSqlErrorClassification({
    async loadSnapshotSupport(input: { server: string }): Promise<SnapshotSupport> {
      return serverSnapshotSupport(db, input.server);
    },

    /** Names of the server's repos that already carry the snapshot prefix. */
    async reposWithPrefix(input: { server: string; prefix: string }): Promise<string[]> {
      return (await listServerRepos(db, input.server))
        .map((r) => r.name)
        .filter((n) => n.startsWith(input.prefix));
    },

    async selectReposForSnapshot(
      input: RegexFilter & { snapshotPrefix: string },
    ): Promise<SnapshotSelection> {
      const matches = repoNameMatcher(input);
      const out: SnapshotSelection = { repos: [], excluded: [] };
      for (const r of await listServerRepos(db, input.server)) {
        if (!matches(r.name)) continue;
        if (r.name.startsWith(input.snapshotPrefix)) {
          out.excluded.push({ name: r.name, reason: 'is a snapshot with this prefix' });
        } else if (!(SNAPSHOT_REPO_TYPES as readonly string[]).includes(r.repoType)) {
          out.excluded.push({ name: r.name, reason: `${r.repoType} repositories are not snapshotted` });
        } else {
          out.repos.push({ id: r.serverRepoId, name: r.name, repoType: r.repoType as RepoType });
        }
      }
      return out;
    },

    /** Every repo of the server the regexes match, with or without a remote. */
    async selectReposForRemoval(input: RegexFilter): Promise<ServerRepoTarget[]> {
      const matches = repoNameMatcher(input);
      return (await listServerRepos(db, input.server))
        .filter((r) => matches(r.name))
        .map((r) => ({
          id: r.serverRepoId,
          name: r.name,
          repoType: r.repoType as RepoType,
          repoHref: r.repoHref,
          remoteHref: r.remoteHref,
          distributionHref: r.distributionHref,
        }));
    },

    async loadServerRepoByName(input: { server: string; name: string }): Promise<ServerRepoTarget> {
      const r = (await listServerRepos(db, input.server)).find((x) => x.name === input.name);
      if (!r) {
        throw ApplicationFailure.nonRetryable(
          `repo ${input.name} is not known on ${input.server}`,
          'RepoNotFound',
        );
      }
      return {
        id: r.serverRepoId,
        name: r.name,
        repoType: r.repoType as RepoType,
        repoHref: r.repoHref,
        remoteHref: r.remoteHref,
        distributionHref: r.distributionHref,
      };
    },

    /** Records one repository the workflow created (a snapshot) so its task can link to it. */
    async recordServerRepo(input: ServerRepoSnapshot & { server: string }): Promise<number> {
      const { server, ...snapshot } = input;
      return upsertServerRepo(db, server, snapshot);
    },
  });
}
