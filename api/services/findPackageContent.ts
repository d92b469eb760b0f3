import type { PulpServerClients } from '../../activities/pulp/serverClients.js';
import { unwrap } from '../../pulp/client.js';
import {
  findPackageContent as findPackageContentIn,
  type PackageContent,
  type PackageSearch,
} from '../../pulp/findPackageContent.js';
import { repoTypeFromHref } from '../../pulp/hrefs.js';
import { invalidInput, notFound } from '../errors.js';

export type { PackageSearch };

const LONE_SURROGATE = /\p{Surrogate}/u;

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
): Promise<PackageContent[]> {
  for (const field of ['name', 'version', 'sha256'] as const) {
    // A lone UTF-16 surrogate has no UTF-8 form, so it cannot go into Pulp's query string.
    if (LONE_SURROGATE.test(search[field] ?? '')) {
      throw invalidInput(`body.${field}`, 'contains a lone UTF-16 surrogate (not valid Unicode text)');
    }
  }
  const repoType = repoTypeFromHref(repoHref);
  if (repoType === undefined) {
    throw invalidInput(
      'path.repo_id',
      `package search covers rpm, deb, file, python and container repositories, not ${repoHref}`,
    );
  }
  // A field the type's content does not have matches nothing (a file has no version, a
  // container image is a tag or a digest): an empty answer, as any other search that finds
  // nothing, so that every body the OpenAPI document allows is answered.
  if (repoType === 'container' && search.name === undefined && search.sha256 === undefined) return [];
  if (repoType === 'file' && search.version !== undefined) return [];
  const client = await pulpClients.forServer(serverName);
  const found = await unwrap(
    client.GET('/pulp/api/v3/repositories/', {
      params: { query: { pulp_href__in: [repoHref], fields: ['pulp_href', 'latest_version_href'] } },
    }),
  );
  const latest = found.results[0]?.latest_version_href;
  if (!latest) throw notFound(`Repository ${repoHref} on ${serverName}`);

  return findPackageContentIn(client, repoType, latest, search);
}
