import { z } from 'zod';

/**
 * The JSON files of the git "repo config" (`<git_repo_config_dir>/remote/*.json` and
 * `.../internal/*.json`, each folder with an optional global.json), in the original's format.
 * Unknown keys are rejected so that a typo is reported with its file and key, not ignored.
 */

/** Remote fields a `vault_load_secrets` entry may fill: Pulp's credential fields of a remote. */
export const REMOTE_SECRET_PROPERTIES = [
  'client_cert',
  'client_key',
  'ca_cert',
  'username',
  'password',
  'proxy_username',
  'proxy_password',
] as const;
export type RemoteSecretProperty = (typeof REMOTE_SECRET_PROPERTIES)[number];

/** Where in Vault a secret of a remote lives; the value itself is read by the worker only. */
export const vaultSecretRefSchema = z.strictObject({
  secret_name: z.string().min(1),
  kv: z.string().min(1),
  path: z.string().min(1),
  remote_property: z.enum(REMOTE_SECRET_PROPERTIES),
});
export type VaultSecretRef = z.infer<typeof vaultSecretRefSchema>;

const httpUrl = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' });

const repoConfigFields = {
  name: z
    .string()
    .min(1)
    .regex(/^[^\s/]+$/, 'must not contain whitespace or "/"'),
  // `iso` is the original's name for file repositories.
  content_repo_type: z.enum(['rpm', 'deb', 'file', 'iso']),
  description: z.string(),
  owner: z.string(),
  base_url: z
    .string()
    .min(1)
    .regex(/^[^\s]+$/, 'must not contain whitespace'),
  url: httpUrl.optional(),
  proxy: httpUrl.nullish(),
  // Accepted as in the original, where `[pulp] remote_tls_validation` decides for external
  // feeds and internal feeds are always validated (see repoConfigRules).
  tls_validation: z.boolean().optional(),
  releases: z.string().trim().min(1).optional(),
  components: z.string().trim().min(1).nullish(),
  architectures: z.string().trim().min(1).nullish(),
  ignore_missing_package_indices: z.boolean().optional(),
  vault_load_secrets: z.array(vaultSecretRefSchema).optional(),
};

/** One repository's file after its folder's global.json has been merged in. */
export const repoConfigFileSchema = z.strictObject(repoConfigFields);
export type RepoConfigFile = z.infer<typeof repoConfigFileSchema>;

/** global.json: defaults for every file of its folder; a repository's own name is never global. */
export const repoConfigGlobalSchema = z.strictObject(repoConfigFields).omit({ name: true }).partial();
export type RepoConfigGlobal = z.infer<typeof repoConfigGlobalSchema>;

/** The two folders of the repo config and what their repositories are. */
export const REPO_CONFIG_KINDS = ['remote', 'internal'] as const;
export type RepoConfigKind = (typeof REPO_CONFIG_KINDS)[number];
