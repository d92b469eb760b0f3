import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  ApplicationFailure,
  ChildWorkflowCancellationType,
  continueAsNew,
  executeChild,
  ParentClosePolicy,
  patched,
  proxyActivities,
  proxyLocalActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { SnapshotPage } from '../activities/db/repoSelectionActivities.js';
import type { Activities } from '../activities/index.js';
import type { RepoCursor } from '../db/serverRepoQueries.js';
import { normalizeSnapshotPrefix } from '../domain/snapshotPrefix.js';
import { snapshotRepoWorkflowId } from '../temporal/names.js';
import { DB_ACTIVITY, PULP_CALL_ACTIVITY } from './activityOptions.js';
import { LISTED_NAMES, type SnapshotReposArgs } from './args.js';
import { runInLanes, withDeadline } from './boundedLanes.js';
import { isCancellation } from './failures.js';
import { PATCHES } from './patches.js';
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

/** What one run hands to the next: a cursor into the selection and counts, never the list. */
export interface SnapshotCarry {
  taskId: number;
  /** Workflow time when max_runtime passes; null without max_runtime. */
  deadlineMs: number | null;
  maxConcurrent: number;
  /** The next page of the selection starts after this server repo id. */
  cursor: RepoCursor;
  /** failedRepos holds the first LISTED_NAMES names; `failed` counts them all. */
  progress: SnapshotProgress;
}

export type SnapshotReposInput = SnapshotReposArgs & {
  carry?: SnapshotCarry;
  /** Snapshots started per workflow run before continuing as new; SNAPSHOTS_PER_RUN unless a test lowers it. */
  reposPerRun?: number;
};

/** Children started per workflow run before continuing as new (~8 history events each). */
export const SNAPSHOTS_PER_RUN = 500;
const STAGE = { reconcile: 0, select: 1, snapshot: 2 } as const;
const NO_DEADLINE_MS = 365 * 24 * 3600 * 1000;
type Outcome = 'completed' | 'failed' | 'skipped' | 'canceled';

/**
 * Snapshots the rpm and deb repos of a server that match the regexes into `<prefix><name>`,
 * at most max_concurrent_snapshots at a time, one snapshotRepo child each. Refused (the task
 * fails, nothing is left running) when the server has no snapshot support, or when repos with
 * the prefix exist and reuse is not allowed. A failed repo never stops the others. Continues as
 * new every SNAPSHOTS_PER_RUN repos (same task, same deadline), carrying a cursor.
 */
export async function snapshotReposWorkflow(args: SnapshotReposInput): Promise<SnapshotProgress> {
  if (args.carry) return snapshotPage(args, args.carry, undefined);
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
  if (!patched(PATCHES.snapshotBoundedRuns)) return legacySnapshotRepos(args, prefix, taskId);

  const deadlineMs = args.maxRuntimeSeconds ? Date.now() + args.maxRuntimeSeconds * 1000 : null;
  const progress: SnapshotProgress = {
    prefix,
    total: 0,
    completed: 0,
    failed: 0,
    skipped: 0,
    canceled: 0,
    failedRepos: [],
  };
  let stage: { position: number; name: string } | undefined;
  let maxConcurrent = 1;
  let firstPage: SnapshotPage;
  try {
    firstPage = await withDeadline(
      deadlineMs ?? undefined,
      () => `max_runtime of ${args.maxRuntimeSeconds}s exceeded during ${stage?.name ?? 'the checks'}`,
      async () => {
        const support = await db.loadSnapshotSupport({ server });
        if (!support.snapshotSupported) {
          throw ApplicationFailure.nonRetryable(
            `snapshots are not supported on ${server}: it has no snapshot_support in pulp_config.yml`,
            'SnapshotNotSupported',
          );
        }
        maxConcurrent = support.maxConcurrentSnapshots;
        stage = { position: STAGE.reconcile, name: 'reconcile repos' };
        await db.recordStage({ taskId, ...stage, detail: { state: 'running' } });
        const counts = await pulpCall.reconcileServerRepos({ server });
        await db.recordStage({ taskId, ...stage, detail: { state: 'completed', ...counts } });
        stage = undefined;
        if (!args.allowSnapshotReuse) {
          const existing = await db.countReposWithPrefix({ server, prefix });
          if (existing.count > 0) {
            throw ApplicationFailure.nonRetryable(
              `snapshot prefix ${prefix} is already used on ${server} by ${existing.count} repo(s) ` +
                `(${existing.first.join(', ')}${existing.count > existing.first.length ? ', …' : ''}); ` +
                'choose another prefix or allow snapshot reuse',
              'SnapshotPrefixInUse',
              existing,
            );
          }
        }
        return db.selectReposForSnapshotPage({
          server,
          regexInclude: args.regexInclude,
          regexExclude: args.regexExclude,
          snapshotPrefix: prefix,
          cursor: { afterId: 0 },
          limit: reposPerRun(args),
          withTotal: true,
        });
      },
    );
    progress.total = firstPage.total ?? firstPage.items.length;
    const listed = firstPage.items.slice(0, LISTED_NAMES).map((r) => r.name);
    const excluded = firstPage.excluded ?? { count: 0, first: [] };
    await db.recordStage({
      taskId,
      position: STAGE.select,
      name: 'find repos to snapshot',
      detail: {
        state: 'completed',
        message: `there are ${progress.total} repos to snapshot`,
        // The first LISTED_NAMES of each, by name; the counts cover all.
        repos: listed.sort(),
        excluded: [...excluded.first].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
        ...(progress.total > listed.length ? { repos_not_listed: progress.total - listed.length } : {}),
        ...(excluded.count > excluded.first.length
          ? { excluded_not_listed: excluded.count - excluded.first.length }
          : {}),
      },
    });
  } catch (err) {
    throw await endTaskOnError(taskId, err, {
      ...(stage ? { stage } : {}),
      context: `snapshot ${prefix} on ${server}`,
      type: 'SnapshotFailed',
      keepOwnFailures: true,
    });
  }
  return snapshotPage(
    args,
    { taskId, deadlineMs, maxConcurrent, cursor: { afterId: 0 }, progress },
    firstPage,
  );
}

