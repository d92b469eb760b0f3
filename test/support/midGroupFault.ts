import type { WorkflowHandle } from '@temporalio/client';
import { expect } from 'vitest';
import { ensureRepository } from '../../pulp/ensureRepository.js';
import { eventually } from './eventually.js';
import { deleteReposByPrefix, fixtureRepoSpecs, registerFixtureRepos } from './fixtureRepos.js';
import { groupRecords, pulpSyncTasksSince } from './groupSyncRecords.js';
import type { PipelineHarness } from './pipelineHarness.js';
import { stackPulpClient } from './pulp.js';
import { type SlowUpstream, startSlowUpstream } from './slowUpstream.js';
import { stack } from './stack.js';

/**
 * The group a service fault falls in the middle of (RESILIENCE.md): the fixture repositories
 * plus one file repository whose upstream holds its downloads for `slowSyncMs`. That repository
 * sorts first (repos sync in name order), so its sync starts with the group and, while it runs,
 * the group is in its middle whatever its siblings have done.
 */
export interface MidGroupFaultRepos {
  slowRepo: string;
  /** Every repository of the group, sorted. */
  repoNames: string[];
  /** Removes the repositories from the shared Pulp and closes the slow upstream. */
  dispose(): Promise<void>;
}

const primary = stackPulpClient(stack.pulp.primary);
const server = stack.pulp.primary.name;

export async function registerMidGroupFaultRepos(
  run: string,
  slowSyncMs: number,
): Promise<MidGroupFaultRepos> {
  const slowRepo = `ext-${run}-0slow`;
  const slow: SlowUpstream = await startSlowUpstream(slowSyncMs);
  await registerFixtureRepos(primary, fixtureRepoSpecs(run));
  await ensureRepository(primary, {
    name: slowRepo,
    repoType: 'file',
    basePath: `${run}/slow`,
    remote: { url: slow.manifestUrl, tls_validation: false, policy: 'immediate' },
  });
  return {
    slowRepo,
    repoNames: [slowRepo, ...fixtureRepoSpecs(run).map((s) => s.name)].sort(),
    dispose: async () => {
      await slow.close();
      await deleteReposByPrefix(primary, stack.pulp.primary.url, `ext-${run}-`);
    },
  };
}

export function startMidGroupFaultGroup(harness: PipelineHarness, run: string): Promise<WorkflowHandle> {
  return harness.client.workflow.start('repoGroupSyncWorkflow', {
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
}

/**
 * Waits until the group is in its middle: the slow repo's Pulp sync is running (its upstream
 * holds it for slowSyncMs), so its child and the group are still running. Siblings may have
 * started or finished meanwhile: how many run next to it depends on the Pulp server's worker
 * count, which this must not assume.
 */
export async function untilMidGroup(
  harness: PipelineHarness,
  handle: WorkflowHandle,
  slowRepo: string,
  since: Date,
): Promise<void> {
  await eventually(
    async () => {
      const syncs = await pulpSyncTasksSince(primary, slowRepo, since);
      expect(syncs.map((t) => t.state)).toEqual(['running']);
      const { group, children } = await groupRecords(harness.db, handle.workflowId);
      expect(group.state).toBe('running');
      expect(children.get(slowRepo)?.state).toBe('running');
    },
    180_000,
    500,
  );
}

/** No repository was synced twice: Pulp has exactly one sync task for each since `since`, completed. */
export async function expectOneCompletedSyncEach(repoNames: readonly string[], since: Date): Promise<void> {
  for (const name of repoNames) {
    const syncs = await pulpSyncTasksSince(primary, name, since);
    expect(
      syncs.map((t) => t.state),
      `Pulp sync tasks of ${name}`,
    ).toEqual(['completed']);
  }
}

/** What a group of every repository completed returns. */
export const allCompleted = (total: number) => ({
  total,
  pending: 0,
  running: 0,
  completed: total,
  failed: 0,
  skipped: 0,
  canceled: 0,
});
