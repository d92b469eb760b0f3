import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pulp_server_repos, pulp_servers, repos } from '../../db/schema.js';
import { unwrap } from '../../pulp/client.js';
import { waitForPulpTask } from '../../pulp/tasks.js';
import { stackPulpClient } from '../support/pulp.js';
import { stack } from '../support/stack.js';
import { type ApiHarness, body, jsonRequest, startApiHarness } from './support/apiHarness.js';

// find_package_content reads the real Pulp primary (through PulpServerClients, local auth):
// an rpm and a file repository synced from the fixture server, registered in the test's DB.

const pulp = stackPulpClient(stack.pulp.primary);
const cleanups: Array<() => Promise<unknown>> = [];
let h: ApiHarness;
let rpmRepoId: number;
let fileRepoId: number;
let unreachableServerId: number;
let downRepoId: number;

// immediate: a package's sha256 is its artifact's, which an on_demand sync has not downloaded yet.
async function syncedRepository(kind: 'rpm' | 'file', name: string, url: string): Promise<string> {
  const remote =
    kind === 'rpm'
      ? await unwrap(pulp.POST('/pulp/api/v3/remotes/rpm/rpm/', { body: { name, url, policy: 'immediate' } }))
      : await unwrap(
          pulp.POST('/pulp/api/v3/remotes/file/file/', { body: { name, url, policy: 'immediate' } }),
        );
  const remoteHref = remote.pulp_href ?? '';
  const repo =
    kind === 'rpm'
      ? await unwrap(pulp.POST('/pulp/api/v3/repositories/rpm/rpm/', { body: { name, remote: remoteHref } }))
      : await unwrap(
          pulp.POST('/pulp/api/v3/repositories/file/file/', { body: { name, remote: remoteHref } }),
        );
  const repoHref = repo.pulp_href ?? '';
  cleanups.push(async () => {
    if (kind === 'rpm') {
      await pulp.DELETE('{rpm_rpm_repository_href}', {
        params: { path: { rpm_rpm_repository_href: repoHref } },
      });
      await pulp.DELETE('{rpm_rpm_remote_href}', { params: { path: { rpm_rpm_remote_href: remoteHref } } });
    } else {
      await pulp.DELETE('{file_file_repository_href}', {
        params: { path: { file_file_repository_href: repoHref } },
      });
      await pulp.DELETE('{file_file_remote_href}', {
        params: { path: { file_file_remote_href: remoteHref } },
      });
    }
  });
  const sync =
    kind === 'rpm'
      ? await unwrap(
          pulp.POST('{rpm_rpm_repository_href}sync/', {
            params: { path: { rpm_rpm_repository_href: repoHref } },
            body: {},
          }),
        )
      : await unwrap(
          pulp.POST('{file_file_repository_href}sync/', {
            params: { path: { file_file_repository_href: repoHref } },
            body: {},
          }),
        );
  const done = await waitForPulpTask(pulp, sync.task);
  expect(done.state).toBe('completed');
  return repoHref;
}

async function register(serverId: number, name: string, type: string, repoHref: string): Promise<number> {
  const [repo] = await h.db.insert(repos).values({ name, repo_type: type });
  await h.db
    .insert(pulp_server_repos)
    .values({ pulp_server_id: serverId, repo_id: repo.insertId, repo_href: repoHref });
  return repo.insertId;
}

const find = (serverId: number, repoId: number, search: unknown) =>
  h.app.request(
    `/v1/pulp_servers/${serverId}/repos/${repoId}/find_package_content`,
    jsonRequest('POST', search),
  );

beforeAll(async () => {
  h = await startApiHarness();
  const run = `api-find-${h.run}`;
  const fixtures = stack.fixtures.baseUrl;
  const primary = h.seed.servers.primary;
  rpmRepoId = await register(
    primary,
    `${run}-rpm`,
    'rpm',
    await syncedRepository('rpm', `${run}-rpm`, `${fixtures}/rpm/`),
  );
  fileRepoId = await register(
    primary,
    `${run}-file`,
    'file',
    await syncedRepository('file', `${run}-file`, `${fixtures}/file/PULP_MANIFEST`),
  );
  const [down] = await h.db.insert(pulp_servers).values({ name: '127.0.0.1:1', username: 'nobody' });
  unreachableServerId = down.insertId;
  downRepoId = await register(
    unreachableServerId,
    `${run}-down`,
    'rpm',
    `/pulp/api/v3/repositories/rpm/rpm/${randomUUID()}/`,
  );
}, 120_000);

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await h?.close();
});

