import { gunzipSync } from 'node:zlib';
import { WorkflowFailedError } from '@temporalio/client';
import { and, asc, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_REMOTE_REASON } from '../../activities/db/repoSelectionActivities.js';
import { pulp_server_repo_tasks, pulp_server_repos, repos, task_stages, tasks } from '../../db/schema.js';
import { ensureRepository } from '../../pulp/ensureRepository.js';
import type { SnapshotProgress, SnapshotReposInput } from '../../workflows/snapshotRepos.js';
import { eventually } from '../support/eventually.js';
import { deleteReposByPrefix, fixtureRepoSpecs, registerFixtureRepos } from '../support/fixtureRepos.js';
import { type PipelineHarness, startPipelineHarness } from '../support/pipelineHarness.js';
import { download, stackPulpClient } from '../support/pulp.js';
import { stack } from '../support/stack.js';

// Snapshots of repos synced by the real pipeline on the primary (snapshot_support,
// max_concurrent_snapshots: 2); the secondary has no snapshot support.
const run = `s${Date.now().toString(36)}`;
const server = stack.pulp.primary.name;
const primary = stackPulpClient(stack.pulp.primary);
const auth = `Basic ${Buffer.from(`${stack.pulp.username}:${stack.pulp.password}`).toString('base64')}`;
const snapPrefix = `snap-${run}-a-`;
let h: PipelineHarness;

type PulpObject = Record<string, unknown> & { pulp_href: string };
async function pulpGet<T = PulpObject>(pathAndQuery: string): Promise<T> {
  const res = await fetch(`${stack.pulp.primary.url}${pathAndQuery}`, { headers: { Authorization: auth } });
  if (!res.ok) throw new Error(`GET ${pathAndQuery} answered ${res.status}`);
  return (await res.json()) as T;
}
const byName = async (kind: string, name: string) =>
  (await pulpGet<{ results: PulpObject[] }>(`/pulp/api/v3/${kind}/?name=${encodeURIComponent(name)}`))
    .results[0];

/** Content counts of a repository's latest version, per content type. */
async function presentCounts(name: string): Promise<Record<string, number>> {
  const repo = await byName('repositories', name);
  const version = await pulpGet<{ content_summary: { present: Record<string, { count: number }> } }>(
    String(repo?.latest_version_href),
  );
  return Object.fromEntries(Object.entries(version.content_summary.present).map(([k, v]) => [k, v.count]));
}

function snapshot(args: Partial<SnapshotReposInput>, id = `${Date.now()}`) {
  return h.client.workflow.execute('snapshotReposWorkflow', {
    taskQueue: h.taskQueue,
    workflowId: `snapshot-repos/test-${run}-${id}`,
    args: [
      {
        server,
        snapshotPrefix: `${run}-a`,
        regexInclude: `^ext-${run}-`,
        allowSnapshotReuse: false,
        maxRuntimeSeconds: 900,
        ...args,
      },
    ],
  }) as Promise<SnapshotProgress>;
}

async function taskOf(workflowId: string) {
  const [t] = await h.db.select().from(tasks).where(eq(tasks.workflow_id, workflowId));
  if (!t) throw new Error(`no task for ${workflowId}`);
  return t;
}

const SOURCES = [`ext-${run}-deb`, `ext-${run}-deb-flat`, `ext-${run}-rpm`];

