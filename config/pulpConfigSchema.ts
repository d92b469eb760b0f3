import { z } from 'zod';
import type { PulpSchemas } from '../pulp/client.js';
import type { SyncOptionValue } from '../pulp/syncOptions.js';
import { cronField, maxRuntimeField, regexField, serverNameField } from './fields.js';

/**
 * pulp_config.yml, in the original system's format: pulp_servers, credentials, repo_groups.
 * Additions are optional keys only, so every file the original accepted is accepted here.
 */

const syncOptionValue: z.ZodType<SyncOptionValue> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(syncOptionValue),
    z.record(z.string(), syncOptionValue),
  ]),
);

const SKIP_TYPES = ['srpm', 'treeinfo'] as const satisfies readonly PulpSchemas['SkipTypesEnum'][];
const SYNC_POLICIES = [
  'additive',
  'mirror_complete',
  'mirror_content_only',
] as const satisfies readonly PulpSchemas['SyncPolicyEnum'][];

/**
 * The values of the keys some type's sync takes (Pulp's sync body schemas): checked when the
 * config or the API body is read, so that a wrong one is refused naming the key instead of
 * failing every repository of the group at its sync.
 */
const KNOWN_SYNC_OPTION_VALUES: Record<string, z.ZodType> = {
  mirror: z.boolean(),
  optimize: z.boolean(),
  signed_only: z.boolean(),
  sync_policy: z.enum(SYNC_POLICIES),
  skip_types: z.array(z.enum(SKIP_TYPES)),
};

/**
 * Sent to the sync endpoint of every repository of the group as given (see pulp/syncOptions.ts):
 * any JSON value, since Pulp takes lists (rpm `skip_types`); keys Pulp Manager does not know are
 * left to Pulp to judge.
 */
export const syncOptionsSchema = z.record(z.string(), syncOptionValue).superRefine((options, ctx) => {
  for (const [key, value] of Object.entries(options)) {
    const known = KNOWN_SYNC_OPTION_VALUES[key];
    const checked = known?.safeParse(value);
    if (checked && !checked.success) {
      for (const issue of checked.error.issues)
        ctx.addIssue({ code: 'custom', path: [key, ...issue.path], message: issue.message });
    }
  }
});

const repoGroupLinkSchema = z
  .strictObject({
    schedule: cronField.optional(),
    max_concurrent_syncs: z.number().int().min(1).optional(),
    // The original README's sample spells it without the trailing "s"; both are accepted.
    max_concurrent_sync: z.number().int().min(1).optional(),
    max_runtime: maxRuntimeField,
    pulp_master: z.string().optional(),
    // deb secondaries either keep the primary's signed Release files (verbatim) or re-sign.
    deb_publish_mode: z.enum(['resign', 'verbatim']).optional(),
    sync_options: syncOptionsSchema.optional(),
  })
  .superRefine((link, ctx) => {
    if (link.max_concurrent_syncs !== undefined && link.max_concurrent_sync !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['max_concurrent_sync'],
        message: 'give max_concurrent_syncs or max_concurrent_sync, not both',
      });
    } else if (link.max_concurrent_syncs === undefined && link.max_concurrent_sync === undefined) {
      ctx.addIssue({ code: 'custom', path: ['max_concurrent_syncs'], message: 'required' });
    }
  })
  .transform(({ max_concurrent_sync, max_concurrent_syncs, ...rest }) => ({
    ...rest,
    max_concurrent_syncs: (max_concurrent_syncs ?? max_concurrent_sync) as number,
    deb_publish_mode: rest.deb_publish_mode ?? 'resign',
  }));

const repoConfigRegistrationSchema = z.strictObject({
  schedule: cronField,
  max_runtime: maxRuntimeField,
  regex_include: regexField.optional(),
  regex_exclude: regexField.optional(),
});

const pulpServerSchema = z.strictObject({
  // A missing credentials block is reported by crossReferenceIssues, with the reason.
  credentials: z.string().optional(),
  repo_config_registration: repoConfigRegistrationSchema.optional(),
  repo_groups: z.record(z.string(), repoGroupLinkSchema).default({}),
  snapshot_support: z.strictObject({ max_concurrent_snapshots: z.number().int().min(1) }).optional(),
});

const credentialsSchema = z.strictObject({
  username: z.string().min(1),
  vault_service_account_mount: z.string().min(1),
});

const repoGroupSchema = z.strictObject({
  regex_include: regexField.optional(),
  regex_exclude: regexField.optional(),
});

export const pulpConfigSchema = z.strictObject({
  pulp_servers: z.record(serverNameField, pulpServerSchema).default({}),
  credentials: z.record(z.string(), credentialsSchema).default({}),
  repo_groups: z.record(z.string(), repoGroupSchema).default({}),
});

export type PulpConfig = z.output<typeof pulpConfigSchema>;
export type PulpServerConfig = PulpConfig['pulp_servers'][string];
export type RepoGroupLinkConfig = PulpServerConfig['repo_groups'][string];

type Issue = { path: string[]; message: string };

function entries(value: unknown): [string, Record<string, unknown>][] {
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).filter(
    (e): e is [string, Record<string, unknown>] => typeof e[1] === 'object' && e[1] !== null,
  );
}

/**
 * References between sections (credentials, repo groups, pulp_master). Checked on the raw
 * document, not after zod, so they are reported together with field errors elsewhere.
 */
export function crossReferenceIssues(raw: unknown): Issue[] {
  const doc = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const names = (section: unknown) => new Set(entries(section).map(([k]) => k));
  const credentials = names(doc.credentials);
  const groups = names(doc.repo_groups);
  const servers = new Set(
    typeof doc.pulp_servers === 'object' && doc.pulp_servers ? Object.keys(doc.pulp_servers) : [],
  );
  const issues: Issue[] = [];
  for (const [serverName, server] of entries(doc.pulp_servers)) {
    const at = ['pulp_servers', serverName];
    if (server.credentials === undefined) {
      issues.push({
        path: [...at, 'credentials'],
        message: 'required: every server needs a credentials block',
      });
    } else if (typeof server.credentials === 'string' && !credentials.has(server.credentials)) {
      issues.push({
        path: [...at, 'credentials'],
        message: `credentials block "${server.credentials}" is not defined under credentials`,
      });
    }
    for (const [groupName, link] of entries(server.repo_groups)) {
      const linkAt = [...at, 'repo_groups', groupName];
      if (!groups.has(groupName)) {
        issues.push({ path: linkAt, message: `repo group "${groupName}" is not defined under repo_groups` });
      }
      const master = link.pulp_master;
      if (master === undefined) continue;
      if (master === serverName) {
        issues.push({ path: [...linkAt, 'pulp_master'], message: 'a server cannot be its own pulp_master' });
      } else if (typeof master === 'string' && !servers.has(master)) {
        issues.push({
          path: [...linkAt, 'pulp_master'],
          message: `pulp_master "${master}" is not a server under pulp_servers`,
        });
      }
    }
  }
  return issues;
}
