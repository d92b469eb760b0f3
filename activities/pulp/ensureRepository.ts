import { type PulpClient, unwrap } from './client.js';
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
}

export interface RepositorySpec {
  name: string;
  repoType: 'rpm' | 'deb' | 'file';
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

/**
 * Creates or updates the remote, the repository and the distribution of one repository so
 * that Pulp matches the spec. Idempotent: running it again changes nothing it need not.
 */
export async function ensureRepository(client: PulpClient, spec: RepositorySpec): Promise<EnsuredRepository> {
  const out: EnsuredRepository = {
    repoHref: '',
    remoteHref: null,
    distributionHref: '',
    created: [],
    updated: [],
  };
  const name = spec.name;
  const byName = { params: { query: { name } } };
  const note = (what: string, created: boolean) => (created ? out.created : out.updated).push(what);
  switch (spec.repoType) {
    case 'rpm': {
      if (spec.remote) {
        const {
          distributions: _d,
          components: _c,
          architectures: _a,
          ignore_missing_package_indices: _i,
          ...remote
        } = spec.remote;
        const found = first(await unwrap(client.GET('/pulp/api/v3/remotes/rpm/rpm/', byName)));
        if (found?.pulp_href) {
          const href = found.pulp_href;
          out.remoteHref = href;
          if (remoteDiffers(found, remote)) {
            await settle(
              client,
              await unwrap(
                client.PATCH('{rpm_rpm_remote_href}', {
                  params: { path: { rpm_rpm_remote_href: href } },
                  body: { name, ...remote },
                }),
              ),
            );
            note('remote', false);
          }
        } else {
          out.remoteHref =
            (await unwrap(client.POST('/pulp/api/v3/remotes/rpm/rpm/', { body: { name, ...remote } })))
              .pulp_href ?? null;
          note('remote', true);
        }
      }
      const repoBody = { name, description: spec.description ?? null, remote: out.remoteHref };
      const repo = first(await unwrap(client.GET('/pulp/api/v3/repositories/rpm/rpm/', byName)));
      if (repo?.pulp_href) {
        out.repoHref = repo.pulp_href;
        if (repositoryDiffers(repo, repoBody)) {
          await settle(
            client,
            await unwrap(
              client.PATCH('{rpm_rpm_repository_href}', {
                params: { path: { rpm_rpm_repository_href: repo.pulp_href } },
                body: repoBody,
              }),
            ),
          );
          note('repository', false);
        }
      } else {
        out.repoHref =
          (await unwrap(client.POST('/pulp/api/v3/repositories/rpm/rpm/', { body: repoBody }))).pulp_href ??
          '';
        note('repository', true);
      }
      const dist = first(await unwrap(client.GET('/pulp/api/v3/distributions/rpm/rpm/', byName)));
      if (dist?.pulp_href) {
        out.distributionHref = dist.pulp_href;
        if (dist.base_path !== spec.basePath) {
          await settle(
            client,
            await unwrap(
              client.PATCH('{rpm_rpm_distribution_href}', {
                params: { path: { rpm_rpm_distribution_href: dist.pulp_href } },
                body: { base_path: spec.basePath },
              }),
            ),
          );
          note('distribution', false);
        }
      } else {
        const task = await unwrap(
          client.POST('/pulp/api/v3/distributions/rpm/rpm/', { body: { name, base_path: spec.basePath } }),
        );
        out.distributionHref = (await waitForPulpTask(client, task.task)).created_resources?.[0] ?? '';
        note('distribution', true);
      }
      return out;
    }
    case 'deb': {
      if (spec.remote) {
        const remote = { ...spec.remote, distributions: spec.remote.distributions ?? 'stable' };
        const found = first(await unwrap(client.GET('/pulp/api/v3/remotes/deb/apt/', byName)));
        if (found?.pulp_href) {
          const href = found.pulp_href;
          out.remoteHref = href;
          if (remoteDiffers(found, remote)) {
            await settle(
              client,
              await unwrap(
                client.PATCH('{deb_apt_remote_href}', {
                  params: { path: { deb_apt_remote_href: href } },
                  body: { name, ...remote },
                }),
              ),
            );
            note('remote', false);
          }
        } else {
          out.remoteHref =
            (await unwrap(client.POST('/pulp/api/v3/remotes/deb/apt/', { body: { name, ...remote } })))
              .pulp_href ?? null;
          note('remote', true);
        }
      }
      const repoBody = { name, description: spec.description ?? null, remote: out.remoteHref };
      const repo = first(await unwrap(client.GET('/pulp/api/v3/repositories/deb/apt/', byName)));
      if (repo?.pulp_href) {
        out.repoHref = repo.pulp_href;
        if (repositoryDiffers(repo, repoBody)) {
          await settle(
            client,
            await unwrap(
              client.PATCH('{deb_apt_repository_href}', {
                params: { path: { deb_apt_repository_href: repo.pulp_href } },
                body: repoBody,
              }),
            ),
          );
          note('repository', false);
        }
      } else {
        out.repoHref =
          (await unwrap(client.POST('/pulp/api/v3/repositories/deb/apt/', { body: repoBody }))).pulp_href ??
          '';
        note('repository', true);
      }
      const dist = first(await unwrap(client.GET('/pulp/api/v3/distributions/deb/apt/', byName)));
      if (dist?.pulp_href) {
        out.distributionHref = dist.pulp_href;
        if (dist.base_path !== spec.basePath) {
          await settle(
            client,
            await unwrap(
              client.PATCH('{deb_apt_distribution_href}', {
                params: { path: { deb_apt_distribution_href: dist.pulp_href } },
                body: { base_path: spec.basePath },
              }),
            ),
          );
          note('distribution', false);
        }
      } else {
        const task = await unwrap(
          client.POST('/pulp/api/v3/distributions/deb/apt/', { body: { name, base_path: spec.basePath } }),
        );
        out.distributionHref = (await waitForPulpTask(client, task.task)).created_resources?.[0] ?? '';
        note('distribution', true);
      }
      return out;
    }
    case 'file': {
      if (spec.remote) {
        const {
          distributions: _d,
          components: _c,
          architectures: _a,
          ignore_missing_package_indices: _i,
          ...remote
        } = spec.remote;
        const found = first(await unwrap(client.GET('/pulp/api/v3/remotes/file/file/', byName)));
        if (found?.pulp_href) {
          const href = found.pulp_href;
          out.remoteHref = href;
          if (remoteDiffers(found, remote)) {
            await settle(
              client,
              await unwrap(
                client.PATCH('{file_file_remote_href}', {
                  params: { path: { file_file_remote_href: href } },
                  body: { name, ...remote },
                }),
              ),
            );
            note('remote', false);
          }
        } else {
          out.remoteHref =
            (await unwrap(client.POST('/pulp/api/v3/remotes/file/file/', { body: { name, ...remote } })))
              .pulp_href ?? null;
          note('remote', true);
        }
      }
      const repoBody = { name, description: spec.description ?? null, remote: out.remoteHref };
      const repo = first(await unwrap(client.GET('/pulp/api/v3/repositories/file/file/', byName)));
      if (repo?.pulp_href) {
        out.repoHref = repo.pulp_href;
        if (repositoryDiffers(repo, repoBody)) {
          await settle(
            client,
            await unwrap(
              client.PATCH('{file_file_repository_href}', {
                params: { path: { file_file_repository_href: repo.pulp_href } },
                body: repoBody,
              }),
            ),
          );
          note('repository', false);
        }
      } else {
        out.repoHref =
          (await unwrap(client.POST('/pulp/api/v3/repositories/file/file/', { body: repoBody }))).pulp_href ??
          '';
        note('repository', true);
      }
      const dist = first(await unwrap(client.GET('/pulp/api/v3/distributions/file/file/', byName)));
      if (dist?.pulp_href) {
        out.distributionHref = dist.pulp_href;
        if (dist.base_path !== spec.basePath) {
          await settle(
            client,
            await unwrap(
              client.PATCH('{file_file_distribution_href}', {
                params: { path: { file_file_distribution_href: dist.pulp_href } },
                body: { base_path: spec.basePath },
              }),
            ),
          );
          note('distribution', false);
        }
      } else {
        const task = await unwrap(
          client.POST('/pulp/api/v3/distributions/file/file/', { body: { name, base_path: spec.basePath } }),
        );
        out.distributionHref = (await waitForPulpTask(client, task.task)).created_resources?.[0] ?? '';
        note('distribution', true);
      }
      return out;
    }
    default:
      throw new UnsupportedRepoTypeError(
        String((spec as { repoType: string }).repoType),
        'repository registration',
      );
  }
}
