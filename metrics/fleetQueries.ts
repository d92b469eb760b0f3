import { type AnyColumn, and, eq, gte, inArray, isNotNull, type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import {
  finalTaskStates,
  type RepoHealthStatus,
  type TaskState,
  type TaskType,
  taskStates,
} from '../db/enums.js';
import { pulp_server_repos, pulp_servers, repos, tasks } from '../db/schema.js';

// The exporter's reads: one query per metric family, each an aggregate or a single join, so a
// scrape costs the same handful of round trips with ten repos or ten thousand. Ages are
// computed by the database (UTC_TIMESTAMP), the clock every reporting date is compared with.

/** Seconds since a date, or NULL: TIMESTAMPDIFF on a NULL date is NULL. */
const ageSeconds = (column: AnyColumn) =>
  sql<number | null>`TIMESTAMPDIFF(SECOND, ${column}, UTC_TIMESTAMP(3))`.mapWith((v) =>
    v === null ? null : Number(v),
  );

export interface ServerHealthRow {
  name: string;
  rollup: RepoHealthStatus | null;
  /** Seconds since the rollup was computed; null when it never was. */
  rollupAgeSeconds: number | null;
}

export async function readServerHealth(db: Database): Promise<ServerHealthRow[]> {
  return db
    .select({
      name: pulp_servers.name,
      rollup: pulp_servers.repo_sync_health_rollup,
      rollupAgeSeconds: ageSeconds(pulp_servers.repo_sync_health_rollup_date),
    })
    .from(pulp_servers)
    .orderBy(pulp_servers.name);
}

export interface RepoHealthRow {
  server: string;
  repo: string;
  health: RepoHealthStatus | null;
  hasRemote: boolean;
  healthAgeSeconds: number | null;
}

export async function readRepoHealth(db: Database): Promise<RepoHealthRow[]> {
  return db
    .select({
      server: pulp_servers.name,
      repo: repos.name,
      health: pulp_server_repos.repo_sync_health,
      hasRemote: sql<boolean>`${pulp_server_repos.remote_href} IS NOT NULL`.mapWith((v) => Number(v) === 1),
      healthAgeSeconds: ageSeconds(pulp_server_repos.repo_sync_health_date),
    })
    .from(pulp_server_repos)
    .innerJoin(pulp_servers, eq(pulp_servers.id, pulp_server_repos.pulp_server_id))
    .innerJoin(repos, eq(repos.id, pulp_server_repos.repo_id))
    .orderBy(pulp_servers.name, repos.name);
}

export const liveTaskStates = taskStates.filter(
  (s): s is Exclude<TaskState, (typeof finalTaskStates)[number]> =>
    !(finalTaskStates as readonly string[]).includes(s),
);

export interface TaskStateCount {
  server: string;
  state: TaskState;
  count: number;
}

/**
 * Tasks per server and state. Live states (queued, running) count every such task whatever
 * its age, so a task stuck for days stays visible; final states count the tasks created in the
 * last `finalWindowHours`, as the original did (it counted tasks created in the last day).
 * Two grouped queries, each served by an index (state; date_queued).
 */
export async function readTaskStateCounts(db: Database, finalWindowHours: number): Promise<TaskStateCount[]> {
  const grouped = (where: SQL | undefined) =>
    db
      .select({ server: pulp_servers.name, state: tasks.state, count: sql<number>`COUNT(*)`.mapWith(Number) })
      .from(tasks)
      .innerJoin(pulp_servers, eq(pulp_servers.id, tasks.pulp_server_id))
      .where(where)
      .groupBy(pulp_servers.name, tasks.state);
  const [live, final] = await Promise.all([
    grouped(inArray(tasks.state, [...liveTaskStates])),
    grouped(
      and(
        inArray(tasks.state, [...finalTaskStates]),
        gte(tasks.date_queued, sql`UTC_TIMESTAMP(3) - INTERVAL ${finalWindowHours} HOUR`),
      ),
    ),
  ]);
  return [...live, ...final];
}

export interface FinishedTaskRow {
  id: number;
  server: string;
  taskType: TaskType;
  state: TaskState;
  hasParent: boolean;
  dateStarted: Date;
  dateFinished: Date;
}

/** Tasks of the given types that finished at or after `since` and have a start date. */
export async function readTasksFinishedSince(
  db: Database,
  taskTypes: readonly TaskType[],
  since: Date,
): Promise<FinishedTaskRow[]> {
  const rows = await db
    .select({
      id: tasks.id,
      server: pulp_servers.name,
      taskType: tasks.task_type,
      state: tasks.state,
      parentTaskId: tasks.parent_task_id,
      dateStarted: tasks.date_started,
      dateFinished: tasks.date_finished,
    })
    .from(tasks)
    .innerJoin(pulp_servers, eq(pulp_servers.id, tasks.pulp_server_id))
    .where(
      and(
        gte(tasks.date_finished, since),
        inArray(tasks.task_type, [...taskTypes]),
        inArray(tasks.state, [...finalTaskStates]),
        isNotNull(tasks.date_started),
      ),
    );
  return rows.flatMap((r) =>
    r.dateStarted && r.dateFinished
      ? [
          {
            id: r.id,
            server: r.server,
            taskType: r.taskType,
            state: r.state,
            hasParent: r.parentTaskId !== null,
            dateStarted: r.dateStarted,
            dateFinished: r.dateFinished,
          },
        ]
      : [],
  );
}

export async function pingDatabase(db: Database): Promise<void> {
  await db.execute(sql`SELECT 1`);
}

/**
 * A fingerprint of what the exporter shows, cheap to read every second or two: it changes when
 * a task is created, starts or finishes, when a repo's or a server's health is recomputed, and
 * when server repos or servers come and go. Every part is an index edge (MAX on an indexed
 * column, a loose index scan per server, a count over the small live-state range) or a count
 * of the small tables, so its cost does not grow with the task history.
 */
export const changeMarkerQuery = sql`
    SELECT
      (SELECT MAX(${tasks.id}) FROM ${tasks}) AS task_id,
      (SELECT MAX(${tasks.date_started}) FROM ${tasks}) AS task_started,
      (SELECT MAX(${tasks.date_finished}) FROM ${tasks}) AS task_finished,
      (SELECT COUNT(*) FROM ${tasks} WHERE ${inArray(tasks.state, [...liveTaskStates])}) AS live_tasks,
      (SELECT MAX(d) FROM (
        SELECT MAX(${pulp_server_repos.repo_sync_health_date}) AS d FROM ${pulp_server_repos}
        GROUP BY ${pulp_server_repos.pulp_server_id}) AS per_server) AS repo_health,
      (SELECT COUNT(*) FROM ${pulp_server_repos}) AS server_repos,
      (SELECT MAX(${pulp_server_repos.id}) FROM ${pulp_server_repos}) AS server_repo_id,
      (SELECT MAX(${pulp_servers.repo_sync_health_rollup_date}) FROM ${pulp_servers}) AS rollup,
      (SELECT COUNT(*) FROM ${pulp_servers}) AS servers
  `;

export async function readChangeMarker(db: Database): Promise<string> {
  const [rows] = (await db.execute(changeMarkerQuery)) as unknown as [Record<string, unknown>[]];
  const row = rows[0] ?? {};
  return JSON.stringify(Object.values(row).map((v) => (v instanceof Date ? v.toISOString() : String(v))));
}
