import { compilePythonRegex, pythonRegexForPostgres } from '../config/pythonRegex.js';
import { type PulpClient, type PulpSchemas, unwrap } from './client.js';
import type { RepoType } from './hrefs.js';
import { listAll } from './listAll.js';
import { buildSyncBody, type SyncOptions } from './syncOptions.js';

/**
 * The per-type calls of the sync pipeline. Each repo type has its own endpoints in Pulp's
 * schema; this is the one place that switches on the type, so the rest stays generic.
 */

export class UnsupportedRepoTypeError extends Error {
  readonly code = 'UNSUPPORTED_REPO_TYPE';
  constructor(
    readonly repoType: string,
    readonly operation: string,
  ) {
    super(`${operation} is not supported for ${repoType} repositories`);
    this.name = 'UnsupportedRepoTypeError';
  }
}

/**
 * Starts a sync of the repository from the remote; returns the Pulp task href. The body is
 * built from the group's sync_options by buildSyncBody (the keys this type takes, as given).
 */
export async function startSync(
  client: PulpClient,
  repoType: RepoType,
  repoHref: string,
  remoteHref: string,
  options: SyncOptions = {},
): Promise<string> {
  const { body } = buildSyncBody(repoType, remoteHref, options);
  // Pulp validates the values (this is where a refused key fails the repository, with its
  // message): the generated types check the keys, in syncOptions.ts.
  switch (repoType) {
    case 'rpm':
      return (
        await unwrap(
          client.POST('{rpm_rpm_repository_href}sync/', {
            params: { path: { rpm_rpm_repository_href: repoHref } },
            body: body as PulpSchemas['RpmRepositorySyncURL'],
          }),
        )
      ).task;
    case 'deb':
      return (
        await unwrap(
          client.POST('{deb_apt_repository_href}sync/', {
            params: { path: { deb_apt_repository_href: repoHref } },
            body: body as PulpSchemas['AptRepositorySyncURL'],
          }),
        )
      ).task;
    case 'file':
      return (
        await unwrap(
          client.POST('{file_file_repository_href}sync/', {
            params: { path: { file_file_repository_href: repoHref } },
            body: body as PulpSchemas['FileRepositorySyncURL'],
          }),
        )
      ).task;
    case 'python':
      return (
        await unwrap(
          client.POST('{python_python_repository_href}sync/', {
            params: { path: { python_python_repository_href: repoHref } },
            body: body as PulpSchemas['RepositorySyncURL'],
          }),
        )
      ).task;
    case 'container':
      return (
        await unwrap(
          client.POST('{container_container_repository_href}sync/', {
            params: { path: { container_container_repository_href: repoHref } },
            body: body as PulpSchemas['ContainerRepositorySyncURL'],
          }),
        )
      ).task;
    default:
      throw new UnsupportedRepoTypeError(repoType, 'sync');
  }
}

export async function readRepository(client: PulpClient, repoHref: string) {
  // The generic read works for every type: name, prn, latest_version_href, remote.
  const [repo] = await listAll((q) =>
    unwrap(
      client.GET('/pulp/api/v3/repositories/', { params: { query: { ...q, pulp_href__in: [repoHref] } } }),
    ),
  );
  return repo;
}

/** Does any publication exist for this repository version? */
export async function versionHasPublication(
  client: PulpClient,
  repoType: RepoType,
  versionHref: string,
): Promise<boolean> {
  const query = { repository_version: versionHref, limit: 1 };
  switch (repoType) {
    case 'rpm':
      return (
        (await unwrap(client.GET('/pulp/api/v3/publications/rpm/rpm/', { params: { query } }))).count > 0
      );
    case 'deb': {
      const apt = await unwrap(client.GET('/pulp/api/v3/publications/deb/apt/', { params: { query } }));
      if (apt.count > 0) return true;
      return (
        (await unwrap(client.GET('/pulp/api/v3/publications/deb/verbatim/', { params: { query } }))).count > 0
      );
    }
    case 'file':
      return (
        (await unwrap(client.GET('/pulp/api/v3/publications/file/file/', { params: { query } }))).count > 0
      );
    case 'python':
      return (
        (await unwrap(client.GET('/pulp/api/v3/publications/python/pypi/', { params: { query } }))).count > 0
      );
    default:
      // container: the distribution serves the repository version, there are no publications.
      return false;
  }
}

/** The newest publication of a repository version, whatever its type (null when it has none). */
export async function versionPublication(client: PulpClient, versionHref: string): Promise<string | null> {
  const page = await unwrap(
    client.GET('/pulp/api/v3/publications/', {
      params: { query: { repository_version: versionHref, ordering: ['-pulp_created'], limit: 1 } },
    }),
  );
  return page.results[0]?.pulp_href ?? null;
}

