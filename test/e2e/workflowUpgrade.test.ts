import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupRecords, runningTaskRows } from '../support/groupSyncRecords.js';
import {
  allCompleted,
  expectOneCompletedSyncEach,
  type MidGroupFaultRepos,
  registerMidGroupFaultRepos,
  startMidGroupFaultGroup,
  untilMidGroup,
} from '../support/midGroupFault.js';
import { type PipelineHarness, startPipelineHarness } from '../support/pipelineHarness.js';

// A release that changes repoSyncWorkflow (behind patched(), README "Deploying a new release")
// is rolled out while a group sync runs: the old worker stops gracefully, the new one replays
// the open group and the open repo syncs and finishes them. The same change without the patch
// fails replay of the recorded histories (test/replay/replay.test.ts).
const run = `up${Date.now().toString(36)}`;
const patchedRelease = fileURLToPath(new URL('../replay/fixtures/patchedChange.ts', import.meta.url));

describe('a workflow change deployed mid-group', () => {
  let h: PipelineHarness | undefined;
  let faultRepos: MidGroupFaultRepos | undefined;

  beforeAll(async () => {
    h = await startPipelineHarness();
    faultRepos = await registerMidGroupFaultRepos(run, 20_000);
  });

  afterAll(async () => {
    await h?.close();
    await faultRepos?.dispose();
  });

  it('the group started on the old code completes on the new worker, one Pulp sync per repo', async () => {
    if (!h || !faultRepos) throw new Error('beforeAll did not set up the harness and the repos');
    const { slowRepo, repoNames } = faultRepos;
    const since = new Date();
    const handle = await startMidGroupFaultGroup(h, run);
    await untilMidGroup(h, handle, slowRepo, since);

    await h.restartWorker({ workflowsPath: patchedRelease });

    expect(await handle.result()).toEqual(allCompleted(repoNames.length));
    const { group, children } = await groupRecords(h.db, handle.workflowId);
    expect(group.state).toBe('completed');
    for (const [name, child] of children) expect(child.state, name).toBe('completed');
    expect(await runningTaskRows(h.db)).toEqual([]);
    await expectOneCompletedSyncEach(repoNames, since);
    // Repo syncs started after the roll took the new branch: its timer is in their histories.
    const took = await Promise.all(
      [...children.values()].map(async (c) => {
        const history = await h?.client.workflow
          .getHandle(c.workflow_id ?? '', c.run_id ?? '')
          .fetchHistory();
        return (history?.events ?? []).some((e) => e.timerStartedEventAttributes);
      }),
    );
    expect(took).toContain(true);
    // The slow repo's sync, open during the roll, replayed down the old branch: no timer.
    const slow = children.get(slowRepo);
    const slowHistory = await h.client.workflow
      .getHandle(slow?.workflow_id ?? '', slow?.run_id ?? '')
      .fetchHistory();
    expect((slowHistory.events ?? []).some((e) => e.timerStartedEventAttributes)).toBe(false);
  });
});
