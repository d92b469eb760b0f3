// The fleet both benchmarks measure (10,000 repos on each of 5 servers; a week of 100,000 tasks
// or a year of 1,000,000), seeded into an empty, migrated database. The task history is laid out the way the workflows
// write it: group syncs every two hours per server and group with their repo syncs as children,
// daily snapshot runs, hourly registrations from git, a few removals; stages and server repo
// links as repoSync / repoGroupSync record them. Values come from a seeded PRNG, so every run
// seeds the same rows (dates are relative to now). The rows are planned here and streamed to
// MariaDB with LOAD DATA LOCAL INFILE (no file on disk): a year of tasks seeds in about a minute
// where multi-row INSERTs took several.
import { Readable } from 'node:stream';
import { count } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { type RepoHealthStatus, type TaskState, type TaskType, taskStates } from '../../db/enums.js';
import { type NewTaskStage, pulp_server_repo_groups, repo_groups, tasks } from '../../db/schema.js';
import {
  insertServer,
  insertServerRepos,
  type RepoSeed,
  type SeededServerRepo,
  type TaskSeed,
  taskRow,
} from '../../test/support/seedFleet.js';

export interface FleetSize {
  servers: number;
  reposPerServer: number;
  tasks: number;
  /** Days of task history the tasks are spread over (group syncs every two hours throughout). */
  historyDays: number;
}

/** A week of a 5 × 10,000 fleet's tasks. */
export const LARGE_FLEET: FleetSize = { servers: 5, reposPerServer: 10_000, tasks: 100_000, historyDays: 7 };
/** A year of the same fleet's tasks: ten times the week's rows, the size issue 15 names. */
export const YEAR_FLEET: FleetSize = {
  servers: 5,
  reposPerServer: 10_000,
  tasks: 1_000_000,
  historyDays: 365,
};

export interface SeededFleet {
  size: FleetSize;
  servers: { id: number; name: string; repos: SeededServerRepo[] }[];
  tasksByState: Record<TaskState, number>;
  stages: number;
  serverRepoTaskLinks: number;
  /** A repo of the first server that every group sync of its group syncs: the longest task history. */
  hotRepo: { serverId: number; repoId: number; tasks: number };
  /** The newest finished group sync: a task with several stages. */
  groupSyncTaskId: number;
  seedSeconds: number;
}

const HOUR = 3600;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const GROUP_SYNC_EVERY = 2 * HOUR;
/** Repos at the start of each group's range that every run of the group syncs. */
const HOT_REPOS = 20;
/** Group syncs run this many repo syncs at once (max_concurrent_syncs). */
const LANES = 10;

type StageSeed = Omit<NewTaskStage, 'task_id'>;

interface PlannedTask {
  seed: TaskSeed;
  parent?: PlannedTask;
  serverRepoId?: number;
  stages: StageSeed[];
  id?: number;
}

