import { isInternalUrl } from '../domain/internalDomains.js';
import type { IniConfig } from './iniConfigSchema.js';
import { compilePythonRegex } from './pythonRegex.js';
import type { RepoConfigFile, RepoConfigGlobal, RepoConfigKind, VaultSecretRef } from './repoConfigSchema.js';

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
export interface RepoConfigRemote {
  url: string;
  proxy_url: string | null;
  tls_validation: boolean;
  /** The feed is in an internal domain: the remote gets the `[ca]` root CA as ca_cert. */
  internalFeed: boolean;
  sock_connect_timeout: number;
  sock_read_timeout: number;
  policy: 'immediate';
  distributions?: string;
  components?: string | null;
  architectures?: string | null;
  ignore_missing_package_indices?: boolean;
}

/** One repository to create or update, derived from one file. Holds no secret values. */
export interface RepoConfigEntry {
  /** The file it came from, relative to the repo config (e.g. `repo_config/remote/centos.json`). */
  file: string;
  name: string;
  repoType: 'rpm' | 'deb' | 'file';
  description: string;
  basePath: string;
  remote?: RepoConfigRemote;
  /** Vault references whose values go into remote fields. */
  secrets: VaultSecretRef[];
}

export function prefixedName(name: string, prefix: string): string {
  return name.startsWith(prefix) ? name : `${prefix}${name}`;
}

/** The name a file's repository gets: external (remote/) and internal repos have their own prefix. */
export function repoNameFor(kind: RepoConfigKind, name: string, rules: RepoConfigRules): string {
  return prefixedName(name, kind === 'remote' ? rules.externalPrefix : rules.internalPrefix);
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
 * The distribution base path: `<base_url>/<name>`, with the name rewritten by the replacement
 * rule, or the base_url alone when its last segment already is the name (never `x/name/name`).
 */
export function distributionBasePath(name: string, baseUrl: string, replacement?: NameReplacement): string {
  const base = baseUrl.replace(/^\/+|\/+$/g, '');
  if (base === '') return applyNameReplacement(name, replacement);
  if (base === name || base.endsWith(`/${name}`)) return base;
  return `${base}/${applyNameReplacement(name, replacement)}`;
}

/** Merges a folder's global.json into a file: global gives defaults, the file's own keys win. */
export function mergeGlobal(global: RepoConfigGlobal | undefined, file: Record<string, unknown>) {
  return { ...(global ?? {}), ...file };
}

/** Rules that need both the file and the folder it is in; returned as key → reason. */
export function repoConfigRuleIssues(file: RepoConfigFile, kind: RepoConfigKind): [string, string][] {
  const issues: [string, string][] = [];
  if (kind === 'remote' && file.url === undefined)
    issues.push(['url', 'required for repositories under remote/ (they are synced from it)']);
  if (file.vault_load_secrets?.length && file.url === undefined)
    issues.push(['vault_load_secrets', 'only repositories with a url have a remote to put secrets in']);
  return issues;
}

/** Applies every rule of SPEC "Repo config" to one validated file. */
export function repoConfigEntry(
  file: RepoConfigFile,
  kind: RepoConfigKind,
  path: string,
  rules: RepoConfigRules,
): RepoConfigEntry {
  const name = repoNameFor(kind, file.name, rules);
  const repoType = file.content_repo_type === 'iso' ? 'file' : file.content_repo_type;
  const entry: RepoConfigEntry = {
    file: path,
    name,
    repoType,
    description: repoDescription(file),
    basePath: distributionBasePath(name, file.base_url, rules.nameReplacement),
    secrets: file.vault_load_secrets ?? [],
  };
  if (file.url !== undefined) {
    const internalFeed = isInternalUrl(file.url, rules.internalDomains);
    const remote: RepoConfigRemote = {
      url: file.url,
      // Internal sources are reached directly, never through the proxy.
      proxy_url: internalFeed ? null : (file.proxy ?? null),
      // Internal feeds are validated against our root CA; others as [pulp] remote_tls_validation says.
      tls_validation: internalFeed ? true : rules.remoteTlsValidation,
      internalFeed,
      sock_connect_timeout: rules.sockConnectTimeout,
      sock_read_timeout: rules.sockReadTimeout,
      policy: 'immediate',
    };
    if (repoType === 'deb') {
      remote.distributions = file.releases ?? 'stable';
      remote.components = file.components ?? null;
      remote.architectures = file.architectures ?? null;
      // As the original: a remote limited to some components tolerates missing indices.
      remote.ignore_missing_package_indices = file.ignore_missing_package_indices ?? file.components != null;
    }
    entry.remote = remote;
  }
  return entry;
}
