import { type PulpClient, unwrap } from './client.js';
import { type RepoType, repoTypeFromHref } from './hrefs.js';
import { listAll } from './listAll.js';

/** One repository as Pulp has it, with its remote and distribution when it has them. */
export interface PulpRepoEntry {
  name: string;
  repoType: RepoType;
  repoHref: string;
  description: string | null;
  latestVersionHref: string | null;
  remoteHref: string | null;
  remoteFeed: string | null;
  distributionHref: string | null;
  basePath: string | null;
}

/**
 * Everything a server holds, read with three paginated list calls (repositories, remotes,
 * distributions) whatever the number of plugins. A distribution belongs to the repository it
 * points at; publication-based distributions name no repository and are matched by name,
 * which is how Pulp Manager creates them.
 */
export async function readServerInventory(client: PulpClient): Promise<PulpRepoEntry[]> {
  const [repos, remotes, distributions] = await Promise.all([
    listAll((q) => unwrap(client.GET('/pulp/api/v3/repositories/', { params: { query: q } }))),
    listAll((q) => unwrap(client.GET('/pulp/api/v3/remotes/', { params: { query: q } }))),
    listAll((q) => unwrap(client.GET('/pulp/api/v3/distributions/', { params: { query: q } }))),
  ]);
  const feedByRemote = new Map(remotes.map((r) => [r.pulp_href ?? '', r.url]));
  const distByRepo = new Map<string, (typeof distributions)[number]>();
  const distByName = new Map<string, (typeof distributions)[number]>();
  for (const d of distributions) {
    if (d.repository) distByRepo.set(d.repository, d);
    distByName.set(d.name, d);
  }
  const entries: PulpRepoEntry[] = [];
  for (const r of repos) {
    const repoHref = r.pulp_href ?? '';
    const repoType = repoTypeFromHref(repoHref);
    if (!repoType) continue;
    const dist = distByRepo.get(repoHref) ?? distByName.get(r.name);
    entries.push({
      name: r.name,
      repoType,
      repoHref,
      description: r.description ?? null,
      latestVersionHref: r.latest_version_href ?? null,
      remoteHref: r.remote ?? null,
      remoteFeed: r.remote ? (feedByRemote.get(r.remote) ?? null) : null,
      distributionHref: dist?.pulp_href ?? null,
      basePath: dist?.base_path ?? null,
    });
  }
  return entries.sort((a, b) => a.name.localeCompare(b.name));
}