/** mulberry32: small, fast, and the same sequence for the same seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function weighted<T>(rand: () => number, choices: readonly (readonly [T, number])[]): T {
  const total = choices.reduce((sum, [, w]) => sum + w, 0);
  let r = rand() * total;
  for (const [value, w] of choices) {
    r -= w;
    if (r < 0) return value;
  }
  return (choices[choices.length - 1] as readonly [T, number])[0];
}

const repoTypes = [
  ['rpm', 60],
  ['deb', 25],
  ['file', 10],
  ['container', 5],
] as const;
const distros = ['centos-9', 'rocky-8', 'debian-12', 'ubuntu-2204', 'epel-9', 'tools'] as const;

function repoSeeds(rand: () => number, size: FleetSize): RepoSeed[] {
  return Array.from({ length: size.reposPerServer }, (_, i) => {
    const internal = i >= size.reposPerServer * 0.7;
    return {
      name: `${internal ? 'int' : 'ext'}-${distros[i % distros.length]}-${String(i).padStart(5, '0')}`,
      repoType: weighted(rand, repoTypes),
      health: weighted<RepoHealthStatus | null>(rand, [
        ['green', 70],
        ['amber', 12],
        ['red', 8],
        [null, 10],
      ]),
      healthAgeSeconds: rand() < 0.05 ? null : Math.floor(rand() < 0.9 ? rand() * 2 * HOUR : rand() * WEEK),
      hasRemote: !internal || rand() < 0.2,
    };
  });
}

const childStates = [
  ['completed', 82],
  ['skipped', 8],
  ['failed', 6],
  ['canceled', 3],
  ['failed_to_start', 1],
] as const;

const syncError = (repo: string) =>
  `Pulp task failed: Cannot download https://example.com/${repo}/repodata/repomd.xml: 404 Not Found`;

function repoSyncStages(rand: () => number, state: TaskState, repo: string): StageSeed[] {
  const stage = (position: number, name: string, detail: Record<string, unknown>, error?: string) => ({
    position,
    name,
    detail,
    error: error === undefined ? null : { msg: error },
  });
  const pulpTask = `/pulp/api/v3/tasks/${Math.floor(rand() * 1e12).toString(16)}/`;
  switch (state) {
    case 'queued':
    case 'skipped':
    case 'failed_to_start':
      return [];
    case 'running':
    case 'canceled':
      return [stage(0, 'sync repo', { state, pulp_task: pulpTask })];
    case 'failed':
      return [stage(0, 'sync repo', { state: 'failed', pulp_task: pulpTask }, syncError(repo))];
    case 'completed':
      if (rand() < 0.6) return [stage(0, 'sync repo', { state: 'completed', pulp_task: pulpTask })];
      return [
        stage(0, 'sync repo', { state: 'completed', pulp_task: pulpTask, new_version: `${pulpTask}v/` }),
        stage(1, 'remove banned packages', { state: 'completed', removed: Math.floor(rand() * 3) }),
        stage(2, 'publish repo', { state: 'completed', publication: `${pulpTask}p/` }),
      ];
  }
}

interface ServerPlan {
  id: number;
  name: string;
  repos: SeededServerRepo[];
}

function task(
  type: TaskType,
  state: TaskState,
  name: string,
  server: ServerPlan,
  queuedAgo: number,
  extra: Partial<TaskSeed> = {},
): TaskSeed {
  return {
    serverId: server.id,
    type,
    state,
    name,
    queuedAgo,
    workerName: `worker-${queuedAgo % 3}`,
    ...extra,
  };
}

/** Every task of the history in the order the workflows would have created them (oldest first). */
function planTasks(rand: () => number, size: FleetSize, servers: ServerPlan[]): PlannedTask[] {
  const SPAN = size.historyDays * DAY;
  const planned: PlannedTask[] = [];
  const groups = servers.flatMap((server, s) => {
    const split = Math.floor(size.reposPerServer * 0.7);
    return [
      { server, label: 'external', repos: server.repos.slice(0, split), offset: s * 600 },
      { server, label: 'internal', repos: server.repos.slice(split), offset: s * 600 + 1800 },
    ];
  });
  const runs = groups.flatMap((g) => {
    const starts: number[] = [];
    for (let ago = SPAN - g.offset; ago >= 900; ago -= GROUP_SYNC_EVERY) starts.push(ago);
    return starts.map((ago, k) => ({ ...g, ago, latest: k === starts.length - 1 }));
  });

  for (const [s, server] of servers.entries()) {
    for (let day = 0; day < size.historyDays; day++) {
      const ago = SPAN - day * DAY - 3 * HOUR - s * 60;
      const parent: PlannedTask = {
        seed: task(
          'repo_snapshot',
          'completed',
          `snapshot repos snap-d${day} on ${server.name}`,
          server,
          ago,
          {
            durationSeconds: 900,
          },
        ),
        stages: [],
      };
      planned.push(parent);
      for (let j = 0; j < 40; j++) {
        const repo = server.repos[(day * 40 + j) % server.repos.length] as SeededServerRepo;
        planned.push({
          seed: task(
            'repo_snapshot',
            'completed',
            `snapshot ${repo.name} as snap-d${day}-${repo.name}`,
            server,
            ago - 1 - j,
            {
              durationSeconds: 10 + Math.floor(rand() * 60),
            },
          ),
          parent,
          serverRepoId: repo.serverRepoId,
          stages: [],
        });
      }
    }
    for (let ago = SPAN - s * 120; ago > 600; ago -= HOUR) {
      planned.push({
        seed: task(
          'repo_creation_from_git',
          rand() < 0.97 ? 'completed' : 'failed',
          `repo registration on ${server.name}`,
          server,
          ago,
          {
            durationSeconds: 20 + Math.floor(rand() * 100),
          },
        ),
        stages: [],
      });
    }
    for (let ago = SPAN - 5000 - s * 7; ago > 3600; ago -= 8 * HOUR) {
      planned.push({
        seed: task('repo_removal', 'completed', `repo removal on ${server.name}`, server, ago, {
          durationSeconds: 40,
        }),
        stages: [],
      });
      planned.push({
        seed: task(
          'remove_repo_content',
          'completed',
          `remove repo content on ${server.name}`,
          server,
          ago - 1200,
          {
            durationSeconds: 60,
          },
        ),
        stages: [],
      });
    }
  }

  const repoSyncs = size.tasks - planned.length - runs.length;
  if (repoSyncs < runs.length) {
    throw new Error(
      `seedLargeFleet: ${size.tasks} tasks are too few for ${runs.length} group syncs and the other tasks`,
    );
  }
  const cursors = new Map<string, number>();
  for (const [r, run] of runs.entries()) {
    const children = Math.floor(repoSyncs / runs.length) + (r < repoSyncs % runs.length ? 1 : 0);
    const key = `${run.server.id}/${run.label}`;
    // A sixth of each run's repos are synced by every run (~20 of a week's ~115 children a run;
    // ~3 of a year's ~19), the rest take turns, so a year spreads over every repo as a week does.
    const hot = Math.min(HOT_REPOS, run.repos.length, Math.max(1, Math.floor(children / 6)));
    let cursor = cursors.get(key) ?? hot;
    const syncs: PlannedTask[] = [];
    for (let j = 0; j < children; j++) {
      let repo: SeededServerRepo;
      if (j < hot) repo = run.repos[j] as SeededServerRepo;
      else {
        repo = run.repos[cursor] as SeededServerRepo;
        cursor = cursor + 1 < run.repos.length ? cursor + 1 : hot;
      }
      const queuedAgo = run.ago - 1 - Math.floor(j / LANES) * 30;
      const state: TaskState = run.latest
        ? j < children * 0.6
          ? 'completed'
          : j < children * 0.6 + LANES
            ? 'running'
            : 'queued'
        : weighted(rand, childStates);
      const final = state !== 'running' && state !== 'queued';
      syncs.push({
        seed: task(
          'repo_sync',
          state,
          `repo sync ${repo.name} on ${run.server.name}`,
          run.server,
          queuedAgo,
          {
            durationSeconds: final ? 3 + Math.floor(rand() ** 3 * 1800) : undefined,
            workflowId: `repo-sync/${run.server.name}/${repo.name}`,
            error: state === 'failed' ? syncError(repo.name) : undefined,
            args: { server: run.server.name, repo: repo.name, sync_options: {}, deb_publish_mode: 'resign' },
          },
        ),
        serverRepoId: repo.serverRepoId,
        stages: repoSyncStages(rand, state, repo.name),
      });
    }
    cursors.set(key, cursor);
    const groupState: TaskState = run.latest
      ? 'running'
      : weighted(rand, [
          ['completed', 80],
          ['failed', 15],
          ['canceled', 5],
        ] as const);
    const lastFinish = Math.max(
      ...syncs.map((c) => run.ago - c.seed.queuedAgo + (c.seed.durationSeconds ?? 0)),
    );
    const parent: PlannedTask = {
      seed: task(
        'repo_group_sync',
        groupState,
        `repo group sync ${run.label} on ${run.server.name}`,
        run.server,
        run.ago,
        {
          durationSeconds: run.latest ? undefined : lastFinish + 5,
          workflowId: `repo-group-sync/${run.server.name}/${run.label}`,
          error: groupState === 'failed' ? `${Math.ceil(children * 0.06)} repo syncs failed` : undefined,
          args: { server: run.server.name, group: run.label },
        },
      ),
      stages: [
        { position: 1, name: 'reconcile repos', detail: { state: 'completed', repos: run.repos.length } },
        {
          position: 2,
          name: 'sync repos',
          detail: {
            msg: `${run.latest ? LANES : 0} syncs in progress. ${children}/${children} syncs completed`,
          },
        },
        ...(run.latest ? [] : [{ position: 3, name: 'update repo health', detail: { state: 'completed' } }]),
      ],
    };
    planned.push(parent);
    for (const child of syncs) {
      child.parent = parent;
      planned.push(child);
    }
  }
  // A few tasks stuck for days: the exporter counts live states whatever their age.
  const stuck = planned
    .filter((p) => p.seed.type === 'repo_sync' && p.seed.state === 'completed')
    .slice(0, 3);
  for (const p of stuck) {
    p.seed.state = 'running';
    p.seed.durationSeconds = undefined;
  }
  // Parents are queued before their children, so creation order keeps parents first.
  return planned.sort((a, b) => b.seed.queuedAgo - a.seed.queuedAgo);
}

