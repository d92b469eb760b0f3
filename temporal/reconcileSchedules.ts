import {
  type Client,
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  type ScheduleOptions,
  ScheduleOverlapPolicy,
  type ScheduleUpdateOptions,
} from '@temporalio/client';
import type { DesiredSchedule } from './desiredSchedules.js';
import { isManagedScheduleId, MANAGED_BY_MEMO } from './names.js';
import { SEARCH_ATTRIBUTES } from './searchAttributes.js';

const CONFIG_HASH_MEMO_KEY = 'pulpManagerConfigHash';

export interface SchedulePlan {
  create: DesiredSchedule[];
  update: DesiredSchedule[];
  /** Managed schedules that the config no longer asks for. */
  remove: string[];
  unchanged: string[];
  /** Ids the config wants but that belong to somebody else: left alone and reported. */
  conflicts: string[];
}

export const planIsEmpty = (p: SchedulePlan) => p.create.length + p.update.length + p.remove.length === 0;

function isManaged(memo: Record<string, unknown> | undefined): boolean {
  return memo?.managedBy === MANAGED_BY_MEMO.managedBy;
}

/**
 * Everything a schedule is made of, rebuilt from config each time: `describe()` reports cron
 * as calendars, and an update that merged with it would keep the old times.
 */
function scheduleBody(d: DesiredSchedule): Omit<ScheduleUpdateOptions, 'state'> {
  return {
    spec: { cronExpressions: [d.cron] },
    action: {
      type: 'startWorkflow',
      workflowType: d.workflowType,
      workflowId: d.workflowId,
      taskQueue: d.taskQueue,
      args: d.args,
      workflowExecutionTimeout: `${d.executionTimeoutSeconds}s`,
      memo: { [CONFIG_HASH_MEMO_KEY]: d.configHash },
      // Scheduled runs are found by server and group from their first event on.
      typedSearchAttributes: [
        ...(d.server ? [{ key: SEARCH_ATTRIBUTES.pulpServer, value: d.server }] : []),
        ...(d.repoGroup ? [{ key: SEARCH_ATTRIBUTES.repoGroup, value: d.repoGroup }] : []),
      ],
    },
    // A run still going when the next is due is skipped (and counted by Temporal as skipped).
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: d.catchupWindow },
  };
}

async function listManagedIds(client: Client): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const s of client.schedule.list()) {
    if (isManagedScheduleId(s.scheduleId) && isManaged(s.memo)) ids.add(s.scheduleId);
  }
  return ids;
}

/**
 * Compares the config's schedules with Temporal's. Desired ids are read with describe()
 * (consistent); stale managed ids come from list(), which is eventually consistent, so a
 * schedule deleted moments ago may still show up and is then simply not found on delete.
 */
export async function planSchedules(
  client: Client,
  desired: readonly DesiredSchedule[],
): Promise<SchedulePlan> {
  const plan: SchedulePlan = { create: [], update: [], remove: [], unchanged: [], conflicts: [] };
  for (const d of desired) {
    try {
      const desc = await client.schedule.getHandle(d.scheduleId).describe();
      if (!isManaged(desc.memo)) plan.conflicts.push(d.scheduleId);
      else if (desc.action.memo?.[CONFIG_HASH_MEMO_KEY] === d.configHash) plan.unchanged.push(d.scheduleId);
      else plan.update.push(d);
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
      plan.create.push(d);
    }
  }
  const wanted = new Set(desired.map((d) => d.scheduleId));
  plan.remove = [...(await listManagedIds(client))].filter((id) => !wanted.has(id)).sort();
  return plan;
}

export async function applySchedulePlan(client: Client, plan: SchedulePlan): Promise<void> {
  for (const d of plan.create) {
    const options: ScheduleOptions = {
      scheduleId: d.scheduleId,
      ...scheduleBody(d),
      memo: { ...MANAGED_BY_MEMO },
    };
    try {
      await client.schedule.create(options);
    } catch (err) {
      // Every replica (workers, API) applies the config at start-up: one created it meanwhile.
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      await client.schedule
        .getHandle(d.scheduleId)
        .update((prev) => ({ ...scheduleBody(d), state: prev.state }));
    }
  }
  for (const d of plan.update) {
    // Pausing (and its note) is an operator's decision: an update from config keeps it.
    await client.schedule
      .getHandle(d.scheduleId)
      .update((prev) => ({ ...scheduleBody(d), state: prev.state }));
  }
  for (const id of plan.remove) {
    try {
      await client.schedule.getHandle(id).delete();
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
  }
}

/** One line per change, for `config apply --dry-run` and start-up logs. */
export function describeSchedulePlan(plan: SchedulePlan): string[] {
  return [
    ...plan.create.map((d) => `schedule create ${d.scheduleId} (${d.cron})`),
    ...plan.update.map((d) => `schedule update ${d.scheduleId} (${d.cron})`),
    ...plan.remove.map((id) => `schedule delete ${id}`),
    ...plan.conflicts.map((id) => `schedule ${id} exists but was not created by pulp-manager: left alone`),
  ];
}
