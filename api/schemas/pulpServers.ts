import { z } from '@hono/zod-openapi';
import { debPublishModes, repoHealthStatuses } from '../../db/enums.js';
import { isoDateTime, pathId } from './common.js';

const health = z.enum(repoHealthStatuses).nullable();

export const PulpServerSchema = z
  .object({
    id: z.number().int(),
    name: z.string().openapi({ example: 'pulp1.example.com:443' }),
    username: z.string(),
    vault_service_account_mount: z.string().nullable(),
    snapshot_supported: z.boolean(),
    max_concurrent_snapshots: z.number().int().nullable(),
    repo_config_registration_schedule: z.string().nullable(),
    repo_config_registration_max_runtime: z.string().nullable(),
    repo_config_registration_regex_include: z.string().nullable(),
    repo_config_registration_regex_exclude: z.string().nullable(),
    repo_sync_health_rollup: health,
    repo_sync_health_rollup_date: isoDateTime.nullable(),
    date_created: isoDateTime,
    date_last_updated: isoDateTime,
  })
  .openapi('PulpServer');

export const ServerRepoSchema = z
  .object({
    id: z.number().int(),
    pulp_server_id: z.number().int(),
    repo_id: z.number().int(),
    name: z.string(),
    repo_type: z.string().openapi({ example: 'rpm' }),
    repo_href: z.string(),
    remote_href: z.string().nullable(),
    remote_feed: z.string().nullable(),
    distribution_href: z.string().nullable(),
    repo_sync_health: health,
    repo_sync_health_date: isoDateTime.nullable(),
    date_created: isoDateTime,
    date_last_updated: isoDateTime,
  })
  .openapi('PulpServerRepo');

export const ServerRepoGroupSchema = z
  .object({
    pulp_server_id: z.number().int(),
    repo_group_id: z.number().int(),
    name: z.string(),
    regex_include: z.string().nullable(),
    regex_exclude: z.string().nullable(),
    schedule: z.string().nullable(),
    max_concurrent_syncs: z.number().int(),
    max_runtime: z.string(),
    pulp_master_id: z.number().int().nullable(),
    deb_publish_mode: z.enum(debPublishModes),
    date_created: isoDateTime,
    date_last_updated: isoDateTime,
  })
  .openapi('PulpServerRepoGroup');

export const RepoGroupParams = z.object({ id: pathId('id'), repo_group_id: pathId('repo_group_id') });