const reposPerRun = (args: SnapshotReposInput) => args.reposPerRun ?? SNAPSHOTS_PER_RUN;

function snapshotChild(args: SnapshotReposArgs, taskId: number, prefix: string, sourceName: string) {
  const snapshotName = `${prefix}${sourceName}`;
  const childArgs: SnapshotRepoArgs = { server: args.server, parentTaskId: taskId, sourceName, snapshotName };
  return executeChild(snapshotRepoWorkflow, {
    // One id per snapshot repo: two runs never write the same snapshot at once.
    workflowId: snapshotRepoWorkflowId(args.server, snapshotName),
    args: [childArgs],
    cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
    parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
  });
}

/** One run's page of snapshots; continues as new while the selection has more. */
async function snapshotPage(
  args: SnapshotReposInput,
  carry: SnapshotCarry,
  firstPage: SnapshotPage | undefined,
): Promise<SnapshotProgress> {
  const { taskId, progress } = carry;
  const prefix = progress.prefix;
  const page =
    firstPage ??
    (await db.selectReposForSnapshotPage({
      server: args.server,
      regexInclude: args.regexInclude,
      regexExclude: args.regexExclude,
      snapshotPrefix: prefix,
      cursor: carry.cursor,
      limit: reposPerRun(args),
    }));
  const queue = [...page.items];
  const done = () => progress.completed + progress.failed + progress.skipped + progress.canceled;
  /** Repos that will not start: the rest of this page and the pages after it. */
  const notStarted = () => Math.max(0, progress.total - done());
  let startedThisRun = 0;
  let stopForNextRun = false;
  let lastStarted: number | undefined;
  const runChild = async (source: { name: string }): Promise<Outcome> => {
    try {
      await snapshotChild(args, taskId, prefix, source.name);
      return 'completed';
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return 'skipped';
      if (isCancellation(err)) return 'canceled';
      if (progress.failedRepos.length < LISTED_NAMES) progress.failedRepos.push(source.name);
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
    lanes: carry.maxConcurrent,
    deadlineMs: carry.deadlineMs ?? Date.now() + NO_DEADLINE_MS,
    canContinue: () => !stopForNextRun,
    onStart: () => report('running'),
    run: async (source, stopping) => {
      startedThisRun++;
      lastStarted = source.id;
      if (startedThisRun >= reposPerRun(args) || workflowInfo().continueAsNewSuggested) stopForNextRun = true;
      const outcome = await runChild(source);
      progress[outcome]++;
      if (!stopping()) await report('running');
    },
    onCanceled: async () => {
      progress.canceled += notStarted();
      await report('canceled');
      await db.finishTaskRecord({ taskId, state: 'canceled', error: { msg: 'canceled' } });
    },
  });
  if (timedOut) {
    progress.canceled += notStarted();
    const msg = `max_runtime of ${args.maxRuntimeSeconds}s exceeded: ${progress.canceled} snapshots canceled`;
    await report('failed');
    await db.finishTaskRecord({ taskId, state: 'failed', error: { msg } });
    throw ApplicationFailure.nonRetryable(msg, 'MaxRuntimeExceeded', progress);
  }
  if (queue.length > 0 || page.next) {
    // History and input stay small: the next run reads the page after the last repo started here.
    await continueAsNew<typeof snapshotReposWorkflow>({
      ...args,
      carry: { ...carry, cursor: { afterId: lastStarted ?? carry.cursor.afterId }, progress },
    });
  }
  if (progress.failed > 0) {
    const more = progress.failed > progress.failedRepos.length ? ', …' : '';
    const msg = `${progress.failed} of ${progress.total} snapshots failed: ${progress.failedRepos.join(', ')}${more}`;
    await report('failed');
    await db.finishTaskRecord({ taskId, state: 'failed', error: { msg } });
    throw ApplicationFailure.nonRetryable(msg, 'SnapshotFailed', progress);
  }
  await report('completed');
  await db.finishTaskRecord({ taskId, state: 'completed' });
  return progress;
}

/** Runs started before PATCHES.snapshotBoundedRuns: one run with the whole selection. */
async function legacySnapshotRepos(
  args: SnapshotReposArgs,
  prefix: string,
  taskId: number,
): Promise<SnapshotProgress> {
  const { server } = args;
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
        workflowId: snapshotRepoWorkflowId(server, snapshotName),
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
