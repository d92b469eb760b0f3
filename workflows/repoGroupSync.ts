import { type SearchAttributePair, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  CancellationScope,
  ChildWorkflowCancellationType,
  continueAsNew,
  defineQuery,
  executeChild,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ClosedExecution } from '../activities/childWorkflowWatch.js';
import type { RepoRef } from '../activities/db/serverRepoActivities.js';
import type { Activities } from '../activities/index.js';
import type { RepoCursor, RepoPage } from '../db/serverRepoQueries.js';
import { repoSyncWorkflowId } from '../temporal/names.js';
import { SEARCH_ATTRIBUTES } from '../temporal/searchAttributes.js';
import { DB_ACTIVITY, EXECUTION_WATCH_ACTIVITY, PULP_CALL_ACTIVITY } from './activityOptions.js';
import { LISTED_NAMES, type RepoGroupSyncArgs } from './args.js';
import { runInLanes, withDeadline } from './boundedLanes.js';
import { failureMessage, isCancellation } from './failures.js';
import { PATCHES } from './patches.js';
import { type RepoSyncArgs, repoSyncWorkflow } from './repoSync.js';
import { endTaskOnError } from './taskFailure.js';

const db = proxyLocalActivities<Activities>(DB_ACTIVITY);
const pulpCall = proxyActivities<Activities>(PULP_CALL_ACTIVITY);
const watch = proxyActivities<Pick<Activities, 'awaitExecutionsClosed'>>(EXECUTION_WATCH_ACTIVITY);

export interface GroupProgress {
  total: number;
  pending: number;
  running: number;
  completed: number;
  failed: number;
  skipped: number;
  canceled: number;
}

/**
 * What one run hands to the next when the group continues as new (large groups). Runs started
 * before PATCHES.groupBoundedRuns carry `pending` (every repo left, in name order) and every
 * finished id; later runs carry a `cursor` into the selection, counts and the first
 * LISTED_NAMES failed and skipped names: the same size for a group of any size.
 */
export interface GroupCarry {
  taskId: number;
  deadlineMs: number;
  /** Runs before PATCHES.groupBoundedRuns: the repos left. Absent: each run reads a page at `cursor`. */
  pending?: RepoRef[];
  /** The next page of the selection starts after this server repo id. */
  cursor?: RepoCursor;
  progress: GroupProgress;
  /** Runs before PATCHES.groupBoundedRuns: every finished repo. Later runs update health per run. */
  finishedRepoIds: number[];
  failedRepos: string[];
  skippedRepos: string[];
  /** Repos whose health earlier runs of the group updated. */
  healthUpdated?: number;
  /**
   * Runs after PATCHES.groupHandOverChildren: the repo syncs still running when the run before
   * continued as new (at most max_concurrent_syncs); this run holds a lane for each until it ends.
   */
  handedOver?: HandedOverSync[];
}

