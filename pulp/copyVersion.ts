import { type PulpClient, unwrap } from './client.js';
import type { RepoType } from './hrefs.js';
import { UnsupportedRepoTypeError } from './repoEndpoints.js';

/**
 * Copies all content of a repository version into another repository of the same type,
 * creating a new version there; returns the Pulp task href. Snapshots are taken this way.
 */
export async function startCopyVersion(
  client: PulpClient,
  repoType: RepoType,
  sourceVersionHref: string,
  destRepoHref: string,
): Promise<string> {
  // No `content` list: everything in the source version is copied.
  const config = [{ source_repo_version: sourceVersionHref, dest_repo: destRepoHref }];
  switch (repoType) {
    case 'rpm':
      // A whole version is self-consistent: dependency solving would only cost time.
      return (
        await unwrap(client.POST('/pulp/api/v3/rpm/copy/', { body: { config, dependency_solving: false } }))
      ).task;
    case 'deb':
      // structured: also the releases, components and architectures, so that a structured
      // publication of the copy has the same layout as the source.
      return (await unwrap(client.POST('/pulp/api/v3/deb/copy/', { body: { config, structured: true } })))
        .task;
    default:
      throw new UnsupportedRepoTypeError(repoType, 'copy (snapshot)');
  }
}
