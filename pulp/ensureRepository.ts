import { type PulpClient, unwrap } from './client.js';
import { type DistributionServes, distributionMode } from './distributionMode.js';
import type { RepoType } from './hrefs.js';
import { UnsupportedRepoTypeError } from './repoEndpoints.js';
import { waitForPulpTask } from './tasks.js';

/** The remote of a repository as Pulp Manager wants it (see SPEC "Repo config"). */
export interface RemoteSpec {
  url: string;
  tls_validation?: boolean;
  proxy_url?: string | null;
  ca_cert?: string | null;
  client_cert?: string | null;
  client_key?: string | null;
  username?: string | null;
  password?: string | null;
  proxy_username?: string | null;
  proxy_password?: string | null;
  sock_connect_timeout?: number | null;
  sock_read_timeout?: number | null;
  policy?: 'immediate' | 'on_demand' | 'streamed';
  /** deb only */
  distributions?: string;
  components?: string | null;
  architectures?: string | null;
  ignore_missing_package_indices?: boolean;
  /** container only: the image's name on the registry at `url`, and which tags to mirror. */
  upstream_name?: string;
  include_tags?: string[] | null;
  exclude_tags?: string[] | null;
  /** python only: which projects of the index at `url` to mirror (requirement specifiers). */
  includes?: string[];
  excludes?: string[];
}

export interface RepositorySpec {
  name: string;
  repoType: RepoType;
  description?: string | null;
  /** Absent for internal repositories (content is uploaded, not synced). */
  remote?: RemoteSpec;
  basePath: string;
}

export interface EnsuredRepository {
  repoHref: string;
  remoteHref: string | null;
  distributionHref: string;
  created: string[];
  updated: string[];
}

/** PATCH answers 200 when done at once or 202 with a task (pulpcore ≥ 3.90): wait for the task. */
async function settle(client: PulpClient, data: unknown): Promise<void> {
  const task = (data as { task?: string } | undefined)?.task;
  if (task) await waitForPulpTask(client, task);
}

function first<T>(page: { results: T[] }): T | undefined {
  return page.results[0];
}

/** Remote fields Pulp never returns (it lists them in hidden_fields): they cannot be compared. */
const WRITE_ONLY_REMOTE_FIELDS = new Set([
  'client_key',
  'username',
  'password',
  'proxy_username',
  'proxy_password',
]);

function sameValue(current: unknown, wanted: unknown): boolean {
  // Pulp may add or drop a trailing newline of PEM fields.
  if (typeof current === 'string' && typeof wanted === 'string') return current.trim() === wanted.trim();
  // List fields (python includes, container include_tags): Pulp keeps them in the order given.
  if (Array.isArray(wanted)) return JSON.stringify(current ?? []) === JSON.stringify(wanted);
  return (current ?? null) === (wanted ?? null);
}

/**
 * Does the remote Pulp has differ from the wanted one? Only differing remotes are PATCHed, so
 * that re-applying an unchanged config changes nothing. Write-only fields are sent whenever
 * they are set (a rotated secret cannot be detected) or must be cleared.
 */
function remoteDiffers(current: object, wanted: Record<string, unknown>): boolean {
  const have = current as Record<string, unknown> & { hidden_fields?: { name: string; is_set: boolean }[] };
  return Object.entries(wanted).some(([key, value]) => {
    if (value === undefined) return false;
    if (WRITE_ONLY_REMOTE_FIELDS.has(key))
      return value !== null || (have.hidden_fields?.some((f) => f.name === key && f.is_set) ?? false);
    return !sameValue(have[key], value);
  });
}

function repositoryDiffers(
  current: { description?: string | null; remote?: string | null },
  wanted: { description: string | null; remote: string | null },
): boolean {
  return !sameValue(current.description, wanted.description) || (current.remote ?? null) !== wanted.remote;
}

type DebOnly = 'distributions' | 'components' | 'architectures' | 'ignore_missing_package_indices';
type ContainerOnly = 'upstream_name' | 'include_tags' | 'exclude_tags';
type PythonOnly = 'includes' | 'excludes';
type GenericRemoteBody = Omit<RemoteSpec, DebOnly | ContainerOnly | PythonOnly>;
type DebRemoteBody = Omit<RemoteSpec, ContainerOnly | PythonOnly> & { distributions: string };
type ContainerRemoteBody = Omit<RemoteSpec, DebOnly | PythonOnly> & { upstream_name: string };
type PythonRemoteBody = Omit<RemoteSpec, DebOnly | ContainerOnly>;
interface RepositoryBody {
  name: string;
  description: string | null;
  remote: string | null;
}
interface Found {
  pulp_href?: string;
}
interface DistributionBody {
  base_path: string;
  repository?: string;
}

