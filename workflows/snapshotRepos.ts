import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  ApplicationFailure,
  ChildWorkflowCancellationType,
  executeChild,
  ParentClosePolicy,
  proxyActivities,
  proxyLocalActivities,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { normalizeSnapshotPrefix } from '../domain/snapshotPrefix.js';
import { DB_ACTIVITY, PULP_CALL_ACTIVITY } from './activityOptions.js';
import type { SnapshotReposArgs } from './args.js';
import { runInLanes } from './boundedLanes.js';
import { isCancellation } from './failures.js';
import { type SnapshotRepoArgs, snapshotRepoWorkflow } from './snapshotRepo.js';
import { endTaskOnError } from './taskFailure.js';

const db = proxyLocalActivities<Activities>(DB_ACTIVITY);
const pulpCall = proxyActivities<Activities>(PULP_CALL_ACTIVITY);

export interface SnapshotProgress {
  prefix: string;
  total: number;
  completed: number;
  failed: number;
  skipped: number;
  canceled: number;
  failedRepos: string[];
}

const STAGE = { reconcile: 0, select: 1, snapshot: 2 } as const;
const NO_DEADLINE_MS = 365 * 24 * 3600 * 1000;

/**
 * Snapshots the rpm and deb repos of a server that match the regexes into `<prefix><name>`,
 * at most max_concurrent_snapshots at a time, one snapshotRepo child each. Refused (the task
 * fails, nothing is left running) when the server has no snapshot support, or when repos with
 * the prefix exist and reuse is not allowed. A failed repo never stops the others.
 */
export async function snapshotReposWorkflow(args: SnapshotReposArgs): Promise<SnapshotProgress> {
  const { server } = args;
  const prefix = normalizeSnapshotPrefix(args.snapshotPrefix);
  const taskId = await db.startTaskRecord({
    taskId: args.taskId,
    name: `snapshot repos ${prefix} on ${server}`,
    taskType: 'repo_snapshot',
    server,
    args: {
      server,
      snapshot_prefix: prefix,
      regex_include: args.regexInclude ?? null,
      regex_exclude: args.regexExclude ?? null,
      allow_snapshot_reuse: args.allowSnapshotReuse,
      max_runtime_seconds: args.maxRuntimeSeconds ?? null,
    },
  });
  const deadlineMs = args.maxRuntimeSeconds ? Date.now() + args.maxRuntimeSeconds * 1000 : undefined;
  const progress: SnapshotProgress = {
    prefix,
    total: 0,
    completed: 0,
    failed: 0,
    skipped: 0,
    canceled: 0,
    failedRepos: [],
  };
  let selection: Awaited<ReturnType<Activities['selectReposForSnapshot']>>;
  let maxConcurrent: number;
  try {
    const support = await db.loadSnapshotSupport({ server });
    if (!support.snapshotSupported) {
      throw ApplicationFailure.nonRetryable(
        `snapshots are not supported on ${server}: it has no snapshot_support in pulp_config.yml`,
        'SnapshotNotSupported',
      );
    }
    maxConcurrent = support.maxConcurrentSnapshots;
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
    if (!args.allowSnapshotReuse) {
      const existing = await db.reposWithPrefix({ server, prefix });
      if (existing.length > 0) {
        throw ApplicationFailure.nonRetryable(
          `snapshot prefix ${prefix} is already used on ${server} by ${existing.length} repo(s) ` +
            `(${existing.slice(0, 10).join(', ')}${existing.length > 10 ? ', …' : ''}); ` +
            'choose another prefix or allow snapshot reuse',
          'SnapshotPrefixInUse',
          { existing },
        );
      }
    }
    selection = await db.selectReposForSnapshot({
      server,
      regexInclude: args.regexInclude,
      regexExclude: args.regexExclude,
      snapshotPrefix: prefix,
    });
    progress.total = selection.repos.length;
    await db.recordStage({
      taskId,
      position: STAGE.select,
      name: 'find repos to snapshot',
      detail: {
        state: 'completed',
        message: `there are ${selection.repos.length} repos to snapshot`,
        repos: selection.repos.map((r) => r.name),
        excluded: selection.excluded,
      },
    });
  } catch (err) {
    throw await endTaskOnError(taskId, err, {
      context: `snapshot ${prefix} on ${server}`,
      type: 'SnapshotFailed',
      keepOwnFailures: true,
    });
  }

  const queue = [...selection.repos];
  const runChild = async (source: {
    name: string;
  }): Promise<'completed' | 'failed' | 'skipped' | 'canceled'> => {
    const snapshotName = `${prefix}${source.name}`;
    const childArgs: SnapshotRepoArgs = {
      server,
      parentTaskId: taskId,
      sourceName: source.name,
      snapshotName,
    };
    try {
      await executeChild(snapshotRepoWorkflow, {
        // One id per snapshot repo: two runs never write the same snapshot at once.
        workflowId: `repo-snapshot/${server}/${snapshotName}`,
        args: [childArgs],
        cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      });
      return 'completed';
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return 'skipped';
      if (isCancellation(err)) return 'canceled';
      progress.failedRepos.push(source.name);
      return 'failed';
    }
  };
  const report = (state: string) =>
    db.recordStage({
      taskId,
      position: STAGE.snapshot,
      name: 'snapshot repos',
      detail: {
        state,
        message: `${progress.completed + progress.failed + progress.skipped}/${progress.total} snapshots completed`,
        ...progress,
      },
    });
  // Without max_runtime the deadline only serves to notice a cancellation of this workflow.
  const { timedOut } = await runInLanes(queue, {
    lanes: maxConcurrent,
    deadlineMs: deadlineMs ?? Date.now() + NO_DEADLINE_MS,
    onStart: () => report('running'),
    run: async (source, stopping) => {
      const outcome = await runChild(source);
      progress[outcome]++;
      if (!stopping()) await report('running');
    },
    onCanceled: async () => {
      progress.canceled += queue.length;
      await report('canceled');
      await db.finishTaskRecord({ taskId, state: 'canceled', error: { msg: 'canceled' } });
    },
  });
  progress.canceled += queue.length;
  if (timedOut) {
    const msg = `max_runtime of ${args.maxRuntimeSeconds}s exceeded: ${progress.canceled} snapshots canceled`;
    await report('failed');
    await db.finishTaskRecord({ taskId, state: 'failed', error: { msg } });
    throw ApplicationFailure.nonRetryable(msg, 'MaxRuntimeExceeded', progress);
  }
  if (progress.failed > 0) {
    const msg = `${progress.failed} of ${progress.total} snapshots failed: ${progress.failedRepos.join(', ')}`;
    await report('failed');
    await db.finishTaskRecord({ taskId, state: 'failed', error: { msg } });
    throw ApplicationFailure.nonRetryable(msg, 'SnapshotFailed', progress);
  }
  await report('completed');
  await db.finishTaskRecord({ taskId, state: 'completed' });
  return progress;
}
