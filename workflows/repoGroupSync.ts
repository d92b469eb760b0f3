import { type SearchAttributePair, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  ChildWorkflowCancellationType,
  continueAsNew,
  defineQuery,
  executeChild,
  ParentClosePolicy,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { RepoRef } from '../activities/db/serverRepoActivities.js';
import type { Activities } from '../activities/index.js';
import { SEARCH_ATTRIBUTES } from '../temporal/searchAttributes.js';
import { DB_ACTIVITY, PULP_CALL_ACTIVITY } from './activityOptions.js';
import type { RepoGroupSyncArgs } from './args.js';
import { runInLanes } from './boundedLanes.js';
import { isCancellation } from './failures.js';
import { PATCHES } from './patches.js';
import { type RepoSyncArgs, repoSyncWorkflow } from './repoSync.js';
import { endTaskOnError } from './taskFailure.js';
import { repoSyncWorkflowId } from './workflowIds.js';

const db = proxyLocalActivities<Activities>(DB_ACTIVITY);
const pulpCall = proxyActivities<Activities>(PULP_CALL_ACTIVITY);

export interface GroupProgress {
  total: number;
  pending: number;
  running: number;
  completed: number;
  failed: number;
  skipped: number;
  canceled: number;
}

/** What one run hands to the next when the group continues as new (large groups). */
export interface GroupCarry {
  taskId: number;
  deadlineMs: number;
  pending: RepoRef[];
  progress: GroupProgress;
  finishedRepoIds: number[];
  failedRepos: string[];
  skippedRepos: string[];
}

export type RepoGroupSyncInput = RepoGroupSyncArgs & {
  carry?: GroupCarry;
  /** Children per workflow run before continuing as new; CHILDREN_PER_RUN unless a test lowers it. */
  childrenPerRun?: number;
};

export const groupProgressQuery = defineQuery<GroupProgress>('progress');

/** Children started per workflow run before continuing as new: keeps each history small. */
export const CHILDREN_PER_RUN = 500;
const STAGE = { register: 0, reconcile: 1, sync: 2, health: 3 } as const;
const PROGRESS_UPDATE_EVERY_MS = 5000;
/** A child may outlive the group's deadline by this much (its cancel and cleanup), never more. */
const CHILD_TIMEOUT_MARGIN_MS = 15 * 60_000;

function progressText(p: GroupProgress): string {
  const done = p.completed + p.failed + p.skipped + p.canceled;
  return `${p.running} syncs in progress. ${done}/${p.total} syncs completed`;
}

/**
 * Syncs the repos of a group on one server: optionally registers them from the primary,
 * reconciles the DB with Pulp, then runs one repoSync child per repo, at most
 * max_concurrent_syncs at a time. A failed repo never fails its siblings. max_runtime is
 * enforced here: when it passes, outstanding children are canceled (and with them their Pulp
 * tasks) and the group fails with the reason.
 */
export async function repoGroupSyncWorkflow(args: RepoGroupSyncInput): Promise<GroupProgress> {
  const { server } = args;
  const label = args.repoGroup ?? 'ad hoc';
  let carry = args.carry;
  if (!carry) {
    const taskId = await db.startTaskRecord({
      taskId: args.taskId,
      name: `repo group sync ${label} on ${server}`,
      taskType: 'repo_group_sync',
      server,
      args: { ...args },
    });
    const deadlineMs = Date.now() + args.maxRuntimeSeconds * 1000;
    try {
      if (args.sourceServer) {
        await db.recordStage({
          taskId,
          position: STAGE.register,
          name: 'register repos from primary',
          detail: { state: 'running' },
        });
        const registered = await pulpCall.registerReposFromPrimary({
          server,
          sourceServer: args.sourceServer,
          regexInclude: args.regexInclude,
          regexExclude: args.regexExclude,
        });
        await db.recordStage({
          taskId,
          position: STAGE.register,
          name: 'register repos from primary',
          detail: { state: 'completed', ...registered },
        });
      }
      await db.recordStage({
        taskId,
        position: STAGE.reconcile,
        name: 'reconcile repos',
        detail: { state: 'running' },
      });
      const counts = await pulpCall.reconcileServerRepos({ server });
      await db.recordStage({
        taskId,
        position: STAGE.reconcile,
        name: 'reconcile repos',
        detail: { state: 'completed', ...counts },
      });
    } catch (err) {
      throw await endTaskOnError(taskId, err, {
        context: `group sync ${label} on ${server}`,
        type: 'GroupSyncFailed',
      });
    }
    const pending = await db.selectReposForSync({
      server,
      regexInclude: args.regexInclude,
      regexExclude: args.regexExclude,
    });
    carry = {
      taskId,
      deadlineMs,
      pending,
      progress: {
        total: pending.length,
        pending: pending.length,
        running: 0,
        completed: 0,
        failed: 0,
        skipped: 0,
        canceled: 0,
      },
      finishedRepoIds: [],
      failedRepos: [],
      skippedRepos: [],
    };
  }
  if (patched(PATCHES.groupSearchAttributes)) {
    upsertSearchAttributes([
      ...groupAttributes(args),
      { key: SEARCH_ATTRIBUTES.taskId, value: carry.taskId },
    ]);
  }
  return runSyncs(args, carry);
}

/** PulpServer and RepoGroup: what the runs list is filtered by (temporal/searchAttributes.ts). */
function groupAttributes(args: RepoGroupSyncInput): SearchAttributePair[] {
  const pairs: SearchAttributePair[] = [{ key: SEARCH_ATTRIBUTES.pulpServer, value: args.server }];
  if (args.repoGroup) pairs.push({ key: SEARCH_ATTRIBUTES.repoGroup, value: args.repoGroup });
  return pairs;
}

async function runSyncs(args: RepoGroupSyncInput, carry: GroupCarry): Promise<GroupProgress> {
  const { server } = args;
  const { taskId } = carry;
  const queue = [...carry.pending];
  const progress = carry.progress;
  setHandler(groupProgressQuery, () => ({ ...progress, pending: queue.length }));

  let lastUpdate = 0;
  const reportProgress = async (force = false) => {
    if (!force && Date.now() - lastUpdate < PROGRESS_UPDATE_EVERY_MS) return;
    lastUpdate = Date.now();
    // Shown in the Web UI's run page; no history event.
    setCurrentDetails(progressText({ ...progress, pending: queue.length }));
    await db.recordStage({
      taskId,
      position: STAGE.sync,
      name: 'sync repos',
      detail: {
        state: 'running',
        message: progressText({ ...progress, pending: queue.length }),
        ...progress,
        pending: queue.length,
      },
    });
  };

  // Recorded once per run of the group; its children carry the answer in their input.
  const onePipeline = patched(PATCHES.repoSyncOneActivity);
  let startedThisRun = 0;
  let stopForNextRun = false;
  const runChild = async (ref: RepoRef): Promise<keyof GroupProgress> => {
    const childArgs: RepoSyncArgs = {
      server,
      serverRepoId: ref.id,
      repoName: ref.name,
      parentTaskId: taskId,
      syncOptions: args.syncOptions,
      debPublishMode: args.debPublishMode,
      ...(onePipeline ? { pipeline: 'one-activity' as const } : {}),
    };
    try {
      await executeChild(repoSyncWorkflow, {
        // One id per server repo: Temporal refuses a second concurrent sync of the same repo.
        workflowId: repoSyncWorkflowId(server, ref.name),
        args: [childArgs],
        cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        // A child whose group froze or was terminated must not hold its repo's id forever.
        workflowExecutionTimeout: Math.max(60_000, carry.deadlineMs - Date.now()) + CHILD_TIMEOUT_MARGIN_MS,
        typedSearchAttributes: [
          ...groupAttributes(args),
          { key: SEARCH_ATTRIBUTES.repoName, value: ref.name },
        ],
        staticSummary: `repo sync ${ref.name} on ${server}`,
      });
      return 'completed';
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        carry.skippedRepos.push(ref.name);
        return 'skipped';
      }
      if (isCancellation(err)) return 'canceled';
      carry.failedRepos.push(ref.name);
      return 'failed';
    }
  };

  const { timedOut } = await runInLanes(queue, {
    lanes: args.maxConcurrentSyncs,
    deadlineMs: carry.deadlineMs,
    canContinue: () => !stopForNextRun,
    onStart: () => reportProgress(true),
    run: async (ref, stopping) => {
      progress.pending = queue.length;
      progress.running++;
      startedThisRun++;
      if (
        startedThisRun >= (args.childrenPerRun ?? CHILDREN_PER_RUN) ||
        workflowInfo().continueAsNewSuggested
      ) {
        stopForNextRun = true;
      }
      const outcome = await runChild(ref);
      progress.running--;
      (progress[outcome] as number)++;
      if (outcome !== 'skipped' && outcome !== 'canceled') carry.finishedRepoIds.push(ref.id);
      if (!stopping()) await reportProgress();
    },
    // Canceled from outside (API / operator): the children were canceled with the lanes.
    onCanceled: async () => {
      progress.canceled += queue.length;
      await finishGroup(server, carry, queue, 'canceled', { msg: 'canceled' });
    },
  });

  if (timedOut) {
    progress.canceled += queue.length;
    const reason = `max_runtime of ${args.maxRuntimeSeconds}s exceeded: ${progress.canceled} repo syncs canceled`;
    await finishGroup(server, carry, queue, 'failed', { msg: reason });
    return { ...progress, pending: 0 };
  }
  if (queue.length > 0) {
    // History stays small: the next run carries on with what is left, same task, same deadline.
    await continueAsNew<typeof repoGroupSyncWorkflow>({
      ...args,
      carry: { ...carry, pending: queue, progress },
    });
  }
  await finishGroup(server, carry, queue, 'completed', null);
  return { ...progress, pending: 0 };
}

async function finishGroup(
  server: string,
  carry: GroupCarry,
  queue: RepoRef[],
  state: 'completed' | 'failed' | 'canceled',
  error: { msg: string } | null,
): Promise<void> {
  const { taskId, progress } = carry;
  progress.pending = 0;
  await db.recordStage({
    taskId,
    position: STAGE.sync,
    name: 'sync repos',
    detail: {
      state: state === 'completed' ? 'completed' : state,
      message: progressText(progress),
      ...progress,
      failed_repos: carry.failedRepos,
      skipped_repos: carry.skippedRepos,
      not_started: queue.map((r) => r.name),
    },
  });
  await db.recordStage({
    taskId,
    position: STAGE.health,
    name: 'update repo health',
    detail: { state: 'running' },
  });
  const health = await db.updateRepoHealth({ server, serverRepoIds: carry.finishedRepoIds });
  await db.recordStage({
    taskId,
    position: STAGE.health,
    name: 'update repo health',
    detail: { state: 'completed', rollup: health.rollup, repos_updated: carry.finishedRepoIds.length },
  });
  await db.finishTaskRecord({ taskId, state, error });
  if (patched(PATCHES.groupSearchAttributes)) {
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.failedRepos, value: carry.failedRepos.length }]);
  }
}
