import { eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import type { RepoHealthStatus, TaskState, TaskType } from '../../db/enums.js';
import {
  type NewTask,
  type NewTaskStage,
  pulp_server_repos,
  pulp_servers,
  repos,
  task_stages,
  tasks,
} from '../../db/schema.js';
import { linkTasksToServerRepos } from '../../db/taskRecords.js';

// Bulk seeding of the reporting tables for the metrics tests and the benchmarks (bench/):
// multi-row INSERTs of 1000 rows, so a fleet of 50,000 server repos and 100,000 tasks seeds in
// seconds.

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
  /** Default rpm. */
  repoType?: string;
}

export interface SeededServerRepo {
  name: string;
  repoId: number;
  serverRepoId: number;
}

/**
 * Repos (shared by name across servers) and their rows on the given server, in chunks.
 * Returns the ids of the server's repos, in the order of `seeds`.
 */
export async function insertServerRepos(
  db: Database,
  serverId: number,
  seeds: readonly RepoSeed[],
): Promise<SeededServerRepo[]> {
  for (let i = 0; i < seeds.length; i += 1000) {
    const chunk = seeds.slice(i, i + 1000);
    await db
      .insert(repos)
      .values(chunk.map((s) => ({ name: s.name, repo_type: s.repoType ?? 'rpm' })))
      // A repo already seeded for another server keeps its row.
      .onDuplicateKeyUpdate({ set: { repo_type: sql`${repos.repo_type}` } });
  }
  const ids = new Map(
    (await db.select({ id: repos.id, name: repos.name }).from(repos)).map((r) => [r.name, r.id]),
  );
  for (let i = 0; i < seeds.length; i += 1000) {
    const chunk = seeds.slice(i, i + 1000);
    await db.insert(pulp_server_repos).values(
      chunk.map((s) => {
        const type = s.repoType ?? 'rpm';
        return {
          pulp_server_id: serverId,
          repo_id: ids.get(s.name) as number,
          repo_href: `/pulp/api/v3/repositories/${type}/${type}/${s.name}/`,
          remote_href: s.hasRemote ? `/pulp/api/v3/remotes/${type}/${type}/${s.name}/` : null,
          remote_feed: s.hasRemote ? `https://example.com/${s.name}/` : null,
          repo_sync_health: s.health,
          repo_sync_health_date: s.healthAgeSeconds === null ? null : ago(s.healthAgeSeconds),
        };
      }),
    );
  }
  const serverRepoIds = new Map(
    (
      await db
        .select({ id: pulp_server_repos.id, repoId: pulp_server_repos.repo_id })
        .from(pulp_server_repos)
        .where(eq(pulp_server_repos.pulp_server_id, serverId))
    ).map((r) => [r.repoId, r.id]),
  );
  return seeds.map((s) => {
    const repoId = ids.get(s.name) as number;
    return { name: s.name, repoId, serverRepoId: serverRepoIds.get(repoId) as number };
  });
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
  /** Default `<type> <state>`. */
  name?: string;
  workerName?: string;
  workflowId?: string;
  error?: string;
  args?: Record<string, unknown>;
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
    name: t.name ?? `${t.type} ${t.state}`,
    task_type: t.type,
    state: t.state,
    pulp_server_id: t.serverId,
    parent_task_id: t.parentTaskId ?? null,
    task_args: t.args ?? {},
    date_queued: queued,
    date_started: started,
    date_finished: finished,
    worker_name: t.workerName ?? null,
    workflow_id: t.workflowId ?? null,
    error: t.error === undefined ? null : { msg: t.error },
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

async function insertChunked<T>(rows: readonly T[], insert: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += 1000) await insert(rows.slice(i, i + 1000));
}

export async function insertTaskStages(db: Database, stages: readonly NewTaskStage[]): Promise<void> {
  await insertChunked(stages, (chunk) => db.insert(task_stages).values(chunk));
}

/** Links tasks to the server repos they touched (GET /v1/pulp_servers/{id}/repos/{repo_id}/tasks). */
export async function linkServerRepoTasks(
  db: Database,
  links: readonly { serverRepoId: number; taskId: number }[],
): Promise<void> {
  await linkTasksToServerRepos(db, links);
}
