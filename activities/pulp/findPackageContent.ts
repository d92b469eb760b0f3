import { type PulpClient, unwrap } from './client.js';
import type { RepoType } from './hrefs.js';
import { listAll } from './listAll.js';
import { UnsupportedRepoTypeError } from './repoEndpoints.js';

export interface PackageSearch {
  name?: string;
  version?: string;
  sha256?: string;
}

/** One package as the original answered: Pulp omits the fields a type does not have. */
export interface PackageContent {
  pulp_href: string;
  /** rpm */
  name?: string;
  /** deb: the package name */
  package?: string;
  /** rpm: checksum of the package as named in the metadata */
  pkgId?: string;
  sha256?: string;
  version?: string;
}

export class PackageSearchError extends Error {
  readonly code = 'PACKAGE_SEARCH_EMPTY';
  constructor() {
    super('name, version or sha256 must be specified');
    this.name = 'PackageSearchError';
  }
}

/**
 * Package content of a repository version by name / version / sha256 (at least one: versions
 * hold tens of thousands of packages). deb packages are named by `package`, rpm by `name`.
 */
export async function findPackageContent(
  client: PulpClient,
  repoType: RepoType,
  versionHref: string,
  search: PackageSearch,
): Promise<PackageContent[]> {
  const { name, version, sha256 } = search;
  if (!name && !version && !sha256) throw new PackageSearchError();
  const filters = {
    repository_version: versionHref,
    ...(version ? { version } : {}),
    ...(sha256 ? { sha256 } : {}),
  };
  switch (repoType) {
    case 'rpm': {
      const fields = ['pulp_href', 'name', 'pkgId', 'sha256', 'version'];
      const units = await listAll((q) =>
        unwrap(
          client.GET('/pulp/api/v3/content/rpm/packages/', {
            params: { query: { ...q, ...filters, ...(name ? { name } : {}), fields } },
          }),
        ),
      );
      return units.map((u) => ({
        pulp_href: u.pulp_href ?? '',
        name: u.name,
        pkgId: u.pkgId,
        sha256: u.sha256,
        version: u.version,
      }));
    }
    case 'deb': {
      const fields = ['pulp_href', 'package', 'sha256', 'version'];
      const units = await listAll((q) =>
        unwrap(
          client.GET('/pulp/api/v3/content/deb/packages/', {
            params: { query: { ...q, ...filters, ...(name ? { package: name } : {}), fields } },
          }),
        ),
      );
      return units.map((u) => ({
        pulp_href: u.pulp_href ?? '',
        package: u.package,
        sha256: u.sha256,
        version: u.version,
      }));
    }
    default:
      throw new UnsupportedRepoTypeError(repoType, 'package search');
  }
}
