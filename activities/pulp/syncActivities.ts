import { ApplicationFailure, Context } from '@temporalio/activity';
import { isInternalUrl } from '../../domain/internalDomains.js';
import type { PulpClient } from './client.js';
import { PulpApiError, PulpTaskFailedError } from './errors.js';
import type { RepoType } from './hrefs.js';
import {
  debRemoteIsFlat,
  findBannedContent,
  pointDistributionAt,
  readRepository,
  readVersionChanges,
  removeContent,
  type SyncOptions,
  sameCounts,
  startPublish,
  startSync,
  startVersionDelete,
  versionHasPublication,
} from './repoEndpoints.js';
import type { PulpServerClients } from './serverClients.js';
import {
  cancelPulpTask,
  createdResource,
  findLiveTaskOn,
  findSyncStartedSince,
  type PulpTask,
  waitForPulpTask,
} from './tasks.js';

/** What a retried attempt finds in its heartbeat details: the Pulp task it was following. */
interface FollowDetails {
  taskHref: string;
  /** syncRepository: the repository's latest version before the sync. */
  baseVersionHref?: string | null;
}

/**
 * Follows a Pulp task from an activity: heartbeats with its href every poll; when the workflow
 * cancels the activity (max_runtime, operator cancel), cancels the Pulp task and waits for it
 * to be canceled before giving up, so nothing keeps running behind a "canceled" record.
 */
export async function followTask(
  client: PulpClient,
  taskHref: string,
  extra: Omit<FollowDetails, 'taskHref'> = {},
): Promise<PulpTask> {
  const ctx = Context.current();
  const details: FollowDetails = { taskHref, ...extra };
  try {
    return await waitForPulpTask(client, taskHref, {
      onPoll: () => {
        ctx.heartbeat(details);
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
      },
    });
  } catch (err) {
    if (ctx.cancellationSignal.aborted) {
      await cancelPulpTask(client, taskHref);
    }
    throw toFailure(err);
  }
}

/** Pulp task failures are final for this attempt unless the worker vanished; 4xx never retry. */
export function toFailure(err: unknown): unknown {
  if (err instanceof PulpTaskFailedError) {
    if (err.workerVanished) return err;
    return ApplicationFailure.nonRetryable(err.message, 'PulpTaskFailedError', {
      taskHref: err.taskHref,
      state: err.state,
      description: err.pulpError?.description ?? null,
    });
  }
  if (err instanceof PulpApiError && !err.retryable) {
    return ApplicationFailure.nonRetryable(err.message, 'PulpApiError', { status: err.status, url: err.url });
  }
  return err;
}

export interface SyncRepositoryInput {
  server: string;
  repoType: RepoType;
  repoHref: string;
  remoteHref: string;
  syncOptions?: SyncOptions;
}

export interface SyncRepositoryResult {
  taskHref: string;
  /** Latest version before the sync. */
  baseVersionHref: string | null;
  /** The version the sync created, null when nothing changed upstream. */
  createdVersionHref: string | null;
  latestVersionHref: string | null;
  /** True when a sync already running on the repository was followed instead of starting one. */
  adopted: boolean;
}

export interface BannedRemoval {
  skippedReason: string | null;
  removed: string[];
  newVersionHref: string | null;
  /**
   * The removal took out exactly what the sync added: the upstream only re-offered banned
   * packages (Pulp has no exclusion filter for syncs, so this happens on every sync of a repo
   * that carries banned packages). Both versions are then deleted and the repository's latest
   * version is again the one before the sync.
   */
  undoesSync: boolean;
}

export interface PublishInput {
  server: string;
  repoType: RepoType;
  remoteHref: string | null;
  versionHref: string;
  distributionHref: string | null;
  debPublishMode: 'resign' | 'verbatim';
}

export interface PipelineSettings {
  bannedPackageRegex?: string;
  internalDomains: readonly string[];
  debSigningService?: string;
}

