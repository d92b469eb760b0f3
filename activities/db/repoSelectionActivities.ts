import { ApplicationFailure } from '@temporalio/activity';
import type { Database } from '../../db/client.js';
import {
  listServerRepos,
  pageOfServerRepos,
  type RepoCursor,
  type RepoPage,
  type ServerRepoRow,
  type ServerRepoSnapshot,
} from '../../db/serverRepoQueries.js';
import { type SnapshotSupport, serverSnapshotSupport, upsertServerRepo } from '../../db/serverRepoUpsert.js';
import { repoNameMatcher } from '../../domain/repoFilter.js';
import { SNAPSHOT_REPO_TYPES } from '../../domain/snapshotPrefix.js';
import type { RepoType } from '../../pulp/hrefs.js';
import { LISTED_NAMES } from '../../workflows/args.js';
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

interface PageRequest {
  cursor: RepoCursor;
  limit: number;
  /** Count the whole selection too (the first run of a chain). */
  withTotal?: boolean;
}

export type SnapshotSource = SnapshotSelection['repos'][number];

export interface SnapshotPage extends RepoPage<SnapshotSource> {
  /** With withTotal: the repos the regexes match that are not snapshotted, the first few named. */
  excluded?: { count: number; first: SnapshotSelection['excluded'] };
}

export const NO_REMOTE_REASON = 'has no remote (internal repositories and snapshots are not snapshotted)';

/**
 * Why a matching repo is not snapshotted, or undefined when it is. As in the original, only
 * repos with a remote are: internal (uploaded) repos and earlier snapshots have none, which keeps
 * a snapshot from taking snapshots of snapshots (`snap-B-snap-A-…`).
 */
export function snapshotExclusion(
  r: Pick<ServerRepoRow, 'name' | 'repoType' | 'remoteHref'>,
  prefix: string,
): string | undefined {
  if (r.name.startsWith(prefix)) return 'is a snapshot with this prefix';
  if (!r.remoteHref) return NO_REMOTE_REASON;
  if (!(SNAPSHOT_REPO_TYPES as readonly string[]).includes(r.repoType))
    return `${r.repoType} repositories are not snapshotted`;
  return undefined;
}

const toTarget = (r: ServerRepoRow): ServerRepoTarget => ({
  id: r.serverRepoId,
  name: r.name,
  repoType: r.repoType as RepoType,
  repoHref: r.repoHref,
  remoteHref: r.remoteHref,
  distributionHref: r.distributionHref,
});

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

    /** How many of the server's repos carry the snapshot prefix, the first few named. */
    async countReposWithPrefix(input: {
      server: string;
      prefix: string;
    }): Promise<{ count: number; first: string[] }> {
      const names = (await listServerRepos(db, input.server))
        .map((r) => r.name)
        .filter((n) => n.startsWith(input.prefix));
      return { count: names.length, first: names.slice(0, 10) };
    },

    /**
     * One page of selectReposForSnapshot in server repo id order after the cursor (snapshots
     * continue as new with the cursor, not the list). Snapshot repos created by earlier pages
     * carry the prefix and are never selected.
     */
    async selectReposForSnapshotPage(
      input: RegexFilter & PageRequest & { snapshotPrefix: string },
    ): Promise<SnapshotPage> {
      const matches = repoNameMatcher(input);
      const excluded: SnapshotSelection['excluded'] = [];
      let excludedCount = 0;
      const page = await pageOfServerRepos(db, input.server, input, (r) => {
        if (!matches(r.name)) return undefined;
        const reason = snapshotExclusion(r, input.snapshotPrefix);
        if (reason === undefined)
          return { id: r.serverRepoId, name: r.name, repoType: r.repoType as RepoType };
        excludedCount++;
        if (excluded.length < LISTED_NAMES) excluded.push({ name: r.name, reason });
        return undefined;
      });
      return input.withTotal ? { ...page, excluded: { count: excludedCount, first: excluded } } : page;
    },

    async selectReposForSnapshot(
      input: RegexFilter & { snapshotPrefix: string },
    ): Promise<SnapshotSelection> {
      const matches = repoNameMatcher(input);
      const out: SnapshotSelection = { repos: [], excluded: [] };
      for (const r of await listServerRepos(db, input.server)) {
        if (!matches(r.name)) continue;
        const reason = snapshotExclusion(r, input.snapshotPrefix);
        if (reason === undefined)
          out.repos.push({ id: r.serverRepoId, name: r.name, repoType: r.repoType as RepoType });
        else out.excluded.push({ name: r.name, reason });
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

    /** One page of selectReposForRemoval in server repo id order after the cursor. */
    async selectReposForRemovalPage(input: RegexFilter & PageRequest): Promise<RepoPage<ServerRepoTarget>> {
      const matches = repoNameMatcher(input);
      return pageOfServerRepos(db, input.server, input, (r) => (matches(r.name) ? toTarget(r) : undefined));
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
