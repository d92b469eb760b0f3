import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureRepository } from '../../pulp/ensureRepository.js';
import { repoGroupSyncWorkflow } from '../../workflows/repoGroupSync.js';
import { eventually } from '../support/eventually.js';
import { deleteReposByPrefix } from '../support/fixtureRepos.js';
import { groupRecords } from '../support/groupSyncRecords.js';
import { type PipelineHarness, startPipelineHarness } from '../support/pipelineHarness.js';
import { stackPulpClient } from '../support/pulp.js';
import { stack } from '../support/stack.js';

// Runs are found the way an operator looks for them: `temporal workflow list --query` by the
// search attributes the workflows set (README "Operations"), on the real dev server.
const run = `sa${Date.now().toString(36)}`;
const primary = stackPulpClient(stack.pulp.primary);
const server = stack.pulp.primary.name;
const group = `group-${run}`;
const good = `ext-${run}-good`;
const broken = `ext-${run}-broken`;
const exec = promisify(execFile);

/** Workflow ids the Temporal CLI lists for a visibility query (eventually consistent). */
async function cliList(query: string): Promise<string[]> {
  const { stdout } = await exec(stack.temporal.bin, [
    'workflow',
    'list',
    '--address',
    stack.temporal.address,
    '--namespace',
    stack.temporal.testNamespace,
    '--query',
    query,
    '--output',
    'json',
  ]);
  const rows = JSON.parse(stdout || '[]') as { execution: { workflowId: string } }[];
  return rows.map((r) => r.execution.workflowId).sort();
}

describe('search attributes of group and repo syncs', () => {
  let h: PipelineHarness;

  beforeAll(async () => {
    h = await startPipelineHarness();
    const remote = { tls_validation: false, policy: 'immediate' as const };
    await ensureRepository(primary, {
      name: good,
      repoType: 'file',
      basePath: `${run}/good`,
      remote: { url: `${stack.fixtures.baseUrl}/file/PULP_MANIFEST`, ...remote },
    });
    // Port 1 on loopback: nothing listens, the sync fails.
    await ensureRepository(primary, {
      name: broken,
      repoType: 'file',
      basePath: `${run}/broken`,
      remote: { url: 'http://127.0.0.1:1/file/PULP_MANIFEST', ...remote },
    });
  });

  afterAll(async () => {
    await deleteReposByPrefix(primary, stack.pulp.primary.url, `ext-${run}-`);
    await h?.close();
  });

  it('temporal workflow list finds the group by PulpServer, RepoGroup, task id and failed count, and each repo sync by RepoName', async () => {
    const handle = await h.client.workflow.start(repoGroupSyncWorkflow, {
      taskQueue: h.taskQueue,
      workflowId: `repo-group-sync/${server}/test-${run}`,
      args: [
        {
          server,
          repoGroup: group,
          regexInclude: `^ext-${run}-`,
          maxConcurrentSyncs: 2,
          maxRuntimeSeconds: 600,
          debPublishMode: 'resign',
        },
      ],
    });
    expect(await handle.result()).toMatchObject({ total: 2, completed: 1, failed: 1 });
    const { group: task } = await groupRecords(h.db, handle.workflowId);
    const childIds = [`repo-sync/${server}/${broken}`, `repo-sync/${server}/${good}`];

    await eventually(
      async () => {
        expect(await cliList(`PulpServer="${server}" AND RepoGroup="${group}"`)).toEqual(
          [handle.workflowId, ...childIds].sort(),
        );
        expect(
          await cliList(
            `WorkflowType="repoGroupSyncWorkflow" AND RepoGroup="${group}" AND FailedRepoCount > 0`,
          ),
        ).toEqual([handle.workflowId]);
        // Each test harness has a database of its own, so task ids repeat across test runs.
        expect(await cliList(`PulpManagerTaskId=${task.id} AND RepoGroup="${group}"`)).toEqual([
          handle.workflowId,
        ]);
        expect(await cliList(`RepoName="${broken}" AND ExecutionStatus="Failed"`)).toEqual([childIds[0]]);
        expect(await cliList(`RepoName="${good}" AND ExecutionStatus="Completed"`)).toEqual([childIds[1]]);
      },
      60_000,
      1000,
    );
    // The repo named in the child's summary, as the Web UI shows it.
    const child = await h.client.workflow.getHandle(childIds[1] ?? '').describe();
    expect(await child.staticSummary()).toBe(`repo sync ${good} on ${server}`);
  });
});
