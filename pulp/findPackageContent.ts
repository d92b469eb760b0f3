import { type PulpClient, unwrap } from './client.js';
import type { RepoType } from './hrefs.js';
import { listAll, type PulpPage } from './listAll.js';
import { UnsupportedRepoTypeError } from './repoEndpoints.js';

export interface PackageSearch {
  name?: string;
  version?: string;
  sha256?: string;
}

/** One content unit with the original's fields: pulp_href, name (deb: package), pkgId, sha256, version. */
export type PackageContent = Record<string, unknown> & { pulp_href: string };

export class PackageSearchError extends Error {
  readonly code = 'PACKAGE_SEARCH_EMPTY';
  constructor() {
    super('name, version or sha256 must be specified');
    this.name = 'PackageSearchError';
  }
}

/**
 * Package content of a repository version by name / version / sha256 (at least one: versions
 * hold tens of thousands of packages). deb packages are named by `package`, rpm and python by
 * `name`, files by their relative path; container images by tag (name) or manifest digest (sha256).
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
  // The three content lists differ only in their filters and fields; their items are returned
  // as Pulp sends them, so one untyped read serves all three.
  const list = (path: ContentPath, query: Record<string, unknown>, fields: string[]) =>
    listAll<PackageContent>(
      (q) =>
        unwrap(
          client.GET(path, { params: { query: { ...q, ...filters, ...query, fields } as never } }),
        ) as Promise<PulpPage<PackageContent>>,
    );
  switch (repoType) {
    case 'rpm':
      return list('/pulp/api/v3/content/rpm/packages/', name ? { name } : {}, [
        'pulp_href',
        'name',
        'pkgId',
        'sha256',
        'version',
      ]);
    case 'deb':
      return list('/pulp/api/v3/content/deb/packages/', name ? { package: name } : {}, [
        'pulp_href',
        'package',
        'sha256',
        'version',
      ]);
    case 'file':
      return list('/pulp/api/v3/content/file/files/', name ? { relative_path: name } : {}, [
        'pulp_href',
        'relative_path',
        'sha256',
      ]);
    case 'python':
      return list('/pulp/api/v3/content/python/packages/', name ? { name } : {}, [
        'pulp_href',
        'name',
        'version',
        'sha256',
        'filename',
      ]);
    case 'container': {
      // An image is found by its tag (name) or its manifest digest (sha256); it has no version.
      if (name) {
        return list('/pulp/api/v3/content/container/tags/', { name }, [
          'pulp_href',
          'name',
          'tagged_manifest',
        ]);
      }
      if (!sha256) return [];
      return listAll<PackageContent>(
        (q) =>
          unwrap(
            client.GET('/pulp/api/v3/content/container/manifests/', {
              params: {
                query: {
                  ...q,
                  repository_version: versionHref,
                  digest: `sha256:${sha256.replace(/^sha256:/, '')}`,
                  fields: ['pulp_href', 'digest', 'media_type'],
                } as never,
              },
            }),
          ) as Promise<PulpPage<PackageContent>>,
      );
    }
    default:
      throw new UnsupportedRepoTypeError(repoType, 'package search');
  }
}

type ContentPath =
  | '/pulp/api/v3/content/rpm/packages/'
  | '/pulp/api/v3/content/deb/packages/'
  | '/pulp/api/v3/content/file/files/'
  | '/pulp/api/v3/content/python/packages/'
  | '/pulp/api/v3/content/container/tags/';
