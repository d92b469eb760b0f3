import { ApplicationFailure } from '@temporalio/activity';
import { isInternalUrl } from '../../domain/internalDomains.js';
import type { PulpClient } from '../../pulp/client.js';
import {
  type DistributionMode,
  distributionUpdateAfterPublish,
  patchDistribution,
  readDistributionMode,
} from '../../pulp/distributionMode.js';
import type { RepoType } from '../../pulp/hrefs.js';
import {
  debRemoteIsFlat,
  findBannedContent,
  readRepository,
  readVersionChanges,
  removeContent,
  sameCounts,
  startPublish,
  startSync,
  startVersionDelete,
  typePublishes,
  versionHasPublication,
  versionPublication,
} from '../../pulp/repoEndpoints.js';
import { buildSyncBody, type SyncOptions, syncPublishes } from '../../pulp/syncOptions.js';
import { createdResource } from '../../pulp/tasks.js';
import { PulpTaskSteps } from './pulpTaskSteps.js';
import type { PulpServerClients } from './serverClients.js';

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
  /** The group's sync_options as this type's sync got them, and the keys it does not take. */
  sentOptions?: SyncOptions;
  ignoredOptions?: string[];
  /** The sync publishes the version it creates (rpm mirror_complete): no publication of ours. */
  syncPublishes?: boolean;
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
  /**
   * A publication the sync made itself (rpm mirror_complete): served as it is, nothing is
   * published; the distribution is updated as after any publish.
   */
  publicationHref?: string;
}

export interface PipelineSettings {
  bannedPackageRegex?: string;
  internalDomains: readonly string[];
  debSigningService?: string;
}

export interface RemoveBannedInput {
  server: string;
  repoType: RepoType;
  repoHref: string;
  versionHref: string;
  remoteFeed: string;
  /** The version the sync created, if it created one. */
  syncedVersionHref: string | null;
}

export interface PublishResult {
  /** null for a type Pulp serves without a publication (typePublishes): nothing was published. */
  publicationHref: string | null;
  /** The distribution was PATCHed (pinned to the new publication, or set to follow its repository). */
  distributionUpdated: boolean;
  /** What the distribution served before the publish (see DistributionMode); null without one. */
  distributionMode?: DistributionMode['kind'] | null;
}

/**
 * The stages of a repo sync, each over a PulpTaskSteps so that a new attempt resumes the Pulp
 * task of its step (see pulpTaskSteps.ts). Used by the one-activity pipeline
 * (runRepoSyncPipeline) and by the per-stage activities that histories from before it still call.
 */