/** Content units of a version whose package name matches the banned regex. */
export async function findBannedContent(
  client: PulpClient,
  repoType: RepoType,
  versionHref: string,
  bannedRegex: string,
): Promise<{ href: string; name: string }[]> {
  switch (repoType) {
    case 'deb': {
      // Filtered by Pulp itself (case-insensitive regex on the package name, in PostgreSQL's dialect).
      const units = await listAll((q) =>
        unwrap(
          client.GET('/pulp/api/v3/content/deb/packages/', {
            params: {
              query: {
                ...q,
                repository_version: versionHref,
                package__iregex: pythonRegexForPostgres(bannedRegex),
                fields: ['pulp_href', 'package'],
              },
            },
          }),
        ),
      );
      return units.map((u) => ({ href: u.pulp_href ?? '', name: u.package ?? '' }));
    }
    case 'rpm': {
      // rpm has no regex filter: read the names and match them here.
      const re = compilePythonRegex(bannedRegex, 'i');
      // Two short fields a unit: pages of 1,000 keep an EPEL-sized repository to ~100 calls.
      const units = await listAll(
        (q) =>
          unwrap(
            client.GET('/pulp/api/v3/content/rpm/packages/', {
              params: { query: { ...q, repository_version: versionHref, fields: ['pulp_href', 'name'] } },
            }),
          ),
        1000,
      );
      return units
        .filter((u) => re.test(u.name ?? ''))
        .map((u) => ({ href: u.pulp_href ?? '', name: u.name ?? '' }));
    }
    default:
      return [];
  }
}

/** Removes content units, creating a new repository version; returns the task href. */
export async function removeContent(
  client: PulpClient,
  repoType: RepoType,
  repoHref: string,
  contentHrefs: string[],
  baseVersion?: string,
): Promise<string> {
  const body = { remove_content_units: contentHrefs, ...(baseVersion ? { base_version: baseVersion } : {}) };
  switch (repoType) {
    case 'rpm':
      return (
        await unwrap(
          client.POST('{rpm_rpm_repository_href}modify/', {
            params: { path: { rpm_rpm_repository_href: repoHref } },
            body,
          }),
        )
      ).task;
    case 'deb':
      return (
        await unwrap(
          client.POST('{deb_apt_repository_href}modify/', {
            params: { path: { deb_apt_repository_href: repoHref } },
            body,
          }),
        )
      ).task;
    case 'file':
      return (
        await unwrap(
          client.POST('{file_file_repository_href}modify/', {
            params: { path: { file_file_repository_href: repoHref } },
            body,
          }),
        )
      ).task;
    case 'python':
      return (
        await unwrap(
          client.POST('{python_python_repository_href}modify/', {
            params: { path: { python_python_repository_href: repoHref } },
            body,
          }),
        )
      ).task;
    case 'container':
      // pulp_container has no modify/: remove/ takes content_units (a tag takes its manifests along).
      return (
        await unwrap(
          client.POST('{container_container_repository_href}remove/', {
            params: { path: { container_container_repository_href: repoHref } },
            body: { content_units: contentHrefs },
          }),
        )
      ).task;
    default:
      throw new UnsupportedRepoTypeError(repoType, 'content removal');
  }
}

export interface PublishOptions {
  /** deb: re-sign with this signing service href (apt publication). */
  signingServiceHref?: string;
  /** deb: keep the upstream's signed Release files (verbatim publication). */
  debVerbatim?: boolean;
  /** deb: flat repository (remote distribution ending in "/"). */
  debFlat?: boolean;
}

/**
 * Types Pulp serves through a publication. A container distribution serves its repository's
 * latest version; so does a python one (pulp_python's PyPI API), and there a publication of the
 * latest version even breaks pip: /pypi/<base_path>/simple/ then redirects to the content app,
 * which serves the repository version and has no simple/ pages for a following distribution.
 */
export function typePublishes(repoType: RepoType): boolean {
  return repoType !== 'container' && repoType !== 'python';
}