/** The two groups planTasks syncs; the first server is the primary of the others' external group. */
async function linkRepoGroups(db: Database, servers: ServerPlan[]): Promise<void> {
  const [external] = await db.insert(repo_groups).values({ name: 'external', regex_include: '^ext-' });
  const [internal] = await db.insert(repo_groups).values({ name: 'internal', regex_include: '^int-' });
  const primary = servers[0]?.id;
  await db.insert(pulp_server_repo_groups).values(
    servers.flatMap((server) => [
      {
        pulp_server_id: server.id,
        repo_group_id: external.insertId,
        schedule: '0 */2 * * *',
        max_concurrent_syncs: LANES,
        max_runtime: '6h',
        pulp_master_id: server.id === primary ? null : primary,
      },
      {
        pulp_server_id: server.id,
        repo_group_id: internal.insertId,
        schedule: '30 */2 * * *',
        max_concurrent_syncs: LANES,
        max_runtime: '6h',
      },
    ]),
  );
}

// LOAD DATA's default text format: tab-separated, backslash escapes, \N for NULL.
const NULL = '\\N';
function field(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return NULL;
  if (typeof value === 'number') return String(value);
  return value.replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  );
}
const datetime = (d: Date | null | undefined) => (d ? d.toISOString().slice(0, 23).replace('T', ' ') : null);
const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));