export function createRepoSyncSteps(clients: PulpServerClients, settings: PipelineSettings) {
  // Signing services are set up once per server by its operator: found once per worker process.
  // A lookup that found nothing is not kept, so one created later is picked up.
  const signingServices = new Map<string, string>();
  const findSigningService = async (
    steps: PulpTaskSteps,
    server: string,
    client: PulpClient,
    name: string,
  ) => {
    const known = signingServices.get(server);
    if (known) return known;
    const found = await steps.withHeartbeat(() =>
      client.GET('/pulp/api/v3/signing-services/', { params: { query: { name } } }),
    );
    const href = found.data?.results[0]?.pulp_href ?? undefined;
    if (!href) {
      throw ApplicationFailure.nonRetryable(
        `signing service "${name}" ([pulp] deb_signing_service) does not exist on ${server}`,
        'SigningServiceMissing',
      );
    }
    signingServices.set(server, href);
    return href;
  };
  return {
    /**
     * Syncs a repository, never starting a second sync of it: a new attempt resumes the task in
     * its heartbeat details, and a sync already waiting or running on the repository (Pulp's
     * exclusive lock) is adopted rather than queued behind.
     */
    async sync(steps: PulpTaskSteps, input: SyncRepositoryInput): Promise<SyncRepositoryResult> {
      const client = await clients.forServer(input.server);
      let baseVersionHref = steps.value<string | null>('baseVersionHref');
      if (baseVersionHref === undefined && !steps.progress.tasks.sync) {
        const repo = await steps.withHeartbeat(() => readRepository(client, input.repoHref));
        baseVersionHref = repo?.latest_version_href ?? null;
        steps.remember('baseVersionHref', baseVersionHref);
      }
      const task = await steps.run('sync', { kind: 'sync', resource: input.repoHref, adoptLive: true }, () =>
        startSync(client, input.repoType, input.repoHref, input.remoteHref, input.syncOptions),
      );
      const createdVersionHref = createdResource(task, '/versions/') ?? null;
      // A sync that created a version says which; only "nothing new" needs the repository read.
      const latestVersionHref =
        createdVersionHref ??
        (await steps.withHeartbeat(() => readRepository(client, input.repoHref)))?.latest_version_href ??
        null;
      const { body, ignored } = buildSyncBody(input.repoType, input.remoteHref, input.syncOptions);
      const { remote: _remote, ...sentOptions } = body;
      return {
        taskHref: task.pulp_href ?? steps.progress.tasks.sync ?? '',
        baseVersionHref: baseVersionHref ?? null,
        createdVersionHref,
        latestVersionHref,
        adopted: steps.adopted('sync'),
        sentOptions,
        ignoredOptions: ignored,
        syncPublishes: syncPublishes(input.repoType, body),
      };
    },

    async versionPublication(input: { server: string; versionHref: string }) {
      const client = await clients.forServer(input.server);
      return versionPublication(client, input.versionHref);
    },

    async versionHasPublication(input: { server: string; repoType: RepoType; versionHref: string }) {
      const client = await clients.forServer(input.server);
      return versionHasPublication(client, input.repoType, input.versionHref);
    },

    /**
     * Removes the banned packages from a version, creating a new one. Skipped (with the reason)
     * for internal feeds, which are ours and trusted, and when no banned regex is configured.
     */
    async removeBanned(steps: PulpTaskSteps, input: RemoveBannedInput): Promise<BannedRemoval> {
      const regex = settings.bannedPackageRegex;
      const nothing = { removed: [], newVersionHref: null, undoesSync: false };
      if (!regex) return { skippedReason: 'no [pulp] banned_package_regex configured', ...nothing };
      if (isInternalUrl(input.remoteFeed, settings.internalDomains)) {
        return { skippedReason: `remote ${input.remoteFeed} is in an internal domain`, ...nothing };
      }
      const client = await clients.forServer(input.server);
      let banned = steps.value<{ href: string; name: string }[]>('banned');
      if (!banned) {
        // Paging through every package of a large repository takes minutes: the ticker keeps the
        // attempt alive, and the result is kept so that a new attempt does not page again.
        const found = await steps.withHeartbeat(() =>
          findBannedContent(client, input.repoType, input.versionHref, regex),
        );
        banned = found.map((b) => ({ href: b.href, name: b.name }));
        steps.remember('banned', banned);
      }
      if (banned.length === 0) return { skippedReason: null, ...nothing };
      const hrefs = banned.map((b) => b.href);
      const task = await steps.run('remove-banned', { kind: 'modify', resource: input.repoHref }, () =>
        removeContent(client, input.repoType, input.repoHref, hrefs, input.versionHref),
      );
      const removed = banned.map((b) => b.name).sort();
      const newVersionHref = createdResource(task, '/versions/') ?? null;
      let undoesSync = false;
      if (newVersionHref && input.syncedVersionHref) {
        const syncedHref = input.syncedVersionHref;
        const [synced, cleaned] = await steps.withHeartbeat(() =>
          Promise.all([
            readVersionChanges(client, input.repoType, syncedHref),
            readVersionChanges(client, input.repoType, newVersionHref),
          ]),
        );
        undoesSync = Object.keys(synced.removed).length === 0 && sameCounts(synced.added, cleaned.removed);
      }
      if (undoesSync && newVersionHref && input.syncedVersionHref) {
        const syncedHref = input.syncedVersionHref;
        // Both versions are noise: drop them so the latest version is again the one before the sync.
        await steps.run('delete-cleaned-version', { kind: 'delete-version', resource: input.repoHref }, () =>
          startVersionDelete(client, input.repoType, newVersionHref),
        );
        await steps.run('delete-synced-version', { kind: 'delete-version', resource: input.repoHref }, () =>
          startVersionDelete(client, input.repoType, syncedHref),
        );
        return { skippedReason: null, removed, newVersionHref: null, undoesSync };
      }
      return { skippedReason: null, removed, newVersionHref, undoesSync };
    },

    /**
     * Publishes a version, then updates the repository's distribution as its mode asks
     * (distributionUpdateAfterPublish): one that follows its repository is left alone.
     */
    async publish(steps: PulpTaskSteps, input: PublishInput): Promise<PublishResult> {
      // A content removal publishes its new version too: for these types the distribution
      // already serves it, and a python publication would break pip (see typePublishes).
      if (!typePublishes(input.repoType)) return { publicationHref: null, distributionUpdated: false };
      const client = await clients.forServer(input.server);
      let signingServiceHref: string | undefined;
      let debFlat = false;
      const debVerbatim = input.repoType === 'deb' && input.debPublishMode === 'verbatim';
      const signingServiceName = settings.debSigningService;
      const repoHref = input.versionHref.replace(/versions\/\d+\/$/, '');
      if (input.repoType === 'deb' && !steps.progress.tasks.publish && !input.publicationHref) {
        if (input.remoteHref) {
          const remoteHref = input.remoteHref;
          debFlat = await steps.withHeartbeat(() => debRemoteIsFlat(client, remoteHref));
        }
        if (!debVerbatim && signingServiceName) {
          signingServiceHref = await findSigningService(steps, input.server, client, signingServiceName);
        }
      }
      let publicationHref = input.publicationHref;
      if (!publicationHref) {
        const publishTask = await steps.run('publish', { kind: 'publish', resource: repoHref }, () =>
          startPublish(client, input.repoType, input.versionHref, {
            signingServiceHref,
            debFlat,
            debVerbatim,
          }),
        );
        publicationHref = createdResource(publishTask, '/publications/');
        if (!publicationHref) {
          throw ApplicationFailure.nonRetryable(
            `publish task ${publishTask.pulp_href} created no publication`,
            'NoPublication',
          );
        }
      }
      let distributionUpdated = false;
      let distributionMode: DistributionMode['kind'] | null = null;
      if (input.distributionHref) {
        const distributionHref = input.distributionHref;
        let updateTask = steps.progress.tasks.distribution;
        if (updateTask) {
          distributionMode = steps.value<DistributionMode['kind']>('distributionMode') ?? null;
        } else {
          const mode = await steps.withHeartbeat(() => readDistributionMode(client, distributionHref));
          distributionMode = mode.kind;
          steps.remember('distributionMode', mode.kind);
          const patch = distributionUpdateAfterPublish(mode, publicationHref, repoHref);
          if (patch) {
            updateTask = await steps.withHeartbeat(() => patchDistribution(client, distributionHref, patch));
            distributionUpdated = true;
          }
        }
        // Pulp answers some distribution PATCHes at once (200) and others with a task (202).
        if (updateTask) {
          await steps.run('distribution', { kind: 'update' }, async () => updateTask);
          distributionUpdated = true;
        }
      }
      return { publicationHref, distributionUpdated, distributionMode };
    },
  };
}

export type RepoSyncSteps = ReturnType<typeof createRepoSyncSteps>;

/** The per-stage activities: open histories from before runRepoSyncPipeline still schedule them. */
export function createPulpSyncActivities(clients: PulpServerClients, settings: PipelineSettings) {
  const steps = createRepoSyncSteps(clients, settings);
  const stepsFor = async (server: string, legacyStep?: string) =>
    new PulpTaskSteps(await clients.forServer(server), { legacyStep });
  return {
    async syncRepository(input: SyncRepositoryInput): Promise<SyncRepositoryResult> {
      return steps.sync(await stepsFor(input.server, 'sync'), input);
    },
    versionHasPublication: steps.versionHasPublication,
    async removeBannedPackages(input: RemoveBannedInput): Promise<BannedRemoval> {
      return steps.removeBanned(await stepsFor(input.server), input);
    },
    async publishRepository(input: PublishInput): Promise<PublishResult> {
      return steps.publish(await stepsFor(input.server), input);
    },
  };
}
