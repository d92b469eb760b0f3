import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RepoHealthStatus, TaskState } from '../../db/enums.js';
import { changeMarkerQuery, readChangeMarker } from '../../metrics/fleetQueries.js';
import { createMetricsRegistry } from '../../metrics/registry.js';
import { useMigratedDatabase } from '../db/throwawayDatabase.js';
import {
  insertServer,
  insertServerRepos,
  insertTasks,
  type RepoSeed,
  type TaskSeed,
} from '../support/seedFleet.js';
import { stack } from '../support/stack.js';
import { exporterConfig, promtoolCheckMetrics, samples } from './support.js';

// A fleet of the size the original ran (thousands of repos per server, a week of tasks): the
// scrape stays a fixed handful of SQL statements, whatever the row counts.
const SERVERS = 3;
const REPOS_PER_SERVER = 4000;
const TASKS = 60_000;

const scratch = useMigratedDatabase();
let runningTasks = 0;
const serverIds: number[] = [];

beforeAll(async () => {
  const health: (RepoHealthStatus | null)[] = ['green', 'green', 'green', 'amber', 'red', null];
  for (let s = 0; s < SERVERS; s++) {
    const id = await insertServer(scratch.db, `pulp${s}.example.com`, 'amber', 300);
    serverIds.push(id);
    const repos: RepoSeed[] = Array.from({ length: REPOS_PER_SERVER }, (_, i) => ({
      name: `ext-repo-${String(i).padStart(5, '0')}`,
      health: health[i % health.length] ?? null,
      healthAgeSeconds: i % 7 === 0 ? null : 60 * (i % 1440),
      hasRemote: i % 10 !== 0,
    }));
    await insertServerRepos(scratch.db, id, repos);
  }
  const states: TaskState[] = [
    'completed',
    'completed',
    'completed',
    'failed',
    'canceled',
    'skipped',
    'running',
  ];
  const tasks: TaskSeed[] = Array.from({ length: TASKS }, (_, i) => {
    const state = states[i % states.length] as TaskState;
    return {
      serverId: serverIds[i % SERVERS] as number,
      type: 'repo_sync',
      state,
      // Spread over a week, like the original's retention of task history.
      queuedAgo: 60 + ((i * 37) % (7 * 24 * 3600)),
      durationSeconds: state === 'running' ? undefined : 30 + (i % 900),
    };
  });
  runningTasks = tasks.filter((t) => t.state === 'running').length;
  await insertTasks(scratch.db, tasks);
}, 300_000);

describe(`scrape of ${SERVERS} servers x ${REPOS_PER_SERVER} repos and ${TASKS} tasks (Pulp status stubbed)`, () => {
  it('takes a fixed number of SQL statements and stays well under a scrape timeout', async () => {
    const statements: string[] = [];
    const pool = scratch.db.$client;
    const original = pool.query.bind(pool);
    // Count what reaches the driver: drizzle sends every statement through pool.query.
    pool.query = ((...args: Parameters<typeof pool.query>) => {
      const q = args[0] as unknown as { sql?: string } | string;
      statements.push(typeof q === 'string' ? q : (q.sql ?? '?'));
      return original(...args);
    }) as typeof pool.query;
    try {
      const metrics = createMetricsRegistry(
        {
          db: scratch.db,
          config: exporterConfig(scratch.settings, stack.temporal.address),
          // The status probe is not what this measures: answer at once.
          pulpStatus: async (server) => ({
            server,
            reachable: true,
            databaseConnected: true,
            redisConnected: true,
          }),
        },
        { defaultMetrics: false },
      );
      const times: number[] = [];
      let text = '';
      for (let i = 0; i < 5; i++) {
        statements.length = 0;
        const t0 = performance.now();
        text = await metrics.render();
        times.push(performance.now() - t0);
        expect(statements.length, statements.join('\n')).toBe(5);
      }
      const sorted = [...times].sort((a, b) => a - b);
      const median = sorted[2] as number;
      console.log(
        `[metrics] scrape of ${SERVERS * REPOS_PER_SERVER} server repos and ${TASKS} tasks: ` +
          `median ${median.toFixed(0)} ms, max ${(sorted[4] as number).toFixed(0)} ms, ` +
          `${(text.length / 1024).toFixed(0)} KiB, ${statements.length} SQL statements`,
      );
      expect(samples(text, 'pulp_manager_pulp_server_repo_sync_health').size).toBe(
        SERVERS * REPOS_PER_SERVER,
      );
      expect(samples(text, 'pulp_manager_pulp_server_repo_sync_health_last_run_seconds').size).toBe(
        SERVERS * REPOS_PER_SERVER,
      );
      const running = samples(text, 'pulp_manager_pulp_server_tasks_in_running_state');
      expect([...running.values()].reduce((a, b) => a + b, 0)).toBe(runningTasks);
      // Prometheus' default scrape timeout is 10 s; a 2-core machine shared with other tests.
      expect(median).toBeLessThan(3000);
      expect((await promtoolCheckMetrics(text)).code).toBe(0);
    } finally {
      pool.query = original;
    }
  });

  it('the change probe the refresher runs every second or two is one statement that scans no table', async () => {
    const [plan] = (await scratch.db.execute(sql`EXPLAIN ${changeMarkerQuery}`)) as unknown as [
      { table: string | null; type: string | null; rows: number | null; Extra: string | null }[],
    ];
    for (const step of plan) {
      const where = JSON.stringify(step);
      // Nothing reads the task history: every tasks step is an index edge or the live-state range.
      if (step.table === 'tasks') expect(['ALL', 'index'], where).not.toContain(step.type);
      // The server repos (one row per repo and server) are counted from an index, not the rows;
      // pulp_servers (a handful of rows) may be read whole.
      if (step.table === 'pulp_server_repos') expect(step.type, where).not.toBe('ALL');
    }
    console.log(
      `[metrics] change probe plan: ${plan.map((s) => `${s.table ?? '-'}:${s.type ?? '-'}:${s.Extra ?? ''}`).join(' | ')}`,
    );
    const t0 = performance.now();
    const marker = await readChangeMarker(scratch.db);
    const ms = performance.now() - t0;
    console.log(`[metrics] change probe on ${TASKS} tasks: ${ms.toFixed(1)} ms`);
    expect(await readChangeMarker(scratch.db)).toBe(marker);
    await insertTasks(scratch.db, [
      { serverId: serverIds[0] as number, type: 'repo_sync', state: 'queued', queuedAgo: 1 },
    ]);
    expect(await readChangeMarker(scratch.db)).not.toBe(marker);
  });
});
