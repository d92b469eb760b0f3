import { ApplicationFailure, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { DB_ACTIVITY, PULP_CALL_ACTIVITY, PULP_TASK_ACTIVITY } from './activityOptions.js';
import { endTaskOnError } from './taskFailure.js';

const db = proxyLocalActivities<Activities>(DB_ACTIVITY);
const pulpCall = proxyActivities<Activities>(PULP_CALL_ACTIVITY);
const pulpTask = proxyActivities<Activities>(PULP_TASK_ACTIVITY);

export interface SnapshotRepoArgs {
  server: string;
  parentTaskId: number;
  sourceName: string;
  snapshotName: string;
}

const STAGE = { repository: 0, copy: 1, publish: 2 } as const;

/**
 * One repository of a snapshot: create or update the snapshot repository and distribution,
 * copy the source's latest version into it, publish (deb signed). The task is linked to both
 * the source and the snapshot repo.
 */
export async function snapshotRepoWorkflow(args: SnapshotRepoArgs): Promise<'published' | 'unchanged'> {
  const { server } = args;
  const taskId = await db.startTaskRecord({
    name: `snapshot ${args.sourceName} as ${args.snapshotName} on ${server}`,
    taskType: 'repo_snapshot',
    parentTaskId: args.parentTaskId,
    server,
    args: { server, source_repo: args.sourceName, snapshot_repo: args.snapshotName },
  });
  let stage: number = STAGE.repository;
  let stageName = 'create snapshot repo';
  const startStage = async (position: number, name: string) => {
    stage = position;
    stageName = name;
    await db.recordStage({ taskId, position, name, detail: { state: 'running' } });
  };
  try {
    const source = await db.loadServerRepoByName({ server, name: args.sourceName });
    await db.linkTaskToServerRepo({ taskId, serverRepoId: source.id });

    await startStage(STAGE.repository, 'create snapshot repo');
    const target = await pulpCall.ensureSnapshotRepository({
      server,
      source,
      snapshotName: args.snapshotName,
    });
    const snapshotRepoId = await db.recordServerRepo({
      server,
      name: args.snapshotName,
      repoType: target.repoType,
      repoHref: target.repoHref,
      remoteHref: null,
      remoteFeed: null,
      distributionHref: target.distributionHref,
    });
    await db.linkTaskToServerRepo({ taskId, serverRepoId: snapshotRepoId });
    await db.recordStage({
      taskId,
      position: STAGE.repository,
      name: stageName,
      detail: {
        state: 'completed',
        repository: target.repoHref,
        distribution: target.distributionHref,
        base_path: target.basePath,
        created: target.created,
      },
    });
    if (target.sourceVersionHref === null)
      throw ApplicationFailure.nonRetryable(`${args.sourceName} has no version to copy`, 'NoVersion');

    await startStage(STAGE.copy, 'copy latest version');
    const copy = await pulpTask.copyVersionIntoSnapshot({
      server,
      repoType: target.repoType,
      sourceVersionHref: target.sourceVersionHref,
      snapshotRepoHref: target.repoHref,
    });
    await db.recordStage({
      taskId,
      position: STAGE.copy,
      name: stageName,
      detail: {
        state: 'completed',
        pulp_task: copy.taskHref,
        source_version: target.sourceVersionHref,
        new_version: copy.createdVersionHref,
        emptied_first: copy.emptiedFirst,
      },
    });
    const version = copy.createdVersionHref ?? copy.latestVersionHref;
    if (version === null) throw ApplicationFailure.nonRetryable('the snapshot has no version', 'NoVersion');

    await startStage(STAGE.publish, 'publish snapshot');
    if (
      !copy.createdVersionHref &&
      (await pulpCall.versionHasPublication({ server, repoType: target.repoType, versionHref: version }))
    ) {
      await db.recordStage({
        taskId,
        position: STAGE.publish,
        name: stageName,
        detail: { state: 'skipped', reason: `${version} is already published` },
      });
      await db.finishTaskRecord({ taskId, state: 'completed' });
      return 'unchanged';
    }
    const published = await pulpTask.publishRepository({
      server,
      repoType: target.repoType,
      remoteHref: target.sourceRemoteHref,
      versionHref: version,
      distributionHref: target.distributionHref,
      debPublishMode: 'resign',
    });
    await db.recordStage({
      taskId,
      position: STAGE.publish,
      name: stageName,
      detail: { state: 'completed', publication: published.publicationHref, version },
    });
    await db.finishTaskRecord({ taskId, state: 'completed' });
    return 'published';
  } catch (err) {
    throw await endTaskOnError(taskId, err, {
      stage: { position: stage, name: stageName },
      context: `${stageName} of ${args.snapshotName}`,
      type: 'SnapshotRepoFailed',
    });
  }
}
