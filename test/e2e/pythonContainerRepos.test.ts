import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, asc, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RepoConfigRegistration } from '../../activities/pulp/repoConfigActivities.js';
import { pulp_server_repos, pulp_servers, repos, task_stages } from '../../db/schema.js';
import { unwrap } from '../../pulp/client.js';
import { ensureRepository } from '../../pulp/ensureRepository.js';
import { findPackageContent } from '../../pulp/findPackageContent.js';
import { waitForPulpTask } from '../../pulp/tasks.js';
import type { RepoGroupSyncArgs } from '../../workflows/args.js';
import { deleteReposByPrefix, fixtureRepoSpecs } from '../support/fixtureRepos.js';
import { groupRecords } from '../support/groupSyncRecords.js';
import { type PipelineHarness, startPipelineHarness } from '../support/pipelineHarness.js';
import { stackPulpClient } from '../support/pulp.js';
import { stack } from '../support/stack.js';

// python and container repositories from the repo config to pip and an OCI client: registered on
// the real primary from a per-run copy of the stack's repo-config fixture (fixture-python,
// fixture-container), synced there by a group sync, registered on the secondary from the primary
// (its PyPI API and registry) and synced, then served by the secondary. Also: a group's
// sync_options reach Pulp (rpm skip_types, deb mirror), and a value Pulp refuses fails the repo
// with Pulp's message.
const run = `pc${Date.now().toString(36)}`;
const ext = `ext-${run}-`;
const primaryName = stack.pulp.primary.name;
const secondaryName = stack.pulp.secondary.name;
const primary = stackPulpClient(stack.pulp.primary);
const secondary = stackPulpClient(stack.pulp.secondary);
const work = mkdtempSync(join(tmpdir(), `pm-${run}-`));
const repoConfig = join(work, 'repo-config');
const pythonRepo = `${ext}fixture-python`;
const containerRepo = `${ext}fixture-container`;
// The original's base path rule: <base_url>/<name>.
const pythonPath = `python/${pythonRepo}`;
const containerPath = `containers/${containerRepo}`;
const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');
let h: PipelineHarness;

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd })
    .toString()
    .trim();

async function runGroup(args: Partial<RepoGroupSyncArgs> & { server: string }) {
  const handle = await h.client.workflow.start('repoGroupSyncWorkflow', {
    taskQueue: h.taskQueue,
    workflowId: `repo-group-sync/${args.server}/test-${run}-${Date.now()}`,
    args: [
      {
        regexInclude: `^${ext}fixture-(python|container)$`,
        maxConcurrentSyncs: 2,
        maxRuntimeSeconds: 900,
        debPublishMode: 'resign',
        ...args,
      },
    ],
  });
  const result = await handle.result();
  const { group, children } = await groupRecords(h.db, handle.workflowId);
  const stages = async (repo: string) => {
    const task = children.get(repo);
    if (!task) throw new Error(`no repo sync task for ${repo}`);
    const rows = await h.db
      .select({ name: task_stages.name, detail: task_stages.detail, error: task_stages.error })
      .from(task_stages)
      .where(eq(task_stages.task_id, task.id))
      .orderBy(asc(task_stages.position));
    return { state: task.state, stages: rows };
  };
  const groupStages = await h.db
    .select({ position: task_stages.position, detail: task_stages.detail })
    .from(task_stages)
    .where(eq(task_stages.task_id, group.id))
    .orderBy(asc(task_stages.position));
  return { result, stages, groupStages };
}

/** The version a sync stage says it created. */
function newVersion(detail: unknown): string {
  return String((detail as { new_version?: string | null } | undefined)?.new_version);
}

async function manifest(serverUrl: string, path: string, tag: string) {
  return fetch(`${serverUrl}/v2/${path}/manifests/${tag}`, { headers: { Accept: MANIFEST_ACCEPT } });
}

