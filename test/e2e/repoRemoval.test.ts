import { WorkflowFailedError } from '@temporalio/client';
import { and, asc, eq, like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pulp_server_repos, pulp_servers, repos, task_stages, tasks } from '../../db/schema.js';
import type { RepoRemovalArgs } from '../../workflows/args.js';
import type { RemovalSummary } from '../../workflows/repoRemoval.js';
import { deleteReposByPrefix, fixtureRepoSpecs, registerFixtureRepos } from '../support/fixtureRepos.js';
import { type PipelineHarness, startPipelineHarness } from '../support/pipelineHarness.js';
import { stackPulpClient } from '../support/pulp.js';
import { stack } from '../support/stack.js';

// Removal on the real secondary: repositories registered there for this run only.
const run = `d${Date.now().toString(36)}`;
const server = stack.pulp.secondary.name;
const secondary = stackPulpClient(stack.pulp.secondary);
const auth = `Basic ${Buffer.from(`${stack.pulp.username}:${stack.pulp.password}`).toString('base64')}`;
let h: PipelineHarness;

/** Names of everything (repositories, remotes, distributions) Pulp has with the run's prefix. */
async function pulpNames(): Promise<Record<'repositories' | 'remotes' | 'distributions', string[]>> {
  const list = async (kind: string) => {
    const res = await fetch(
      `${stack.pulp.secondary.url}/pulp/api/v3/${kind}/?name__startswith=ext-${run}-&fields=name&limit=100`,
      { headers: { Authorization: auth } },
    );
    return ((await res.json()) as { results: { name: string }[] }).results.map((r) => r.name).sort();
  };
  return {
    repositories: await list('repositories'),
    remotes: await list('remotes'),
    distributions: await list('distributions'),
  };
}

async function dbNames(): Promise<string[]> {
  const rows = await h.db
    .select({ name: repos.name })
    .from(pulp_server_repos)
    .innerJoin(repos, eq(repos.id, pulp_server_repos.repo_id))
    .innerJoin(pulp_servers, eq(pulp_servers.id, pulp_server_repos.pulp_server_id))
    .where(and(eq(pulp_servers.name, server), like(repos.name, `ext-${run}-%`)));
  return rows.map((r) => r.name).sort();
}

function remove(args: Partial<RepoRemovalArgs>, id: string) {
  return h.client.workflow.execute('repoRemovalWorkflow', {
    taskQueue: h.taskQueue,
    workflowId: `repo-removal/test-${run}-${id}`,
    args: [{ server, regexInclude: `^ext-${run}-(rpm|deb)$`, dryRun: true, ...args }],
  }) as Promise<RemovalSummary>;
}

async function taskWithStages(id: string) {
  const [t] = await h.db
    .select()
    .from(tasks)
    .where(eq(tasks.workflow_id, `repo-removal/test-${run}-${id}`));
  if (!t) throw new Error(`no task ${id}`);
  const stages = await h.db
    .select()
    .from(task_stages)
    .where(eq(task_stages.task_id, t.id))
    .orderBy(asc(task_stages.position));
  return { ...t, stages };
}

const ALL = [`ext-${run}-deb`, `ext-${run}-deb-flat`, `ext-${run}-file`, `ext-${run}-rpm`];

describe('repo removal on the real stack', () => {
  beforeAll(async () => {
    h = await startPipelineHarness();
    await registerFixtureRepos(secondary, fixtureRepoSpecs(run));
  });

  afterAll(async () => {
    if (!process.env.PM_TEST_KEEP_PULP)
      await deleteReposByPrefix(secondary, stack.pulp.secondary.url, `ext-${run}-`);
    await h?.close();
  });

  it('a dry run deletes nothing and lists exactly what would go', async () => {
    const result = await remove({}, 'dry');
    expect(result).toEqual({
      dryRun: true,
      matched: [`ext-${run}-deb`, `ext-${run}-rpm`],
      removed: 0,
      failed: {},
      matchedCount: 2,
      failedCount: 0,
    });
    const t = await taskWithStages('dry');
    expect(t.state).toBe('completed');
    expect(t.stages.map((s) => s.name)).toEqual(['reconcile repos', 'find repos to remove (dry run)']);
    const listed = (t.stages[1]?.detail as { repos?: Record<string, string>[] } | undefined)?.repos ?? [];
    expect(listed.map((r) => r.name)).toEqual([`ext-${run}-deb`, `ext-${run}-rpm`]);
    for (const r of listed) {
      expect(r.distribution).toMatch(/^\/pulp\/api\/v3\/distributions\//);
      expect(r.repository).toMatch(/^\/pulp\/api\/v3\/repositories\//);
      expect(r.remote).toMatch(/^\/pulp\/api\/v3\/remotes\//);
    }
    expect(await pulpNames()).toEqual({ repositories: ALL, remotes: ALL, distributions: ALL });
    expect(await dbNames()).toEqual(ALL);
  });

  it('a real run removes distribution, repository and remote from Pulp, and the repos from the DB', async () => {
    const result = await remove({ dryRun: false, maxRuntimeSeconds: 900 }, 'real');
    expect(result).toEqual({
      dryRun: false,
      matched: [`ext-${run}-deb`, `ext-${run}-rpm`],
      removed: 2,
      failed: {},
      matchedCount: 2,
      failedCount: 0,
    });
    const t = await taskWithStages('real');
    expect(t.state).toBe('completed');
    expect(t.stages.map((s) => s.name)).toEqual([
      'reconcile repos',
      'find repos to remove',
      'remove repos',
      'reconcile repos after removal',
    ]);
    expect(t.stages[2]?.detail).toMatchObject({ state: 'completed', removed: 2, failed: {} });
    expect(t.stages[3]?.detail).toMatchObject({ state: 'completed', removed: 2 });
    const left = [`ext-${run}-deb-flat`, `ext-${run}-file`];
    expect(await pulpNames()).toEqual({ repositories: left, remotes: left, distributions: left });
    expect(await dbNames()).toEqual(left);
  });

  it('refuses to run without a regex', async () => {
    const err = await remove({ regexInclude: undefined, dryRun: false }, 'no-regex').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(String((err as WorkflowFailedError).cause?.message)).toMatch(
      /at least one of regex_include and regex_exclude/,
    );
    expect((await taskWithStages('no-regex')).state).toBe('failed');
    expect(await dbNames()).toEqual([`ext-${run}-deb-flat`, `ext-${run}-file`]);
  });
});
