// The database writes of a running group sync, for the exporter benchmark: a repo_group_sync task
// on the fleet's first server and 10 lanes of repo syncs, each queued, started, linked to its
// server repo, finished with its stages and the repo's health updated, as repoSync and
// repoGroupSync record them. The exporter's change probe sees these writes and rebuilds its text
// while it is scraped. Not a real group sync: no Temporal worker and no Pulp (simulator) share
// the cores. stop() removes every row it wrote and restores the health it changed, so the seeded
// database stays the fleet the other benchmarks check against.
import { setTimeout } from 'node:timers/promises';
import { eq, gt } from 'drizzle-orm';
import { closeDatabase, createDatabase, type DatabaseSettings } from '../../db/client.js';
import { pulp_server_repos, task_stages, tasks } from '../../db/schema.js';
import { linkTaskToServerRepo } from '../../db/taskRecords.js';
import type { SeededFleet } from './seedLargeFleet.js';

export interface GroupSyncWriter {
  /** Stops the lanes, removes what they wrote; rethrows the first failure of a lane. */
  stop(): Promise<{ repoSyncs: number }>;
}

export async function startGroupSyncWriter(
  settings: DatabaseSettings,
  fleet: SeededFleet,
  lanes = 10,
): Promise<GroupSyncWriter> {
  // The worker's pool, not the exporter's.
  const db = createDatabase({ ...settings, connectionLimit: lanes + 1 });
  const server = fleet.servers[0];
  if (server === undefined) throw new Error('startGroupSyncWriter: the fleet has no server');
  const repos = server.repos.slice(0, Math.floor(server.repos.length * 0.7));
  const [group] = await db.insert(tasks).values({
    name: `repo group sync external on ${server.name}`,
    task_type: 'repo_group_sync',
    state: 'running',
    pulp_server_id: server.id,
    task_args: { server: server.name, group: 'external' },
    date_queued: new Date(),
    date_started: new Date(),
    workflow_id: `repo-group-sync/${server.name}/external-bench`,
  });
  const groupId = group.insertId;
  const touched = new Map<number, { health: 'green' | 'amber' | 'red' | null; date: Date | null }>();
  let stopping = false;
  let next = 0;
  let repoSyncs = 0;
  let failure: unknown;

  async function lane(): Promise<void> {
    while (!stopping) {
      const repo = repos[next++ % repos.length];
      if (repo === undefined) throw new Error('startGroupSyncWriter: the first server has no repos');
      if (!touched.has(repo.serverRepoId)) {
        const [before] = await db
          .select({
            health: pulp_server_repos.repo_sync_health,
            date: pulp_server_repos.repo_sync_health_date,
          })
          .from(pulp_server_repos)
          .where(eq(pulp_server_repos.id, repo.serverRepoId));
        if (before === undefined) throw new Error(`server repo ${repo.serverRepoId} is not in the database`);
        touched.set(repo.serverRepoId, before);
      }
      const [task] = await db.insert(tasks).values({
        name: `repo sync ${repo.name} on ${server?.name}`,
        task_type: 'repo_sync',
        state: 'queued',
        parent_task_id: groupId,
        pulp_server_id: server?.id,
        task_args: { server: server?.name, repo: repo.name, sync_options: {}, deb_publish_mode: 'resign' },
        date_queued: new Date(),
        workflow_id: `repo-sync/${server?.name}/${repo.name}`,
      });
      const taskId = task.insertId;
      await db.update(tasks).set({ state: 'running', date_started: new Date() }).where(eq(tasks.id, taskId));
      await linkTaskToServerRepo(db, taskId, repo.serverRepoId);
      // Pulp's sync, publish and distribution update: 0.5-2.5 s here.
      await setTimeout(500 + Math.random() * 2000);
      await db.insert(task_stages).values([
        { task_id: taskId, position: 0, name: 'sync repo', detail: { state: 'completed' } },
        {
          task_id: taskId,
          position: 1,
          name: 'remove banned packages',
          detail: { state: 'completed', removed: 0 },
        },
        { task_id: taskId, position: 2, name: 'publish repo', detail: { state: 'completed' } },
      ]);
      await db
        .update(tasks)
        .set({ state: 'completed', date_finished: new Date() })
        .where(eq(tasks.id, taskId));
      await db
        .update(pulp_server_repos)
        .set({ repo_sync_health: 'green', repo_sync_health_date: new Date() })
        .where(eq(pulp_server_repos.id, repo.serverRepoId));
      repoSyncs++;
    }
  }
  const running = Array.from({ length: lanes }, () =>
    lane().catch((err: unknown) => {
      failure ??= err;
      stopping = true;
    }),
  );

  return {
    async stop() {
      stopping = true;
      await Promise.all(running);
      try {
        // Children, stages and links go with the tasks (ON DELETE CASCADE).
        await db.delete(tasks).where(gt(tasks.id, fleet.size.tasks));
        for (const [id, before] of touched) {
          await db
            .update(pulp_server_repos)
            .set({ repo_sync_health: before.health, repo_sync_health_date: before.date })
            .where(eq(pulp_server_repos.id, id));
        }
      } finally {
        await closeDatabase(db);
      }
      if (failure !== undefined) throw failure;
      return { repoSyncs };
    },
  };
}
