import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureRepository } from '../../activities/pulp/ensureRepository.js';
import { eventually } from '../support/eventually.js';
import { deleteReposByPrefix, fixtureRepoSpecs, registerFixtureRepos } from '../support/fixtureRepos.js';
import {
  groupRecords,
  groupResultWithin,
  pulpSyncTasksSince,
  runningTaskRows,
} from '../support/groupSyncRecords.js';
import { type PipelineHarness, startPipelineHarness } from '../support/pipelineHarness.js';
import { type PrivateTemporal, startPrivateTemporal } from '../support/privateTemporal.js';
import { stackPulpClient } from '../support/pulp.js';
import { portAccepts } from '../support/serviceProcess.js';
import { type SlowUpstream, startSlowUpstream } from '../support/slowUpstream.js';
import { stack } from '../support/stack.js';

// An operator restarts the Temporal server while a group sync runs. The server is a private
// dev server (the shared one must never be stopped) with its history in a SQLite file that
// survives the restart; the worker is the real one, in this process, and is not restarted.
const run = `tr${Date.now().toString(36)}`;
const primary = stackPulpClient(stack.pulp.primary);
const server = stack.pulp.primary.name;
// Sorts first (repos sync in name order), so the group is at its start when Temporal stops.
const slowRepo = `ext-${run}-0slow`;
const repoNames = [slowRepo, ...fixtureRepoSpecs(run).map((s) => s.name)].sort();
// Longer than the outage plus the server's restart: the slow sync is still running in Pulp when
// Temporal is back, so its activity must carry on following the same Pulp task.
const SLOW_SYNC_MS = 45_000;
const OUTAGE_MS = 10_000;

describe('Temporal server restarted mid-group', () => {
  let temporal: PrivateTemporal | undefined;
  let h: PipelineHarness | undefined;
  let slow: SlowUpstream | undefined;

  beforeAll(async () => {
    temporal = await startPrivateTemporal();
    h = await startPipelineHarness({ temporal: { address: temporal.address } });
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
    // The worker shuts down cleanly only against a running server.
    if (temporal && !temporal.isRunning()) await temporal.start();
    await h?.close();
    await temporal?.dispose();
    await slow?.close();
    await deleteReposByPrefix(primary, stack.pulp.primary.url, `ext-${run}-`);
  });

  it('the same worker recovers, the group completes, one Pulp sync per repo, no task left running', async () => {
    if (!h || !temporal) throw new Error('beforeAll did not set up the harness and the private Temporal');
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
    const workerBefore = harness.worker;
    const [host, port] = temporal.address.split(':');

    const stoppedAt = new Date();
    await temporal.stop();
    expect(await portAccepts(host ?? '', Number(port)), 'Temporal must be down during the outage').toBe(
      false,
    );
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    expect(harness.worker.getState(), 'worker state while Temporal is down').toBe('RUNNING');
    await temporal.start();

    const result = await groupResultWithin(
      handle,
      420_000,
      () => `worker state ${harness.worker.getState()} after the Temporal restart`,
    );
    expect(result).toEqual({
      total: repoNames.length,
      pending: 0,
      running: 0,
      completed: repoNames.length,
      failed: 0,
      skipped: 0,
      canceled: 0,
    });
    // Recovered by itself: no new worker, no new connection.
    expect(harness.worker).toBe(workerBefore);
    expect(harness.worker.getState()).toBe('RUNNING');

    const { group, children } = await groupRecords(harness.db, handle.workflowId);
    expect(group.state).toBe('completed');
    expect([...children.keys()].sort()).toEqual(repoNames);
    for (const [name, child] of children) expect(child.state, name).toBe('completed');
    expect(await runningTaskRows(harness.db)).toEqual([]);

    for (const name of repoNames) {
      const syncs = await pulpSyncTasksSince(primary, name, since);
      expect(
        syncs.map((t) => t.state),
        `Pulp sync tasks of ${name}`,
      ).toEqual(['completed']);
    }
    // The slow sync spanned the outage: started before the stop, finished after it.
    const [slowSync] = await pulpSyncTasksSince(primary, slowRepo, since);
    expect(new Date(slowSync?.started_at ?? 0).getTime()).toBeLessThan(stoppedAt.getTime());
    expect(new Date(slowSync?.finished_at ?? 0).getTime()).toBeGreaterThan(stoppedAt.getTime() + OUTAGE_MS);
  });
});