/**
 * The calls of one repository type. Pulp's schema gives every type its own endpoints; each
 * table below is checked against it, and ensureRepository runs the same flow over any of them.
 */
interface TypeEndpoints<RemoteBody> {
  remoteBody(remote: RemoteSpec): RemoteBody;
  findRemote(name: string): Promise<(Found & object) | undefined>;
  createRemote(body: RemoteBody & { name: string }): Promise<Found>;
  patchRemote(href: string, body: RemoteBody & { name: string }): Promise<unknown>;
  findRepository(
    name: string,
  ): Promise<(Found & { description?: string | null; remote?: string | null }) | undefined>;
  createRepository(body: RepositoryBody): Promise<Found>;
  patchRepository(href: string, body: RepositoryBody): Promise<unknown>;
  findDistribution(name: string): Promise<(Found & DistributionServes & { base_path: string }) | undefined>;
  /** Returns the task that creates the distribution, following the repository. */
  createDistribution(
    body: DistributionBody & { name: string; repository: string },
  ): Promise<{ task: string }>;
  patchDistribution(href: string, body: DistributionBody): Promise<unknown>;
}

/** The remote without the fields of the other types (Pulp refuses fields its type lacks). */
function withoutTypeFields(remote: RemoteSpec): GenericRemoteBody {
  const {
    distributions: _d,
    components: _c,
    architectures: _a,
    ignore_missing_package_indices: _i,
    upstream_name: _u,
    include_tags: _it,
    exclude_tags: _et,
    includes: _in,
    excludes: _ex,
    ...rest
  } = remote;
  return rest;
}
const genericRemote = withoutTypeFields;

export class RemoteSpecError extends Error {
  readonly code = 'REMOTE_SPEC_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'RemoteSpecError';
  }
}

const byName = (name: string) => ({ params: { query: { name } } });

function rpmEndpoints(client: PulpClient): TypeEndpoints<GenericRemoteBody> {
  return {
    remoteBody: genericRemote,
    findRemote: async (name) =>
      first(await unwrap(client.GET('/pulp/api/v3/remotes/rpm/rpm/', byName(name)))),
    createRemote: (body) => unwrap(client.POST('/pulp/api/v3/remotes/rpm/rpm/', { body })),
    patchRemote: (href, body) =>
      unwrap(
        client.PATCH('{rpm_rpm_remote_href}', { params: { path: { rpm_rpm_remote_href: href } }, body }),
      ),
    findRepository: async (name) =>
      first(await unwrap(client.GET('/pulp/api/v3/repositories/rpm/rpm/', byName(name)))),
    createRepository: (body) => unwrap(client.POST('/pulp/api/v3/repositories/rpm/rpm/', { body })),
    patchRepository: (href, body) =>
      unwrap(
        client.PATCH('{rpm_rpm_repository_href}', {
          params: { path: { rpm_rpm_repository_href: href } },
          body,
        }),
      ),
    findDistribution: async (name) =>
      first(await unwrap(client.GET('/pulp/api/v3/distributions/rpm/rpm/', byName(name)))),
    createDistribution: (body) => unwrap(client.POST('/pulp/api/v3/distributions/rpm/rpm/', { body })),
    patchDistribution: (href, body) =>
      unwrap(
        client.PATCH('{rpm_rpm_distribution_href}', {
          params: { path: { rpm_rpm_distribution_href: href } },
          body,
        }),
      ),
  };
}

function debEndpoints(client: PulpClient): TypeEndpoints<DebRemoteBody> {
  return {
    remoteBody: (remote) => {
      const { distributions, components, architectures, ignore_missing_package_indices } = remote;
      return {
        ...withoutTypeFields(remote),
        distributions: distributions ?? 'stable',
        ...(components !== undefined ? { components } : {}),
        ...(architectures !== undefined ? { architectures } : {}),
        ...(ignore_missing_package_indices !== undefined ? { ignore_missing_package_indices } : {}),
      };
    },
    findRemote: async (name) =>
      first(await unwrap(client.GET('/pulp/api/v3/remotes/deb/apt/', byName(name)))),
    createRemote: (body) => unwrap(client.POST('/pulp/api/v3/remotes/deb/apt/', { body })),
    patchRemote: (href, body) =>
      unwrap(
        client.PATCH('{deb_apt_remote_href}', { params: { path: { deb_apt_remote_href: href } }, body }),
      ),
    findRepository: async (name) =>
      first(await unwrap(client.GET('/pulp/api/v3/repositories/deb/apt/', byName(name)))),
    createRepository: (body) => unwrap(client.POST('/pulp/api/v3/repositories/deb/apt/', { body })),
    patchRepository: (href, body) =>
      unwrap(
        client.PATCH('{deb_apt_repository_href}', {
          params: { path: { deb_apt_repository_href: href } },
          body,
        }),
      ),
    findDistribution: async (name) =>
      first(await unwrap(client.GET('/pulp/api/v3/distributions/deb/apt/', byName(name)))),
    createDistribution: (body) => unwrap(client.POST('/pulp/api/v3/distributions/deb/apt/', { body })),
    patchDistribution: (href, body) =>
      unwrap(
        client.PATCH('{deb_apt_distribution_href}', {
          params: { path: { deb_apt_distribution_href: href } },
          body,
        }),
      ),
  };
}

