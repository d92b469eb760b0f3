import {
  type Client,
  type ScheduleDescription,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
} from '@temporalio/client';
import { MANAGED_BY_MEMO, MANAGED_SCHEDULE_PREFIXES } from '../../temporal/names.js';
import { notFound } from '../errors.js';

// /v1/schedules replaces the original's /v1/rq_jobs: the Temporal Schedules this project
// created from pulp_config.yml (memo managedBy). Schedules of anyone else are invisible here.

const isManaged = (scheduleId: string, memo: Record<string, unknown> | undefined) =>
  MANAGED_SCHEDULE_PREFIXES.some((p) => scheduleId.startsWith(p)) &&
  memo?.managedBy === MANAGED_BY_MEMO.managedBy;

export interface ScheduleView {
  schedule_id: string;
  kind: 'repo_group_sync' | 'repo_registration';
  pulp_server_name: string;
  repo_group: string | null;
  workflow_type: string | null;
  task_queue: string | null;
  paused: boolean;
  note: string | null;
  overlap_policy: string;
  next_action_times: string[];
  last_action_time: string | null;
  recent_actions: { scheduled_at: string; taken_at: string; workflow_id: string; run_id: string }[];
  running_workflows: { workflow_id: string; run_id: string }[];
  num_actions_taken: number;
  num_actions_skipped_overlap: number;
  num_actions_missed_catchup_window: number;
  created_at: string;
  last_updated_at: string | null;
}

function idParts(scheduleId: string): Pick<ScheduleView, 'kind' | 'pulp_server_name' | 'repo_group'> {
  const [kind = '', server = '', ...group] = scheduleId.split('/');
  return {
    kind: kind === 'repo-registration' ? 'repo_registration' : 'repo_group_sync',
    pulp_server_name: server,
    repo_group: group.length > 0 ? group.join('/') : null,
  };
}

export function scheduleView(d: ScheduleDescription): ScheduleView {
  const action = d.action.type === 'startWorkflow' ? d.action : undefined;
  const recent = d.info.recentActions.map((a) => ({
    scheduled_at: a.scheduledAt.toISOString(),
    taken_at: a.takenAt.toISOString(),
    workflow_id: a.action.workflow.workflowId,
    run_id: a.action.workflow.firstExecutionRunId,
  }));
  return {
    schedule_id: d.scheduleId,
    ...idParts(d.scheduleId),
    workflow_type: action?.workflowType ?? null,
    task_queue: action?.taskQueue ?? null,
    paused: d.state.paused,
    note: d.state.note || null,
    overlap_policy: String(d.policies.overlap),
    next_action_times: d.info.nextActionTimes.map((t) => t.toISOString()),
    last_action_time: recent.at(-1)?.taken_at ?? null,
    recent_actions: recent,
    running_workflows: d.info.runningActions.map((a) => ({
      workflow_id: a.workflow.workflowId,
      run_id: a.workflow.firstExecutionRunId,
    })),
    num_actions_taken: d.info.numActionsTaken,
    num_actions_skipped_overlap: d.info.numActionsSkippedOverlap,
    num_actions_missed_catchup_window: d.info.numActionsMissedCatchupWindow,
    created_at: d.info.createdAt.toISOString(),
    last_updated_at: d.info.lastUpdatedAt?.toISOString() ?? null,
  };
}

async function describeManaged(client: Client, scheduleId: string): Promise<ScheduleDescription> {
  try {
    const d = await client.schedule.getHandle(scheduleId).describe();
    if (!isManaged(d.scheduleId, d.memo)) throw notFound(`Schedule ${scheduleId}`);
    return d;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw notFound(`Schedule ${scheduleId}`);
    throw err;
  }
}

export async function describeSchedule(client: Client, scheduleId: string): Promise<ScheduleView> {
  return scheduleView(await describeManaged(client, scheduleId));
}

/**
 * One page of the managed schedules, by id. Temporal's list is eventually consistent and
 * lacks the counters, so each schedule of the page is described.
 */
export async function listSchedules(client: Client, page: number, pageSize: number) {
  const ids: string[] = [];
  for await (const s of client.schedule.list()) if (isManaged(s.scheduleId, s.memo)) ids.push(s.scheduleId);
  ids.sort();
  const pageIds = ids.slice((page - 1) * pageSize, page * pageSize);
  const items: ScheduleView[] = [];
  for (const id of pageIds) {
    try {
      items.push(scheduleView(await client.schedule.getHandle(id).describe()));
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err; // deleted since the list: leave it out
    }
  }
  return { items, page, page_size: pageSize, total: ids.length };
}

/** Runs the schedule's action now; while its previous run is still going the run is skipped. */
export async function triggerSchedule(client: Client, scheduleId: string): Promise<ScheduleView> {
  await describeManaged(client, scheduleId);
  await client.schedule.getHandle(scheduleId).trigger(ScheduleOverlapPolicy.SKIP);
  return describeSchedule(client, scheduleId);
}

export async function pauseSchedule(client: Client, scheduleId: string, note: string): Promise<ScheduleView> {
  await describeManaged(client, scheduleId);
  await client.schedule.getHandle(scheduleId).pause(note);
  return describeSchedule(client, scheduleId);
}

export async function unpauseSchedule(
  client: Client,
  scheduleId: string,
  note: string,
): Promise<ScheduleView> {
  await describeManaged(client, scheduleId);
  await client.schedule.getHandle(scheduleId).unpause(note);
  return describeSchedule(client, scheduleId);
}
