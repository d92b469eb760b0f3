import { gunzipSync } from 'node:zlib';
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pulp_server_repo_tasks, task_stages, tasks } from '../../db/schema.js';
import { findPackageContent, PackageSearchError } from '../../pulp/findPackageContent.js';
import type { RemoveRepoContentArgs } from '../../workflows/args.js';
import type { ContentRemovalOutcome } from '../../workflows/removeRepoContent.js';
import { deleteReposByPrefix, fixtureRepoSpecs, registerFixtureRepos } from '../support/fixtureRepos.js';
import { type PipelineHarness, startPipelineHarness } from '../support/pipelineHarness.js';
import { download, stackPulpClient } from '../support/pulp.js';
import { stack } from '../support/stack.js';

// Content removal and the package search the API uses, on repos synced by the real pipeline.
const run = `c${Date.now().toString(36)}`;
const server = stack.pulp.primary.name;
const primary = stackPulpClient(stack.pulp.primary);
const content = `${stack.pulp.primary.contentUrl}/${run}`;
let h: PipelineHarness;

async function latestVersion(name: string): Promise<string> {
  const { data } = await primary.GET('/pulp/api/v3/repositories/', { params: { query: { name } } });
  const href = data?.results[0]?.latest_version_href;
  if (!href) throw new Error(`${name} has no version`);
  return href;
}

async function rpmPackageNames(): Promise<string> {
  const repomd = (await download(`${content}/rpm/repodata/repomd.xml`)).toString();
  const primaryXml = /href="(repodata\/[^"]*primary\.xml\.gz)"/.exec(repomd)?.[1];
  return gunzipSync(await download(`${content}/rpm/${primaryXml}`)).toString();
}

const debPackages = async () =>
  (await download(`${content}/deb/dists/stable/main/binary-amd64/Packages`)).toString();

function removeContent(
  args: Partial<RemoveRepoContentArgs> & { repoName: string; contentHref: string },
  id: string,
) {
  return h.client.workflow.execute('removeRepoContentWorkflow', {
    taskQueue: h.taskQueue,
    workflowId: `remove-repo-content/test-${run}-${id}`,
    // As the API starts it: with max_runtime, which the workflow races with a timer.
    args: [{ server, forcePublish: false, maxRuntimeSeconds: 900, ...args }],
  }) as Promise<ContentRemovalOutcome>;
}

async function taskStages(id: string) {
  const [t] = await h.db
    .select()
    .from(tasks)
    .where(eq(tasks.workflow_id, `remove-repo-content/test-${run}-${id}`));
  if (!t) throw new Error(`no task ${id}`);
  const stages = await h.db
    .select()
    .from(task_stages)
    .where(eq(task_stages.task_id, t.id))
    .orderBy(asc(task_stages.position));
  const links = await h.db
    .select()
    .from(pulp_server_repo_tasks)
    .where(eq(pulp_server_repo_tasks.task_id, t.id));
  return {
    state: t.state,
    stages: stages.map((s) => s.detail as Record<string, unknown>),
    links: links.length,
  };
}

