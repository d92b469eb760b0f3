import { ApplicationFailure, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { ServerRepoTarget } from '../activities/db/repoSelectionActivities.js';
import type { Activities } from '../activities/index.js';
import { DB_ACTIVITY, PULP_CALL_ACTIVITY, PULP_TASK_ACTIVITY } from './activityOptions.js';
import type { RepoRemovalArgs } from './args.js';
import { failureMessage, isCancellation } from './failures.js';
import { endTaskOnError } from './taskFailure.js';

const db = proxyLocalActivities<Activities>(DB_ACTIVITY);
const pulpCall = proxyActivities<Activities>(PULP_CALL_ACTIVITY);
const pulpTask = proxyActivities<Activities>(PULP_TASK_ACTIVITY);

export interface RemovalSummary {
  dryRun: boolean;
  matched: string[];
  removed: number;
  failed: Record<string, string>;
}

const STAGE = { reconcile: 0, select: 1, remove: 2, reconcileAfter: 3 } as const;
/** Deletions run a few at a time: each takes Pulp locks, and one failure must not stop the rest. */
const CONCURRENT_REMOVALS = 4;

const describeTarget = (r: ServerRepoTarget) => ({
  name: r.name,
  repo_type: r.repoType,
  distribution: r.distributionHref,
  repository: r.repoHref,
  remote: r.remoteHref,
});

/**
 * Removes the repos of a server that match the regexes (at least one is required). A dry run
 * (the default in the API) lists exactly what would be deleted and deletes nothing. Otherwise
 * distribution, repository and remote of each are deleted, waiting for each Pulp task, and the
 * DB is reconciled with what is left.
 */
export async function repoRemovalWorkflow(args: RepoRemovalArgs): Promise<RemovalSummary> {
  const { server, dryRun } = args;
  const taskId = await db.startTaskRecord({
    taskId: args.taskId,
    name: `repo removal on ${server}${dryRun ? ' (dry run)' : ''}`,
    taskType: 'repo_removal',
    server,
    args: {
      server,
      regex_include: args.regexInclude ?? null,
      regex_exclude: args.regexExclude ?? null,
      dry_run: dryRun,
    },
  });
  const summary: RemovalSummary = { dryRun, matched: [], removed: 0, failed: {} };
  const stageNames = {
    [STAGE.reconcile]: 'reconcile repos',
    [STAGE.select]: dryRun ? 'find repos to remove (dry run)' : 'find repos to remove',
    [STAGE.remove]: 'remove repos',
    [STAGE.reconcileAfter]: 'reconcile repos after removal',
  };
  const record = (position: keyof typeof stageNames, detail: Record<string, unknown>) =>
    db.recordStage({ taskId, position, name: stageNames[position], detail });
  try {
    if (!args.regexInclude && !args.regexExclude) {
      throw ApplicationFailure.nonRetryable(
        'at least one of regex_include and regex_exclude is required to remove repos',
        'RegexRequired',
      );
    }
    await record(STAGE.reconcile, { state: 'running' });
    await record(STAGE.reconcile, {
      state: 'completed',
      ...(await pulpCall.reconcileServerRepos({ server })),
    });

    const targets = await db.selectReposForRemoval({
      server,
      regexInclude: args.regexInclude,
      regexExclude: args.regexExclude,
    });
    summary.matched = targets.map((t) => t.name);
    await record(STAGE.select, {
      state: 'completed',
      message: `${targets.length} repos ${dryRun ? 'would be' : 'will be'} removed with their distributions and remotes`,
      repos: targets.map(describeTarget),
    });
    if (dryRun || targets.length === 0) {
      await db.finishTaskRecord({ taskId, state: 'completed' });
      return summary;
    }

    const queue = [...targets];
    const progressDetail = (state: string) => ({
      state,
      message: `removed ${summary.removed}, failed to remove ${Object.keys(summary.failed).length} of ${targets.length}`,
      removed: summary.removed,
      failed: summary.failed,
    });
    const lane = async () => {
      while (queue.length > 0) {
        const t = queue.shift() as ServerRepoTarget;
        try {
          await pulpTask.deleteRepositoryObjects({
            server,
            repoHref: t.repoHref,
            remoteHref: t.remoteHref,
            distributionHref: t.distributionHref,
          });
          summary.removed++;
        } catch (err) {
          if (isCancellation(err)) throw err;
          summary.failed[t.name] = failureMessage(err);
        }
        await record(STAGE.remove, progressDetail('running'));
      }
    };
    await record(STAGE.remove, progressDetail('running'));
    await Promise.all(Array.from({ length: Math.min(CONCURRENT_REMOVALS, targets.length) }, () => lane()));
    const failedCount = Object.keys(summary.failed).length;
    await record(STAGE.remove, progressDetail(failedCount > 0 ? 'failed' : 'completed'));

    await record(STAGE.reconcileAfter, { state: 'running' });
    await record(STAGE.reconcileAfter, {
      state: 'completed',
      ...(await pulpCall.reconcileServerRepos({ server })),
    });
    if (failedCount > 0) {
      const msg = `removed ${summary.removed}, failed to remove ${failedCount}: ${Object.keys(summary.failed).join(', ')}`;
      await db.finishTaskRecord({ taskId, state: 'failed', error: { msg, detail: summary.failed } });
      throw ApplicationFailure.nonRetryable(msg, 'RepoRemovalFailed', summary);
    }
    await db.finishTaskRecord({ taskId, state: 'completed' });
    return summary;
  } catch (err) {
    throw await endTaskOnError(taskId, err, {
      context: `repo removal on ${server}`,
      type: 'RepoRemovalFailed',
      keepOwnFailures: true,
    });
  }
}
