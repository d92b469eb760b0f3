import type { PulpClient } from '../../pulp/client.js';
import { unwrap } from '../../pulp/client.js';
import { ensureRepository, type RepositorySpec } from '../../pulp/ensureRepository.js';
import { listAll } from '../../pulp/listAll.js';
import { waitForPulpTask } from '../../pulp/tasks.js';
import { stack } from './stack.js';

const fx = stack.fixtures.baseUrl;

/** The fixture upstreams as external repositories named `ext-<run>-…` (what registration creates). */
export function fixtureRepoSpecs(run: string): RepositorySpec[] {
  const remote = { tls_validation: false, policy: 'immediate' as const };
  return [
    {
      name: `ext-${run}-rpm`,
      repoType: 'rpm',
      basePath: `${run}/rpm`,
      remote: { url: `${fx}/rpm/`, ...remote },
    },
    {
      name: `ext-${run}-deb`,
      repoType: 'deb',
      basePath: `${run}/deb`,
      remote: {
        url: `${fx}/deb/`,
        distributions: 'stable',
        components: 'main',
        architectures: 'amd64',
        ...remote,
      },
    },
    {
      name: `ext-${run}-deb-flat`,
      repoType: 'deb',
      basePath: `${run}/deb-flat`,
      // localhost: an internal domain in dev/config/config.ini, so banned-package removal is skipped.
      remote: {
        url: `${fx.replace('127.0.0.1', 'localhost')}/deb-flat/`,
        distributions: '/',
        architectures: 'amd64',
        ...remote,
      },
    },
    {
      name: `ext-${run}-file`,
      repoType: 'file',
      basePath: `${run}/file`,
      remote: { url: `${fx}/file/PULP_MANIFEST`, ...remote },
    },
  ];
}

export async function registerFixtureRepos(client: PulpClient, specs: RepositorySpec[]) {
  return Promise.all(specs.map((s) => ensureRepository(client, s)));
}

/**
 * Deletes every distribution, repository and remote whose name starts with the prefix, so a
 * test leaves the shared dev Pulp as it found it. Generic list endpoints give hrefs of every
 * type; DELETE on an href is the same call whatever the type.
 */
export async function deleteReposByPrefix(
  client: PulpClient,
  baseUrl: string,
  prefix: string,
): Promise<void> {
  const auth = `Basic ${Buffer.from(`${stack.pulp.username}:${stack.pulp.password}`).toString('base64')}`;
  const q = { name__startswith: prefix };
  const [dists, repos, remotes] = await Promise.all([
    listAll((p) => unwrap(client.GET('/pulp/api/v3/distributions/', { params: { query: { ...p, ...q } } }))),
    listAll((p) => unwrap(client.GET('/pulp/api/v3/repositories/', { params: { query: { ...p, ...q } } }))),
    listAll((p) => unwrap(client.GET('/pulp/api/v3/remotes/', { params: { query: { ...p, ...q } } }))),
  ]);
  for (const href of [...dists, ...repos, ...remotes].map((o) => o.pulp_href ?? '')) {
    const res = await fetch(`${baseUrl}${href}`, { method: 'DELETE', headers: { Authorization: auth } });
    if (res.status === 202) {
      const { task } = (await res.json()) as { task: string };
      await waitForPulpTask(client, task).catch(() => undefined);
    }
  }
}
