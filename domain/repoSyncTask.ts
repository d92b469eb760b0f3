import type { StartTaskInput } from '../activities/db/taskActivities.js';
import type { SyncOptions } from '../pulp/syncOptions.js';

/** What identifies one repo's sync: the workflow's input, as the pipeline activity gets it too. */
export interface RepoSyncTaskSubject {
  server: string;
  repoName: string;
  parentTaskId?: number;
  syncOptions?: SyncOptions;
  debPublishMode: 'resign' | 'verbatim';
}

/**
 * The Task record of a repo sync: created by the pipeline activity, or by the workflow when it
 * ends a run whose activity never got that far. One builder, so both write the same row.
 */
export function repoSyncTaskStart(s: RepoSyncTaskSubject): StartTaskInput {
  return {
    name: `repo sync ${s.repoName} on ${s.server}`,
    taskType: 'repo_sync',
    parentTaskId: s.parentTaskId ?? null,
    server: s.server,
    args: {
      server: s.server,
      repo: s.repoName,
      sync_options: s.syncOptions ?? {},
      deb_publish_mode: s.debPublishMode,
    },
  };
}