function fileEndpoints(client: PulpClient): TypeEndpoints<GenericRemoteBody> {
  return {
    remoteBody: genericRemote,
    findRemote: async (name) =>
      first(await unwrap(client.GET('/pulp/api/v3/remotes/file/file/', byName(name)))),
    createRemote: (body) => unwrap(client.POST('/pulp/api/v3/remotes/file/file/', { body })),
    patchRemote: (href, body) =>
      unwrap(
        client.PATCH('{file_file_remote_href}', { params: { path: { file_file_remote_href: href } }, body }),
      ),
    findRepository: async (name) =>
      first(await unwrap(client.GET('/pulp/api/v3/repositories/file/file/', byName(name)))),
    createRepository: (body) => unwrap(client.POST('/pulp/api/v3/repositories/file/file/', { body })),
    patchRepository: (href, body) =>
      unwrap(
        client.PATCH('{file_file_repository_href}', {
          params: { path: { file_file_repository_href: href } },
          body,
        }),
      ),
    findDistribution: async (name) =>
      first(await unwrap(client.GET('/pulp/api/v3/distributions/file/file/', byName(name)))),
    createDistribution: (body) => unwrap(client.POST('/pulp/api/v3/distributions/file/file/', { body })),
    patchDistribution: (href, body) =>
      unwrap(
        client.PATCH('{file_file_distribution_href}', {
          params: { path: { file_file_distribution_href: href } },
          body,
        }),
      ),
  };
}

function pythonEndpoints(client: PulpClient): TypeEndpoints<PythonRemoteBody> {
  return {
    remoteBody: (remote) => {
      const { includes, excludes } = remote;
      return {
        ...withoutTypeFields(remote),
        ...(includes !== undefined ? { includes } : {}),
        ...(excludes !== undefined ? { excludes } : {}),
      };
    },
    findRemote: async (name) =>
      first(await unwrap(client.GET('/pulp/api/v3/remotes/python/python/', byName(name)))),
    createRemote: (body) => unwrap(client.POST('/pulp/api/v3/remotes/python/python/', { body })),
    patchRemote: (href, body) =>
      unwrap(
        client.PATCH('{python_python_remote_href}', {
          params: { path: { python_python_remote_href: href } },
          body,
        }),
      ),
    findRepository: async (name) =>
      first(await unwrap(client.GET('/pulp/api/v3/repositories/python/python/', byName(name)))),
    createRepository: (body) => unwrap(client.POST('/pulp/api/v3/repositories/python/python/', { body })),
    patchRepository: (href, body) =>
      unwrap(
        client.PATCH('{python_python_repository_href}', {
          params: { path: { python_python_repository_href: href } },
          body,
        }),
      ),
    findDistribution: async (name) =>
      first(await unwrap(client.GET('/pulp/api/v3/distributions/python/pypi/', byName(name)))),
    createDistribution: (body) => unwrap(client.POST('/pulp/api/v3/distributions/python/pypi/', { body })),
    patchDistribution: (href, body) =>
      unwrap(
        client.PATCH('{python_python_distribution_href}', {
          params: { path: { python_python_distribution_href: href } },
          body,
        }),
      ),
  };
}

