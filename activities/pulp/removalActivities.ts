import { startDeleteObject } from '../../pulp/deleteObject.js';
import type { RepoType } from '../../pulp/hrefs.js';
import { readRepository, removeContent } from '../../pulp/repoEndpoints.js';
import { createdResource } from '../../pulp/tasks.js';
import { PulpTaskSteps } from './pulpTaskSteps.js';
import type { PulpServerClients } from './serverClients.js';

export interface ContentRemoval {
  taskHref: string;
  baseVersionHref: string | null;
  /** null when the unit was not in the latest version (Pulp then creates no version). */
  createdVersionHref: string | null;
  latestVersionHref: string | null;
}

export function createRemovalActivities(clients: PulpServerClients) {
  return {
    /**
     * Deletes a repository's distribution, the repository and its remote, in that order,
     * waiting for each Pulp task. Objects already gone count as deleted, so a retry is safe.
     */
    async deleteRepositoryObjects(input: {
      server: string;
      repoHref: string;
      remoteHref: string | null;
      distributionHref: string | null;
    }): Promise<{ deleted: string[] }> {
      const client = await clients.forServer(input.server);
      const steps = new PulpTaskSteps(client);
      const deleted: string[] = [];
      for (const href of [input.distributionHref, input.repoHref, input.remoteHref]) {
        if (!href) continue;
        const step = `delete ${href}`;
        // A delete answered at once (204) or already gone (404) has no task to follow.
        const task =
          steps.progress.tasks[step] ?? (await steps.withHeartbeat(() => startDeleteObject(client, href)));
        if (task) await steps.run(step, { kind: 'delete' }, async () => task);
        deleted.push(href);
      }
      return { deleted };
    },

    /** Removes one content unit from the latest version, creating a new version. */
    async removeContentUnit(input: {
      server: string;
      repoType: RepoType;
      repoHref: string;
      contentHref: string;
    }): Promise<ContentRemoval> {
      const client = await clients.forServer(input.server);
      const steps = new PulpTaskSteps(client, { legacyStep: 'remove' });
      let baseVersionHref = steps.value<string | null>('baseVersionHref');
      if (baseVersionHref === undefined) {
        baseVersionHref = (await readRepository(client, input.repoHref))?.latest_version_href ?? null;
        steps.remember('baseVersionHref', baseVersionHref);
      }
      const base = baseVersionHref;
      const task = await steps.run('remove', { kind: 'modify', resource: input.repoHref }, () =>
        removeContent(client, input.repoType, input.repoHref, [input.contentHref], base ?? undefined),
      );
      const taskHref = steps.progress.tasks.remove as string;
      return {
        taskHref,
        baseVersionHref,
        createdVersionHref: createdResource(task, '/versions/') ?? null,
        latestVersionHref: (await readRepository(client, input.repoHref))?.latest_version_href ?? null,
      };
    },
  };
}
