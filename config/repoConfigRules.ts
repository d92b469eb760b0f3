import { isInternalUrl } from '../domain/internalDomains.js';
import type { RemoteSpec } from '../pulp/ensureRepository.js';
import type { RepoType } from '../pulp/hrefs.js';
import type { IniConfig } from './iniConfigSchema.js';
import { compilePythonRegex } from './pythonRegex.js';
import type { RepoConfigFile, RepoConfigGlobal, VaultSecretRef } from './repoConfigSchema.js';

/** The config.ini settings the repo-config rules depend on. */
export interface RepoConfigRules {
  externalPrefix: string;
  internalPrefix: string;
  internalDomains: readonly string[];
  remoteTlsValidation: boolean;
  sockConnectTimeout: number;
  sockReadTimeout: number;
  nameReplacement?: NameReplacement;
}

/** `[pulp] package_name_replacement_pattern` / `_rule`: rewrites the last segment of base paths. */
export interface NameReplacement {
  pattern: string;
  rule: string;
}

export function repoConfigRulesFromIni(ini: IniConfig): RepoConfigRules {
  const p = ini.pulp;
  return {
    externalPrefix: p.external_repo_prefix,
    // The original's README says internal_package_prefix; its code reads internal_repo_prefix.
    internalPrefix: p.internal_repo_prefix ?? p.internal_package_prefix ?? '',
    internalDomains: p.internal_domains,
    remoteTlsValidation: p.remote_tls_validation,
    sockConnectTimeout: ini.remotes.sock_connect_timeout,
    sockReadTimeout: ini.remotes.sock_read_timeout,
    nameReplacement:
      p.package_name_replacement_pattern !== undefined
        ? { pattern: p.package_name_replacement_pattern, rule: p.package_name_replacement_rule ?? '' }
        : undefined,
  };
}

/** The remote of a repository as the repo config asks for it; secrets are added by the worker. */
/** The type-specific remote fields (deb, container, python) as Pulp takes them. */
type TypeRemoteFields = Pick<
  RemoteSpec,
  | 'distributions'
  | 'components'
  | 'architectures'
  | 'ignore_missing_package_indices'
  | 'upstream_name'
  | 'include_tags'
  | 'exclude_tags'
  | 'includes'
  | 'excludes'
>;

export interface RepoConfigRemote extends TypeRemoteFields {
  url: string;
  proxy_url: string | null;
  tls_validation: boolean;
  /** The feed is in an internal domain: the remote gets the `[ca]` root CA as ca_cert. */
  internalFeed: boolean;
  sock_connect_timeout: number;
  sock_read_timeout: number;
  policy: 'immediate';
}

/** One repository to create or update, derived from one file. Holds no secret values. */
export interface RepoConfigEntry {
  /** The file it came from, relative to the repo config (e.g. `repo_config/remote/centos.json`). */
  file: string;
  name: string;
  repoType: RepoType;
  description: string;
  basePath: string;
  remote?: RepoConfigRemote;
  /** Vault references whose values go into remote fields. */
  secrets: VaultSecretRef[];
}

/** The prefix every repository with a url gets; the original wrote it into its code, not its config. */
export const EXTERNAL_NAME_PREFIX = 'ext-';

export function prefixedName(name: string, prefix: string): string {
  return name.startsWith(prefix) ? name : `${prefix}${name}`;
}

/**
 * The name a file's repository gets, as the original named it: `ext-` once for a repository with
 * a url; otherwise the name as written, or with its global.json's `pulp.package_prefix`.
 * `[pulp] internal_repo_prefix` / `external_repo_prefix` never rename a repository (see
 * registrationFilterName): existing fleets' repositories keep their names.
 */
export function repoNameOf(file: Pick<RepoConfigFile, 'name' | 'url'>, global?: RepoConfigGlobal): string {
  if (file.url !== undefined) return prefixedName(file.name, EXTERNAL_NAME_PREFIX);
  return prefixedName(file.name, global?.pulp?.package_prefix ?? '');
}

/**
 * The name the registration regexes are matched against, as in the original: the file's name
 * with `[pulp] external_repo_prefix` when its folder path says `remote`, else
 * `internal_repo_prefix` when it says `internal` (once), else as written. It may differ from the
 * repository's name; operators' regexes were written against this one.
 */
export function registrationFilterName(folder: string, name: string, rules: RepoConfigRules): string {
  if (folder.includes('remote')) return prefixedName(name, rules.externalPrefix);
  if (folder.includes('internal')) return prefixedName(name, rules.internalPrefix);
  return name;
}

/** The original's description format; snapshots read base_url back from it. */
export function repoDescription(file: Pick<RepoConfigFile, 'description' | 'owner' | 'base_url'>): string {
  return `${file.description} - ${file.owner} - base_url:${file.base_url}`;
}

