import type { Client } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureRepository } from '../../activities/pulp/ensureRepository.js';
import { pulp_server_repos, pulp_servers, repos } from '../../db/schema.js';
import { eventually } from '../support/eventually.js';
import { deleteReposByPrefix, fixtureRepoSpecs, registerFixtureRepos } from '../support/fixtureRepos.js';
import {
  groupRecords,
  groupResultWithin,
  pulpSyncTasksSince,
  runningTaskRows,
  stagesOf,
} from '../support/groupSyncRecords.js';
import { type PipelineHarness, startPipelineHarness } from '../support/pipelineHarness.js';
import { type PrivateMariaDb, startPrivateMariaDb } from '../support/privateMariaDb.js';
import { stackPulpClient } from '../support/pulp.js';
import { portAccepts } from '../support/serviceProcess.js';
import { type SlowUpstream, startSlowUpstream } from '../support/slowUpstream.js';
import { stack } from '../support/stack.js';

// The reporting database goes away for 30 s while a group sync runs. It is a private MariaDB
// (the shared one must never be stopped); Temporal and Pulp are the shared stack's.
const run = `mo${Date.now().toString(36)}`;
const primary = stackPulpClient(stack.pulp.primary);
const server = stack.pulp.primary.name;
// Sorts first (repos sync in name order), so the group is at its start when the database stops.
const slowRepo = `ext-${run}-0slow`;
const repoNames = [slowRepo, ...fixtureRepoSpecs(run).map((s) => s.name)].sort();
// Shorter than the outage: the slow sync finishes in Pulp while the database is down, so the
// activities that record it must retry until the database is back.
const SLOW_SYNC_MS = 15_000;
const OUTAGE_MS = 30_000;
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

describe('MariaDB down for 30 s mid-group', () => {
  let mariadb: PrivateMariaDb | undefined;
  let h: PipelineHarness | undefined;
  let slow: SlowUpstream | undefined;

  beforeAll(async () => {
    mariadb = await startPrivateMariaDb();
    h = await startPipelineHarness({ database: mariadb.settings });
    slow = await startSlowUpstream(SLOW_SYNC_MS);
    await registerFixtureRepos(primary, fixtureRepoSpecs(run));
    await ensureRepository(primary, {
      name: slowRepo,
      repoType: 'file',
      basePath: `${run}/slow`,
      remote: { url: slow.manifestUrl, tls_validation: false, policy: 'immediate' },
    });
  });

  afterAll(async () => {
    if (mariadb && !mariadb.isRunning()) await mariadb.start();
    await h?.close();
    await mariadb?.dispose();
    await slow?.close();
    await deleteReposByPrefix(primary, stack.pulp.primary.url, `ext-${run}-`);
  });

  it('DB activities retry, nothing is lost: the group completes with its stages and health rows', async () => {
    if (!h || !mariadb) throw new Error('beforeAll did not set up the harness and the private MariaDB');
    const harness = h;
    const since = new Date();
    const handle = await harness.client.workflow.start('repoGroupSyncWorkflow', {
      taskQueue: harness.taskQueue,
      workflowId: `repo-group-sync/${server}/test-${run}`,
      args: [
        {
          server,
          regexInclude: `^ext-${run}-`,
          maxConcurrentSyncs: 2,
          maxRuntimeSeconds: 1800,
          debPublishMode: 'resign',
        },
      ],
    });

    // Mid-group: the slow repo's child is running and its Pulp sync has started; no child has
    // finished yet.
    await eventually(
      async () => {
        const [task] = await pulpSyncTasksSince(primary, slowRepo, since);
        expect(task?.state).toBe('running');
        const { group, children } = await groupRecords(harness.db, handle.workflowId);
        expect(group.state).toBe('running');
        expect(children.get(slowRepo)?.state).toBe('running');
        expect([...children.values()].filter((c) => c.state !== 'running')).toEqual([]);
      },
      180_000,
      500,
    );

    const { host, port } = mariadb.settings;
    const stoppedAt = new Date();
    await mariadb.stop();
    expect(await portAccepts(host, port), 'MariaDB must be down during the outage').toBe(false);
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    await mariadb.start();

    const result = await groupResultWithin(handle, 420_000, () => 'after the database came back');
    expect(result).toEqual({
      total: repoNames.length,
      pending: 0,
      running: 0,
      completed: repoNames.length,
      failed: 0,
      skipped: 0,
      canceled: 0,
    });

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

    for (const name of repoNames) {
      const syncs = await pulpSyncTasksSince(primary, name, since);
      expect(
        syncs.map((t) => t.state),
        `Pulp sync tasks of ${name}`,
      ).toEqual(['completed']);
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
  });
});
