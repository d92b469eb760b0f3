// Request bodies of the routes that start work, with the original's field names. Optional
// fields also accept null, as the original's pydantic models did. Unknown fields are refused
// (422) rather than ignored: a misspelt regex_include must not widen a removal.
import { z } from '@hono/zod-openapi';
import { maxRuntimeField, regexField, serverNameField } from '../../config/fields.js';
import { syncOptionsSchema } from '../../config/pulpConfigSchema.js';
import { debPublishModes } from '../../db/enums.js';

// A transform's schema is documented from its input (type, pattern, null); max_runtime's
// text form is said here, with the zero the parser refuses left out.
const maxRuntime = maxRuntimeField.openapi({
  anyOf: [
    { type: 'string', pattern: '^\\s*0*[1-9]\\d*\\s*[smhd]?\\s*$' },
    { type: 'integer', minimum: 1 },
  ],
  description: 'seconds (300) or a number with s, m, h or d (20m, 6h, 1d); more than zero',
  example: '6h',
});

const optionalRegex = (description: string) =>
  regexField
    .nullish()
    .transform((v) => v ?? undefined)
    // Checked with Python's rules (config/pythonRegex.ts), as the original compiled them.
    .openapi({ format: 'regex', description });

const regexInclude = () => optionalRegex('repos whose name matches are selected');
const regexExclude = () => optionalRegex('repos whose name matches are left out (exclude wins over include)');

export const SyncReposBodySchema = z
  .strictObject({
    max_runtime: maxRuntime,
    max_concurrent_syncs: z.number().int().min(1).max(100).openapi({ example: 2 }),
    regex_include: regexInclude(),
    regex_exclude: regexExclude(),
    source_pulp_server_name: serverNameField
      .nullish()
      .transform((v) => v ?? undefined)
      .openapi({ description: 'primary to register and sync the repos from' }),
    // Typed as an object here: its values are any JSON, a recursive schema the generator cannot walk.
    sync_options: syncOptionsSchema
      .openapi({ type: 'object' })
      .nullish()
      .transform((v) => v ?? undefined)
      .openapi({
        description:
          'passed to each Pulp sync, keys of the repository type\'s sync body (e.g. {"sync_policy": "mirror_content_only", "skip_types": ["srpm"]})',
      }),
    deb_publish_mode: z
      .enum(debPublishModes)
      .default('resign')
      .openapi({ description: 'how deb repos synced from a primary are published' }),
  })
  .openapi('SyncReposRequest');

export const SNAPSHOT_PREFIX_PATTERN = /^[A-Za-z0-9._-]+$/;

export const SnapshotReposBodySchema = z
  .strictObject({
    max_runtime: maxRuntime,
    snapshot_prefix: z
      .string()
      .min(1)
      .max(100)
      .regex(SNAPSHOT_PREFIX_PATTERN, 'letters, digits, ".", "_" and "-" only')
      .openapi({ description: 'normalised to start with "snap-" and end with "-"', example: '2024-05' }),
    allow_snapshot_reuse: z.boolean().default(false),
    regex_include: regexInclude(),
    regex_exclude: regexExclude(),
  })
  .openapi('SnapshotReposRequest');

export const RemoveReposBodySchema = z
  .strictObject({
    max_runtime: maxRuntime,
    regex_include: regexInclude(),
    regex_exclude: regexExclude(),
    dry_run: z.boolean().default(true).openapi({ description: 'list what would be removed, remove nothing' }),
  })
  .refine((b) => b.regex_include !== undefined || b.regex_exclude !== undefined, {
    path: ['regex_include'],
    message: 'at least one of regex_include and regex_exclude is required',
  })
  .openapi('RemoveReposRequest', {
    anyOf: (['regex_include', 'regex_exclude'] as const).map((key) => ({
      required: [key],
      properties: { [key]: { type: 'string' } },
    })),
  });

export const RemoveRepoContentBodySchema = z
  .strictObject({
    content_href: z
      .string()
      .regex(/^\/pulp\/api\/v3\/content\/[a-z_]+\/[a-z_]+\/[0-9a-f-]+\/$/, 'must be a Pulp content href')
      .openapi({ example: '/pulp/api/v3/content/rpm/packages/018f0c4e-2a43-7ad1-9d6e-8f1c3c0b7f55/' }),
    max_runtime: maxRuntime,
    force_publish: z
      .boolean()
      .nullish()
      .transform((v) => v ?? false)
      .openapi({ description: 'publish the latest version even when nothing was removed' }),
  })
  .openapi('RemoveRepoContentRequest');

const searchText = (description: string) =>
  z
    .string()
    .max(1024)
    .nullish()
    .transform((v) => (v ? v : undefined))
    .openapi({ description });

export const FindPackageContentBodySchema = z
  .strictObject({
    name: searchText('package name (deb: Package)'),
    version: searchText('package version'),
    sha256: searchText('sha256 of the package file'),
  })
  .refine((b) => b.name !== undefined || b.version !== undefined || b.sha256 !== undefined, {
    path: ['name'],
    message: 'at least one of name, version and sha256 is required',
  })
  .openapi('FindPackageContentRequest', {
    // The refine above, for the document: an empty or null field counts as absent.
    anyOf: (['name', 'version', 'sha256'] as const).map((key) => ({
      required: [key],
      properties: { [key]: { type: 'string', minLength: 1 } },
    })),
  });

export const PackageContentSchema = z
  .record(z.string(), z.unknown())
  .openapi('PackageContent', { description: 'pulp_href, name or package, version, sha256 (pkgId for rpm)' });