function containerEndpoints(client: PulpClient): TypeEndpoints<ContainerRemoteBody> {
  return {
    remoteBody: (remote) => {
      if (!remote.upstream_name) {
        throw new RemoteSpecError(`a container remote needs upstream_name (the image name at ${remote.url})`);
      }
      const { upstream_name, include_tags, exclude_tags } = remote;
      return {
        ...withoutTypeFields(remote),
        upstream_name,
        ...(include_tags !== undefined ? { include_tags } : {}),
        ...(exclude_tags !== undefined ? { exclude_tags } : {}),
      };
    },
    findRemote: async (name) =>
      first(await unwrap(client.GET('/pulp/api/v3/remotes/container/container/', byName(name)))),
    createRemote: (body) => unwrap(client.POST('/pulp/api/v3/remotes/container/container/', { body })),
    patchRemote: (href, body) =>
      unwrap(
        client.PATCH('{container_container_remote_href}', {
          params: { path: { container_container_remote_href: href } },
          body,
        }),
      ),
    findRepository: async (name) =>
      first(await unwrap(client.GET('/pulp/api/v3/repositories/container/container/', byName(name)))),
    createRepository: (body) =>
      unwrap(client.POST('/pulp/api/v3/repositories/container/container/', { body })),
    patchRepository: (href, body) =>
      unwrap(
        client.PATCH('{container_container_repository_href}', {
          params: { path: { container_container_repository_href: href } },
          body,
        }),
      ),
    findDistribution: async (name) =>
      first(await unwrap(client.GET('/pulp/api/v3/distributions/container/container/', byName(name)))),
    // A container distribution serves its repository's latest version: it must follow it.
    createDistribution: (body) =>
      unwrap(client.POST('/pulp/api/v3/distributions/container/container/', { body })),
    patchDistribution: (href, body) =>
      unwrap(
        client.PATCH('{container_container_distribution_href}', {
          params: { path: { container_container_distribution_href: href } },
          body,
        }),
      ),
  };
}

/**
 * Creates or updates the remote, the repository and the distribution of one repository so
 * that Pulp matches the spec. Idempotent: only what differs is PATCHed, so running it again
 * changes nothing.
 */
export async function ensureRepository(client: PulpClient, spec: RepositorySpec): Promise<EnsuredRepository> {
  switch (spec.repoType) {
    case 'rpm':
      return ensureWith(client, rpmEndpoints(client), spec);
    case 'deb':
      return ensureWith(client, debEndpoints(client), spec);
    case 'file':
      return ensureWith(client, fileEndpoints(client), spec);
    case 'python':
      return ensureWith(client, pythonEndpoints(client), spec);
    case 'container':
      return ensureWith(client, containerEndpoints(client), spec);
    default:
      throw new UnsupportedRepoTypeError(
        String((spec as { repoType: string }).repoType),
        'repository registration',
      );
  }
}

async function ensureWith<RemoteBody extends object>(
  client: PulpClient,
  api: TypeEndpoints<RemoteBody>,
  spec: RepositorySpec,
): Promise<EnsuredRepository> {
  const out: EnsuredRepository = {
    repoHref: '',
    remoteHref: null,
    distributionHref: '',
    created: [],
    updated: [],
  };
  const { name } = spec;
  const note = (what: string, created: boolean) => (created ? out.created : out.updated).push(what);

  if (spec.remote) {
    const remote = { name, ...api.remoteBody(spec.remote) };
    const found = await api.findRemote(name);
    if (found?.pulp_href) {
      out.remoteHref = found.pulp_href;
      if (remoteDiffers(found, remote as Record<string, unknown>)) {
        await settle(client, await api.patchRemote(found.pulp_href, remote));
        note('remote', false);
      }
    } else {
      out.remoteHref = (await api.createRemote(remote)).pulp_href ?? null;
      note('remote', true);
    }
  }

  const repoBody: RepositoryBody = { name, description: spec.description ?? null, remote: out.remoteHref };
  const repo = await api.findRepository(name);
  if (repo?.pulp_href) {
    out.repoHref = repo.pulp_href;
    if (repositoryDiffers(repo, repoBody)) {
      await settle(client, await api.patchRepository(repo.pulp_href, repoBody));
      note('repository', false);
    }
  } else {
    out.repoHref = (await api.createRepository(repoBody)).pulp_href ?? '';
    note('repository', true);
  }

  const dist = await api.findDistribution(name);
  if (dist?.pulp_href) {
    out.distributionHref = dist.pulp_href;
    // A distribution that serves nothing starts following its repository; one pinned to a
    // publication or a version, or following another repository, is the operator's choice.
    const follow = distributionMode(dist).kind === 'none' ? { repository: out.repoHref } : {};
    if (dist.base_path !== spec.basePath || 'repository' in follow) {
      await settle(
        client,
        await api.patchDistribution(dist.pulp_href, { base_path: spec.basePath, ...follow }),
      );
      note('distribution', false);
    }
  } else {
    // As the original created them: following the repository, so each new publication of its
    // latest version is served without touching the distribution.
    const { task } = await api.createDistribution({
      name,
      base_path: spec.basePath,
      repository: out.repoHref,
    });
    out.distributionHref = (await waitForPulpTask(client, task)).created_resources?.[0] ?? '';
    note('distribution', true);
  }
  return out;
}