/** A running repo sync one run of the group hands to the next. */
export interface HandedOverSync {
  id: number;
  name: string;
  runId: string;
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
  let firstPage: RepoPage<RepoRef> | undefined;
  if (!carry) {
    const taskId = await db.startTaskRecord({
      taskId: args.taskId,
      name: `repo group sync ${label} on ${server}`,
      taskType: 'repo_group_sync',
      server,
      args: { ...args },
    });
    const deadlineMs = Date.now() + args.maxRuntimeSeconds * 1000;
    const bounded = patched(PATCHES.groupBoundedRuns);
    const context = `group sync ${label} on ${server}`;
    let stage: { position: number; name: string } = { position: STAGE.reconcile, name: 'reconcile repos' };
    try {
      // Before the patch max_runtime covered the syncs only: no timer in those histories.
      await withDeadline(
        bounded ? deadlineMs : undefined,
        () => `max_runtime of ${args.maxRuntimeSeconds}s exceeded during ${stage.name}`,
        () =>
          registerAndReconcile(args, taskId, (s) => {
            stage = s;
          }),
      );
    } catch (err) {
      throw await endTaskOnError(
        taskId,
        err,
        bounded
          ? { stage, context, type: 'GroupSyncFailed', keepOwnFailures: true }
          : { context, type: 'GroupSyncFailed' },
      );
    }
    if (bounded) {
      firstPage = await selectPage(args, { afterId: 0 }, true);
      const total = firstPage.total ?? firstPage.items.length;
      carry = {
        taskId,
        deadlineMs,
        cursor: { afterId: 0 },
        progress: { total, pending: total, running: 0, completed: 0, failed: 0, skipped: 0, canceled: 0 },
        finishedRepoIds: [],
        failedRepos: [],
        skippedRepos: [],
        healthUpdated: 0,
      };
    } else {
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
  }
  if (patched(PATCHES.groupSearchAttributes)) {
    upsertSearchAttributes([
      ...groupAttributes(args),
      { key: SEARCH_ATTRIBUTES.taskId, value: carry.taskId },
    ]);
  }
  return runSyncs(args, carry, firstPage);
}

const childrenPerRun = (args: RepoGroupSyncInput) => args.childrenPerRun ?? CHILDREN_PER_RUN;

/** One run's page of the group's repos: as many as the run starts children. */
function selectPage(args: RepoGroupSyncInput, cursor: RepoCursor, withTotal: boolean) {
  return db.selectReposForSyncPage({
    server: args.server,
    regexInclude: args.regexInclude,
    regexExclude: args.regexExclude,
    cursor,
    limit: childrenPerRun(args),
    withTotal,
  });
}

/** Stages 0 and 1; `onStage` learns which one is running, for the failure record. */
async function registerAndReconcile(
  args: RepoGroupSyncInput,
  taskId: number,
  onStage: (stage: { position: number; name: string }) => void,
): Promise<void> {
  const { server } = args;
  if (args.sourceServer) {
    onStage({ position: STAGE.register, name: 'register repos from primary' });
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
  onStage({ position: STAGE.reconcile, name: 'reconcile repos' });
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
}

/** Bounded runs keep the first LISTED_NAMES names; the counts are in the progress. */
function noteName(names: string[], name: string, bounded: boolean): void {
  if (!bounded || names.length < LISTED_NAMES) names.push(name);
}

/** PulpServer and RepoGroup: what the runs list is filtered by (temporal/searchAttributes.ts). */
function groupAttributes(args: RepoGroupSyncInput): SearchAttributePair[] {
  const pairs: SearchAttributePair[] = [{ key: SEARCH_ATTRIBUTES.pulpServer, value: args.server }];
  if (args.repoGroup) pairs.push({ key: SEARCH_ATTRIBUTES.repoGroup, value: args.repoGroup });
  return pairs;
}

async function runSyncs(
  args: RepoGroupSyncInput,
  carry: GroupCarry,
  firstPage: RepoPage<RepoRef> | undefined,
): Promise<GroupProgress> {
  const { server } = args;
  const { taskId } = carry;
  // A carry with `pending` comes from a run started before PATCHES.groupBoundedRuns: it goes on
  // exactly as it began (its history may be replayed), and so do the runs it continues as.
  const bounded = carry.pending === undefined;
  const cursor = carry.cursor ?? { afterId: 0 };
  const page = bounded ? (firstPage ?? (await selectPage(args, cursor, false))) : undefined;
  // Syncs the run before handed over hold the first lanes; then this run's page.
  const inherited = carry.handedOver ?? [];
  const queue: (RepoRef | HandedOverSync)[] = [...inherited, ...(carry.pending ?? page?.items ?? [])];
  const progress = carry.progress;
  const done = () => progress.completed + progress.failed + progress.skipped + progress.canceled;
  // Bounded runs hold one page: what is left is the group's total less what started.
  const pendingCount = () =>
    bounded ? Math.max(0, progress.total - done() - progress.running) : queue.length;
  /** Repos that will not start: the rest of the queue, and in bounded runs the pages after it. */
  const notStarted = () => (bounded ? Math.max(0, progress.total - done()) : queue.length);
  let lastStarted: number | undefined;
  const finishedThisRun: number[] = [];
  setHandler(groupProgressQuery, () => ({ ...progress, pending: pendingCount() }));

  let lastUpdate = 0;
  const reportProgress = async (force = false) => {
    if (!force && Date.now() - lastUpdate < PROGRESS_UPDATE_EVERY_MS) return;
    lastUpdate = Date.now();
    // Shown in the Web UI's run page; no history event.
    setCurrentDetails(progressText({ ...progress, pending: pendingCount() }));
    await db.recordStage({
      taskId,
      position: STAGE.sync,
      name: 'sync repos',
      detail: {
        state: 'running',
        message: progressText({ ...progress, pending: pendingCount() }),
        ...progress,
        pending: pendingCount(),
      },
    });
  };

  // Recorded once per run of the group; its children carry the answer in their input.
  const onePipeline = patched(PATCHES.repoSyncOneActivity);
  // Also once per run; runs continued with the repo list (`pending`) never hand over.
  const handOver = bounded && patched(PATCHES.groupHandOverChildren);
  let startedThisRun = 0;
  let stopForNextRun = false;
  /** Syncs running now that this run knows the run id of: what it would hand over. */
  const running = new Map<number, HandedOverSync>(inherited.map((s) => [s.id, s]));
  let startsInFlight = 0;

  /** One repo's sync ended: counted at once, so a continue-as-new never sees it half counted. */
  const settle = (ref: RepoRef, outcome: keyof GroupProgress) => {
    running.delete(ref.id);
    progress.running--;
    (progress[outcome] as number)++;
    if (outcome !== 'skipped' && outcome !== 'canceled') {
      if (bounded) finishedThisRun.push(ref.id);
      else carry.finishedRepoIds.push(ref.id);
    }
  };
  const failedOutcome = (ref: RepoRef, error: string): 'failed' => {
    log.warn('repo sync failed; its siblings go on', { server, repo: ref.name, error });
    noteName(carry.failedRepos, ref.name, bounded);
    return 'failed';
  };
  const outcomeOfError = (ref: RepoRef, err: unknown): keyof GroupProgress => {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      log.info('repo skipped: a sync of it is already running', { server, repo: ref.name });
      noteName(carry.skippedRepos, ref.name, bounded);
      return 'skipped';
    }
    if (isCancellation(err)) return 'canceled';
    return failedOutcome(ref, failureMessage(err));
  };
  const childOptions = (ref: RepoRef) => {
    const childArgs: RepoSyncArgs = {
      server,
      serverRepoId: ref.id,
      repoName: ref.name,
      parentTaskId: taskId,
      syncOptions: args.syncOptions,
      debPublishMode: args.debPublishMode,
      ...(onePipeline ? { pipeline: 'one-activity' as const } : {}),
    };
    return {
      // One id per server repo: Temporal refuses a second concurrent sync of the same repo.
      workflowId: repoSyncWorkflowId(server, ref.name),
      args: [childArgs] as [RepoSyncArgs],
      cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
      // Handing over: a child must outlive the run that started it (the group's cancel and
      // max_runtime reach it from the run that holds it; see runInLanes' handOverWhen below).
      parentClosePolicy: handOver ? ParentClosePolicy.ABANDON : ParentClosePolicy.REQUEST_CANCEL,
      // A child whose group froze or was terminated must not hold its repo's id forever.
      workflowExecutionTimeout: Math.max(60_000, carry.deadlineMs - Date.now()) + CHILD_TIMEOUT_MARGIN_MS,
      typedSearchAttributes: [...groupAttributes(args), { key: SEARCH_ATTRIBUTES.repoName, value: ref.name }],
      staticSummary: `repo sync ${ref.name} on ${server}`,
    };
  };
  const runChild = async (ref: RepoRef): Promise<keyof GroupProgress> => {
    try {
      await executeChild(repoSyncWorkflow, childOptions(ref));
      return 'completed';
    } catch (err) {
      return outcomeOfError(ref, err);
    }
  };
  /** runChild for runs that hand over: the child's run id is known once it started. */
  const runHandOverChild = async (ref: RepoRef): Promise<void> => {
    let outcome: keyof GroupProgress;
    let starting = true;
    startsInFlight++;
    try {
      const child = await startChild(repoSyncWorkflow, childOptions(ref));
      starting = false;
      startsInFlight--;
      running.set(ref.id, { id: ref.id, name: ref.name, runId: child.firstExecutionRunId });
      await child.result();
      outcome = 'completed';
    } catch (err) {
      if (starting) startsInFlight--;
      outcome = outcomeOfError(ref, err);
    }
    settle(ref, outcome);
  };

  // The syncs handed over by the run before: one activity waits for any of them to end (this
  // run has no child events for them), and each one's lane learns its end from `closed`.
  const closed = new Map<
    string,
    { ended: Promise<ClosedExecution>; resolve: (c: ClosedExecution) => void }
  >();
  for (const s of inherited) {
    let resolve: (c: ClosedExecution) => void = () => undefined;
    const ended = new Promise<ClosedExecution>((r) => {
      resolve = r;
    });
    closed.set(s.runId, { ended, resolve });
  }
  const watchInherited = async () => {
    let left = inherited;
    const execution = (s: HandedOverSync) => ({
      workflowId: repoSyncWorkflowId(server, s.name),
      runId: s.runId,
    });
    try {
      while (left.length > 0) {
        const ended = await watch.awaitExecutionsClosed({ executions: left.map(execution) });
        for (const c of ended) closed.get(c.runId)?.resolve(c);
        const endedRuns = new Set(ended.map((c) => c.runId));
        left = left.filter((s) => !endedRuns.has(s.runId));
      }
    } catch (err) {
      // Its attempts are not capped: only a bug gets here. The lanes must not wait forever.
      for (const s of left) {
        closed.get(s.runId)?.resolve({ ...execution(s), outcome: 'failed', error: failureMessage(err) });
      }
    }
  };
  // Not cancellable: on a cancel of the group the lanes cancel these syncs and wait for their end.
  if (inherited.length > 0) void CancellationScope.nonCancellable(watchInherited);
  // A run that handed over leaves its repos' health to this run (see the hand-over below): it is
  // written while the lanes run. Runs of older code always carry an empty list here.
  const healthOfRunBefore = bounded && carry.finishedRepoIds.length > 0 ? [...carry.finishedRepoIds] : [];
  const healthBefore = CancellationScope.nonCancellable(async () => {
    if (healthOfRunBefore.length === 0) return;
    await db.updateRepoHealth({ server, serverRepoIds: healthOfRunBefore });
    carry.healthUpdated = (carry.healthUpdated ?? 0) + healthOfRunBefore.length;
    carry.finishedRepoIds = [];
  });
  const awaitHandedOver = async (sync: HandedOverSync): Promise<void> => {
    const ended = closed.get(sync.runId)?.ended as Promise<ClosedExecution>;
    let end: ClosedExecution;
    try {
      end = await Promise.race([ended, CancellationScope.current().cancelRequested]);
    } catch (err) {
      if (!isCancellation(err)) throw err;
      // Group canceled or max_runtime: as a child of this run would be, it is canceled (and with
      // it its Pulp task) and the lane waits until it has ended.
      end = await CancellationScope.nonCancellable(async () => {
        await getExternalWorkflowHandle(repoSyncWorkflowId(server, sync.name), sync.runId)
          .cancel()
          .catch((cancelErr: unknown) => {
            log.info('handed-over repo sync not canceled: it had ended', {
              server,
              repo: sync.name,
              error: failureMessage(cancelErr),
            });
          });
        return ended;
      });
    }
    const outcome: keyof GroupProgress =
      end.outcome === 'failed' ? failedOutcome(sync, end.error ?? 'failed') : end.outcome;
    settle(sync, outcome);
  };

  const { timedOut, handedOver } = await runInLanes(queue, {
    lanes: args.maxConcurrentSyncs,
    deadlineMs: carry.deadlineMs,
    canContinue: () => !stopForNextRun,
    // Once this run started its share, the next run takes over the running syncs rather than
    // the lanes idling until the slowest of them ends (PATCHES.groupHandOverChildren).
    handOverWhen: handOver
      ? () => stopForNextRun && startsInFlight === 0 && (queue.length > 0 || Boolean(page?.next))
      : undefined,
    onStart: () => reportProgress(true),
    run: async (item, stopping) => {
      if ('runId' in item) {
        await awaitHandedOver(item);
      } else {
        const ref = item;
        progress.pending = bounded ? pendingCount() : queue.length;
        progress.running++;
        startedThisRun++;
        lastStarted = ref.id;
        if (startedThisRun >= childrenPerRun(args) || workflowInfo().continueAsNewSuggested) {
          stopForNextRun = true;
        }
        if (handOver) await runHandOverChild(ref);
        else settle(ref, await runChild(ref));
      }
      if (!stopping()) await reportProgress();
    },
    // Canceled from outside (API / operator): the children were canceled with the lanes.
    onCanceled: async () => {
      await healthBefore;
      progress.canceled += notStarted();
      await finishGroup(server, carry, queue, 'canceled', { msg: 'canceled' }, finishedThisRun);
    },
  });

  await healthBefore;
  if (timedOut) {
    progress.canceled += notStarted();
    const reason = `max_runtime of ${args.maxRuntimeSeconds}s exceeded: ${progress.canceled} repo syncs canceled`;
    log.warn('gave up: max_runtime exceeded, running repo syncs canceled', { server, reason });
    await finishGroup(server, carry, queue, 'failed', { msg: reason }, finishedThisRun);
    return { ...progress, pending: 0 };
  }
  if (handedOver) {
    // The syncs still running go on under the next run, which waits for them in their lanes.
    // This run's repos get their health from the next run too: a local activity here would
    // hold the workflow task open while children end, and a child's end during the task makes
    // the server refuse the continue-as-new (the task is replayed and the write made again).
    // The list is at most childrenPerRun ids, whatever the group's size.
    progress.pending = pendingCount();
    const handOverNow = [...running.values()];
    log.info('continuing as new; running repo syncs handed over', { server, handedOver: handOverNow.length });
    await continueAsNew<typeof repoGroupSyncWorkflow>({
      ...args,
      carry: {
        ...carry,
        cursor: { afterId: lastStarted ?? cursor.afterId },
        progress: { ...progress },
        finishedRepoIds: [...finishedThisRun],
        handedOver: handOverNow,
      },
    });
  }
  if (!bounded && queue.length > 0) {
    // History stays small: the next run carries on with what is left, same task, same deadline.
    await continueAsNew<typeof repoGroupSyncWorkflow>({
      ...args,
      carry: { ...carry, pending: queue, progress },
    });
  }
  if (bounded && (queue.length > 0 || page?.next)) {
    // History and input stay small: this run's repos get their health now, and the next run
    // reads the page after the last repo started here. Same task, same deadline.
    await db.updateRepoHealth({ server, serverRepoIds: finishedThisRun });
    progress.pending = pendingCount();
    await continueAsNew<typeof repoGroupSyncWorkflow>({
      ...args,
      carry: {
        ...carry,
        cursor: { afterId: lastStarted ?? cursor.afterId },
        progress,
        finishedRepoIds: [],
        healthUpdated: (carry.healthUpdated ?? 0) + finishedThisRun.length,
        handedOver: undefined,
      },
    });
  }
  await finishGroup(server, carry, queue, 'completed', null, finishedThisRun);
  return { ...progress, pending: 0 };
}

async function finishGroup(
  server: string,
  carry: GroupCarry,
  queue: RepoRef[],
  state: 'completed' | 'failed' | 'canceled',
  error: { msg: string } | null,
  finishedThisRun: number[],
): Promise<void> {
  const { taskId, progress } = carry;
  const bounded = carry.pending === undefined;
  const healthIds = bounded ? finishedThisRun : carry.finishedRepoIds;
  const reposUpdated = bounded ? (carry.healthUpdated ?? 0) + finishedThisRun.length : healthIds.length;
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
      not_started: (bounded ? queue.slice(0, LISTED_NAMES) : queue).map((r) => r.name),
    },
  });
  await db.recordStage({
    taskId,
    position: STAGE.health,
    name: 'update repo health',
    detail: { state: 'running' },
  });
  const health = await db.updateRepoHealth({ server, serverRepoIds: healthIds });
  await db.recordStage({
    taskId,
    position: STAGE.health,
    name: 'update repo health',
    detail: { state: 'completed', rollup: health.rollup, repos_updated: reposUpdated },
  });
  await db.finishTaskRecord({ taskId, state, error });
  if (patched(PATCHES.groupSearchAttributes)) {
    // progress.failed: bounded runs keep only the first failed names.
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.failedRepos, value: progress.failed }]);
  }
}
