import { unwrap } from '../../activities/pulp/client.js';
import { repoTypeFromHref } from '../../activities/pulp/hrefs.js';
import { listAll } from '../../activities/pulp/listAll.js';
import type { PulpServerClients } from '../../activities/pulp/serverClients.js';
import { invalidInput, notFound } from '../errors.js';

export interface PackageSearch {
  name?: string;
  version?: string;
  sha256?: string;
}

type ContentItem = Record<string, unknown>;

/**
 * Package content in the latest version of a repository, by name / version / sha256: the
 * original's aid for "failed validation due to checksum" errors. A direct read of Pulp, so
 * the answer is what Pulp holds now.
 */
export async function findPackageContent(
  pulpClients: PulpServerClients,
  serverName: string,
  repoHref: string,
  search: PackageSearch,
): Promise<ContentItem[]> {
  const repoType = repoTypeFromHref(repoHref);
  if (repoType !== 'rpm' && repoType !== 'deb' && repoType !== 'file') {
    throw invalidInput(
      'path.repo_id',
      `package search covers rpm, deb and file repositories, not ${repoType ?? repoHref}`,
    );
  }
  if (repoType === 'file' && search.version !== undefined) {
    throw invalidInput(
      'body.version',
      'file content has no version; search by name (relative path) or sha256',
    );
  }
  const client = await pulpClients.forServer(serverName);
  const found = await unwrap(
    client.GET('/pulp/api/v3/repositories/', {
      params: { query: { pulp_href__in: [repoHref], fields: ['pulp_href', 'latest_version_href'] } },
    }),
  );
  const latest = found.results[0]?.latest_version_href;
  if (!latest) throw notFound(`Repository ${repoHref} on ${serverName}`);

  const page = { repository_version: latest };
  switch (repoType) {
    case 'rpm':
      return listAll(async (q) => {
        const query = { ...q, ...page, name: search.name, version: search.version, sha256: search.sha256 };
        const fields = [
          'pulp_href',
          'name',
          'epoch',
          'version',
          'release',
          'arch',
          'pkgId',
          'sha256',
          'location_href',
        ];
        const res = await unwrap(
          client.GET('/pulp/api/v3/content/rpm/packages/', { params: { query: { ...query, fields } } }),
        );
        return { next: res.next, results: res.results as ContentItem[] };
      });
    case 'deb':
      return listAll(async (q) => {
        const query = { ...q, ...page, package: search.name, version: search.version, sha256: search.sha256 };
        const fields = ['pulp_href', 'package', 'version', 'architecture', 'sha256', 'relative_path'];
        const res = await unwrap(
          client.GET('/pulp/api/v3/content/deb/packages/', { params: { query: { ...query, fields } } }),
        );
        return { next: res.next, results: res.results as ContentItem[] };
      });
    case 'file':
      return listAll(async (q) => {
        const query = { ...q, ...page, relative_path: search.name, sha256: search.sha256 };
        const fields = ['pulp_href', 'relative_path', 'sha256'];
        const res = await unwrap(
          client.GET('/pulp/api/v3/content/file/files/', { params: { query: { ...query, fields } } }),
        );
        return { next: res.next, results: res.results as ContentItem[] };
      });
  }
}