/**
 * Streams `rows` into `table` with LOAD DATA LOCAL INFILE on one connection, with the key checks
 * off (the rows are consistent by construction); refuses any warning (a truncated or mangled
 * value) and any row count other than the rows sent.
 */
async function loadRows<T>(
  db: Database,
  table: string,
  columns: readonly string[],
  rows: readonly T[],
  line: (row: T) => (string | number | null | undefined)[],
): Promise<void> {
  function* chunks(): Generator<Buffer> {
    for (let i = 0; i < rows.length; i += 2000) {
      let text = '';
      for (const row of rows.slice(i, i + 2000)) text += `${line(row).map(field).join('\t')}\n`;
      yield Buffer.from(text);
    }
  }
  const conn = await db.$client.getConnection();
  try {
    await conn.query('SET SESSION foreign_key_checks = 0, unique_checks = 0');
    const [res] = await conn.query({
      sql: `LOAD DATA LOCAL INFILE '${table}.tsv' INTO TABLE \`${table}\` CHARACTER SET utf8mb4 (${columns
        .map((c) => `\`${c}\``)
        .join(', ')})`,
      infileStreamFactory: () => Readable.from(chunks()),
    });
    const { affectedRows, warningStatus } = res as { affectedRows: number; warningStatus: number };
    if (warningStatus > 0) {
      const [warnings] = await conn.query('SHOW WARNINGS LIMIT 3');
      throw new Error(
        `seedLargeFleet: loading ${table} gave ${warningStatus} warnings: ${JSON.stringify(warnings)}`,
      );
    }
    if (affectedRows !== rows.length) {
      throw new Error(`seedLargeFleet: loaded ${affectedRows} rows into ${table}, sent ${rows.length}`);
    }
  } finally {
    await conn.query('SET SESSION foreign_key_checks = 1, unique_checks = 1');
    conn.release();
  }
}

const taskColumns = [
  'id',
  'name',
  'task_type',
  'state',
  'parent_task_id',
  'pulp_server_id',
  'task_args',
  'date_queued',
  'date_started',
  'date_finished',
  'worker_name',
  'workflow_id',
  'error',
  'date_created',
  'date_last_updated',
] as const;

function taskLine(p: PlannedTask): (string | number | null)[] {
  const row = taskRow(p.seed);
  const updated = row.date_finished ?? row.date_started ?? row.date_queued;
  return [
    p.id as number,
    row.name,
    row.task_type,
    row.state ?? null,
    row.parent_task_id ?? null,
    row.pulp_server_id ?? null,
    json(row.task_args),
    datetime(row.date_queued),
    datetime(row.date_started),
    datetime(row.date_finished),
    row.worker_name ?? null,
    row.workflow_id ?? null,
    json(row.error),
    datetime(row.date_queued),
    datetime(updated),
  ];
}

/** Seeds `size` (default LARGE_FLEET) into an empty, migrated database. */
export async function seedLargeFleet(db: Database, size: FleetSize = LARGE_FLEET): Promise<SeededFleet> {
  const t0 = performance.now();
  const [existing] = await db.select({ n: count() }).from(tasks);
  if (existing === undefined || existing.n > 0) {
    throw new Error('seedLargeFleet needs an empty database: tasks has rows');
  }
  const rand = prng(20240501);
  const rollups: (RepoHealthStatus | null)[] = ['green', 'amber', 'red', 'green', null];
  const servers: ServerPlan[] = [];
  for (let s = 0; s < size.servers; s++) {
    const name = `pulp${s + 1}.example.com`;
    const rollup = rollups[s % rollups.length] ?? null;
    const id = await insertServer(db, name, rollup, rollup === null ? null : 300 + s * 60);
    servers.push({ id, name, repos: await insertServerRepos(db, id, repoSeeds(rand, size)) });
  }

  await linkRepoGroups(db, servers);

  const planned = planTasks(rand, size, servers);
  // Ids follow creation order (parents before their children), as AUTO_INCREMENT gives them.
  planned.forEach((p, i) => {
    p.id = i + 1;
  });
  for (const p of planned) if (p.parent) p.seed.parentTaskId = p.parent.id;
  await loadRows(db, 'tasks', taskColumns, planned, taskLine);
  const stages = planned.flatMap((p) => p.stages.map((st) => ({ ...st, task_id: p.id as number })));
  await loadRows(db, 'task_stages', ['task_id', 'position', 'name', 'detail', 'error'], stages, (st) => [
    st.task_id,
    st.position,
    st.name,
    json(st.detail),
    json(st.error),
  ]);
  const links = planned.flatMap((p) =>
    p.serverRepoId === undefined
      ? []
      : [{ serverRepoId: p.serverRepoId, taskId: p.id as number, queued: taskRow(p.seed).date_queued }],
  );
  await loadRows(
    db,
    'pulp_server_repo_tasks',
    ['pulp_server_repo_id', 'task_id', 'task_date_queued'],
    links,
    (l) => [l.serverRepoId, l.taskId, datetime(l.queued)],
  );
  // Statistics as a table that grew over a year would have them, not those of an empty one.
  await db.$client.query('ANALYZE TABLE tasks, task_stages, pulp_server_repo_tasks, pulp_server_repos');

  const tasksByState = Object.fromEntries(taskStates.map((s) => [s, 0])) as Record<TaskState, number>;
  for (const p of planned) tasksByState[p.seed.state]++;
  const first = servers[0] as ServerPlan;
  const hot = first.repos[0] as SeededServerRepo;
  const groupSync = planned.findLast((p) => p.seed.type === 'repo_group_sync' && p.seed.state !== 'running');
  if (groupSync?.id === undefined) throw new Error('seedLargeFleet: planned no finished group sync');
  return {
    size,
    servers,
    tasksByState,
    stages: stages.length,
    serverRepoTaskLinks: links.length,
    hotRepo: {
      serverId: first.id,
      repoId: hot.repoId,
      tasks: links.filter((l) => l.serverRepoId === hot.serverRepoId).length,
    },
    groupSyncTaskId: groupSync.id,
    seedSeconds: (performance.now() - t0) / 1000,
  };
}
