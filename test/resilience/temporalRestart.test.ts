import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  groupRecords,
  groupResultWithin,
  pulpSyncTasksSince,
  runningTaskRows,
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
import { type PrivateTemporal, startPrivateTemporal } from '../support/privateTemporal.js';
import { stackPulpClient } from '../support/pulp.js';
import { portAccepts } from '../support/serviceProcess.js';
import { stack } from '../support/stack.js';

// An operator restarts the Temporal server while a group sync runs. The server is a private
// dev server (the shared one must never be stopped) with its history in a SQLite file that
// survives the restart; the worker is the real one, in this process, and is not restarted.
const run = `tr${Date.now().toString(36)}`;
const primary = stackPulpClient(stack.pulp.primary);
// Longer than the activities' 2-minute heartbeat timeout (PULP_TASK_ACTIVITY): when Temporal is
// back it times the running attempts out, and the next attempt must follow the same Pulp task,
// which nobody canceled.
const OUTAGE_MS = 150_000;
// Longer than the outage plus the server's restart: the slow sync is still running in Pulp when
// Temporal is back.
const SLOW_SYNC_MS = OUTAGE_MS + 60_000;

describe('Temporal server down longer than the heartbeat timeout mid-group', () => {
  let temporal: PrivateTemporal | undefined;
  let h: PipelineHarness | undefined;
  let faultRepos: MidGroupFaultRepos | undefined;

  beforeAll(async () => {
    temporal = await startPrivateTemporal();
    h = await startPipelineHarness({ temporal: { address: temporal.address } });
    faultRepos = await registerMidGroupFaultRepos(run, SLOW_SYNC_MS);
  });

  afterAll(async () => {
    // The worker shuts down cleanly only against a running server.
    if (temporal && !temporal.isRunning()) await temporal.start();
    await h?.close();
    await temporal?.dispose();
    await faultRepos?.dispose();
  });

  it('the same worker recovers, the group completes, one Pulp sync per repo (never canceled), no task left running', async () => {
    if (!h || !temporal || !faultRepos)
      throw new Error('beforeAll did not set up the harness, Temporal and the repos');
    const harness = h;
    const { slowRepo, repoNames } = faultRepos;
    const since = new Date();
    const handle = await startMidGroupFaultGroup(harness, run);
    await untilMidGroup(harness, handle, slowRepo, since);
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
      480_000,
      () => `worker state ${harness.worker.getState()} after the Temporal restart`,
    );
    expect(result).toEqual(allCompleted(repoNames.length));
    // Recovered by itself: no new worker, no new connection.
    expect(harness.worker).toBe(workerBefore);
    expect(harness.worker.getState()).toBe('RUNNING');

    const records = await groupRecords(harness.db, handle.workflowId);
    expect(records.group.state).toBe('completed');
    expect([...records.children.keys()].sort()).toEqual(repoNames);
    for (const [name, child] of records.children) expect(child.state, name).toBe('completed');
    expect(await runningTaskRows(harness.db)).toEqual([]);

    await expectOneCompletedSyncEach(repoNames, since);
    // The slow sync spanned the outage: started before the stop, finished after it.
    const [slowSync] = await pulpSyncTasksSince(primary, slowRepo, since);
    expect(new Date(slowSync?.started_at ?? 0).getTime()).toBeLessThan(stoppedAt.getTime());
    expect(new Date(slowSync?.finished_at ?? 0).getTime()).toBeGreaterThan(stoppedAt.getTime() + OUTAGE_MS);
  });
});