/** Publishes a repository version; returns the Pulp task href (its created resource is the publication). */
export async function startPublish(
  client: PulpClient,
  repoType: RepoType,
  versionHref: string,
  opts: PublishOptions = {},
): Promise<string> {
  switch (repoType) {
    case 'rpm':
      // sha256 for both the repo metadata and the package checksums.
      return (
        await unwrap(
          client.POST('/pulp/api/v3/publications/rpm/rpm/', {
            body: { repository_version: versionHref, checksum_type: 'sha256' },
          }),
        )
      ).task;
    case 'deb':
      if (opts.debVerbatim) {
        return (
          await unwrap(
            client.POST('/pulp/api/v3/publications/deb/verbatim/', {
              body: { repository_version: versionHref },
            }),
          )
        ).task;
      }
      return (
        await unwrap(
          client.POST('/pulp/api/v3/publications/deb/apt/', {
            body: {
              repository_version: versionHref,
              ...(opts.debFlat ? { simple: true, structured: false } : { structured: true }),
              ...(opts.signingServiceHref ? { signing_service: opts.signingServiceHref } : {}),
            },
          }),
        )
      ).task;
    case 'file':
      return (
        await unwrap(
          client.POST('/pulp/api/v3/publications/file/file/', {
            body: { repository_version: versionHref, manifest: 'PULP_MANIFEST' },
          }),
        )
      ).task;
    case 'python':
      return (
        await unwrap(
          client.POST('/pulp/api/v3/publications/python/pypi/', {
            body: { repository_version: versionHref },
          }),
        )
      ).task;
    default:
      // container: Pulp serves a container repository version without a publication.
      throw new UnsupportedRepoTypeError(repoType, 'publish');
  }
}

/** A deb remote whose distribution is "/" (or ends with "/") is a flat repository. */
export async function debRemoteIsFlat(client: PulpClient, remoteHref: string): Promise<boolean> {
  const remote = await unwrap(
    client.GET('{deb_apt_remote_href}', { params: { path: { deb_apt_remote_href: remoteHref } } }),
  );
  return remote.distributions.split(/\s+/).some((d) => d.endsWith('/'));
}

export type ContentCounts = Record<string, number>;

/** Counts of content added to and removed from a version, per content type. */
export async function readVersionChanges(
  client: PulpClient,
  repoType: RepoType,
  versionHref: string,
): Promise<{ added: ContentCounts; removed: ContentCounts }> {
  let summary:
    | { added?: Record<string, { count?: number }>; removed?: Record<string, { count?: number }> }
    | undefined;
  switch (repoType) {
    case 'rpm':
      summary = (
        await unwrap(
          client.GET('{rpm_rpm_repository_version_href}', {
            params: { path: { rpm_rpm_repository_version_href: versionHref } },
          }),
        )
      ).content_summary;
      break;
    case 'deb':
      summary = (
        await unwrap(
          client.GET('{deb_apt_repository_version_href}', {
            params: { path: { deb_apt_repository_version_href: versionHref } },
          }),
        )
      ).content_summary;
      break;
    case 'file':
      summary = (
        await unwrap(
          client.GET('{file_file_repository_version_href}', {
            params: { path: { file_file_repository_version_href: versionHref } },
          }),
        )
      ).content_summary;
      break;
    case 'python':
      summary = (
        await unwrap(
          client.GET('{python_python_repository_version_href}', {
            params: { path: { python_python_repository_version_href: versionHref } },
          }),
        )
      ).content_summary;
      break;
    case 'container':
      summary = (
        await unwrap(
          client.GET('{container_container_repository_version_href}', {
            params: { path: { container_container_repository_version_href: versionHref } },
          }),
        )
      ).content_summary;
      break;
    default:
      throw new UnsupportedRepoTypeError(repoType, 'version read');
  }
  const counts = (s: Record<string, { count?: number }> | undefined): ContentCounts =>
    Object.fromEntries(Object.entries(s ?? {}).map(([k, v]) => [k, v.count ?? 0]));
  return { added: counts(summary?.added), removed: counts(summary?.removed) };
}

export function sameCounts(a: ContentCounts, b: ContentCounts): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => (a[k] ?? 0) === (b[k] ?? 0));
}

/** Deletes a repository version (a task); Pulp then serves the previous one as latest. */
export async function startVersionDelete(
  client: PulpClient,
  repoType: RepoType,
  versionHref: string,
): Promise<string> {
  switch (repoType) {
    case 'rpm':
      return (
        await unwrap(
          client.DELETE('{rpm_rpm_repository_version_href}', {
            params: { path: { rpm_rpm_repository_version_href: versionHref } },
          }),
        )
      ).task;
    case 'deb':
      return (
        await unwrap(
          client.DELETE('{deb_apt_repository_version_href}', {
            params: { path: { deb_apt_repository_version_href: versionHref } },
          }),
        )
      ).task;
    case 'file':
      return (
        await unwrap(
          client.DELETE('{file_file_repository_version_href}', {
            params: { path: { file_file_repository_version_href: versionHref } },
          }),
        )
      ).task;
    case 'python':
      return (
        await unwrap(
          client.DELETE('{python_python_repository_version_href}', {
            params: { path: { python_python_repository_version_href: versionHref } },
          }),
        )
      ).task;
    case 'container':
      return (
        await unwrap(
          client.DELETE('{container_container_repository_version_href}', {
            params: { path: { container_container_repository_version_href: versionHref } },
          }),
        )
      ).task;
    default:
      throw new UnsupportedRepoTypeError(repoType, 'version delete');
  }
}
