import { z } from 'zod';

/**
 * The JSON files of the git "repo config" (every `*.json` under `<git_repo_config_dir>`, usually
 * in `remote/` and `internal/`, with a `global.json` beside them), in the original's format and
 * with the original's reading: a key neither knows is a notice, never a refusal, so every file
 * of a migrated fleet still yields its repository.
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

/**
 * deb `releases` / `components` / `architectures`: a string as Pulp takes it (whitespace
 * separated) or a list of words, joined with spaces into that same string.
 */
const debWords = z
  .union([
    z.string().trim().min(1, 'must not be empty'),
    z
      .array(z.string().trim().min(1, 'must not be empty').regex(/^\S+$/, 'one word per list item'))
      .min(1, 'must not be an empty list'),
  ])
  .transform((v) => (Array.isArray(v) ? v.join(' ') : v));

/** Pulp's list fields of a container or python remote: a list of non-empty strings. */
const tagList = z.array(z.string().trim().min(1, 'must not be empty'));

const repoConfigFields = {
  name: z
    .string()
    .min(1)
    .regex(/^[^\s/]+$/, 'must not contain whitespace or "/"'),
  // `iso` is the original's name for file repositories.
  content_repo_type: z.enum(['rpm', 'deb', 'file', 'iso', 'python', 'container']),
  description: z.string(),
  owner: z.string(),
  base_url: z
    .string()
    .min(1)
    .regex(/^[^\s]+$/, 'must not contain whitespace'),
  url: httpUrl.optional(),
  proxy: httpUrl.nullish(),
  tls_validation: z.boolean().optional(),
  releases: debWords.optional(),
  components: debWords.nullish(),
  architectures: debWords.nullish(),
  ignore_missing_package_indices: z.boolean().optional(),
  vault_load_secrets: z.array(vaultSecretRefSchema).optional(),
  // container only: the image's name on the registry at `url` (Pulp requires it on a container
  // remote; the original had no key for it) and which of its tags to mirror.
  upstream_name: z.string().trim().min(1, 'must not be empty').optional(),
  include_tags: tagList.optional(),
  exclude_tags: tagList.optional(),
  // python only: which projects of the index at `url` to mirror (requirement specifiers).
  includes: tagList.optional(),
  excludes: tagList.optional(),
};

/** global.json only: the prefix of repositories without a url in its folder (`pulp.package_prefix`). */
const globalOnlyFields = {
  pulp: z.object({ package_prefix: z.string().default('') }).optional(),
};

/** One repository's file after its folder's global.json has been merged in. */
export const repoConfigFileSchema = z.object(repoConfigFields).superRefine((file, ctx) => {
  if (file.content_repo_type === 'container' && file.url !== undefined && file.upstream_name === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['upstream_name'],
      message: 'required for a container repository with a url: the image name on that registry',
    });
  }
});
export type RepoConfigFile = z.infer<typeof repoConfigFileSchema>;

/** global.json: merged into every file of its folder; a repository's own name is never global. */
export const repoConfigGlobalSchema = z
  .object(repoConfigFields)
  .omit({ name: true })
  .partial()
  .extend(globalOnlyFields);
export type RepoConfigGlobal = z.infer<typeof repoConfigGlobalSchema>;

/** Keys the original read from a repository file or global.json; others are reported and ignored. */
export const REPO_CONFIG_FILE_KEYS: ReadonlySet<string> = new Set(Object.keys(repoConfigFields));
export const REPO_CONFIG_GLOBAL_KEYS: ReadonlySet<string> = new Set([
  ...Object.keys(repoConfigFields),
  ...Object.keys(globalOnlyFields),
]);
