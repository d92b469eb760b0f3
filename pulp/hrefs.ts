/** Repository types Pulp Manager knows; the Pulp plugin path of each is part of every href. */
export const REPO_TYPES = ['rpm', 'deb', 'file', 'container', 'python'] as const;
export type RepoType = (typeof REPO_TYPES)[number];

const PLUGIN_PATHS: Record<string, RepoType> = {
  'rpm/rpm': 'rpm',
  'deb/apt': 'deb',
  'file/file': 'file',
  'container/container': 'container',
  'container/container-push': 'container',
  'python/python': 'python',
};

/**
 * Reads the repository type from a repository, remote, distribution or publication href,
 * e.g. /pulp/api/v3/repositories/deb/apt/<uuid>/ → deb. Undefined for types we do not manage.
 */
export function repoTypeFromHref(href: string): RepoType | undefined {
  const m = /\/pulp\/api\/v3\/(?:repositories|remotes|distributions|publications)\/([^/]+\/[^/]+)\//.exec(
    href,
  );
  return m?.[1] ? PLUGIN_PATHS[m[1]] : undefined;
}
