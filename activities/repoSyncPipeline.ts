import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { Database } from '../db/client.js';
import type { TaskError } from '../db/schema.js';
import { closeOrphanedTask, finishTask, linkTaskToServerRepo, upsertStage } from '../db/taskRecords.js';
import { repoSyncTaskStart } from '../domain/repoSyncTask.js';
import { typePublishes } from '../pulp/repoEndpoints.js';
import type { SyncOptions } from '../pulp/syncOptions.js';
import type { createServerRepoActivities } from './db/serverRepoActivities.js';
import { classifySqlError } from './db/sqlFailures.js';
import type { createTaskActivities, StartTaskInput } from './db/taskActivities.js';
import { PulpTaskSteps } from './pulp/pulpTaskSteps.js';
import type { PulpServerClients } from './pulp/serverClients.js';
import type { RepoSyncSteps } from './pulp/syncActivities.js';

export interface RepoSyncPipelineInput {
  server: string;
  serverRepoId: number;
  repoName: string;
  parentTaskId?: number;
  syncOptions?: SyncOptions;
  debPublishMode: 'resign' | 'verbatim';
}

export type RepoSyncOutcome = 'published' | 'unchanged';

/** Stage positions and names of a repo sync's Task (the API shows them). */
export const REPO_SYNC_STAGES = {
  sync: { position: 0, name: 'sync repo' },
  banned: { position: 1, name: 'remove banned packages' },
  publish: { position: 2, name: 'publish repo' },
} as const;
type StageKey = keyof typeof REPO_SYNC_STAGES;

/** A database outage inside the pipeline is waited out this long before the attempt gives up. */
const DB_OUTAGE_BUDGET_MS = 30 * 60_000;

interface PipelineDeps {
  db: Database;
  clients: PulpServerClients;
  steps: RepoSyncSteps;
  tasks: ReturnType<typeof createTaskActivities>;
  repos: Pick<ReturnType<typeof createServerRepoActivities>, 'loadRepoSyncTarget'>;
}

/**
 * One repository's whole sync as one activity: task record → sync → remove banned packages →
 * publish → point the distribution, one statement per stage transition. Everything a new
 * attempt needs (task id, each stage's result, each Pulp task href) is in the heartbeat
 * details, so an attempt after a crash, a deploy or a Temporal outage resumes the stage and
 * the Pulp task where the last one was (PulpTaskSteps). One activity instead of three
 * activities and ten local activities keeps a repo's child workflow at 12 history events.
 */
