import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { task_stages, tasks } from '../../db/schema.js';
import { unwrap } from '../../pulp/client.js';
import { ensureRepository } from '../../pulp/ensureRepository.js';
import { createdResource, waitForPulpTask } from '../../pulp/tasks.js';
import { deleteReposByPrefix } from '../support/fixtureRepos.js';
import { type PipelineHarness, startPipelineHarness } from '../support/pipelineHarness.js';
import { download, stackPulpClient } from '../support/pulp.js';
import { stack } from '../support/stack.js';

// Distributions keep their mode through group syncs on the real primary and secondary: one that
// follows its repository (as the original created them, `repository=`) keeps following it and
// serves each new publication; one pinned to a publication is moved to the new one.
const run = `dm${Date.now().toString(36)}`;
const primary = stackPulpClient(stack.pulp.primary);
const secondary = stackPulpClient(stack.pulp.secondary);
const auth = `Basic ${Buffer.from(`${stack.pulp.username}:${stack.pulp.password}`).toString('base64')}`;
const names = {
  rpm: `ext-${run}-rpm`,
  follow: `ext-${run}-follow`,
  pinned: `ext-${run}-pinned`,
  internal: `int-${run}-files`,
};
const description = `base_url: ${run}\nmigrated from the original's fleet`;
let h: PipelineHarness;

/** A file upstream of this test's own (the shared fixtures are not changed): files can be added. */
interface GrowingUpstream {
  manifestUrl: string;
  add(name: string, text: string): void;
  close(): Promise<void>;
}