describe('snapshots on the real stack', () => {
  beforeAll(async () => {
    h = await startPipelineHarness();
    await registerFixtureRepos(primary, fixtureRepoSpecs(run));
    const sync = await h.client.workflow.execute('repoGroupSyncWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: `repo-group-sync/${server}/test-${run}`,
      args: [
        {
          server,
          regexInclude: `^ext-${run}-`,
          maxConcurrentSyncs: 4,
          maxRuntimeSeconds: 900,
          debPublishMode: 'resign',
        },
      ],
    });
    expect(sync).toMatchObject({ total: 4, completed: 4 });
  });

  afterAll(async () => {
    if (!process.env.PM_TEST_KEEP_PULP) {
      await deleteReposByPrefix(primary, stack.pulp.primary.url, `snap-${run}-`);
      await deleteReposByPrefix(primary, stack.pulp.primary.url, `ext-${run}-`);
    }
    await h?.close();
  });

  it('snapshots rpm and deb repos: same content, published, downloadable, at most 2 at once', async () => {
    const workflowId = `snapshot-repos/test-${run}-first`;
    const result = await snapshot({}, 'first');
    expect(result).toMatchObject({ prefix: snapPrefix, total: 3, completed: 3, failed: 0 });

    const parent = await taskOf(workflowId);
    expect(parent).toMatchObject({ state: 'completed', task_type: 'repo_snapshot' });
    const stages = await h.db
      .select()
      .from(task_stages)
      .where(eq(task_stages.task_id, parent.id))
      .orderBy(asc(task_stages.position));
    expect(stages.map((s) => s.name)).toEqual([
      'reconcile repos',
      'find repos to snapshot',
      'snapshot repos',
    ]);
    expect(stages[1]?.detail).toMatchObject({
      repos: SOURCES,
      excluded: [{ name: `ext-${run}-file`, reason: 'file repositories are not snapshotted' }],
    });

    for (const source of SOURCES) {
      const name = `${snapPrefix}${source}`;
      const sourceCounts = await presentCounts(source);
      expect(
        Object.values(sourceCounts).reduce((a, b) => a + b, 0),
        source,
      ).toBeGreaterThan(0);
      expect(await presentCounts(name), name).toEqual(sourceCounts);
      const dist = await byName('distributions', name);
      // same base_url as the source (`<run>/…`), the snapshot's own name last
      expect(dist?.base_path, name).toBe(`${run}/${name}`);
    }
    const content = `${stack.pulp.primary.contentUrl}/${run}`;
    const repomd = (await download(`${content}/${snapPrefix}ext-${run}-rpm/repodata/repomd.xml`)).toString();
    const primaryXml = /href="(repodata\/[^"]*primary\.xml\.gz)"/.exec(repomd)?.[1];
    const rpmPrimary = gunzipSync(
      await download(`${content}/${snapPrefix}ext-${run}-rpm/${primaryXml}`),
    ).toString();
    expect(rpmPrimary).toContain('<name>pm-hello</name>');
    expect(rpmPrimary).not.toContain('bannedexample');
    expect(
      (await download(`${content}/${snapPrefix}ext-${run}-rpm/Packages/p/pm-hello-1.0-1.noarch.rpm`)).length,
    ).toBeGreaterThan(0);
    const debRoot = `${content}/${snapPrefix}ext-${run}-deb`;
    expect((await download(`${debRoot}/dists/stable/InRelease`)).toString()).toContain(
      'BEGIN PGP SIGNED MESSAGE',
    );
    expect((await download(`${debRoot}/dists/stable/main/binary-amd64/Packages`)).toString()).toContain(
      'Package: pm-tools',
    );
    // a flat source is published the simple way, as its source is
    expect(
      (await download(`${content}/${snapPrefix}ext-${run}-deb-flat/dists/default/Release`)).toString(),
    ).toMatch(/^Codename: default$/m);

    // one child task per repo, linked to its source and its snapshot
    const children = await h.db.select().from(tasks).where(eq(tasks.parent_task_id, parent.id));
    expect(children.map((c) => c.state)).toEqual(['completed', 'completed', 'completed']);
    for (const child of children) {
      const linked = await h.db
        .select({ name: repos.name })
        .from(pulp_server_repo_tasks)
        .innerJoin(pulp_server_repos, eq(pulp_server_repos.id, pulp_server_repo_tasks.pulp_server_repo_id))
        .innerJoin(repos, eq(repos.id, pulp_server_repos.repo_id))
        .where(eq(pulp_server_repo_tasks.task_id, child.id));
      const source = String(child.task_args.source_repo);
      expect(linked.map((l) => l.name).sort()).toEqual([source, `${snapPrefix}${source}`].sort());
    }
    // max_concurrent_snapshots: 2 → never three children running at the same moment
    const spans = children.map((c) => [Number(c.date_started), Number(c.date_finished)] as const);
    const overlapAt = (t: number) => spans.filter(([s, f]) => s <= t && t < f).length;
    expect(Math.max(...spans.map(([s]) => overlapAt(s)))).toBeLessThanOrEqual(2);
  });

  it('a second snapshot with the same prefix is refused unless reuse is allowed', async () => {
    const refusedId = `snapshot-repos/test-${run}-again`;
    const err = await snapshot({ snapshotPrefix: `snap-${run}-a-` }, 'again').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(String((err as WorkflowFailedError).cause?.message)).toMatch(
      new RegExp(`snapshot prefix ${snapPrefix} is already used on ${server} by 3 repo`),
    );
    const refused = await taskOf(refusedId);
    expect(refused.state).toBe('failed');
    expect(refused.error?.msg).toContain('already used');
    expect(await h.db.select().from(tasks).where(eq(tasks.parent_task_id, refused.id))).toEqual([]);

    // One repo per run: the cursor pages through the real selection (the snapshot repos the
    // earlier runs create carry the prefix and are never selected).
    const reused = await snapshot({ allowSnapshotReuse: true, reposPerRun: 1 }, 'reuse');
    expect(reused).toMatchObject({ total: 3, completed: 3, failed: 0 });
    await eventually(async () => {
      const runs: string[] = [];
      for await (const wf of h.client.workflow.list({
        query: `WorkflowId = 'snapshot-repos/test-${run}-reuse'`,
      }))
        runs.push(wf.status.name);
      expect(runs.filter((s) => s === 'CONTINUED_AS_NEW').length).toBeGreaterThanOrEqual(2);
      expect(runs).toContain('COMPLETED');
    });
    for (const source of SOURCES) {
      expect(await presentCounts(`${snapPrefix}${source}`), source).toEqual(await presentCounts(source));
    }
    const reuseTask = await taskOf(`snapshot-repos/test-${run}-reuse`);
    const copyStages = await h.db
      .select({ detail: task_stages.detail })
      .from(task_stages)
      .innerJoin(tasks, eq(tasks.id, task_stages.task_id))
      .where(and(eq(tasks.parent_task_id, reuseTask.id), eq(task_stages.name, 'copy latest version')));
    expect(copyStages).toHaveLength(3);
    for (const s of copyStages) expect(s.detail).toMatchObject({ state: 'completed', emptied_first: true });
  });

  it('a server without snapshot support is refused, and no task is left running', async () => {
    const workflowId = `snapshot-repos/test-${run}-secondary`;
    const err = await snapshot(
      { server: stack.pulp.secondary.name, snapshotPrefix: `${run}-b` },
      'secondary',
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(String((err as WorkflowFailedError).cause?.message)).toContain(
      `snapshots are not supported on ${stack.pulp.secondary.name}`,
    );
    const t = await taskOf(workflowId);
    expect(t.state).toBe('failed');
    expect(t.date_finished).not.toBeNull();
    const running = await h.db
      .select()
      .from(tasks)
      .where(and(eq(tasks.task_type, 'repo_snapshot'), inArray(tasks.state, ['queued', 'running'])));
    expect(running).toEqual([]);
  });

  it('takes only repos with a remote, as the original did: internal repos and earlier snapshots are left out', async () => {
    // an internal (upload-only) repo beside the synced one, and the snapshots of the first test
    await ensureRepository(primary, {
      name: `ext-${run}-int-rpm`,
      repoType: 'rpm',
      basePath: `${run}/int-rpm`,
    });
    const workflowId = `snapshot-repos/test-${run}-b`;
    const result = await snapshot({ snapshotPrefix: `${run}-b`, regexInclude: `-${run}-(int-)?rpm$` }, 'b');
    expect(result).toMatchObject({ prefix: `snap-${run}-b-`, total: 1, completed: 1, failed: 0 });
    const stages = await h.db
      .select()
      .from(task_stages)
      .where(eq(task_stages.task_id, (await taskOf(workflowId)).id))
      .orderBy(asc(task_stages.position));
    expect(stages.find((s) => s.name === 'find repos to snapshot')?.detail).toMatchObject({
      repos: [`ext-${run}-rpm`],
      excluded: [
        { name: `ext-${run}-int-rpm`, reason: NO_REMOTE_REASON },
        { name: `${snapPrefix}ext-${run}-rpm`, reason: NO_REMOTE_REASON },
      ],
    });
    expect(await byName('repositories', `snap-${run}-b-ext-${run}-rpm`)).toBeDefined();
    expect(await byName('repositories', `snap-${run}-b-${snapPrefix}ext-${run}-rpm`)).toBeUndefined();
    expect(await byName('repositories', `snap-${run}-b-ext-${run}-int-rpm`)).toBeUndefined();
    // the snapshot's distribution follows the snapshot repository, as the original created it
    const dist = await byName('distributions', `snap-${run}-b-ext-${run}-rpm`);
    expect(dist?.repository).toBe((await byName('repositories', `snap-${run}-b-ext-${run}-rpm`))?.pulp_href);
  });
});