describe('content removal and package search on the real stack', () => {
  beforeAll(async () => {
    h = await startPipelineHarness();
    await registerFixtureRepos(
      primary,
      fixtureRepoSpecs(run).filter((s) => s.name.endsWith('-rpm') || s.name.endsWith('-deb')),
    );
    const sync = await h.client.workflow.execute('repoGroupSyncWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: `repo-group-sync/${server}/test-${run}`,
      args: [
        {
          server,
          regexInclude: `^ext-${run}-`,
          maxConcurrentSyncs: 2,
          maxRuntimeSeconds: 900,
          debPublishMode: 'resign',
        },
      ],
    });
    expect(sync).toMatchObject({ total: 2, completed: 2 });
  });

  afterAll(async () => {
    if (!process.env.PM_TEST_KEEP_PULP)
      await deleteReposByPrefix(primary, stack.pulp.primary.url, `ext-${run}-`);
    await h?.close();
  });

  it('finds packages by name, version or sha256 (deb by `package`) with the seed’s fields', async () => {
    const rpmVersion = await latestVersion(`ext-${run}-rpm`);
    const [tools, ...more] = await findPackageContent(primary, 'rpm', rpmVersion, { name: 'pm-tools' });
    expect(more).toEqual([]);
    expect(Object.keys(tools ?? {}).sort()).toEqual(['name', 'pkgId', 'pulp_href', 'sha256', 'version']);
    expect(tools).toMatchObject({
      name: 'pm-tools',
      pulp_href: expect.stringContaining('/content/rpm/packages/'),
    });
    expect(await findPackageContent(primary, 'rpm', rpmVersion, { sha256: String(tools?.sha256) })).toEqual([
      tools,
    ]);
    const byVersion = await findPackageContent(primary, 'rpm', rpmVersion, {
      version: String(tools?.version),
    });
    expect(byVersion.map((p) => p.name)).toContain('pm-tools');

    const debVersion = await latestVersion(`ext-${run}-deb`);
    const [debTools, ...debMore] = await findPackageContent(primary, 'deb', debVersion, { name: 'pm-tools' });
    expect(debMore).toEqual([]);
    expect(Object.keys(debTools ?? {}).sort()).toEqual(['package', 'pulp_href', 'sha256', 'version']);
    expect(debTools).toMatchObject({ package: 'pm-tools' });
    expect(await findPackageContent(primary, 'deb', debVersion, { name: 'no-such-package' })).toEqual([]);

    await expect(findPackageContent(primary, 'rpm', rpmVersion, {})).rejects.toBeInstanceOf(
      PackageSearchError,
    );
    // Every type is searched now (container by tag): an rpm version has no tags.
    expect(await findPackageContent(primary, 'container', rpmVersion, { name: 'x' })).toEqual([]);
  });

  it.each([
    ['rpm', async () => (await rpmPackageNames()).includes('<name>pm-tools</name>')],
    ['deb', async () => (await debPackages()).includes('Package: pm-tools')],
  ] as const)(
    'a %s package removed from a repo disappears from the published repo',
    async (type, published) => {
      const repoName = `ext-${run}-${type}`;
      const [unit] = await findPackageContent(primary, type, await latestVersion(repoName), {
        name: 'pm-tools',
      });
      expect(await published()).toBe(true);

      const outcome = await removeContent({ repoName, contentHref: unit?.pulp_href ?? '' }, `${type}-1`);
      expect(outcome.newVersionHref).toMatch(/\/versions\/\d+\/$/);
      expect(outcome.publicationHref).toMatch(/\/publications\//);
      expect(await latestVersion(repoName)).toBe(outcome.newVersionHref);
      expect(
        await findPackageContent(primary, type, await latestVersion(repoName), { name: 'pm-tools' }),
      ).toEqual([]);
      expect(await published()).toBe(false);
      const t = await taskStages(`${type}-1`);
      expect(t).toMatchObject({ state: 'completed', links: 1 });
      expect(t.stages[1]).toMatchObject({ state: 'completed', version: outcome.newVersionHref });

      // Removing it again creates no version: nothing to publish, unless forced.
      const again = await removeContent({ repoName, contentHref: unit?.pulp_href ?? '' }, `${type}-2`);
      expect(again).toEqual({ newVersionHref: null, publicationHref: null });
      expect((await taskStages(`${type}-2`)).stages[1]).toMatchObject({ state: 'skipped' });
      const forced = await removeContent(
        { repoName, contentHref: unit?.pulp_href ?? '', forcePublish: true },
        `${type}-3`,
      );
      expect(forced.newVersionHref).toBeNull();
      expect(forced.publicationHref).toMatch(/\/publications\//);
      expect(await published()).toBe(false);
      if (type === 'deb') {
        expect((await download(`${content}/deb/dists/stable/InRelease`)).toString()).toContain(
          'BEGIN PGP SIGNED MESSAGE',
        );
      }
    },
  );
});
