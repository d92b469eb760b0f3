import { ApplicationFailure, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { repoSyncTaskStart } from '../domain/repoSyncTask.js';
import {
  DB_ACTIVITY,
  PULP_CALL_ACTIVITY,
  PULP_TASK_ACTIVITY,
  REPO_SYNC_PIPELINE_ACTIVITY,
} from './activityOptions.js';
import type { DebPublishMode, SyncOptionValue } from './args.js';
import { endTaskOfRunOnError, endTaskOnError } from './taskFailure.js';

type PipelineActivities = Pick<Activities, 'runRepoSyncPipeline'>;
type DbActivities = Pick<
  Activities,
  'startTaskRecord' | 'linkTaskToServerRepo' | 'recordStage' | 'finishTaskRecord' | 'loadRepoSyncTarget'
>;

const db = proxyLocalActivities<DbActivities>(DB_ACTIVITY);
const pipeline = proxyActivities<PipelineActivities>(REPO_SYNC_PIPELINE_ACTIVITY);
// The per-stage activities of runs started before the one-activity pipeline (PATCHES).
const pulpTask = proxyActivities<Activities>(PULP_TASK_ACTIVITY);
const pulpCall = proxyActivities<Activities>(PULP_CALL_ACTIVITY);

export interface RepoSyncArgs {
  server: string;
  serverRepoId: number;
  repoName: string;
  parentTaskId?: number;
  syncOptions?: Record<string, SyncOptionValue>;
  debPublishMode: DebPublishMode;
  /**
   * Which pipeline the run follows. Groups that took PATCHES.repoSyncOneActivity start their
   * children with 'one-activity'; a run without it (started before) keeps the stage-by-stage
   * commands its history recorded. A flag in the input rather than patched() in this workflow:
   * patched() costs a marker and a search-attribute event in every repo's history.
   */
  pipeline?: 'one-activity';
}

export type RepoSyncOutcome = 'published' | 'unchanged';

const STAGE = { sync: 0, banned: 1, publish: 2 } as const;

/**
 * One repository: sync → remove banned packages → publish, each a stage of its Task. A repo
 * with no new version whose latest version is already published (or a container repo, which
 * Pulp serves without publications) stops after the sync. The work is one resumable activity
 * (activities/repoSyncPipeline.ts); the workflow only ends the Task when that activity fails
 * or is canceled.
 */
export async function repoSyncWorkflow(args: RepoSyncArgs): Promise<RepoSyncOutcome> {
  if (args.pipeline !== 'one-activity') return repoSyncInStages(args);
  try {
    return await pipeline.runRepoSyncPipeline(args);
  } catch (err) {
    throw await endTaskOfRunOnError(repoSyncTaskStart(args), err, {
      context: `repo sync of ${args.repoName}`,
      type: 'RepoSyncFailed',
    });
  }
}

/** The pipeline as runs started before the one-activity pipeline recorded it: kept for replay. */
async function repoSyncInStages(args: RepoSyncArgs): Promise<RepoSyncOutcome> {
  const { server } = args;
  const taskId = await db.startTaskRecord(repoSyncTaskStart(args));
  await db.linkTaskToServerRepo({ taskId, serverRepoId: args.serverRepoId });
  let stage: number = STAGE.sync;
  let stageName = 'sync repo';
  const startStage = async (position: number, name: string) => {
    stage = position;
    stageName = name;
    await db.recordStage({ taskId, position, name, detail: { state: 'running' } });
  };
  try {
    const target = await db.loadRepoSyncTarget({ server, serverRepoId: args.serverRepoId });
    await startStage(STAGE.sync, 'sync repo');
    const sync = await pulpTask.syncRepository({
      server,
      repoType: target.repoType,
      repoHref: target.repoHref,
      remoteHref: target.remoteHref,
      syncOptions: args.syncOptions,
    });
    await db.recordStage({
      taskId,
      position: STAGE.sync,
      name: 'sync repo',
      detail: {
        state: 'completed',
        pulp_task: sync.taskHref,
        new_version: sync.createdVersionHref,
        adopted_running_sync: sync.adopted,
      },
    });
    let version = sync.createdVersionHref ?? sync.latestVersionHref;
    const alreadyPublished =
      !sync.createdVersionHref &&
      version !== null &&
      (await pulpCall.versionHasPublication({ server, repoType: target.repoType, versionHref: version }));
    if (target.repoType === 'container' || alreadyPublished || version === null) {
      await db.finishTaskRecord({ taskId, state: 'completed' });
      return 'unchanged';
    }

    await startStage(STAGE.banned, 'remove banned packages');
    const banned = await pulpTask.removeBannedPackages({
      server,
      repoType: target.repoType,
      repoHref: target.repoHref,
      versionHref: version,
      remoteFeed: target.remoteFeed,
      syncedVersionHref: sync.createdVersionHref,
    });
    await db.recordStage({
      taskId,
      position: STAGE.banned,
      name: 'remove banned packages',
      detail: banned.skippedReason
        ? { state: 'skipped', reason: banned.skippedReason }
        : { state: 'completed', removed: banned.removed, new_version: banned.newVersionHref },
    });
    version = banned.undoesSync ? sync.baseVersionHref : (banned.newVersionHref ?? version);
    if (
      banned.undoesSync &&
      version !== null &&
      (await pulpCall.versionHasPublication({ server, repoType: target.repoType, versionHref: version }))
    ) {
      await db.recordStage({
        taskId,
        position: STAGE.publish,
        name: 'publish repo',
        detail: {
          state: 'skipped',
          reason: `only banned packages were new: ${version} is already published`,
        },
      });
      await db.finishTaskRecord({ taskId, state: 'completed' });
      return 'unchanged';
    }
    if (version === null)
      throw ApplicationFailure.nonRetryable('the repository has no version to publish', 'NoVersion');

    await startStage(STAGE.publish, 'publish repo');
    const published = await pulpTask.publishRepository({
      server,
      repoType: target.repoType,
      remoteHref: target.remoteHref,
      versionHref: version,
      distributionHref: target.distributionHref,
      debPublishMode: args.debPublishMode,
    });
    await db.recordStage({
      taskId,
      position: STAGE.publish,
      name: 'publish repo',
      detail: {
        state: 'completed',
        publication: published.publicationHref,
        version,
        distribution_updated: published.distributionUpdated,
      },
    });
    await db.finishTaskRecord({ taskId, state: 'completed' });
    return 'published';
  } catch (err) {
    throw await endTaskOnError(taskId, err, {
      stage: { position: stage, name: stageName },
      context: `${stageName} of ${args.repoName}`,
      type: 'RepoSyncFailed',
    });
  }
}
