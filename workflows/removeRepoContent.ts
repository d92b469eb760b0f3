import { patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { DB_ACTIVITY, PULP_TASK_ACTIVITY } from './activityOptions.js';
import type { RemoveRepoContentArgs } from './args.js';
import { withDeadline } from './boundedLanes.js';
import { PATCHES } from './patches.js';
import { endTaskOnError } from './taskFailure.js';

const db = proxyLocalActivities<Activities>(DB_ACTIVITY);
const pulpTask = proxyActivities<Activities>(PULP_TASK_ACTIVITY);

export interface ContentRemovalOutcome {
  newVersionHref: string | null;
  publicationHref: string | null;
}

const STAGE = { remove: 0, publish: 1 } as const;

/**
 * Removes one content unit from the latest version of a repository and publishes the new
 * version; with force_publish the latest version is published even when nothing was removed.
 * max_runtime covers both stages: when it passes, the running Pulp task is canceled and the task
 * fails with the reason.
 */
export async function removeRepoContentWorkflow(args: RemoveRepoContentArgs): Promise<ContentRemovalOutcome> {
  const { server } = args;
  const taskId = await db.startTaskRecord({
    taskId: args.taskId,
    name: `remove repo content ${args.repoName} on ${server}`,
    taskType: 'remove_repo_content',
    server,
    args: { server, repo: args.repoName, content_href: args.contentHref, force_publish: args.forcePublish },
  });
  let stage: number = STAGE.remove;
  let stageName = 'remove content';
  // Runs started before the patch had no deadline (and no timer in their histories).
  const deadlineMs =
    patched(PATCHES.contentRemovalDeadline) && args.maxRuntimeSeconds
      ? Date.now() + args.maxRuntimeSeconds * 1000
      : undefined;
  try {
    return await withDeadline(
      deadlineMs,
      () => `max_runtime of ${args.maxRuntimeSeconds}s exceeded during ${stageName}`,
      async () => {
        const repo = await db.loadServerRepoByName({ server, name: args.repoName });
        await db.linkTaskToServerRepo({ taskId, serverRepoId: repo.id });
        await db.recordStage({ taskId, position: stage, name: stageName, detail: { state: 'running' } });
        const removal = await pulpTask.removeContentUnit({
          server,
          repoType: repo.repoType,
          repoHref: repo.repoHref,
          contentHref: args.contentHref,
        });
        await db.recordStage({
          taskId,
          position: stage,
          name: stageName,
          detail: {
            state: 'completed',
            pulp_task: removal.taskHref,
            content: args.contentHref,
            base_version: removal.baseVersionHref,
            new_version: removal.createdVersionHref,
          },
        });

        stage = STAGE.publish;
        stageName = 'publish repo';
        const version = removal.createdVersionHref ?? (args.forcePublish ? removal.latestVersionHref : null);
        if (version === null) {
          await db.recordStage({
            taskId,
            position: stage,
            name: stageName,
            detail: {
              state: 'skipped',
              reason: 'the unit was not in the latest version: no new version to publish',
            },
          });
          await db.finishTaskRecord({ taskId, state: 'completed' });
          return { newVersionHref: null, publicationHref: null };
        }
        await db.recordStage({
          taskId,
          position: stage,
          name: stageName,
          detail: { state: 'running', version },
        });
        const published = await pulpTask.publishRepository({
          server,
          repoType: repo.repoType,
          remoteHref: repo.remoteHref,
          versionHref: version,
          distributionHref: repo.distributionHref,
          debPublishMode: 'resign',
        });
        await db.recordStage({
          taskId,
          position: stage,
          name: stageName,
          detail: { state: 'completed', version, publication: published.publicationHref },
        });
        await db.finishTaskRecord({ taskId, state: 'completed' });
        return { newVersionHref: removal.createdVersionHref, publicationHref: published.publicationHref };
      },
    );
  } catch (err) {
    throw await endTaskOnError(taskId, err, {
      stage: { position: stage, name: stageName },
      context: `${stageName} of ${args.repoName} on ${server}`,
      type: 'RemoveRepoContentFailed',
      // MaxRuntimeExceeded keeps its type and message; the only failure this workflow raises.
      keepOwnFailures: true,
    });
  }
}
