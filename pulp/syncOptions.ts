import type { PulpSchemas } from './client.js';
import type { RepoType } from './hrefs.js';

/**
 * A repo group's `sync_options`, sent to Pulp's sync endpoint of each repository as the original
 * sent them: any key of that type's sync body, any JSON value Pulp takes (e.g. rpm
 * `skip_types: ["srpm"]`). Pulp validates the values; a value it refuses fails that repository's
 * sync with Pulp's own message.
 */
export type SyncOptionValue =
  | string
  | number
  | boolean
  | null
  | SyncOptionValue[]
  | { [key: string]: SyncOptionValue };
export type SyncOptions = Record<string, SyncOptionValue>;

type SyncKeys<Body> = Exclude<keyof Body, 'remote'>;

/**
 * The keys of each type's sync request body (`<Type>RepositorySyncURL` in Pulp's schema). Written
 * as objects so that the compiler checks every list against the generated schema: a key added or
 * removed by a plugin upgrade breaks the build here instead of being dropped silently.
 */
const RPM_SYNC_KEYS: Record<SyncKeys<PulpSchemas['RpmRepositorySyncURL']>, true> = {
  mirror: true,
  optimize: true,
  skip_types: true,
  sync_policy: true,
};
const DEB_SYNC_KEYS: Record<SyncKeys<PulpSchemas['AptRepositorySyncURL']>, true> = {
  mirror: true,
  optimize: true,
};
const FILE_SYNC_KEYS: Record<SyncKeys<PulpSchemas['FileRepositorySyncURL']>, true> = {
  mirror: true,
  optimize: true,
};
/** pulp_python's sync takes pulpcore's plain RepositorySyncURL. */
const PYTHON_SYNC_KEYS: Record<SyncKeys<PulpSchemas['RepositorySyncURL']>, true> = { mirror: true };
const CONTAINER_SYNC_KEYS: Record<SyncKeys<PulpSchemas['ContainerRepositorySyncURL']>, true> = {
  mirror: true,
  signed_only: true,
};

const SYNC_KEYS: Record<RepoType, Record<string, true>> = {
  rpm: RPM_SYNC_KEYS,
  deb: DEB_SYNC_KEYS,
  file: FILE_SYNC_KEYS,
  python: PYTHON_SYNC_KEYS,
  container: CONTAINER_SYNC_KEYS,
};

/** Every key some repository type's sync takes. */
export const KNOWN_SYNC_OPTION_KEYS: ReadonlySet<string> = new Set(
  Object.values(SYNC_KEYS).flatMap((keys) => Object.keys(keys)),
);

export interface SyncBody {
  /** What is POSTed to `<repository_href>sync/`. */
  body: { remote: string } & SyncOptions;
  /**
   * Keys of the group's sync_options that another type's sync takes but this one does not: a
   * group mixes types and shares one sync_options, and Pulp refuses a key its type does not take
   * (pulpcore's sync serializers validate unknown fields). Listed in the sync stage.
   */
  ignored: string[];
}

/**
 * The sync body of one repository from its group's sync_options. Keys of another type's sync are
 * left out and listed; any other key and every value goes as given, so that Pulp judges them and
 * a key or value it refuses fails the repository with Pulp's own message, never silently.
 *
 * rpm: `mirror` is deprecated in pulp_rpm in favour of `sync_policy`, and `mirror: true` means
 * `mirror_complete` there (the original sent `mirror` as given and Pulp applied that default), so
 * it is sent as the sync_policy it stands for. Given together with sync_policy, both go to Pulp,
 * which decides, as it did for the original.
 */
export function buildSyncBody(repoType: RepoType, remoteHref: string, options: SyncOptions = {}): SyncBody {
  const keys = SYNC_KEYS[repoType];
  const body: SyncBody['body'] = { remote: remoteHref };
  const ignored: string[] = [];
  for (const [key, value] of Object.entries(options)) {
    // `remote` is the repository's own: a group cannot point every sync at one remote.
    if (key === 'remote' || (!Object.hasOwn(keys, key) && KNOWN_SYNC_OPTION_KEYS.has(key))) ignored.push(key);
    else body[key] = value;
  }
  if (repoType === 'rpm' && typeof body.mirror === 'boolean' && body.sync_policy === undefined) {
    body.sync_policy = body.mirror ? 'mirror_complete' : 'additive';
    delete body.mirror;
  }
  return { body, ignored: ignored.sort() };
}

/**
 * pulp_rpm's mirror_complete sync publishes the version it creates itself (the upstream's own
 * metadata): that publication is the one to serve, a second one would replace the mirrored
 * metadata with regenerated metadata.
 */
export function syncPublishes(repoType: RepoType, body: SyncBody['body']): boolean {
  return repoType === 'rpm' && body.sync_policy === 'mirror_complete';
}