beforeAll(async () => {
  git(work, 'clone', '-q', stack.fixtures.repoConfigGit, repoConfig);
  // This run's names: only the two files are renamed, so the registration regex selects them.
  const remote = join(repoConfig, 'repo_config', 'remote');
  const renamed = readdirSync(remote).filter((f) => /^fixture-(python|container)\.json$/.test(f));
  expect(renamed.sort()).toEqual(['fixture-container.json', 'fixture-python.json']);
  for (const f of renamed) {
    const j = JSON.parse(readFileSync(join(remote, f), 'utf8')) as { name: string };
    j.name = `${run}-${j.name}`;
    writeFileSync(join(remote, f), JSON.stringify(j, null, 2));
  }
  git(repoConfig, 'commit', '-qam', `names of run ${run}`);
  h = await startPipelineHarness((c) => {
    c.ini.pulp.git_repo_config = repoConfig;
    c.ini.pulp.local_repo_config_dir = undefined;
    // What the registration regex sees of a remote/ file: its name with this prefix.
    c.ini.pulp.external_repo_prefix = 'ext-';
  });
});

afterAll(async () => {
  await h?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('python and container repositories on the real primary and secondary', () => {
  afterAll(async () => {
    // PM_TEST_KEEP_PULP=1 leaves the repositories in place to look at after a failure.
    if (process.env.PM_TEST_KEEP_PULP) return;
    await deleteReposByPrefix(secondary, stack.pulp.secondary.url, ext);
    await deleteReposByPrefix(primary, stack.pulp.primary.url, ext);
  });

  it('registers both from the repo config on the primary, their distributions following the repositories', async () => {
    const result = (await h.client.workflow.execute('repoRegistrationWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: `repo-registration/${primaryName}/test-${run}`,
      args: [{ server: primaryName, maxRuntimeSeconds: 600, regexInclude: `^${ext}` }],
    })) as RepoConfigRegistration;
    expect(result).toMatchObject({ selected: 2, failed: {}, fileErrors: [] });
    expect(result.created.sort()).toEqual([containerRepo, pythonRepo]);

    const byName = { params: { query: { name: pythonRepo } } };
    const [pyRemote] = (await unwrap(primary.GET('/pulp/api/v3/remotes/python/python/', byName))).results;
    const [pyRepo] = (await unwrap(primary.GET('/pulp/api/v3/repositories/python/python/', byName))).results;
    const [pyDist] = (await unwrap(primary.GET('/pulp/api/v3/distributions/python/pypi/', byName))).results;
    expect(pyRemote).toMatchObject({ url: `${stack.fixtures.baseUrl}/python/`, policy: 'immediate' });
    expect(pyRepo?.remote).toBe(pyRemote?.pulp_href);
    expect(pyDist).toMatchObject({ base_path: pythonPath, repository: pyRepo?.pulp_href });

    const cName = { params: { query: { name: containerRepo } } };
    const [cRemote] = (await unwrap(primary.GET('/pulp/api/v3/remotes/container/container/', cName))).results;
    const [cRepo] = (await unwrap(primary.GET('/pulp/api/v3/repositories/container/container/', cName)))
      .results;
    const [cDist] = (await unwrap(primary.GET('/pulp/api/v3/distributions/container/container/', cName)))
      .results;
    expect(cRemote).toMatchObject({ upstream_name: 'pm/hello', policy: 'immediate' });
    expect(cDist).toMatchObject({ base_path: containerPath, repository: cRepo?.pulp_href });

    // Registering again changes nothing (list fields included: python includes, container tags).
    const again = (await h.client.workflow.execute('repoRegistrationWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: `repo-registration/${primaryName}/test-${run}-again`,
      args: [{ server: primaryName, maxRuntimeSeconds: 600, regexInclude: `^${ext}` }],
    })) as RepoConfigRegistration;
    expect(again).toMatchObject({ selected: 2, created: [], updated: [], unchanged: 2, failed: {} });
  });

  it('primary: a group sync syncs both; each is served by its distribution without a publication', async () => {
    const { result, stages } = await runGroup({ server: primaryName });
    expect(result).toMatchObject({ total: 2, completed: 2, failed: 0 });
    for (const repo of [pythonRepo, containerRepo]) {
      const t = await stages(repo);
      expect(t.state, repo).toBe('completed');
      expect(
        t.stages.map((s) => s.name),
        repo,
      ).toEqual(['sync repo', 'publish repo']);
      expect(t.stages[0]?.detail, repo).toMatchObject({ state: 'completed' });
      expect(newVersion(t.stages[0]?.detail), repo).toMatch(/versions\/1\/$/);
      expect(t.stages[1]?.detail, repo).toMatchObject({ state: 'skipped' });
    }
    const simple = await fetch(`${stack.pulp.primary.url}/pypi/${pythonPath}/simple/pm-hello/`);
    expect(simple.status).toBe(200);
    expect(await simple.text()).toMatch(/pm[-_]hello-1\.0/);
    expect((await manifest(stack.pulp.primary.url, containerPath, 'latest')).status).toBe(200);

    const health = await h.db
      .select({ name: repos.name, health: pulp_server_repos.repo_sync_health })
      .from(pulp_server_repos)
      .innerJoin(repos, eq(repos.id, pulp_server_repos.repo_id))
      .innerJoin(pulp_servers, eq(pulp_servers.id, pulp_server_repos.pulp_server_id))
      .where(and(eq(pulp_servers.name, primaryName), inArray(repos.name, [pythonRepo, containerRepo])));
    expect(health.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: containerRepo, health: 'green' },
      { name: pythonRepo, health: 'green' },
    ]);
  });

  it('secondary: registered from the primary (PyPI API, registry), synced, pip installs and the manifest is served', async () => {
    const { result, stages, groupStages } = await runGroup({
      server: secondaryName,
      sourceServer: primaryName,
    });
    expect(result).toMatchObject({ total: 2, completed: 2, failed: 0 });
    expect(groupStages[0]?.detail).toMatchObject({ registered: 2, failed: {} });
    for (const repo of [pythonRepo, containerRepo])
      expect((await stages(repo)).state, repo).toBe('completed');

    const [pyRemote] = (
      await unwrap(
        secondary.GET('/pulp/api/v3/remotes/python/python/', { params: { query: { name: pythonRepo } } }),
      )
    ).results;
    expect(pyRemote?.url).toBe(`${stack.pulp.primary.url}/pypi/${pythonPath}/`);
    const [cRemote] = (
      await unwrap(
        secondary.GET('/pulp/api/v3/remotes/container/container/', {
          params: { query: { name: containerRepo } },
        }),
      )
    ).results;
    expect(cRemote).toMatchObject({ url: stack.pulp.primary.url, upstream_name: containerPath });

    // pip from the secondary's PyPI simple API, as a client would.
    const dest = join(work, 'pip');
    execFileSync('python3', [
      ...['-m', 'pip', 'download', '-q', '--no-deps', '--no-cache-dir', '--disable-pip-version-check'],
      ...['--index-url', `${stack.pulp.secondary.url}/pypi/${pythonPath}/simple/`, '-d', dest, 'pm-hello'],
    ]);
    expect(readdirSync(dest).join(' ')).toMatch(/pm[-_]hello-1\.0/);

    const fromSecondary = await manifest(stack.pulp.secondary.url, containerPath, 'latest');
    expect(fromSecondary.status).toBe(200);
    const fromPrimary = await manifest(stack.pulp.primary.url, containerPath, 'latest');
    expect(fromSecondary.headers.get('docker-content-digest')).toBe(
      fromPrimary.headers.get('docker-content-digest'),
    );

    // find content on the secondary's latest versions
    const [pyRepo] = (
      await unwrap(
        secondary.GET('/pulp/api/v3/repositories/python/python/', {
          params: { query: { name: pythonRepo } },
        }),
      )
    ).results;
    const found = await findPackageContent(secondary, 'python', pyRepo?.latest_version_href ?? '', {
      name: 'pm-hello',
    });
    expect(found.map((p) => p.version)).toEqual(['1.0']);
    const [cRepo] = (
      await unwrap(
        secondary.GET('/pulp/api/v3/repositories/container/container/', {
          params: { query: { name: containerRepo } },
        }),
      )
    ).results;
    const tags = await findPackageContent(secondary, 'container', cRepo?.latest_version_href ?? '', {
      name: 'latest',
    });
    expect(tags).toHaveLength(1);
  });

  it('secondary: content removal takes a python package and a container tag out, publishing nothing', async () => {
    for (const [repoName, type, search] of [
      [pythonRepo, 'python', { name: 'pm-hello' }],
      [containerRepo, 'container', { name: 'latest' }],
    ] as const) {
      const [repo] = (
        await unwrap(secondary.GET('/pulp/api/v3/repositories/', { params: { query: { name: repoName } } }))
      ).results;
      const [unit] = await findPackageContent(secondary, type, repo?.latest_version_href ?? '', search);
      const outcome = (await h.client.workflow.execute('removeRepoContentWorkflow', {
        taskQueue: h.taskQueue,
        workflowId: `remove-repo-content/test-${run}-${type}`,
        args: [
          {
            server: secondaryName,
            repoName,
            contentHref: unit?.pulp_href,
            forcePublish: false,
            maxRuntimeSeconds: 900,
          },
        ],
      })) as { newVersionHref: string | null; publicationHref: string | null };
      expect(outcome.newVersionHref, type).toMatch(/versions\/\d+\/$/);
      expect(outcome.publicationHref, type).toBeNull();
      expect(await findPackageContent(secondary, type, outcome.newVersionHref ?? '', search), type).toEqual(
        [],
      );
    }
    // The distributions follow the repositories: what was removed is no longer served.
    expect((await manifest(stack.pulp.secondary.url, containerPath, 'latest')).status).toBe(404);
    const simple = await fetch(`${stack.pulp.secondary.url}/pypi/${pythonPath}/simple/pm-hello/`);
    expect(simple.status).toBe(404);
  });

  it('secondary: repo removal deletes both with their remotes and distributions', async () => {
    const summary = (await h.client.workflow.execute('repoRemovalWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: `repo-removal/test-${run}`,
      args: [{ server: secondaryName, regexInclude: `^${ext}fixture-(python|container)$`, dryRun: false }],
    })) as { matched: string[]; removed: number; failed: Record<string, string> };
    expect(summary).toMatchObject({ matched: [containerRepo, pythonRepo], removed: 2, failed: {} });
    const q = { params: { query: { name__startswith: ext } } };
    expect((await unwrap(secondary.GET('/pulp/api/v3/repositories/', q))).count).toBe(0);
    expect((await unwrap(secondary.GET('/pulp/api/v3/remotes/', q))).count).toBe(0);
    expect((await unwrap(secondary.GET('/pulp/api/v3/distributions/', q))).count).toBe(0);
  });
});