export function baseUrlFromDescription(description: string | null | undefined): string | undefined {
  const i = description?.lastIndexOf('base_url:') ?? -1;
  if (!description || i < 0) return undefined;
  const baseUrl = description.slice(i + 'base_url:'.length).trim();
  return baseUrl === '' ? undefined : baseUrl;
}

/**
 * Rewrites a repository name with the replacement pattern: when the pattern matches at the
 * start of the name (Python's re.match), `{group}` placeholders of the rule take the named
 * groups' values. The pattern is Python's `re` syntax (config/pythonRegex).
 */
export function applyNameReplacement(name: string, replacement: NameReplacement | undefined): string {
  if (!replacement?.pattern) return name;
  const re = compilePythonRegex(replacement.pattern, 'y');
  const m = re.exec(name);
  if (!m) return name;
  const groups = m.groups ?? {};
  return replacement.rule.replace(/\{(\w+)\}/g, (whole, g: string) => groups[g] ?? whole);
}

/**
 * The distribution base path, as the original built it (clients' URLs depend on it):
 * `<base_url>/<name>` with the name rewritten by the replacement rule, or the name alone when
 * the base_url is the name (`int-demo-packages` under `int-demo-packages`).
 */
export function distributionBasePath(name: string, baseUrl: string, replacement?: NameReplacement): string {
  const base = baseUrl.replace(/^\/+|\/+$/g, '');
  if (base === '') return applyNameReplacement(name, replacement);
  if (base === name) return name;
  return `${base}/${applyNameReplacement(name, replacement)}`;
}

/**
 * Merges a folder's global.json into a file. As in the original, global.json wins: a key it
 * sets replaces the file's own (e.g. one proxy for every remote of the folder).
 */
export function mergeGlobal(global: Record<string, unknown> | undefined, file: Record<string, unknown>) {
  return { ...file, ...(global ?? {}) };
}

/** A placeholder of the original's Pulp 2 era that it removed from every url before use. */
const PULP2_TOKEN_PLACEHOLDER = '{{hpe_fwpp_token}}:null@';

/**
 * Applies the original's rules to one validated file (its global.json already merged in):
 * name, type, description, base path, and for a file with a url the remote: proxy dropped for
 * an internal-domain feed; TLS validated for an internal-domain feed, else as the file's
 * `tls_validation` says, else as `[pulp] remote_tls_validation`; deb releases (default
 * `stable`), components and architectures as Pulp's space-separated strings.
 */
export function repoConfigEntry(
  file: RepoConfigFile,
  global: RepoConfigGlobal | undefined,
  path: string,
  rules: RepoConfigRules,
): RepoConfigEntry {
  const name = repoNameOf(file, global);
  const repoType = file.content_repo_type === 'iso' ? 'file' : file.content_repo_type;
  const entry: RepoConfigEntry = {
    file: path,
    name,
    repoType,
    description: repoDescription(file),
    basePath: distributionBasePath(name, file.base_url, rules.nameReplacement),
    secrets: [],
  };
  if (file.url === undefined) return entry;
  const url = file.url.replace(PULP2_TOKEN_PLACEHOLDER, '');
  const internalFeed = isInternalUrl(url, rules.internalDomains);
  const remote: RepoConfigRemote = {
    url,
    // Internal sources are reached directly, never through the proxy.
    proxy_url: internalFeed ? null : (file.proxy ?? null),
    tls_validation: internalFeed ? true : (file.tls_validation ?? rules.remoteTlsValidation),
    internalFeed,
    sock_connect_timeout: rules.sockConnectTimeout,
    sock_read_timeout: rules.sockReadTimeout,
    policy: 'immediate',
  };
  if (repoType === 'deb') {
    remote.distributions = file.releases ?? 'stable';
    remote.components = file.components ?? null;
    remote.architectures = file.architectures ?? null;
    // The original turned this on for every remote limited to some components; an explicit
    // `true` in the file is honoured as well (the original ignored the key).
    remote.ignore_missing_package_indices =
      file.components != null || file.ignore_missing_package_indices === true;
  }
  if (repoType === 'container') {
    remote.upstream_name = file.upstream_name;
    remote.include_tags = file.include_tags ?? null;
    remote.exclude_tags = file.exclude_tags ?? null;
  }
  if (repoType === 'python') {
    // Pulp's defaults are empty lists: every project of the index.
    remote.includes = file.includes ?? [];
    remote.excludes = file.excludes ?? [];
  }
  entry.remote = remote;
  entry.secrets = file.vault_load_secrets ?? [];
  return entry;
}
