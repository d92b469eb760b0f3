import type { Client } from '@temporalio/client';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pulp_server_repos, pulp_servers, repos, tasks } from '../../db/schema.js';
import { groupRecords, groupResultWithin, runningTaskRows, stagesOf } from '../support/groupSyncRecords.js';
import {
  allCompleted,
  expectOneCompletedSyncEach,
  type MidGroupFaultRepos,
  registerMidGroupFaultRepos,
  startMidGroupFaultGroup,
  untilMidGroup,
} from '../support/midGroupFault.js';
import { type PipelineHarness, startPipelineHarness } from '../support/pipelineHarness.js';
import { type PrivateMariaDb, startPrivateMariaDb } from '../support/privateMariaDb.js';
import { portAccepts } from '../support/serviceProcess.js';
import { stack } from '../support/stack.js';

// The reporting database goes away for 60 s while a group sync runs. It is a private MariaDB
// (the shared one must never be stopped); Temporal and Pulp are the shared stack's. 60 s is
// longer than the in-worker retries of a DB local activity (DB_ACTIVITY's localRetryThreshold):
// the backoffs must become durable timers and the workflows go on when the database is back.
const run = `mo${Date.now().toString(36)}`;
const server = stack.pulp.primary.name;
// Shorter than the outage: the slow sync finishes in Pulp while the database is down, so the
// activities that record it must retry until the database is back.
const SLOW_SYNC_MS = 15_000;
const OUTAGE_MS = 60_000;
const DB_ACTIVITIES = new Set([
  'startTaskRecord',
  'finishTaskRecord',
  'recordStage',
  'linkTaskToServerRepo',
  'loadRepoSyncTarget',
  'selectReposForSync',
  'updateRepoHealth',
]);

interface RetriedActivity {
  workflowId: string;
  activity: string;
  attempt: number;
  local: boolean;
}

/**
 * Activities of a workflow that succeeded only after failed attempts, from its history. The
 * workflows run DB calls as local activities: their attempts are in the core's marker data (a
 * JSON payload with `activity_type` and `attempt`), not in ActivityTaskStarted events.
 */
async function retriedActivities(client: Client, workflowId: string): Promise<RetriedActivity[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const typeOf = new Map<string, string>();
  const retried: RetriedActivity[] = [];
  for (const event of history.events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) typeOf.set(String(event.eventId), scheduled.activityType?.name ?? '?');
    const started = event.activityTaskStartedEventAttributes;
    if (started && (started.attempt ?? 1) > 1) {
      const activity = typeOf.get(String(started.scheduledEventId)) ?? '?';
      retried.push({ workflowId, activity, attempt: started.attempt ?? 1, local: false });
    }
    const marker = event.markerRecordedEventAttributes;
    if (marker?.markerName === 'core_local_activity') {
      const data = marker.details?.data?.payloads?.[0]?.data;
      if (!data) throw new Error(`${workflowId}: local activity marker ${event.eventId} has no data`);
      const la = JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type: string; attempt: number };
      if (la.attempt > 1)
        retried.push({ workflowId, activity: la.activity_type, attempt: la.attempt, local: true });
    }
  }
  return retried;
}

/**
 * Timers of at most two minutes a workflow started: a local activity's backoff once it exceeds
 * DB_ACTIVITY's localRetryThreshold (at most its maximumInterval). The group's own timer is its
 * max_runtime deadline (30 min here) and does not count.
 */
async function backoffTimers(client: Client, workflowId: string): Promise<number> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).filter((e) => {
    const timeout = e.timerStartedEventAttributes?.startToFireTimeout;
    return timeout != null && Number(timeout.seconds ?? 0) <= 120;
  }).length;
}

