import type { Client } from '@temporalio/client';
import { MANAGED_BY_MEMO, MANAGED_SCHEDULE_PREFIXES } from '../temporal/names.js';

export interface ManagedScheduleState {
  scheduleId: string;
  /** The server part of the id (`repo-group-sync/<server>/<group>`, `repo-registration/<server>`). */
  server: string;
  paused: boolean;
}

function serverOf(scheduleId: string): string | undefined {
  const prefix = MANAGED_SCHEDULE_PREFIXES.find((p) => scheduleId.startsWith(p));
  if (prefix === undefined) return undefined;
  // Server names are host[:port]: they never contain a slash; group names may.
  return scheduleId.slice(prefix.length).split('/')[0];
}

/**
 * The paused flag of every schedule this project manages (id prefix and memo, as the
 * reconciler decides), read with list(): eventually consistent, which is fine for a gauge.
 * The gRPC deadline ends the listing, so a down Temporal costs at most `timeoutMs`.
 */
export async function readManagedScheduleStates(
  client: Client,
  timeoutMs: number,
): Promise<ManagedScheduleState[]> {
  return client.connection.withDeadline(Date.now() + timeoutMs, async () => {
    const states: ManagedScheduleState[] = [];
    for await (const s of client.schedule.list({ pageSize: 1000 })) {
      const server = serverOf(s.scheduleId);
      if (server === undefined || s.memo?.managedBy !== MANAGED_BY_MEMO.managedBy) continue;
      states.push({ scheduleId: s.scheduleId, server, paused: s.state.paused });
    }
    return states;
  });
}
