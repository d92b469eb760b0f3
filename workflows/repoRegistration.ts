import { ApplicationFailure, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { RepoConfigRegistration } from '../activities/pulp/repoConfigActivities.js';
import { DB_ACTIVITY, PULP_CALL_ACTIVITY } from './activityOptions.js';
import type { RepoRegistrationArgs } from './args.js';
import { endTaskOnError } from './taskFailure.js';

const db = proxyLocalActivities<Activities>(DB_ACTIVITY);
const pulpCall = proxyActivities<Activities>(PULP_CALL_ACTIVITY);

const STAGE = { register: 0, reconcile: 1 } as const;
/** Lists of names in a stage are cut here: a first registration may create thousands. */
const NAMES_IN_STAGE = 200;

function names(list: string[]): string[] {
  return list.length <= NAMES_IN_STAGE
    ? list
    : [...list.slice(0, NAMES_IN_STAGE), `… and ${list.length - NAMES_IN_STAGE} more`];
}

function problemsOf(r: RepoConfigRegistration): string[] {
  return [...r.fileErrors, ...Object.entries(r.failed).map(([file, why]) => `${file}: ${why}`)];
}

/**
 * Registers on a server the repositories declared in the repo config (git or a local
 * directory): one activity clones, parses and applies (the Vault secrets of remotes never
 * leave it), then the DB is reconciled with Pulp. A broken file fails the task with its path,
 * after every other file has been applied.
 */
export async function repoRegistrationWorkflow(args: RepoRegistrationArgs): Promise<RepoConfigRegistration> {
  const { server } = args;
  // max_runtime bounds the whole registration, retries included.
  const runtimeMs = Math.max(60, args.maxRuntimeSeconds) * 1000;
  const registration = proxyActivities<Activities>({
    scheduleToCloseTimeout: runtimeMs,
    startToCloseTimeout: runtimeMs,
    heartbeatTimeout: '2 minutes',
    retry: {
      initialInterval: '10 seconds',
      backoffCoefficient: 2,
      maximumInterval: '2 minutes',
      maximumAttempts: 3,
    },
  });
  const taskId = await db.startTaskRecord({
    taskId: args.taskId,
    name: `repo registration on ${server}`,
    taskType: 'repo_creation_from_git',
    server,
    args: {
      server,
      regex_include: args.regexInclude ?? null,
      regex_exclude: args.regexExclude ?? null,
      max_runtime_seconds: args.maxRuntimeSeconds,
    },
  });
  let stage: number = STAGE.register;
  let stageName = 'register repos from repo config';
  try {
    await db.recordStage({ taskId, position: stage, name: stageName, detail: { state: 'running' } });
    const result = await registration.registerReposFromRepoConfig({
      server,
      regexInclude: args.regexInclude,
      regexExclude: args.regexExclude,
    });
    const problems = problemsOf(result);
    await db.recordStage({
      taskId,
      position: STAGE.register,
      name: stageName,
      detail: {
        state: problems.length > 0 ? 'failed' : 'completed',
        source: result.source,
        commit: result.commit,
        files: result.files,
        filtered_out: result.filteredOut,
        selected: result.selected,
        created: names(result.created),
        updated: names(result.updated),
        unchanged: result.unchanged,
        failed: result.failed,
        file_errors: result.fileErrors,
      },
      error:
        problems.length > 0 ? { msg: `${problems.length} repo config problem(s)`, detail: problems } : null,
    });

    // Repos that did apply are reconciled even when some files were broken.
    stage = STAGE.reconcile;
    stageName = 'reconcile repos';
    await db.recordStage({ taskId, position: stage, name: stageName, detail: { state: 'running' } });
    const counts = await pulpCall.reconcileServerRepos({ server });
    await db.recordStage({
      taskId,
      position: stage,
      name: stageName,
      detail: { state: 'completed', ...counts },
    });

    if (problems.length > 0) {
      const msg = `repo registration on ${server}: ${problems.length} problem(s): ${problems.join('; ')}`;
      await db.finishTaskRecord({ taskId, state: 'failed', error: { msg, detail: problems } });
      throw ApplicationFailure.nonRetryable(msg, 'RepoConfigInvalid', result);
    }
    await db.finishTaskRecord({ taskId, state: 'completed' });
    return result;
  } catch (err) {
    if (err instanceof ApplicationFailure && err.type === 'RepoConfigInvalid') throw err;
    throw await endTaskOnError(taskId, err, {
      stage: { position: stage, name: stageName },
      context: `${stageName} on ${server}`,
      type: 'RepoRegistrationFailed',
    });
  }
}
