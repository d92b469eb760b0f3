import type { Database } from '../../db/client.js';
import type { RepoHealthStatus, TaskState, TaskType } from '../../db/enums.js';
import { type NewTask, pulp_server_repos, pulp_servers, repos, tasks } from '../../db/schema.js';

const ago = (seconds: number) => new Date(Date.now() - seconds * 1000);

export async function insertServer(
  db: Database,
  name: string,
  rollup: RepoHealthStatus | null,
  rollupAgeSeconds: number | null,
): Promise<number> {
  const [res] = await db.insert(pulp_servers).values({
    name,
    username: 'admin',
    repo_sync_health_rollup: rollup,
    repo_sync_health_rollup_date: rollupAgeSeconds === null ? null : ago(rollupAgeSeconds),
  });
  return res.insertId;
}

export interface RepoSeed {
  name: string;
  health: RepoHealthStatus | null;
  healthAgeSeconds: number | null;
  hasRemote: boolean;
}

/** Repos (shared by name across servers) and their rows on the given server, in chunks. */
export async function insertServerRepos(db: Database, serverId: number, seeds: readonly RepoSeed[]) {
  for (let i = 0; i < seeds.length; i += 1000) {
    const chunk = seeds.slice(i, i + 1000);
    await db
      .insert(repos)
      .values(chunk.map((s) => ({ name: s.name, repo_type: 'rpm' })))
      .onDuplicateKeyUpdate({ set: { repo_type: 'rpm' } });
  }
  const ids = new Map(
    (await db.select({ id: repos.id, name: repos.name }).from(repos)).map((r) => [r.name, r.id]),
  );
  for (let i = 0; i < seeds.length; i += 1000) {
    const chunk = seeds.slice(i, i + 1000);
    await db.insert(pulp_server_repos).values(
      chunk.map((s) => ({
        pulp_server_id: serverId,
        repo_id: ids.get(s.name) as number,
        repo_href: `/pulp/api/v3/repositories/rpm/rpm/${s.name}/`,
        remote_href: s.hasRemote ? `/pulp/api/v3/remotes/rpm/rpm/${s.name}/` : null,
        remote_feed: s.hasRemote ? `https://example.com/${s.name}/` : null,
        repo_sync_health: s.health,
        repo_sync_health_date: s.healthAgeSeconds === null ? null : ago(s.healthAgeSeconds),
      })),
    );
  }
}

export interface TaskSeed {
  serverId: number | null;
  type: TaskType;
  state: TaskState;
  /** Seconds ago it was queued (created). */
  queuedAgo: number;
  /** Run time, when it started and finished. */
  durationSeconds?: number;
  /** Seconds ago it finished (default: queuedAgo - durationSeconds). */
  finishedAgo?: number;
  /** When it finished (wins over finishedAgo). */
  finishedAt?: Date;
  parentTaskId?: number;
}

export function taskRow(t: TaskSeed): NewTask {
  const queued = ago(t.queuedAgo);
  const finished =
    t.durationSeconds === undefined
      ? null
      : (t.finishedAt ??
        (t.finishedAgo !== undefined
          ? ago(t.finishedAgo)
          : new Date(queued.getTime() + t.durationSeconds * 1000)));
  const started =
    t.state === 'queued'
      ? null
      : finished && t.durationSeconds !== undefined
        ? new Date(finished.getTime() - t.durationSeconds * 1000)
        : queued;
  return {
    name: `${t.type} ${t.state}`,
    task_type: t.type,
    state: t.state,
    pulp_server_id: t.serverId,
    parent_task_id: t.parentTaskId ?? null,
    task_args: {},
    date_queued: queued,
    date_started: started,
    date_finished: finished,
  };
}

export async function insertTasks(db: Database, seeds: readonly TaskSeed[]): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < seeds.length; i += 1000) {
    const chunk = seeds.slice(i, i + 1000);
    const [res] = await db.insert(tasks).values(chunk.map(taskRow));
    // One multi-row INSERT: MariaDB hands out consecutive ids from insertId.
    for (let j = 0; j < chunk.length; j++) ids.push(res.insertId + j);
  }
  return ids;
}