describe('MariaDB down for 60 s mid-group', () => {
  let mariadb: PrivateMariaDb | undefined;
  let h: PipelineHarness | undefined;
  let faultRepos: MidGroupFaultRepos | undefined;

  beforeAll(async () => {
    mariadb = await startPrivateMariaDb();
    h = await startPipelineHarness({ database: mariadb.settings });
    faultRepos = await registerMidGroupFaultRepos(run, SLOW_SYNC_MS);
  });

  afterAll(async () => {
    if (mariadb && !mariadb.isRunning()) await mariadb.start();
    await h?.close();
    await mariadb?.dispose();
    await faultRepos?.dispose();
  });

  it('DB activities retry, nothing is lost: the group completes with its stages and health rows', async () => {
    if (!h || !mariadb || !faultRepos)
      throw new Error('beforeAll did not set up the harness, MariaDB and the repos');
    const harness = h;
    const { slowRepo, repoNames } = faultRepos;
    const since = new Date();
    const handle = await startMidGroupFaultGroup(harness, run);
    await untilMidGroup(harness, handle, slowRepo, since);

    const { host, port } = mariadb.settings;
    const stoppedAt = new Date();
    await mariadb.stop();
    expect(await portAccepts(host, port), 'MariaDB must be down during the outage').toBe(false);
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    await mariadb.start();

    const result = await groupResultWithin(handle, 420_000, () => 'after the database came back');
    expect(result).toEqual(allCompleted(repoNames.length));
    // Every task row and stage made it to the database.
    const { group, children } = await groupRecords(harness.db, handle.workflowId);
    expect(group.state).toBe('completed');
    expect(group.date_finished).not.toBeNull();
    expect([...children.keys()].sort()).toEqual(repoNames);
    for (const [name, child] of children) {
      expect(child.state, name).toBe('completed');
      expect(child.date_finished, name).not.toBeNull();
      const [syncStage] = await stagesOf(harness.db, child.id);
      expect(syncStage, name).toMatchObject({ name: 'sync repo', detail: { state: 'completed' } });
    }
    expect(await runningTaskRows(harness.db)).toEqual([]);
    const groupStages = await stagesOf(harness.db, group.id);
    expect(groupStages.map((s) => [s.position, s.name])).toEqual([
      [1, 'reconcile repos'],
      [2, 'sync repos'],
      [3, 'update repo health'],
    ]);
    expect(groupStages[0]?.detail).toMatchObject({ state: 'completed' });
    expect(groupStages[1]?.detail).toMatchObject({
      state: 'completed',
      total: repoNames.length,
      completed: repoNames.length,
      failed_repos: [],
      not_started: [],
    });
    expect(groupStages[2]?.detail).toMatchObject({ state: 'completed', repos_updated: repoNames.length });

    const health = await harness.db
      .select({ name: repos.name, health: pulp_server_repos.repo_sync_health })
      .from(pulp_server_repos)
      .innerJoin(repos, eq(repos.id, pulp_server_repos.repo_id));
    expect(
      health
        .filter((r) => repoNames.includes(r.name))
        .map((r) => [r.name, r.health])
        .sort(),
    ).toEqual(repoNames.map((n) => [n, 'green']));
    const [serverRow] = await harness.db.select().from(pulp_servers).where(eq(pulp_servers.name, server));
    expect(serverRow?.repo_sync_health_rollup).not.toBeNull();
    expect(serverRow?.repo_sync_health_rollup_date?.getTime()).toBeGreaterThan(stoppedAt.getTime());

    await expectOneCompletedSyncEach(repoNames, since);

    // No duplicate task rows: one per workflow run (the database belongs to this test), and
    // each repo's row is the one of its repo-sync run.
    const duplicated = await harness.db
      .select({ workflowId: tasks.workflow_id, runId: tasks.run_id, rows: sql<number>`COUNT(*)` })
      .from(tasks)
      .groupBy(tasks.workflow_id, tasks.run_id, tasks.task_type)
      .having(sql`COUNT(*) > 1`);
    expect(duplicated).toEqual([]);
    const childRows = await harness.db.select().from(tasks).where(eq(tasks.task_type, 'repo_sync'));
    expect(childRows).toHaveLength(repoNames.length);
    for (const [name, child] of children) {
      const desc = await harness.client.workflow.getHandle(`repo-sync/${server}/${name}`).describe();
      expect(child.run_id, name).toBe(desc.runId);
    }

    // The outage really hit the pipeline: some database activity failed and succeeded on a
    // later attempt (the only fault here is the database).
    const retried = (
      await Promise.all(
        [handle.workflowId, ...repoNames.map((n) => `repo-sync/${server}/${n}`)].map((id) =>
          retriedActivities(harness.client, id),
        ),
      )
    ).flat();
    const dbRetries = retried.filter((r) => DB_ACTIVITIES.has(r.activity));
    expect(dbRetries, JSON.stringify(retried)).not.toEqual([]);
    // And the retries waited on durable timers, not inside a held workflow task.
    const timers = await Promise.all(
      [handle.workflowId, ...repoNames.map((n) => `repo-sync/${server}/${n}`)].map((id) =>
        backoffTimers(harness.client, id),
      ),
    );
    expect(
      timers.reduce((a, b) => a + b, 0),
      'local activity backoff timers in the group and its repo syncs',
    ).toBeGreaterThan(0);
  });
});