async function startGrowingUpstream(): Promise<GrowingUpstream> {
  const files = new Map<string, Buffer>();
  const server: Server = createServer((req, res) => {
    const name = (req.url ?? '/').split('/').pop() ?? '';
    if (name === 'PULP_MANIFEST') {
      const lines = [...files].map(
        ([n, d]) => `${n},${createHash('sha256').update(d).digest('hex')},${d.length}`,
      );
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.end(`${lines.join('\n')}\n`);
      return;
    }
    const data = files.get(name);
    res.writeHead(data ? 200 : 404);
    res.end(data);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    manifestUrl: `${url}/PULP_MANIFEST`,
    add: (name, text) => files.set(name, Buffer.from(text)),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
let upstream: GrowingUpstream;

type PulpObject = Record<string, unknown> & { pulp_href: string };
async function pulpCall<T = PulpObject>(
  baseUrl: string,
  href: string,
  init: { method?: string; json?: unknown; form?: FormData } = {},
): Promise<T> {
  const res = await fetch(`${baseUrl}${href}`, {
    method: init.method ?? 'GET',
    headers: {
      Authorization: auth,
      ...(init.json === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: init.form ?? (init.json === undefined ? undefined : JSON.stringify(init.json)),
  });
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${href} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}
const onPrimary = <T = PulpObject>(href: string, init?: Parameters<typeof pulpCall>[2]) =>
  pulpCall<T>(stack.pulp.primary.url, href, init);

/** Runs a Pulp call that answers with a task and returns the task's first created resource. */
async function viaTask(
  client: typeof primary,
  call: Promise<{ task: string }>,
  kind = '/',
): Promise<string | undefined> {
  return createdResource(await waitForPulpTask(client, (await call).task), kind);
}

async function distribution(server: 'primary' | 'secondary', name: string) {
  const base = stack.pulp[server].url;
  const found = await pulpCall<{ results: PulpObject[] }>(
    base,
    `/pulp/api/v3/distributions/?name=${encodeURIComponent(name)}`,
  );
  const generic = found.results[0];
  if (!generic) throw new Error(`no distribution ${name} on ${server}`);
  // the generic list has no publication field: the typed one has
  return pulpCall<{ repository: string | null; publication: string | null; base_path: string }>(
    base,
    generic.pulp_href,
  );
}

async function repository(server: 'primary' | 'secondary', name: string) {
  const found = await pulpCall<{ results: PulpObject[] }>(
    stack.pulp[server].url,
    `/pulp/api/v3/repositories/?name=${encodeURIComponent(name)}`,
  );
  const repo = found.results[0];
  if (!repo) throw new Error(`no repository ${name} on ${server}`);
  return repo as PulpObject & { description: string | null; latest_version_href: string };
}

async function groupSync(server: string, sourceServer?: string) {
  const workflowId = `repo-group-sync/${server}/test-${run}-${Date.now()}`;
  const result = await h.client.workflow.execute('repoGroupSyncWorkflow', {
    taskQueue: h.taskQueue,
    workflowId,
    args: [
      {
        server,
        ...(sourceServer ? { sourceServer } : {}),
        regexInclude: `^ext-${run}-`,
        maxConcurrentSyncs: 3,
        maxRuntimeSeconds: 900,
        debPublishMode: 'verbatim',
      },
    ],
  });
  const [group] = await h.db
    .select()
    .from(tasks)
    .where(and(eq(tasks.workflow_id, workflowId), eq(tasks.task_type, 'repo_group_sync')));
  const publishes: Record<string, Record<string, unknown> | undefined> = {};
  for (const child of await h.db
    .select()
    .from(tasks)
    .where(eq(tasks.parent_task_id, group?.id ?? -1))) {
    const stages = await h.db
      .select()
      .from(task_stages)
      .where(eq(task_stages.task_id, child.id))
      .orderBy(asc(task_stages.position));
    publishes[String(child.task_args.repo)] = stages.find((s) => s.name === 'publish repo')?.detail as
      | Record<string, unknown>
      | undefined;
  }
  return { result, publishes };
}

const primaryContent = (path: string) => download(`${stack.pulp.primary.contentUrl}/${run}/${path}`);
const rpmNext = `${stack.stateDir}/fixtures/pkgs/rpm-next/pm-hello-1.1-1.noarch.rpm`;

async function rpmPackageNames(root: string): Promise<string> {
  const repomd = (await download(`${root}/repodata/repomd.xml`)).toString();
  const primaryXml = /href="(repodata\/[^"]*primary\.xml\.gz)"/.exec(repomd)?.[1];
  return gunzipSync(await download(`${root}/${primaryXml}`)).toString();
}

describe('distribution modes on the real stack', () => {
  beforeAll(async () => {
    h = await startPipelineHarness();
    upstream = await startGrowingUpstream();
    upstream.add('a.txt', `first file of ${run}\n`);

    // rpm: remote, repository and distribution created exactly as the original created them
    const remote = await unwrap(
      primary.POST('/pulp/api/v3/remotes/rpm/rpm/', {
        body: {
          name: names.rpm,
          url: `${stack.fixtures.baseUrl}/rpm/`,
          policy: 'immediate',
          tls_validation: false,
        },
      }),
    );
    const repo = await unwrap(
      primary.POST('/pulp/api/v3/repositories/rpm/rpm/', {
        body: { name: names.rpm, description, remote: remote.pulp_href ?? null },
      }),
    );
    await viaTask(
      primary,
      unwrap(
        primary.POST('/pulp/api/v3/distributions/rpm/rpm/', {
          body: { name: names.rpm, base_path: `${run}/rpm`, repository: repo.pulp_href ?? '' },
        }),
      ),
    );

    // file: registered by Pulp Manager (which now creates it following its repository too)
    const remoteSpec = { url: upstream.manifestUrl, tls_validation: false, policy: 'immediate' as const };
    await ensureRepository(primary, {
      name: names.follow,
      repoType: 'file',
      description,
      basePath: `${run}/follow`,
      remote: remoteSpec,
    });

    // file pinned by an operator to a publication (of the empty version 0)
    const pinned = await ensureRepository(primary, {
      name: names.pinned,
      repoType: 'file',
      basePath: `${run}/pinned`,
      remote: remoteSpec,
    });
    const pub0 = await viaTask(
      primary,
      unwrap(
        primary.POST('/pulp/api/v3/publications/file/file/', {
          body: { repository_version: `${pinned.repoHref}versions/0/` },
        }),
      ),
      '/publications/',
    );
    const pin = await onPrimary<{ task?: string }>(pinned.distributionHref, {
      method: 'PATCH',
      json: { repository: null, publication: pub0 },
    });
    if (pin.task) await waitForPulpTask(primary, pin.task);
  });

  afterAll(async () => {
    if (!process.env.PM_TEST_KEEP_PULP) {
      for (const prefix of [`ext-${run}-`, `int-${run}-`]) {
        await deleteReposByPrefix(secondary, stack.pulp.secondary.url, prefix);
        await deleteReposByPrefix(primary, stack.pulp.primary.url, prefix);
      }
    }
    await upstream?.close();
    await h?.close();
  });

  it('Pulp refuses publication= on a distribution that follows its repository (rpm, deb, file)', async () => {
    // What the release before this one PATCHed after every publish: why publishing must leave
    // a following distribution alone.
    for (const [type, plugin, publishBody] of [
      ['rpm', 'rpm/rpm', {}],
      ['deb', 'deb/apt', { simple: true }],
      ['file', 'file/file', {}],
    ] as const) {
      const name = `int-${run}-rule-${type}`;
      const repo = await onPrimary(`/pulp/api/v3/repositories/${plugin}/`, {
        method: 'POST',
        json: { name },
      });
      const created = await onPrimary<{ task: string }>(`/pulp/api/v3/distributions/${plugin}/`, {
        method: 'POST',
        json: { name, base_path: `${run}/rule-${type}`, repository: repo.pulp_href },
      });
      const dist = createdResource(await waitForPulpTask(primary, created.task), '/distributions/');
      const pub = await onPrimary<{ task: string }>(`/pulp/api/v3/publications/${plugin}/`, {
        method: 'POST',
        json: { repository: repo.pulp_href, ...publishBody },
      });
      const publication = createdResource(await waitForPulpTask(primary, pub.task), '/publications/');
      const res = await fetch(`${stack.pulp.primary.url}${dist}`, {
        method: 'PATCH',
        headers: { Authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({ publication }),
      });
      expect(res.status, type).toBe(400);
      expect(await res.text(), type).toContain("Only one of the attributes 'repository' and 'publication'");
    }
  });

  it('registration creates distributions that follow their repository', async () => {
    const follow = await distribution('primary', names.follow);
    expect(follow.repository).toBe((await repository('primary', names.follow)).pulp_href);
    expect(follow.publication).toBeNull();
  });

  it('a group sync publishes; following distributions keep their repository, a pinned one gets the publication', async () => {
    const { result, publishes } = await groupSync(stack.pulp.primary.name);
    expect(result).toMatchObject({ total: 3, completed: 3, failed: 0 });

    for (const name of [names.rpm, names.follow]) {
      const dist = await distribution('primary', name);
      expect(dist.repository, name).toBe((await repository('primary', name)).pulp_href);
      expect(dist.publication, name).toBeNull();
      expect(publishes[name], name).toMatchObject({ state: 'completed', distribution_updated: false });
    }
    expect(await rpmPackageNames(`${stack.pulp.primary.contentUrl}/${run}/rpm`)).toContain(
      '<name>pm-hello</name>',
    );
    expect((await primaryContent('follow/a.txt')).toString()).toBe(`first file of ${run}\n`);

    const pinned = await distribution('primary', names.pinned);
    expect(pinned.repository).toBeNull();
    expect(publishes[names.pinned]).toMatchObject({ state: 'completed', distribution_updated: true });
    expect(pinned.publication).toBe(publishes[names.pinned]?.publication);
    expect((await primaryContent('pinned/a.txt')).toString()).toBe(`first file of ${run}\n`);
  });

  it('new content upstream and an upload are served by the following distributions after the next sync', async () => {
    upstream.add('b.txt', `second file of ${run}\n`);
    const rpmRepo = await repository('primary', names.rpm);
    const form = new FormData();
    form.append('file', new Blob([await readFile(rpmNext)]), 'pm-hello-1.1-1.noarch.rpm');
    form.append('repository', rpmRepo.pulp_href);
    const upload = await onPrimary<{ task: string }>('/pulp/api/v3/content/rpm/packages/', {
      method: 'POST',
      form,
    });
    await waitForPulpTask(primary, upload.task);

    const { result, publishes } = await groupSync(stack.pulp.primary.name);
    expect(result).toMatchObject({ total: 3, completed: 3, failed: 0 });

    expect((await primaryContent('follow/b.txt')).toString()).toBe(`second file of ${run}\n`);
    const rpmPrimaryXml = await rpmPackageNames(`${stack.pulp.primary.contentUrl}/${run}/rpm`);
    expect(rpmPrimaryXml).toContain('ver="1.1"');
    expect(
      (await primaryContent('rpm/Packages/p/pm-hello-1.1-1.noarch.rpm')).equals(await readFile(rpmNext)),
    ).toBe(true);
    for (const name of [names.rpm, names.follow]) {
      expect((await distribution('primary', name)).repository, name).toBe(
        (await repository('primary', name)).pulp_href,
      );
    }
    const pinned = await distribution('primary', names.pinned);
    expect(pinned.publication).toBe(publishes[names.pinned]?.publication);
    expect((await primaryContent('pinned/b.txt')).toString()).toBe(`second file of ${run}\n`);
  });

  it("a secondary registers from the primary with the primary's descriptions and following distributions", async () => {
    const { result } = await groupSync(stack.pulp.secondary.name, stack.pulp.primary.name);
    expect(result).toMatchObject({ total: 3, completed: 3, failed: 0 });
    for (const name of [names.rpm, names.follow]) {
      const repo = await repository('secondary', name);
      expect(repo.description, name).toBe(description);
      const dist = await distribution('secondary', name);
      expect(dist.repository, name).toBe(repo.pulp_href);
    }
    expect((await repository('secondary', names.pinned)).description).toBeNull();
    const content = `${stack.pulp.secondary.contentUrl}/${run}`;
    expect((await download(`${content}/follow/b.txt`)).toString()).toBe(`second file of ${run}\n`);
    expect((await download(`${content}/pinned/b.txt`)).toString()).toBe(`second file of ${run}\n`);
    expect(await rpmPackageNames(`${content}/rpm`)).toContain('ver="1.1"');

    // a second registration does not PATCH the copied description away
    await groupSync(stack.pulp.secondary.name, stack.pulp.primary.name);
    expect((await repository('secondary', names.follow)).description).toBe(description);
  });

  it('an internal (upload-only) repository serves what is published, without touching its distribution', async () => {
    const ensured = await ensureRepository(primary, {
      name: names.internal,
      repoType: 'file',
      basePath: `${run}/internal`,
    });
    const form = new FormData();
    form.append('file', new Blob([`uploaded to ${run}\n`]), 'notes.txt');
    form.append('relative_path', 'notes.txt');
    form.append('repository', ensured.repoHref);
    const upload = await onPrimary<{ task: string }>('/pulp/api/v3/content/file/files/', {
      method: 'POST',
      form,
    });
    await waitForPulpTask(primary, upload.task);
    await viaTask(
      primary,
      unwrap(
        primary.POST('/pulp/api/v3/publications/file/file/', { body: { repository: ensured.repoHref } }),
      ),
    );
    expect((await primaryContent('internal/notes.txt')).toString()).toBe(`uploaded to ${run}\n`);
    expect((await distribution('primary', names.internal)).repository).toBe(ensured.repoHref);
  });
});
