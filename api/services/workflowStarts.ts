// The four kinds of work the API starts: what each checks first, what its Task row records and
// what its workflow receives.
import type { z } from '@hono/zod-openapi';
import type { PulpServer, Task } from '../../db/schema.js';
import { removeRepoContentWorkflow } from '../../workflows/removeRepoContent.js';
import { repoGroupSyncWorkflow } from '../../workflows/repoGroupSync.js';
import { repoRemovalWorkflow } from '../../workflows/repoRemoval.js';
import { snapshotReposWorkflow } from '../../workflows/snapshotRepos.js';
import { conflict, invalidInput } from '../errors.js';
import type {
  RemoveRepoContentBodySchema,
  RemoveReposBodySchema,
  SnapshotReposBodySchema,
  SyncReposBodySchema,
} from '../schemas/actions.js';
import { serverIdByName, serverRepoNamesWithPrefix } from './serverRecords.js';
import { startWorkflowTask, type WorkflowStarter } from './startWorkflowTask.js';

export interface StartContext extends WorkflowStarter {
  requestedBy?: string;
}

export async function startRepoGroupSync(
  ctx: StartContext,
  server: PulpServer,
  body: z.output<typeof SyncReposBodySchema>,
): Promise<Task> {
  const source = body.source_pulp_server_name;
  if (source !== undefined) {
    if (source === server.name) {
      throw invalidInput('body.source_pulp_server_name', 'a server cannot sync from itself');
    }
    if ((await serverIdByName(ctx.db, source)) === undefined) {
      throw invalidInput('body.source_pulp_server_name', `unknown Pulp server "${source}"`);
    }
  }
  return startWorkflowTask(ctx, {
    taskType: 'repo_group_sync',
    name: `repo sync ${server.name}`,
    server,
    requestedBy: ctx.requestedBy,
    taskArgs: {
      pulp_server_name: server.name,
      regex_include: body.regex_include ?? null,
      regex_exclude: body.regex_exclude ?? null,
      max_runtime: body.max_runtime.text,
      max_concurrent_syncs: body.max_concurrent_syncs,
      source_pulp_server_name: source ?? null,
      sync_options: body.sync_options ?? null,
      deb_publish_mode: body.deb_publish_mode,
    },
    workflow: repoGroupSyncWorkflow,
    workflowKind: 'repoGroupSync',
    workflowArgs: {
      server: server.name,
      regexInclude: body.regex_include,
      regexExclude: body.regex_exclude,
      maxConcurrentSyncs: body.max_concurrent_syncs,
      maxRuntimeSeconds: body.max_runtime.seconds,
      sourceServer: source,
      syncOptions: body.sync_options,
      debPublishMode: body.deb_publish_mode,
    },
    maxRuntimeSeconds: body.max_runtime.seconds,
  });
}

/** `2024-05` → `snap-2024-05-`: snapshot repos are recognisable by their name. */
export function normaliseSnapshotPrefix(prefix: string): string {
  const withStart = prefix.startsWith('snap-') ? prefix : `snap-${prefix}`;
  return withStart.endsWith('-') ? withStart : `${withStart}-`;
}

export async function startSnapshotRepos(
  ctx: StartContext,
  server: PulpServer,
  body: z.output<typeof SnapshotReposBodySchema>,
): Promise<Task> {
  if (!server.snapshot_supported) {
    throw conflict(`snapshots are not enabled on ${server.name} (snapshot_supported in pulp_config.yml)`);
  }
  const prefix = normaliseSnapshotPrefix(body.snapshot_prefix);
  if (!body.allow_snapshot_reuse) {
    const existing = await serverRepoNamesWithPrefix(ctx.db, server.id, prefix);
    if (existing.length > 0) {
      throw conflict(
        `snapshot prefix ${prefix} is already used on ${server.name} (${existing.join(', ')}); ` +
          'choose another prefix or set allow_snapshot_reuse',
      );
    }
  }
  return startWorkflowTask(ctx, {
    taskType: 'repo_snapshot',
    name: `snapshot repos ${server.name}`,
    server,
    requestedBy: ctx.requestedBy,
    taskArgs: {
      pulp_server_name: server.name,
      max_runtime: body.max_runtime.text,
      snapshot_prefix: prefix,
      regex_include: body.regex_include ?? null,
      regex_exclude: body.regex_exclude ?? null,
      allow_snapshot_reuse: body.allow_snapshot_reuse,
    },
    workflow: snapshotReposWorkflow,
    workflowKind: 'snapshotRepos',
    workflowArgs: {
      server: server.name,
      snapshotPrefix: prefix,
      regexInclude: body.regex_include,
      regexExclude: body.regex_exclude,
      allowSnapshotReuse: body.allow_snapshot_reuse,
      maxRuntimeSeconds: body.max_runtime.seconds,
    },
    maxRuntimeSeconds: body.max_runtime.seconds,
  });
}

export async function startRepoRemoval(
  ctx: StartContext,
  server: PulpServer,
  body: z.output<typeof RemoveReposBodySchema>,
): Promise<Task> {
  return startWorkflowTask(ctx, {
    taskType: 'repo_removal',
    name: `remove repos ${server.name}`,
    server,
    requestedBy: ctx.requestedBy,
    taskArgs: {
      pulp_server_name: server.name,
      max_runtime: body.max_runtime.text,
      regex_include: body.regex_include ?? null,
      regex_exclude: body.regex_exclude ?? null,
      dry_run: body.dry_run,
    },
    workflow: repoRemovalWorkflow,
    workflowKind: 'repoRemoval',
    workflowArgs: {
      server: server.name,
      regexInclude: body.regex_include,
      regexExclude: body.regex_exclude,
      dryRun: body.dry_run,
      maxRuntimeSeconds: body.max_runtime.seconds,
    },
    maxRuntimeSeconds: body.max_runtime.seconds,
  });
}

export async function startRemoveRepoContent(
  ctx: StartContext,
  server: PulpServer,
  serverRepo: { id: number; name: string },
  body: z.output<typeof RemoveRepoContentBodySchema>,
): Promise<Task> {
  return startWorkflowTask(ctx, {
    taskType: 'remove_repo_content',
    name: `remove repo content ${server.name}`,
    server,
    requestedBy: ctx.requestedBy,
    serverRepoId: serverRepo.id,
    taskArgs: {
      pulp_server_name: server.name,
      repo_name: serverRepo.name,
      content_href: body.content_href,
      max_runtime: body.max_runtime.text,
      force_publish: body.force_publish,
    },
    workflow: removeRepoContentWorkflow,
    workflowKind: 'removeRepoContent',
    workflowArgs: {
      server: server.name,
      repoName: serverRepo.name,
      contentHref: body.content_href,
      forcePublish: body.force_publish,
      maxRuntimeSeconds: body.max_runtime.seconds,
    },
    maxRuntimeSeconds: body.max_runtime.seconds,
  });
}
