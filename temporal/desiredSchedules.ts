import { createHash } from 'node:crypto';
import type { IniConfig } from '../config/iniConfigSchema.js';
import type { PulpConfig } from '../config/pulpConfigSchema.js';
import type { RepoGroupSyncArgs, RepoRegistrationArgs } from '../workflows/args.js';
import { repoGroupSyncWorkflow } from '../workflows/repoGroupSync.js';
import { repoRegistrationWorkflow } from '../workflows/repoRegistration.js';
import { type SweepStaleTasksArgs, sweepStaleTasksWorkflow } from '../workflows/sweepStaleTasks.js';
import {
  repoGroupSyncScheduleId,
  repoRegistrationScheduleId,
  SWEEP_STALE_TASKS_SCHEDULE_ID,
} from './names.js';

/**
 * Schedules run to completion inside the workflow, which enforces max_runtime itself and
 * cleans up (cancels Pulp tasks). The Temporal execution timeout is only a backstop for a
 * workflow that could not clean up, so it is max_runtime plus this margin.
 */
export const EXECUTION_TIMEOUT_MARGIN_SECONDS = 15 * 60;

/**
 * The stale-task sweeper's cadence. A run takes seconds; an execution still going after the
 * timeout is stuck (no worker) and the next run takes over. A missed run is not caught up: the
 * next one does the same work.
 */
export const SWEEP_STALE_TASKS_CRON = '*/10 * * * *';
const SWEEP_STALE_TASKS_TIMEOUT_SECONDS = 15 * 60;
const SWEEP_STALE_TASKS_CATCHUP_WINDOW = '1 minute';
/**
 * A task queued 10 minutes ago has had its workflow start (the API starts it right after the
 * row); pages of 100 rows, 10 per run, keep a run to seconds.
 */
const SWEEP_STALE_TASKS_ARGS: SweepStaleTasksArgs = {
  staleAfterSeconds: 10 * 60,
  pageSize: 100,
  maxPages: 10,
};

export interface DesiredSchedule {
  scheduleId: string;
  /** The Pulp server the schedule works on; null for Pulp Manager's own (the sweeper). */
  server: string | null;
  /** The repo group a group-sync schedule runs: with `server`, the runs' search attributes. */
  repoGroup: string | null;
  cron: string;
  workflowType: string;
  /** Prefix of the ids of the runs; Temporal appends the nominal start time. */
  workflowId: string;
  args: [RepoGroupSyncArgs] | [RepoRegistrationArgs] | [SweepStaleTasksArgs];
  taskQueue: string;
  executionTimeoutSeconds: number;
  catchupWindow: string;
  /** Hash of everything above; an unchanged hash means no update is needed. */
  configHash: string;
}

function withHash(s: Omit<DesiredSchedule, 'configHash'>): DesiredSchedule {
  const configHash = createHash('sha256').update(JSON.stringify(s)).digest('hex').slice(0, 16);
  return { ...s, configHash };
}

/** The Temporal Schedules that pulp_config.yml asks for, plus the stale-task sweeper, sorted by id. */
export function desiredSchedules(cfg: PulpConfig, ini: IniConfig): DesiredSchedule[] {
  const common = { taskQueue: ini.temporal.task_queue, catchupWindow: ini.temporal.schedule_catchup_window };
  const out: DesiredSchedule[] = [
    withHash({
      scheduleId: SWEEP_STALE_TASKS_SCHEDULE_ID,
      server: null,
      repoGroup: null,
      cron: SWEEP_STALE_TASKS_CRON,
      // Named from the function itself: a renamed workflow cannot leave a schedule behind.
      workflowType: sweepStaleTasksWorkflow.name,
      workflowId: SWEEP_STALE_TASKS_SCHEDULE_ID,
      args: [{ ...SWEEP_STALE_TASKS_ARGS }],
      taskQueue: ini.temporal.task_queue,
      executionTimeoutSeconds: SWEEP_STALE_TASKS_TIMEOUT_SECONDS,
      catchupWindow: SWEEP_STALE_TASKS_CATCHUP_WINDOW,
    }),
  ];
  for (const [server, serverCfg] of Object.entries(cfg.pulp_servers)) {
    for (const [group, link] of Object.entries(serverCfg.repo_groups)) {
      if (link.schedule === undefined) continue;
      const groupCfg = cfg.repo_groups[group];
      const args: RepoGroupSyncArgs = {
        server,
        repoGroup: group,
        regexInclude: groupCfg?.regex_include,
        regexExclude: groupCfg?.regex_exclude,
        maxConcurrentSyncs: link.max_concurrent_syncs,
        maxRuntimeSeconds: link.max_runtime.seconds,
        sourceServer: link.pulp_master,
        syncOptions: link.sync_options,
        debPublishMode: link.deb_publish_mode,
      };
      const scheduleId = repoGroupSyncScheduleId(server, group);
      out.push(
        withHash({
          scheduleId,
          server,
          repoGroup: group,
          cron: link.schedule,
          workflowType: repoGroupSyncWorkflow.name,
          workflowId: scheduleId,
          args: [JSON.parse(JSON.stringify(args)) as RepoGroupSyncArgs],
          executionTimeoutSeconds: link.max_runtime.seconds + EXECUTION_TIMEOUT_MARGIN_SECONDS,
          ...common,
        }),
      );
    }
    const reg = serverCfg.repo_config_registration;
    if (reg) {
      const args: RepoRegistrationArgs = {
        server,
        regexInclude: reg.regex_include,
        regexExclude: reg.regex_exclude,
        maxRuntimeSeconds: reg.max_runtime.seconds,
      };
      const scheduleId = repoRegistrationScheduleId(server);
      out.push(
        withHash({
          scheduleId,
          server,
          repoGroup: null,
          cron: reg.schedule,
          workflowType: repoRegistrationWorkflow.name,
          workflowId: scheduleId,
          args: [JSON.parse(JSON.stringify(args)) as RepoRegistrationArgs],
          executionTimeoutSeconds: reg.max_runtime.seconds + EXECUTION_TIMEOUT_MARGIN_SECONDS,
          ...common,
        }),
      );
    }
  }
  return out.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}
