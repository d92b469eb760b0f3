import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pulp_server_repos, pulp_servers, repos, tasks } from '../../db/schema.js';
import {
  groupRecords,
  groupResultWithin,
  pulpSyncTasksSince,
  runningTaskRows,
  stagesOf,
} from '../support/groupSyncRecords.js';
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
import { stackPulpClient } from '../support/pulp.js';
import { portAccepts } from '../support/serviceProcess.js';
import { stack } from '../support/stack.js';

// The reporting database goes away for 60 s while a group sync runs. It is a private MariaDB
// (the shared one must never be stopped); Temporal and Pulp are the shared stack's. 60 s is
// longer than the in-worker retries of a DB local activity (DB_ACTIVITY's localRetryThreshold),
// whose backoffs then become durable timers; the repo pipeline activity waits the outage out
// inside its attempt. Either way the workflows go on when the database is back.
const run = `mo${Date.now().toString(36)}`;
const server = stack.pulp.primary.name;
// Shorter than the outage: the slow sync finishes in Pulp while the database is down, so the
// activities that record it must retry until the database is back.
const SLOW_SYNC_MS = 15_000;
const OUTAGE_MS = 60_000;

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

  it('database writes wait the outage out, nothing is lost: the group completes with its stages and health rows', async () => {
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
    const restartedAt = new Date();

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

    // The outage really hit the pipeline: the slow repo's Pulp sync finished while the
    // database was down, so the activity that records it had to wait the outage out, and did.
    const [slowSync] = await pulpSyncTasksSince(stackPulpClient(stack.pulp.primary), slowRepo, since);
    const finishedInPulp = new Date(slowSync?.finished_at ?? 0).getTime();
    expect(finishedInPulp).toBeGreaterThan(stoppedAt.getTime());
    expect(finishedInPulp).toBeLessThan(restartedAt.getTime());
    const slowChild = children.get(slowRepo);
    expect(slowChild?.state).toBe('completed');
    expect(slowChild?.date_finished?.getTime()).toBeGreaterThanOrEqual(restartedAt.getTime() - 1000);
  });
});
