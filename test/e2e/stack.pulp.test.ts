import { afterAll, describe, expect, it } from 'vitest';
import { unwrap } from '../../pulp/client.js';
import { listAll } from '../../pulp/listAll.js';
import { waitForPulpTask } from '../../pulp/tasks.js';
import { verifyDebReleaseSignatures } from '../support/debSignature.js';
import { download, stackPulpClient } from '../support/pulp.js';
import { stack } from '../support/stack.js';

// The real primary and secondary Pulp servers, syncing from the fixture HTTP server.
const primary = stackPulpClient(stack.pulp.primary);
const secondary = stackPulpClient(stack.pulp.secondary);
const run = `smoke-${Date.now().toString(36)}`;
const fixtures = stack.fixtures.baseUrl;
const cleanups: Array<() => Promise<unknown>> = [];

async function task(client: typeof primary, call: Promise<{ task: string }>) {
  const { task: href } = await call;
  return waitForPulpTask(client, href);
}

describe('local stack: Pulp primary and secondary', () => {
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  it('syncs, publishes and serves a file repository', async () => {
    const remote = await unwrap(
      primary.POST('/pulp/api/v3/remotes/file/file/', {
        body: { name: `${run}-file`, url: `${fixtures}/file/PULP_MANIFEST`, policy: 'immediate' },
      }),
    );
    const repo = await unwrap(
      primary.POST('/pulp/api/v3/repositories/file/file/', {
        body: { name: `${run}-file`, remote: remote.pulp_href },
      }),
    );
    cleanups.push(() =>
      primary.DELETE('{file_file_remote_href}', {
        params: { path: { file_file_remote_href: remote.pulp_href ?? '' } },
      }),
    );
    cleanups.push(() =>
      primary.DELETE('{file_file_repository_href}', {
        params: { path: { file_file_repository_href: repo.pulp_href ?? '' } },
      }),
    );
    const synced = await task(
      primary,
      unwrap(
        primary.POST('{file_file_repository_href}sync/', {
          params: { path: { file_file_repository_href: repo.pulp_href ?? '' } },
          body: {},
        }),
      ),
    );
    expect(synced.state).toBe('completed');
    const published = await task(
      primary,
      unwrap(primary.POST('/pulp/api/v3/publications/file/file/', { body: { repository: repo.pulp_href } })),
    );
    const publication = published.created_resources?.[0] ?? '';
    const distributed = await task(
      primary,
      unwrap(
        primary.POST('/pulp/api/v3/distributions/file/file/', {
          body: { name: `${run}-file`, base_path: `${run}/file`, publication },
        }),
      ),
    );
    cleanups.push(() =>
      primary.DELETE('{file_file_distribution_href}', {
        params: { path: { file_file_distribution_href: distributed.created_resources?.[0] ?? '' } },
      }),
    );

    const served = await download(`${stack.pulp.primary.contentUrl}/${run}/file/hello.txt`);
    expect(served.equals(await download(`${fixtures}/file/hello.txt`))).toBe(true);
  });

  it('the secondary syncs that repository from the primary content URL', async () => {
    const url = `${stack.pulp.primary.contentUrl}/${run}/file/PULP_MANIFEST`;
    const remote = await unwrap(
      secondary.POST('/pulp/api/v3/remotes/file/file/', {
        body: { name: `${run}-from-primary`, url, policy: 'immediate' },
      }),
    );
    const repo = await unwrap(
      secondary.POST('/pulp/api/v3/repositories/file/file/', {
        body: { name: `${run}-from-primary`, remote: remote.pulp_href, autopublish: true },
      }),
    );
    cleanups.push(() =>
      secondary.DELETE('{file_file_remote_href}', {
        params: { path: { file_file_remote_href: remote.pulp_href ?? '' } },
      }),
    );
    cleanups.push(() =>
      secondary.DELETE('{file_file_repository_href}', {
        params: { path: { file_file_repository_href: repo.pulp_href ?? '' } },
      }),
    );
    await task(
      secondary,
      unwrap(
        secondary.POST('{file_file_repository_href}sync/', {
          params: { path: { file_file_repository_href: repo.pulp_href ?? '' } },
          body: {},
        }),
      ),
    );
    const distributed = await task(
      secondary,
      unwrap(
        secondary.POST('/pulp/api/v3/distributions/file/file/', {
          body: { name: `${run}-from-primary`, base_path: `${run}/from-primary`, repository: repo.pulp_href },
        }),
      ),
    );
    cleanups.push(() =>
      secondary.DELETE('{file_file_distribution_href}', {
        params: { path: { file_file_distribution_href: distributed.created_resources?.[0] ?? '' } },
      }),
    );
    const served = await download(`${stack.pulp.secondary.contentUrl}/${run}/from-primary/hello.txt`);
    expect(served.equals(await download(`${fixtures}/file/hello.txt`))).toBe(true);
  });

  it('syncs an rpm repository and publishes sha256 metadata', async () => {
    const remote = await unwrap(
      primary.POST('/pulp/api/v3/remotes/rpm/rpm/', {
        body: { name: `${run}-rpm`, url: `${fixtures}/rpm/`, policy: 'immediate' },
      }),
    );
    const repo = await unwrap(
      primary.POST('/pulp/api/v3/repositories/rpm/rpm/', {
        body: { name: `${run}-rpm`, remote: remote.pulp_href },
      }),
    );
    cleanups.push(() =>
      primary.DELETE('{rpm_rpm_remote_href}', {
        params: { path: { rpm_rpm_remote_href: remote.pulp_href ?? '' } },
      }),
    );
    cleanups.push(() =>
      primary.DELETE('{rpm_rpm_repository_href}', {
        params: { path: { rpm_rpm_repository_href: repo.pulp_href ?? '' } },
      }),
    );
    await task(
      primary,
      unwrap(
        primary.POST('{rpm_rpm_repository_href}sync/', {
          params: { path: { rpm_rpm_repository_href: repo.pulp_href ?? '' } },
          body: { sync_policy: 'mirror_content_only' },
        }),
      ),
    );
    const packages = await listAll((page) =>
      unwrap(
        primary.GET('/pulp/api/v3/content/rpm/packages/', {
          params: { query: { ...page, repository_version: `${repo.pulp_href}versions/1/` } },
        }),
      ),
    );
    expect(packages.map((p) => p.name).sort()).toEqual(['bannedexample', 'pm-hello', 'pm-tools']);

    const published = await task(
      primary,
      unwrap(
        primary.POST('/pulp/api/v3/publications/rpm/rpm/', {
          body: { repository: repo.pulp_href, checksum_type: 'sha256' },
        }),
      ),
    );
    const distributed = await task(
      primary,
      unwrap(
        primary.POST('/pulp/api/v3/distributions/rpm/rpm/', {
          body: {
            name: `${run}-rpm`,
            base_path: `${run}/rpm`,
            publication: published.created_resources?.[0],
          },
        }),
      ),
    );
    cleanups.push(() =>
      primary.DELETE('{rpm_rpm_distribution_href}', {
        params: { path: { rpm_rpm_distribution_href: distributed.created_resources?.[0] ?? '' } },
      }),
    );
    const rpm = await download(
      `${stack.pulp.primary.contentUrl}/${run}/rpm/Packages/p/pm-hello-1.0-1.noarch.rpm`,
    );
    expect(rpm.equals(await download(`${fixtures}/rpm/Packages/pm-hello-1.0-1.noarch.rpm`))).toBe(true);
    const repomd = (
      await download(`${stack.pulp.primary.contentUrl}/${run}/rpm/repodata/repomd.xml`)
    ).toString();
    expect(repomd).toContain('<checksum type="sha256">');
  });

  it('syncs a deb repository and publishes it signed by the signing service', async () => {
    const signing = await unwrap(
      primary.GET('/pulp/api/v3/signing-services/', {
        params: { query: { name: stack.pulp.debSigningService } },
      }),
    );
    const signingService = signing.results[0]?.pulp_href;
    expect(signingService).toBeDefined();
    const remote = await unwrap(
      primary.POST('/pulp/api/v3/remotes/deb/apt/', {
        body: {
          name: `${run}-deb`,
          url: `${fixtures}/deb/`,
          distributions: 'stable',
          components: 'main',
          architectures: 'amd64',
          policy: 'immediate',
        },
      }),
    );
    const repo = await unwrap(
      primary.POST('/pulp/api/v3/repositories/deb/apt/', {
        body: { name: `${run}-deb`, remote: remote.pulp_href },
      }),
    );
    cleanups.push(() =>
      primary.DELETE('{deb_apt_remote_href}', {
        params: { path: { deb_apt_remote_href: remote.pulp_href ?? '' } },
      }),
    );
    cleanups.push(() =>
      primary.DELETE('{deb_apt_repository_href}', {
        params: { path: { deb_apt_repository_href: repo.pulp_href ?? '' } },
      }),
    );
    await task(
      primary,
      unwrap(
        primary.POST('{deb_apt_repository_href}sync/', {
          params: { path: { deb_apt_repository_href: repo.pulp_href ?? '' } },
          body: { mirror: false },
        }),
      ),
    );
    const published = await task(
      primary,
      unwrap(
        primary.POST('/pulp/api/v3/publications/deb/apt/', {
          body: { repository: repo.pulp_href, structured: true, signing_service: signingService },
        }),
      ),
    );
    const distributed = await task(
      primary,
      unwrap(
        primary.POST('/pulp/api/v3/distributions/deb/apt/', {
          body: {
            name: `${run}-deb`,
            base_path: `${run}/deb`,
            publication: published.created_resources?.[0],
          },
        }),
      ),
    );
    cleanups.push(() =>
      primary.DELETE('{deb_apt_distribution_href}', {
        params: { path: { deb_apt_distribution_href: distributed.created_resources?.[0] ?? '' } },
      }),
    );

    const base = `${stack.pulp.primary.contentUrl}/${run}/deb`;
    const release = await download(`${base}/dists/stable/Release`);
    expect(release.toString()).toMatch(/^Components: main$/m);
    // Both signatures verified with the stack's public key only: a real signature, not a file that merely exists.
    await verifyDebReleaseSignatures(`${base}/dists/stable`);

    const packagesIndex = (await download(`${base}/dists/stable/main/binary-amd64/Packages`)).toString();
    const filename = /^Filename: (.*pm-tools.*\.deb)$/m.exec(packagesIndex)?.[1];
    expect(filename).toBeDefined();
    const deb = await download(`${base}/${filename}`);
    expect(deb.subarray(0, 8).toString()).toBe('!<arch>\n');
  });
});
