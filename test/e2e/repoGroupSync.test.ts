import { gunzipSync } from 'node:zlib';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pulp_server_repos, pulp_servers, repos, task_stages, tasks } from '../../db/schema.js';
import { unwrap } from '../../pulp/client.js';
import { listAll } from '../../pulp/listAll.js';
import type { RepoGroupSyncArgs } from '../../workflows/args.js';
import { verifyDebReleaseSignatures } from '../support/debSignature.js';
import { eventually } from '../support/eventually.js';
import { deleteReposByPrefix, fixtureRepoSpecs, registerFixtureRepos } from '../support/fixtureRepos.js';
import { pulpSyncTasksSince } from '../support/groupSyncRecords.js';
import { type PipelineHarness, startPipelineHarness } from '../support/pipelineHarness.js';
import { download, stackPulpClient } from '../support/pulp.js';
import { stack } from '../support/stack.js';

// The whole pipeline on the real stack: worker, Temporal, MariaDB, Pulp primary and secondary.
const run = `g${Date.now().toString(36)}`;
// Every Pulp object of this file's repositories is newer than this (their names are new too).
const fileStartedAt = new Date();
const primary = stackPulpClient(stack.pulp.primary);
const secondary = stackPulpClient(stack.pulp.secondary);
let h: PipelineHarness;

async function runGroup(args: Partial<RepoGroupSyncArgs> & { server: string }) {
  const handle = await h.client.workflow.start('repoGroupSyncWorkflow', {
    taskQueue: h.taskQueue,
    workflowId: `repo-group-sync/${args.server}/test-${run}-${Date.now()}`,
    args: [
      {
        regexInclude: `^ext-${run}-`,
        maxConcurrentSyncs: 2,
        maxRuntimeSeconds: 900,
        debPublishMode: 'resign',
        ...args,
      },
    ],
  });
  return { handle, result: await handle.result() };
}

async function pulpRepo(name: string) {
  const [repo] = (await unwrap(primary.GET('/pulp/api/v3/repositories/', { params: { query: { name } } })))
    .results;
  if (!repo?.pulp_href) throw new Error(`the primary has no repository ${name}`);
  return repo;
}

/** Publications of a repository created at or after `since`, from Pulp's own list. */
async function publicationsSince(name: string, since: Date) {
  const repo = await pulpRepo(name);
  return listAll((q) =>
    unwrap(
      primary.GET('/pulp/api/v3/publications/', {
        params: { query: { ...q, repository: repo.pulp_href ?? '', pulp_created__gte: since.toISOString() } },
      }),
    ),
  );
}

async function repoTasks(groupTaskId: number) {
  const rows = await h.db.select().from(tasks).where(eq(tasks.parent_task_id, groupTaskId));
  const out: Record<string, { state: string; stages: { name: string; detail: unknown; error: unknown }[] }> =
    {};
  for (const t of rows) {
    const stages = await h.db
      .select({ name: task_stages.name, detail: task_stages.detail, error: task_stages.error })
      .from(task_stages)
      .where(eq(task_stages.task_id, t.id))
      .orderBy(asc(task_stages.position));
    out[String((t.task_args as { repo: string }).repo)] = { state: t.state, stages };
  }
  return out;
}

async function groupTask(workflowId: string) {
  const [t] = await h.db
    .select()
    .from(tasks)
    .where(and(eq(tasks.workflow_id, workflowId), eq(tasks.task_type, 'repo_group_sync')));
  if (!t) throw new Error(`no group task for ${workflowId}`);
  return t;
}

