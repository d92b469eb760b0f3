import { posix } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import type { AppConfig } from '../../config/loadAppConfig.js';
import {
  baseUrlFromDescription,
  distributionBasePath,
  repoConfigRulesFromIni,
} from '../../config/repoConfigRules.js';
import { unwrap } from '../../pulp/client.js';
import { startCopyVersion } from '../../pulp/copyVersion.js';
import { ensureRepository } from '../../pulp/ensureRepository.js';
import type { RepoType } from '../../pulp/hrefs.js';
import { readRepository, removeContent } from '../../pulp/repoEndpoints.js';
import { createdResource } from '../../pulp/tasks.js';
import type { ServerRepoTarget } from '../db/repoSelectionActivities.js';
import { PulpTaskSteps } from './pulpTaskSteps.js';
import type { PulpServerClients } from './serverClients.js';

export interface SnapshotTarget {
  repoType: RepoType;
  /** The source's latest version, the one the snapshot copies; null for a repository never synced. */
  sourceVersionHref: string | null;
  /** The source's remote: a deb snapshot of a flat repository is published flat. */
  sourceRemoteHref: string | null;
  repoHref: string;
  distributionHref: string;
  basePath: string;
  created: boolean;
}

export interface CopyResult {
  taskHref: string;
  /** The version the copy created; null when the snapshot already held exactly that content. */
  createdVersionHref: string | null;
  latestVersionHref: string | null;
  /** A reused snapshot was emptied first, so that it equals the source rather than a union. */
  emptiedFirst: boolean;
}

export function createSnapshotActivities(clients: PulpServerClients, config: AppConfig) {
  return {
    /**
     * Creates or updates the snapshot repository and its distribution `<prefix><name>`: same
     * description as the source, base path under the source's base_url (from its description,
     * as registration writes it, else the folder of its distribution's base path).
     */
    async ensureSnapshotRepository(input: {
      server: string;
      source: ServerRepoTarget;
      snapshotName: string;
    }): Promise<SnapshotTarget> {
      const client = await clients.forServer(input.server);
      const { source } = input;
      const repo = await readRepository(client, source.repoHref);
      if (!repo) {
        throw ApplicationFailure.nonRetryable(
          `${source.name}: repository ${source.repoHref} is gone`,
          'RepoGone',
        );
      }
      let sourceBasePath: string | undefined;
      if (source.distributionHref) {
        const dists = await unwrap(
          client.GET('/pulp/api/v3/distributions/', {
            params: { query: { pulp_href__in: [source.distributionHref], fields: ['base_path'] } },
          }),
        );
        sourceBasePath = dists.results[0]?.base_path;
      }
      const parent = sourceBasePath ? posix.dirname(sourceBasePath) : '';
      const baseUrl = baseUrlFromDescription(repo.description) ?? (parent === '.' ? '' : parent);
      const basePath = distributionBasePath(
        input.snapshotName,
        baseUrl,
        repoConfigRulesFromIni(config.ini).nameReplacement,
      );
      if (source.repoType !== 'rpm' && source.repoType !== 'deb') {
        throw ApplicationFailure.nonRetryable(
          `${source.repoType} repositories are not snapshotted`,
          'Unsupported',
        );
      }
      const ensured = await ensureRepository(client, {
        name: input.snapshotName,
        repoType: source.repoType,
        description: repo.description ?? null,
        basePath,
      });
      return {
        repoType: source.repoType,
        sourceVersionHref: repo.latest_version_href ?? null,
        sourceRemoteHref: repo.remote ?? null,
        repoHref: ensured.repoHref,
        distributionHref: ensured.distributionHref,
        basePath,
        created: ensured.created.includes('repository'),
      };
    },

    /** Copies the source's version into the snapshot repository (rpm copy / deb structured copy). */
    async copyVersionIntoSnapshot(input: {
      server: string;
      repoType: RepoType;
      sourceVersionHref: string;
      snapshotRepoHref: string;
    }): Promise<CopyResult> {
      const client = await clients.forServer(input.server);
      const steps = new PulpTaskSteps(client);
      let emptiedFirst = steps.value<boolean>('emptiedFirst');
      if (emptiedFirst === undefined) {
        const dest = await steps.withHeartbeat(() => readRepository(client, input.snapshotRepoHref));
        // Version 0 is always empty; anything later is a reused snapshot holding older content.
        emptiedFirst = Boolean(
          dest?.latest_version_href && !dest.latest_version_href.endsWith('/versions/0/'),
        );
        steps.remember('emptiedFirst', emptiedFirst);
      }
      const resource = input.snapshotRepoHref;
      if (emptiedFirst) {
        await steps.run('empty', { kind: 'modify', resource }, () =>
          removeContent(client, input.repoType, input.snapshotRepoHref, ['*']),
        );
      }
      const task = await steps.run('copy', { kind: 'copy', resource }, () =>
        startCopyVersion(client, input.repoType, input.sourceVersionHref, input.snapshotRepoHref),
      );
      const taskHref = steps.progress.tasks.copy as string;
      const after = await readRepository(client, input.snapshotRepoHref);
      return {
        taskHref,
        createdVersionHref: createdResource(task, '/versions/') ?? null,
        latestVersionHref: after?.latest_version_href ?? null,
        emptiedFirst,
      };
    },
  };
}