describe('sync_options reach Pulp as the group gives them', () => {
  const optsRun = `${run}o`;
  const [rpm, deb] = fixtureRepoSpecs(optsRun);
  const rpmName = rpm?.name ?? '';
  const debName = deb?.name ?? '';
  const only = (name: string) => ({ server: primaryName, regexInclude: `^${name}$` });

  beforeAll(async () => {
    if (!rpm || !deb) throw new Error('fixture specs changed');
    await Promise.all([ensureRepository(primary, rpm), ensureRepository(primary, deb)]);
  });

  afterAll(async () => {
    if (!process.env.PM_TEST_KEEP_PULP)
      await deleteReposByPrefix(primary, stack.pulp.primary.url, `ext-${optsRun}-`);
  });

  it('rpm mirror: true syncs mirror_complete (Pulp publishes the version itself), not additive', async () => {
    const { result, stages } = await runGroup({ ...only(rpmName), syncOptions: { mirror: true } });
    expect(result).toMatchObject({ total: 1, completed: 1, failed: 0 });
    const t = await stages(rpmName);
    expect(t.stages[0]?.detail).toMatchObject({ sync_options: { sync_policy: 'mirror_complete' } });
    const version = newVersion(t.stages[0]?.detail);
    // Pulp's own record: a mirror_complete sync publishes the version it creates.
    const pubs = await unwrap(
      primary.GET('/pulp/api/v3/publications/rpm/rpm/', {
        params: { query: { repository_version: version } },
      }),
    );
    // … and it is the one served: no second publication, no banned-package removal (as the original).
    expect(pubs.count).toBe(1);
    expect(t.stages.map((s) => s.name)).toEqual(['sync repo', 'publish repo']);
    expect(t.stages[1]?.detail).toMatchObject({
      state: 'completed',
      published_by_sync: 'mirror_complete',
      publication: pubs.results[0]?.pulp_href,
      distribution_mode: 'repository',
      distribution_updated: false,
    });
  });

  it('rpm skip_types (a list) reaches Pulp: taken as given, and a value Pulp refuses fails the repo with its message', async () => {
    const ok = await runGroup({
      ...only(rpmName),
      syncOptions: { skip_types: ['srpm', 'treeinfo'], optimize: false, signed_only: true },
    });
    expect(ok.result).toMatchObject({ total: 1, completed: 1, failed: 0 });
    expect((await ok.stages(rpmName)).stages[0]?.detail).toMatchObject({
      state: 'completed',
      sync_options: { skip_types: ['srpm', 'treeinfo'], optimize: false },
      // a container key in the group's options: not sent to an rpm sync, and said so
      sync_options_ignored: ['signed_only'],
    });

    const refused = await runGroup({ ...only(rpmName), syncOptions: { skip_types: ['bogus'] } });
    expect(refused.result).toMatchObject({ total: 1, failed: 1 });
    const t = await refused.stages(rpmName);
    expect(t.state).toBe('failed');
    const syncStage = t.stages.find((s) => s.name === 'sync repo');
    expect(JSON.stringify(syncStage?.error)).toMatch(/skip_types.*bogus.*is not a valid choice/);

    // A key no type's sync takes (a typo) is not dropped: Pulp refuses it, and the repo fails.
    const typo = await runGroup({ ...only(rpmName), syncOptions: { sync_polcy: 'mirror_content_only' } });
    expect(typo.result).toMatchObject({ total: 1, failed: 1 });
    const typoStage = (await typo.stages(rpmName)).stages.find((s) => s.name === 'sync repo');
    expect(JSON.stringify(typoStage?.error)).toMatch(/sync_polcy.*Unexpected field/);
  });

  it('deb mirror: true reaches Pulp: the sync removes what the upstream does not have', async () => {
    // A package the upstream does not offer (pm-hello 1.1), uploaded into the repository.
    const debFile = join(stack.stateDir, 'fixtures', 'pkgs', 'deb-next', 'pm-hello_1.1_all.deb');
    const [repo] = (
      await unwrap(
        primary.GET('/pulp/api/v3/repositories/deb/apt/', { params: { query: { name: debName } } }),
      )
    ).results;
    const form = new FormData();
    form.append('file', new Blob([readFileSync(debFile)]), 'pm-hello_1.1_all.deb');
    form.append('repository', repo?.pulp_href ?? '');
    const auth = `Basic ${Buffer.from(`${stack.pulp.username}:${stack.pulp.password}`).toString('base64')}`;
    const upload = await fetch(`${stack.pulp.primary.url}/pulp/api/v3/content/deb/packages/`, {
      method: 'POST',
      headers: { Authorization: auth },
      body: form,
    });
    expect(upload.status).toBe(202);
    await waitForPulpTask(primary, ((await upload.json()) as { task: string }).task);

    const { result, stages } = await runGroup({ ...only(debName), syncOptions: { mirror: true } });
    expect(result).toMatchObject({ total: 1, completed: 1, failed: 0 });
    const t = await stages(debName);
    expect(t.stages[0]?.detail).toMatchObject({ sync_options: { mirror: true } });
    const version = newVersion(t.stages[0]?.detail);
    const synced = await unwrap(
      primary.GET('{deb_apt_repository_version_href}', {
        params: { path: { deb_apt_repository_version_href: version } },
      }),
    );
    // Pulp's repository version: the mirror sync took the uploaded package out (additive keeps it).
    const removed = (synced.content_summary?.removed ?? {}) as Record<string, { count: number }>;
    expect(removed['deb.package']?.count).toBe(1);
    const left = await findPackageContent(primary, 'deb', version, { name: 'pm-hello' });
    expect(left.map((p) => p.version)).toEqual(['1.0']);
  });
});