export function createPulpSyncActivities(clients: PulpServerClients, settings: PipelineSettings) {
  return {
    /**
     * Syncs a repository, never starting a second sync of it: a retried attempt resumes the
     * task in its heartbeat details, and a sync already waiting or running on the repository
     * (Pulp's exclusive lock) is adopted rather than queued behind.
     */
    async syncRepository(input: SyncRepositoryInput): Promise<SyncRepositoryResult> {
      const client = await clients.forServer(input.server);
      const ctx = Context.current();
      const resumed = ctx.info.heartbeatDetails as FollowDetails | undefined;
      let taskHref = resumed?.taskHref;
      let baseVersionHref = resumed?.baseVersionHref ?? null;
      let adopted = Boolean(taskHref);
      if (!taskHref) {
        const repo = await readRepository(client, input.repoHref);
        baseVersionHref = repo?.latest_version_href ?? null;
        const resource = repo?.prn ?? input.repoHref;
        taskHref = await findLiveTaskOn(client, resource);
        // A retry whose earlier attempt lost the answer to its sync POST: that sync is ours.
        if (!taskHref && ctx.info.attempt > 1) {
          taskHref = await findSyncStartedSince(client, resource, new Date(ctx.info.scheduledTimestampMs));
        }
        adopted = Boolean(taskHref);
      }
      if (!taskHref) {
        taskHref = await startSync(
          client,
          input.repoType,
          input.repoHref,
          input.remoteHref,
          input.syncOptions,
        );
      }
      // Recorded before the first poll: a retry after a crash resumes this task, never starts another.
      ctx.heartbeat({ taskHref, baseVersionHref } satisfies FollowDetails);
      const task = await followTask(client, taskHref, { baseVersionHref });
      const repo = await readRepository(client, input.repoHref);
      return {
        taskHref,
        baseVersionHref,
        createdVersionHref: createdResource(task, '/versions/') ?? null,
        latestVersionHref: repo?.latest_version_href ?? null,
        adopted,
      };
    },

    async versionHasPublication(input: {
      server: string;
      repoType: RepoType;
      versionHref: string;
    }): Promise<boolean> {
      const client = await clients.forServer(input.server);
      return versionHasPublication(client, input.repoType, input.versionHref);
    },

    /**
     * Removes the banned packages from a version, creating a new one. Skipped (with the reason)
     * for internal feeds, which are ours and trusted, and when no banned regex is configured.
     */
    async removeBannedPackages(input: {
      server: string;
      repoType: RepoType;
      repoHref: string;
      versionHref: string;
      remoteFeed: string;
      /** The version the sync created, if it created one. */
      syncedVersionHref: string | null;
    }): Promise<BannedRemoval> {
      const regex = settings.bannedPackageRegex;
      const nothing = { removed: [], newVersionHref: null, undoesSync: false };
      if (!regex) return { skippedReason: 'no [pulp] banned_package_regex configured', ...nothing };
      if (isInternalUrl(input.remoteFeed, settings.internalDomains)) {
        return { skippedReason: `remote ${input.remoteFeed} is in an internal domain`, ...nothing };
      }
      const client = await clients.forServer(input.server);
      const banned = await findBannedContent(client, input.repoType, input.versionHref, regex);
      if (banned.length === 0) return { skippedReason: null, ...nothing };
      const taskHref = await removeContent(
        client,
        input.repoType,
        input.repoHref,
        banned.map((b) => b.href),
        input.versionHref,
      );
      const task = await followTask(client, taskHref);
      const newVersionHref = createdResource(task, '/versions/') ?? null;
      let undoesSync = false;
      if (newVersionHref && input.syncedVersionHref) {
        const synced = await readVersionChanges(client, input.repoType, input.syncedVersionHref);
        const cleaned = await readVersionChanges(client, input.repoType, newVersionHref);
        undoesSync = Object.keys(synced.removed).length === 0 && sameCounts(synced.added, cleaned.removed);
      }
      if (undoesSync && newVersionHref && input.syncedVersionHref) {
        // Both versions are noise: drop them so the latest version is again the one before the sync.
        await followTask(client, await startVersionDelete(client, input.repoType, newVersionHref));
        await followTask(client, await startVersionDelete(client, input.repoType, input.syncedVersionHref));
        return {
          skippedReason: null,
          removed: banned.map((b) => b.name).sort(),
          newVersionHref: null,
          undoesSync,
        };
      }
      return { skippedReason: null, removed: banned.map((b) => b.name).sort(), newVersionHref, undoesSync };
    },

    /** Publishes a version and points the repository's distribution at the publication. */
    async publishRepository(
      input: PublishInput,
    ): Promise<{ publicationHref: string; distributionUpdated: boolean }> {
      const client = await clients.forServer(input.server);
      let signingServiceHref: string | undefined;
      let debFlat = false;
      const debVerbatim = input.repoType === 'deb' && input.debPublishMode === 'verbatim';
      const signingServiceName = settings.debSigningService;
      if (input.repoType === 'deb') {
        if (input.remoteHref) debFlat = await debRemoteIsFlat(client, input.remoteHref);
        if (!debVerbatim && signingServiceName) {
          const found = await client.GET('/pulp/api/v3/signing-services/', {
            params: { query: { name: signingServiceName } },
          });
          signingServiceHref = found.data?.results[0]?.pulp_href ?? undefined;
          if (!signingServiceHref) {
            throw ApplicationFailure.nonRetryable(
              `signing service "${signingServiceName}" ([pulp] deb_signing_service) does not exist on ${input.server}`,
              'SigningServiceMissing',
            );
          }
        }
      }
      const publishTask = await followTask(
        client,
        await startPublish(client, input.repoType, input.versionHref, {
          signingServiceHref,
          debFlat,
          debVerbatim,
        }),
      );
      const publicationHref = createdResource(publishTask, '/publications/');
      if (!publicationHref) throw new Error(`publish task ${publishTask.pulp_href} created no publication`);
      let distributionUpdated = false;
      if (input.distributionHref) {
        const updateTask = await pointDistributionAt(
          client,
          input.repoType,
          input.distributionHref,
          publicationHref,
        );
        if (updateTask) await followTask(client, updateTask);
        distributionUpdated = true;
      }
      return { publicationHref, distributionUpdated };
    },
  };
}
