import {
  ApplicationFailure,
  ContinueAsNew,
  continueAsNew,
  patched,
  proxyActivities,
  proxyLocalActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { ServerRepoTarget } from '../activities/db/repoSelectionActivities.js';
import type { Activities } from '../activities/index.js';
import type { RepoCursor, RepoPage } from '../db/serverRepoQueries.js';
import { DB_ACTIVITY, PULP_CALL_ACTIVITY, PULP_TASK_ACTIVITY } from './activityOptions.js';
import { LISTED_NAMES, type RepoRemovalArgs } from './args.js';
import { runInLanes, withDeadline } from './boundedLanes.js';
import { failureMessage, isCancellation } from './failures.js';
import { PATCHES } from './patches.js';
import { endTaskOnError } from './taskFailure.js';

const db = proxyLocalActivities<Activities>(DB_ACTIVITY);
const pulpCall = proxyActivities<Activities>(PULP_CALL_ACTIVITY);
const pulpTask = proxyActivities<Activities>(PULP_TASK_ACTIVITY);

export interface RemovalSummary {
  dryRun: boolean;
  /** Runs since PATCHES.removalBoundedRuns: the first LISTED_NAMES, by name; matchedCount counts all. */
  matched: string[];
  removed: number;
  /** Runs since PATCHES.removalBoundedRuns: the first LISTED_NAMES; failedCount counts all. */
  failed: Record<string, string>;
  matchedCount?: number;
  failedCount?: number;
}

/** What one run hands to the next: a cursor into the selection and counts, never the list. */
export interface RemovalCarry {
  taskId: number;
  /** Workflow time when max_runtime passes; null without max_runtime. */
  deadlineMs: number | null;
  /** The next page of the selection starts after this server repo id. */
  cursor: RepoCursor;
  summary: RemovalSummary & { matchedCount: number; failedCount: number };
}

export type RepoRemovalInput = RepoRemovalArgs & {
  carry?: RemovalCarry;
  /** Removals started per workflow run before continuing as new; REMOVALS_PER_RUN unless a test lowers it. */
  reposPerRun?: number;
};

const STAGE = { reconcile: 0, select: 1, remove: 2, reconcileAfter: 3 } as const;
/** Deletions run a few at a time: each takes Pulp locks, and one failure must not stop the rest. */
const CONCURRENT_REMOVALS = 4;
/** Removals started per workflow run before continuing as new (~8 history events each). */
export const REMOVALS_PER_RUN = 500;
const NO_DEADLINE_MS = 365 * 24 * 3600 * 1000;

const describeTarget = (r: ServerRepoTarget) => ({
  name: r.name,
  repo_type: r.repoType,
  distribution: r.distributionHref,
  repository: r.repoHref,
  remote: r.remoteHref,
});

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function stageRecorder(taskId: number, dryRun: boolean) {
  const stageNames = {
    [STAGE.reconcile]: 'reconcile repos',
    [STAGE.select]: dryRun ? 'find repos to remove (dry run)' : 'find repos to remove',
    [STAGE.remove]: 'remove repos',
    [STAGE.reconcileAfter]: 'reconcile repos after removal',
  };
  type Position = keyof typeof stageNames;
  return {
    stageOf: (position: Position) => ({ position, name: stageNames[position] }),
    record: (position: Position, detail: Record<string, unknown>) =>
      db.recordStage({ taskId, position, name: stageNames[position], detail }),
  };
}

/**
 * Removes the repos of a server that match the regexes (at least one is required). A dry run
 * (the default in the API) lists exactly what would be deleted and deletes nothing. Otherwise
 * distribution, repository and remote of each are deleted, waiting for each Pulp task, and the
 * DB is reconciled with what is left.
 */
export async function repoRemovalWorkflow(args: RepoRemovalInput): Promise<RemovalSummary> {
  if (args.carry) return removalPage(args, args.carry, undefined);
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
  if (!patched(PATCHES.removalBoundedRuns)) return legacyRepoRemoval(args, taskId);

  const deadlineMs = args.maxRuntimeSeconds ? Date.now() + args.maxRuntimeSeconds * 1000 : null;
  const summary: RemovalCarry['summary'] = {
    dryRun,
    matched: [],
    removed: 0,
    failed: {},
    matchedCount: 0,
    failedCount: 0,
  };
  const { stageOf, record } = stageRecorder(taskId, dryRun);
  let stage: ReturnType<typeof stageOf> | undefined;
  let firstPage: RepoPage<ServerRepoTarget>;
  try {
    if (!args.regexInclude && !args.regexExclude) {
      throw ApplicationFailure.nonRetryable(
        'at least one of regex_include and regex_exclude is required to remove repos',
        'RegexRequired',
      );
    }
    firstPage = await withDeadline(
      deadlineMs ?? undefined,
      () => `max_runtime of ${args.maxRuntimeSeconds}s exceeded during ${stage?.name}`,
      async () => {
        stage = stageOf(STAGE.reconcile);
        await record(STAGE.reconcile, { state: 'running' });
        await record(STAGE.reconcile, {
          state: 'completed',
          ...(await pulpCall.reconcileServerRepos({ server })),
        });
        stage = stageOf(STAGE.select);
        return db.selectReposForRemovalPage({
          server,
          regexInclude: args.regexInclude,
          regexExclude: args.regexExclude,
          cursor: { afterId: 0 },
          limit: reposPerRun(args),
          withTotal: true,
        });
      },
    );
    const listed = firstPage.items.slice(0, LISTED_NAMES).sort(byName);
    summary.matchedCount = firstPage.total ?? firstPage.items.length;
    summary.matched = listed.map((t) => t.name);
    await record(STAGE.select, {
      state: 'completed',
      message: `${summary.matchedCount} repos ${dryRun ? 'would be' : 'will be'} removed with their distributions and remotes`,
      // The first LISTED_NAMES by name; the count covers all.
      repos: listed.map(describeTarget),
      ...(summary.matchedCount > listed.length
        ? { repos_not_listed: summary.matchedCount - listed.length }
        : {}),
    });
    stage = undefined;
    if (dryRun || summary.matchedCount === 0) {
      await db.finishTaskRecord({ taskId, state: 'completed' });
      return summary;
    }
  } catch (err) {
    throw await endTaskOnError(taskId, err, {
      ...(stage ? { stage } : {}),
      context: `repo removal on ${server}`,
      type: 'RepoRemovalFailed',
      keepOwnFailures: true,
    });
  }
  return removalPage(args, { taskId, deadlineMs, cursor: { afterId: 0 }, summary }, firstPage);
}

const reposPerRun = (args: RepoRemovalInput) => args.reposPerRun ?? REMOVALS_PER_RUN;

/** One run's page of removals; continues as new while the selection has more, then reconciles. */
async function removalPage(
  args: RepoRemovalInput,
  carry: RemovalCarry,
  firstPage: RepoPage<ServerRepoTarget> | undefined,
): Promise<RemovalSummary> {
  const { server } = args;
  const { taskId, summary } = carry;
  const { stageOf, record } = stageRecorder(taskId, summary.dryRun);
  let stage: ReturnType<typeof stageOf> | undefined = stageOf(STAGE.remove);
  const progressDetail = (state: string) => ({
    state,
    message: `removed ${summary.removed}, failed to remove ${summary.failedCount} of ${summary.matchedCount}`,
    removed: summary.removed,
    failed: summary.failed,
    failed_count: summary.failedCount,
  });
  try {
    const page =
      firstPage ??
      (await db.selectReposForRemovalPage({
        server,
        regexInclude: args.regexInclude,
        regexExclude: args.regexExclude,
        cursor: carry.cursor,
        limit: reposPerRun(args),
      }));
    const queue = [...page.items];
    let startedThisRun = 0;
    let stopForNextRun = false;
    let lastStarted: number | undefined;
    await record(STAGE.remove, progressDetail('running'));
    // Deletions run a few at a time; without max_runtime the deadline only notices a cancellation.
    const { timedOut } = await runInLanes(queue, {
      lanes: CONCURRENT_REMOVALS,
      deadlineMs: carry.deadlineMs ?? Date.now() + NO_DEADLINE_MS,
      canContinue: () => !stopForNextRun,
      run: async (t, stopping) => {
        startedThisRun++;
        lastStarted = t.id;
        if (startedThisRun >= reposPerRun(args) || workflowInfo().continueAsNewSuggested)
          stopForNextRun = true;
        try {
          await pulpTask.deleteRepositoryObjects({
            server,
            repoHref: t.repoHref,
            remoteHref: t.remoteHref,
            distributionHref: t.distributionHref,
          });
          summary.removed++;
        } catch (err) {
          // Canceled (deadline or operator): neither removed nor failed; the counts say so.
          if (isCancellation(err)) return;
          summary.failedCount++;
          if (Object.keys(summary.failed).length < LISTED_NAMES) summary.failed[t.name] = failureMessage(err);
        }
        if (!stopping()) await record(STAGE.remove, progressDetail('running'));
      },
      onCanceled: () => record(STAGE.remove, progressDetail('canceled')),
    });
    if (timedOut) {
      const left = summary.matchedCount - summary.removed - summary.failedCount;
      const msg =
        `max_runtime of ${args.maxRuntimeSeconds}s exceeded: removed ${summary.removed}, ` +
        `failed to remove ${summary.failedCount}, ${Math.max(0, left)} not removed`;
      await record(STAGE.remove, { ...progressDetail('failed'), message: msg });
      await record(STAGE.reconcileAfter, {
        state: 'skipped',
        reason: 'max_runtime exceeded: the next reconcile of the server brings its repos up to date',
      });
      stage = undefined;
      await db.finishTaskRecord({ taskId, state: 'failed', error: { msg, detail: summary.failed } });
      throw ApplicationFailure.nonRetryable(msg, 'MaxRuntimeExceeded', summary);
    }
    if (queue.length > 0 || page.next) {
      // History and input stay small: the next run reads the page after the last repo started here.
      await continueAsNew<typeof repoRemovalWorkflow>({
        ...args,
        carry: { ...carry, cursor: { afterId: lastStarted ?? carry.cursor.afterId }, summary },
      });
    }
    await record(STAGE.remove, progressDetail(summary.failedCount > 0 ? 'failed' : 'completed'));

    stage = stageOf(STAGE.reconcileAfter);
    await withDeadline(
      carry.deadlineMs ?? undefined,
      () => `max_runtime of ${args.maxRuntimeSeconds}s exceeded during ${stageOf(STAGE.reconcileAfter).name}`,
      async () => {
        await record(STAGE.reconcileAfter, { state: 'running' });
        await record(STAGE.reconcileAfter, {
          state: 'completed',
          ...(await pulpCall.reconcileServerRepos({ server })),
        });
      },
    );
    stage = undefined;
    if (summary.failedCount > 0) {
      const names = Object.keys(summary.failed);
      const more = summary.failedCount > names.length ? ', …' : '';
      const msg = `removed ${summary.removed}, failed to remove ${summary.failedCount}: ${names.join(', ')}${more}`;
      await db.finishTaskRecord({ taskId, state: 'failed', error: { msg, detail: summary.failed } });
      throw ApplicationFailure.nonRetryable(msg, 'RepoRemovalFailed', summary);
    }
    await db.finishTaskRecord({ taskId, state: 'completed' });
    return summary;
  } catch (err) {
    // Continuing as new is thrown, and is no failure of the task.
    if (err instanceof ContinueAsNew) throw err;
    throw await endTaskOnError(taskId, err, {
      ...(stage ? { stage } : {}),
      context: `repo removal on ${server}`,
      type: 'RepoRemovalFailed',
      keepOwnFailures: true,
    });
  }
}

/** Runs started before PATCHES.removalBoundedRuns: one run with the whole selection, no deadline. */
async function legacyRepoRemoval(args: RepoRemovalArgs, taskId: number): Promise<RemovalSummary> {
  const { server, dryRun } = args;
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