export function createRepoSyncPipeline(deps: PipelineDeps) {
  return {
    async runRepoSyncPipeline(input: RepoSyncPipelineInput): Promise<RepoSyncOutcome> {
      const client = await deps.clients.forServer(input.server);
      const steps = new PulpTaskSteps(client);
      const db = <T>(what: string, fn: () => Promise<T>) => waitOutDbOutage(steps, what, fn);

      let taskId = steps.value<number>('taskId');
      if (taskId === undefined) {
        taskId = await db('start task record', () => deps.tasks.startTaskRecord(repoSyncTaskStart(input)));
        const id = taskId;
        await db('link task to repo', () => linkTaskToServerRepo(deps.db, id, input.serverRepoId));
        steps.remember('taskId', taskId);
      }
      const id = taskId;
      const stage = (key: StageKey, detail: Record<string, unknown>, error?: TaskError) =>
        db(`record stage ${key}`, () =>
          upsertStage(deps.db, { taskId: id, ...REPO_SYNC_STAGES[key], detail, error }),
        );
      const finish = async (outcome: RepoSyncOutcome) => {
        await db('finish task record', () => finishTask(deps.db, id, 'completed'));
        return outcome;
      };

      const target = await db('load repo', () =>
        deps.repos.loadRepoSyncTarget({ server: input.server, serverRepoId: input.serverRepoId }),
      );
      const { repoType, repoHref } = target;

      let sync = steps.value<Awaited<ReturnType<RepoSyncSteps['sync']>>>('syncResult');
      if (!sync) {
        await stage('sync', { state: 'running' });
        sync = await deps.steps.sync(steps, {
          server: input.server,
          repoType,
          repoHref,
          remoteHref: target.remoteHref,
          syncOptions: input.syncOptions,
        });
        await stage('sync', {
          state: 'completed',
          pulp_task: sync.taskHref,
          new_version: sync.createdVersionHref,
          adopted_running_sync: sync.adopted,
          sync_options: sync.sentOptions ?? {},
          ...(sync.ignoredOptions?.length
            ? {
                sync_options_ignored: sync.ignoredOptions,
                sync_options_ignored_reason: `not taken by ${repoType} syncs`,
              }
            : {}),
        });
        steps.remember('syncResult', sync);
      }
      let version = sync.createdVersionHref ?? sync.latestVersionHref;
      if (version === null) return finish('unchanged');
      if (!typePublishes(repoType)) {
        // The distribution serves the repository's latest version: the new version is live once
        // the sync completes (container as in the original; python see typePublishes).
        await stage('publish', {
          state: 'skipped',
          reason: `${repoType} repositories are served without a publication`,
        });
        return finish(sync.createdVersionHref ? 'published' : 'unchanged');
      }
      if (sync.syncPublishes && sync.createdVersionHref) {
        const created = version;
        const own = await steps.withHeartbeat(() =>
          deps.steps.versionPublication({ server: input.server, versionHref: created }),
        );
        if (own) {
          // rpm mirror_complete published the upstream's own metadata: a publication of ours (or
          // a banned-package removal) would replace it, and the original skipped both likewise.
          // The distribution is still updated as after any publish (a pinned one moves to it).
          await stage('publish', { state: 'running' });
          const served = await deps.steps.publish(steps, {
            server: input.server,
            repoType,
            remoteHref: target.remoteHref,
            versionHref: created,
            distributionHref: target.distributionHref,
            debPublishMode: input.debPublishMode,
            publicationHref: own,
          });
          await stage('publish', {
            state: 'completed',
            publication: own,
            published_by_sync: 'mirror_complete',
            version: created,
            distribution_updated: served.distributionUpdated,
            distribution_mode: served.distributionMode ?? null,
          });
          return finish('published');
        }
      }
      if (!sync.createdVersionHref) {
        const latest = version;
        const published = await steps.withHeartbeat(() =>
          deps.steps.versionHasPublication({ server: input.server, repoType, versionHref: latest }),
        );
        if (published) return finish('unchanged');
      }

      let banned = steps.value<Awaited<ReturnType<RepoSyncSteps['removeBanned']>>>('bannedResult');
      if (!banned) {
        await stage('banned', { state: 'running' });
        banned = await deps.steps.removeBanned(steps, {
          server: input.server,
          repoType,
          repoHref,
          versionHref: version,
          remoteFeed: target.remoteFeed,
          syncedVersionHref: sync.createdVersionHref,
        });
        await stage(
          'banned',
          banned.skippedReason
            ? { state: 'skipped', reason: banned.skippedReason }
            : { state: 'completed', removed: banned.removed, new_version: banned.newVersionHref },
        );
        steps.remember('bannedResult', banned);
      }
      version = banned.undoesSync ? sync.baseVersionHref : (banned.newVersionHref ?? version);
      if (banned.undoesSync && version !== null) {
        const base = version;
        const published = await steps.withHeartbeat(() =>
          deps.steps.versionHasPublication({ server: input.server, repoType, versionHref: base }),
        );
        if (published) {
          await stage('publish', {
            state: 'skipped',
            reason: `only banned packages were new: ${version} is already published`,
          });
          return finish('unchanged');
        }
      }
      if (version === null) {
        throw ApplicationFailure.nonRetryable('the repository has no version to publish', 'NoVersion');
      }

      await stage('publish', { state: 'running' });
      const published = await deps.steps.publish(steps, {
        server: input.server,
        repoType,
        remoteHref: target.remoteHref,
        versionHref: version,
        distributionHref: target.distributionHref,
        debPublishMode: input.debPublishMode,
      });
      await stage('publish', {
        state: 'completed',
        publication: published.publicationHref,
        version,
        distribution_updated: published.distributionUpdated,
      });
      return finish('published');
    },

    /**
     * Ends the Task of a workflow run that failed or was canceled, and the stage that was
     * running, whether or not the pipeline got as far as creating the row (it may have met a
     * database outage first): the row is found, or created, by its run.
     */
    async endTaskOfRun(input: {
      start: StartTaskInput;
      state: 'failed' | 'canceled';
      error: TaskError;
    }): Promise<void> {
      const taskId = await deps.tasks.startTaskRecord(input.start);
      await closeOrphanedTask(deps.db, taskId, input.state, input.error);
    },
  };
}

/**
 * Runs a database call, waiting out an outage (connection refused or lost, timeouts, deadlocks)
 * with backoff while the heartbeat ticker keeps the attempt alive: Pulp work already done is not
 * redone and the activity's attempts are kept for Pulp's own failures. A statement the database
 * rejects for what it says fails at once (classifySqlError). Cancellation ends the wait.
 */
async function waitOutDbOutage<T>(steps: PulpTaskSteps, what: string, fn: () => Promise<T>): Promise<T> {
  const ctx = Context.current();
  const since = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ApplicationFailure && err.nonRetryable) throw err;
      const classified = classifySqlError(err);
      if (classified !== err || Date.now() - since > DB_OUTAGE_BUDGET_MS || ctx.cancellationSignal.aborted) {
        throw classified;
      }
      const waitMs = Math.min(30_000, 500 * 2 ** Math.min(attempt, 10));
      if (attempt === 1 || attempt % 10 === 0) {
        log.warn('database unreachable; waiting it out', { what, attempt, waitMs, error: String(err) });
      }
      await steps.withHeartbeat(() => new Promise((r) => setTimeout(r, waitMs)));
    }
  }
}