describe('repo group sync on the real stack', () => {
  beforeAll(async () => {
    h = await startPipelineHarness();
    await registerFixtureRepos(primary, fixtureRepoSpecs(run));
  });

  afterAll(async () => {
    // PM_TEST_KEEP_PULP=1 leaves the repositories in place to look at after a failure.
    if (process.env.PM_TEST_KEEP_PULP) return h?.close();
    await deleteReposByPrefix(secondary, stack.pulp.secondary.url, `ext-${run}-`);
    await deleteReposByPrefix(primary, stack.pulp.primary.url, `ext-${run}-`);
    await h?.close();
  });

  it('primary: syncs, removes banned packages, publishes (deb signed, flat deb simple), all green', async () => {
    const { handle, result } = await runGroup({ server: stack.pulp.primary.name });
    expect(result).toMatchObject({ total: 4, completed: 4, failed: 0, skipped: 0, canceled: 0 });

    const group = await groupTask(handle.workflowId);
    expect(group.state).toBe('completed');
    const children = await repoTasks(group.id);
    expect(Object.keys(children).sort()).toEqual(
      fixtureRepoSpecs(run)
        .map((s) => s.name)
        .sort(),
    );
    for (const [name, t] of Object.entries(children)) {
      expect(t.state, name).toBe('completed');
      expect(
        t.stages.map((s) => s.name),
        name,
      ).toEqual(['sync repo', 'remove banned packages', 'publish repo']);
    }
    expect(children[`ext-${run}-rpm`]?.stages[1]?.detail).toMatchObject({
      state: 'completed',
      removed: ['bannedexample'],
    });
    expect(children[`ext-${run}-deb`]?.stages[1]?.detail).toMatchObject({
      state: 'completed',
      removed: ['bannedexample'],
    });
    // The flat deb fixture is addressed as localhost, an internal domain in dev/config/config.ini.
    expect(children[`ext-${run}-deb-flat`]?.stages[1]?.detail).toMatchObject({ state: 'skipped' });

    const content = stack.pulp.primary.contentUrl;
    const debPackages = (
      await download(`${content}/${run}/deb/dists/stable/main/binary-amd64/Packages`)
    ).toString();
    expect(debPackages).toContain('Package: pm-tools');
    expect(debPackages).not.toContain('bannedexample');
    // Signed by the stack's key (the signing service of [pulp] deb_signing_service), per gpgv.
    await verifyDebReleaseSignatures(`${content}/${run}/deb/dists/stable`);
    // Our rpm publish asks for sha256: read back from Pulp's publication and the served metadata.
    const rpmRepo = await pulpRepo(`ext-${run}-rpm`);
    const rpmPublications = (
      await unwrap(
        primary.GET('/pulp/api/v3/publications/rpm/rpm/', {
          params: { query: { repository_version: rpmRepo.latest_version_href ?? '' } },
        }),
      )
    ).results;
    expect(rpmPublications.map((p) => p.checksum_type)).toEqual(['sha256']);
    const repomd = (await download(`${content}/${run}/rpm/repodata/repomd.xml`)).toString();
    const checksumTypes = [...repomd.matchAll(/<checksum type="([^"]+)"/g)].map((m) => m[1]);
    expect(checksumTypes.length).toBeGreaterThan(0);
    expect(new Set(checksumTypes)).toEqual(new Set(['sha256']));
    const primaryXml = /href="(repodata\/[^"]*primary\.xml\.gz)"/.exec(repomd)?.[1];
    const rpmPrimary = gunzipSync(await download(`${content}/${run}/rpm/${primaryXml}`)).toString();
    expect(rpmPrimary).toContain('<name>pm-hello</name>');
    expect(rpmPrimary).not.toContain('bannedexample');
    // simple layout: everything in the "default" distribution
    expect((await download(`${content}/${run}/deb-flat/dists/default/Release`)).toString()).toMatch(
      /^Codename: default$/m,
    );
    expect((await download(`${content}/${run}/file/hello.txt`)).length).toBeGreaterThan(0);

    const health = await h.db
      .select({ name: repos.name, health: pulp_server_repos.repo_sync_health })
      .from(pulp_server_repos)
      .innerJoin(repos, eq(repos.id, pulp_server_repos.repo_id));
    for (const r of health.filter((x) => x.name.startsWith(`ext-${run}-`)))
      expect(r.health, r.name).toBe('green');
    const [server] = await h.db
      .select()
      .from(pulp_servers)
      .where(eq(pulp_servers.name, stack.pulp.primary.name));
    expect(server?.repo_sync_health_rollup).toBe('green');
  });

  it('primary: a run with nothing new upstream completes without publishing again', async () => {
    // pulp_deb 3.11 quirk: the first re-sync of a flat repository drops its package index and
    // so creates one more version (published, correctly); from then on syncs change nothing.
    // Two syncs before the checked run, whether or not the first test ran (`-t`).
    const flat = `ext-${run}-deb-flat`;
    while ((await pulpSyncTasksSince(primary, flat, fileStartedAt)).length < 2) {
      await runGroup({ server: stack.pulp.primary.name });
    }
    const since = new Date();
    const { handle, result } = await runGroup({ server: stack.pulp.primary.name });
    expect(result).toMatchObject({ total: 4, completed: 4 });
    // Pulp's own record: every repository has publications of this file, none from the last run.
    for (const spec of fixtureRepoSpecs(run)) {
      expect((await publicationsSince(spec.name, fileStartedAt)).length, spec.name).toBeGreaterThan(0);
      expect(await publicationsSince(spec.name, since), spec.name).toEqual([]);
    }
    const children = await repoTasks((await groupTask(handle.workflowId)).id);
    expect(Object.keys(children)).toHaveLength(4);
    for (const [name, t] of Object.entries(children)) {
      expect(t.state, name).toBe('completed');
      const publish = t.stages.find((s) => s.name === 'publish repo');
      if (name.endsWith('-rpm') || name.endsWith('-deb')) {
        // Upstream re-offers the banned package every sync; removing it again restores the
        // published content, so nothing is published.
        expect(publish?.detail, name).toMatchObject({ state: 'skipped' });
      } else {
        expect(
          t.stages.map((s) => s.name),
          name,
        ).toEqual(['sync repo']);
        expect(t.stages[0]?.detail, name).toMatchObject({ new_version: null });
      }
    }
  });

  it('a large group continues as new between batches of children and still finishes them all', async () => {
    // A batch of 1 stands in for CHILDREN_PER_RUN (500): every child gets a fresh run.
    const handle = await h.client.workflow.start('repoGroupSyncWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: `repo-group-sync/${stack.pulp.primary.name}/test-${run}-can`,
      args: [
        {
          server: stack.pulp.primary.name,
          regexInclude: `^ext-${run}-`,
          maxConcurrentSyncs: 2,
          maxRuntimeSeconds: 900,
          debPublishMode: 'resign',
          childrenPerRun: 1,
        },
      ],
    });
    expect(await handle.result()).toMatchObject({ total: 4, completed: 4, failed: 0 });
    await eventually(async () => {
      const runs: string[] = [];
      for await (const wf of h.client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` }))
        runs.push(wf.status.name);
      expect(runs.filter((s) => s === 'CONTINUED_AS_NEW').length).toBeGreaterThanOrEqual(2);
      expect(runs).toContain('COMPLETED');
    });
    // One task for the whole group, whatever the number of runs.
    const groups = await h.db.select().from(tasks).where(eq(tasks.workflow_id, handle.workflowId));
    expect(groups.map((g) => g.state)).toEqual(['completed']);
    // Each run updated the health of its own repos; the stage counts them all.
    const stages = await h.db
      .select()
      .from(task_stages)
      .where(eq(task_stages.task_id, groups[0]?.id ?? -1))
      .orderBy(task_stages.position);
    expect(stages.find((s) => s.name === 'sync repos')?.detail).toMatchObject({
      state: 'completed',
      total: 4,
      completed: 4,
    });
    expect(stages.find((s) => s.name === 'update repo health')?.detail).toMatchObject({
      state: 'completed',
      repos_updated: 4,
    });
  });

  it('secondary with pulp_master: registers from the primary, syncs, serves the content', async () => {
    const { handle, result } = await runGroup({
      server: stack.pulp.secondary.name,
      sourceServer: stack.pulp.primary.name,
      debPublishMode: 'verbatim',
    });
    expect(result).toMatchObject({ total: 4, completed: 4, failed: 0 });
    const group = await groupTask(handle.workflowId);
    const [registerStage] = await h.db
      .select()
      .from(task_stages)
      .where(and(eq(task_stages.task_id, group.id), eq(task_stages.position, 0)));
    expect(registerStage?.detail).toMatchObject({ registered: 4, failed: {} });

    const content = stack.pulp.secondary.contentUrl;
    const rpm = await download(`${content}/${run}/rpm/Packages/p/pm-hello-1.0-1.noarch.rpm`);
    expect(
      rpm.equals(await download(`${stack.fixtures.baseUrl}/rpm/Packages/pm-hello-1.0-1.noarch.rpm`)),
    ).toBe(true);
    // verbatim: the primary's signed InRelease byte for byte
    const fromPrimary = await download(`${stack.pulp.primary.contentUrl}/${run}/deb/dists/stable/InRelease`);
    expect((await download(`${content}/${run}/deb/dists/stable/InRelease`)).equals(fromPrimary)).toBe(true);
    expect((await download(`${content}/${run}/file/hello.txt`)).length).toBeGreaterThan(0);
  });
});