describe('POST /v1/pulp_servers/{id}/repos/{repo_id}/find_package_content', () => {
  it('finds an rpm package of the latest version by name, by sha256 and by version', async () => {
    const res = await find(h.seed.servers.primary, rpmRepoId, { name: 'pm-hello' });
    expect(res.status).toBe(201);
    const [hello, ...rest] = await body<Record<string, unknown>[]>(res);
    expect(rest).toEqual([]);
    expect(hello).toMatchObject({ name: 'pm-hello', version: '1.0' });
    expect(Object.keys(hello ?? {}).sort()).toEqual(['name', 'pkgId', 'pulp_href', 'sha256', 'version']);
    expect(String(hello?.pulp_href)).toMatch(/^\/pulp\/api\/v3\/content\/rpm\/packages\//);
    const bySha = await body<unknown[]>(
      await find(h.seed.servers.primary, rpmRepoId, { sha256: hello?.sha256 }),
    );
    expect(bySha).toEqual([hello]);
    const byVersion = await body<{ name: string }[]>(
      await find(h.seed.servers.primary, rpmRepoId, { version: '1.0' }),
    );
    expect(byVersion.map((p) => p.name)).toContain('pm-hello');
    expect(
      await body(await find(h.seed.servers.primary, rpmRepoId, { name: 'pm-hello', version: '9.9' })),
    ).toEqual([]);
  });

  it('finds file content by relative path (name) and sha256; a version matches no file', async () => {
    const found = await body(await find(h.seed.servers.primary, fileRepoId, { name: 'hello.txt' }));
    expect(found).toEqual([
      expect.objectContaining({
        relative_path: 'hello.txt',
        sha256: 'b54c99a68831c4f3814a7eeba3dfd1347f3418d23a272405e0c366f02a4d4b46',
      }),
    ]);
    // Files have no version: a search by one finds nothing (the document allows the body, so
    // it is answered, not refused).
    for (const search of [{ version: '1.0' }, { name: 'hello.txt', version: '1.0' }]) {
      const res = await find(h.seed.servers.primary, fileRepoId, search);
      expect(res.status).toBe(201);
      expect(await body(res)).toEqual([]);
    }
  });

  it('needs at least one of name, version, sha256', async () => {
    for (const search of [{}, { name: '' }, { name: null, sha256: null }]) {
      const res = await find(h.seed.servers.primary, rpmRepoId, search);
      expect(res.status).toBe(422);
      expect(await body(res)).toMatchObject({ field: 'body.name' });
    }
  });

  it('a lone UTF-16 surrogate in a search field is a 422 naming the field, not a 500', async () => {
    for (const [field, search] of [
      ['body.name', { name: 'pm-\ud800hello' }],
      ['body.version', { name: 'pm-hello', version: '1.\udc00' }],
      ['body.sha256', { sha256: '\ud83d' }],
    ] as const) {
      const res = await find(h.seed.servers.primary, rpmRepoId, search);
      expect(res.status, field).toBe(422);
      expect(await body(res)).toMatchObject({
        field,
        detail: expect.stringContaining('lone UTF-16 surrogate'),
      });
    }
    // A well-formed pair (an emoji) is ordinary text: searched, nothing found.
    const emoji = await find(h.seed.servers.primary, rpmRepoId, { name: 'pm-\ud83d\ude00' });
    expect(emoji.status).toBe(201);
    expect(await body(emoji)).toEqual([]);
  });

  it('answers 404 for a repo the server does not hold', async () => {
    expect((await find(h.seed.servers.beta, rpmRepoId, { name: 'x' })).status).toBe(404);
  });

  it('answers 503 when the Pulp server cannot be reached', async () => {
    const res = await find(unreachableServerId, downRepoId, { name: 'x' });
    expect(res.status).toBe(503);
    expect((await body(res)).detail).toContain('cannot reach Pulp');
  }, 30_000);
});
