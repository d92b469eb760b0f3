import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { eq } from 'drizzle-orm';
import { Histogram, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppConfig } from '../../config/loadAppConfig.js';
import { closeDatabase, createDatabase } from '../../db/client.js';
import { taskStates } from '../../db/enums.js';
import { pulp_servers } from '../../db/schema.js';
import { createExporterApp, runExporter } from '../../metrics/exporter.js';
import { createMetricsRegistry, type MetricsDeps, type MetricsOptions } from '../../metrics/registry.js';
import { TaskDurationTracker } from '../../metrics/taskDurations.js';
import { MANAGED_BY_MEMO } from '../../temporal/names.js';
import { useMigratedDatabase } from '../db/throwawayDatabase.js';
import { eventually } from '../support/eventually.js';
import { insertServer, insertServerRepos, insertTasks, type TaskSeed } from '../support/seedFleet.js';
import { stack } from '../support/stack.js';
import { blackHole, closedPort, exporterConfig, promtoolCheckMetrics, samples } from './support.js';

// The exporter against a real MariaDB (a throwaway database seeded here), the dev stack's two
// real Pulp servers, a closed port and a black hole for dead ones, and the dev Temporal server.

const primary = stack.pulp.primary.name;
const secondary = stack.pulp.secondary.name;
const HOUR = 3600;

const scratch = useMigratedDatabase();
let config: AppConfig;
let dead: string;
const ids: Record<string, number> = {};

async function scrape(deps: Partial<MetricsDeps> = {}, options: MetricsOptions = {}) {
  const metrics = createMetricsRegistry(
    { db: scratch.db, config, ...deps },
    { pulpStatusTimeoutMs: 5000, ...options },
  );
  return metrics.render();
}

const lines = (text: string) => text.split('\n');

beforeAll(async () => {
  config = exporterConfig(scratch.settings, stack.temporal.address);
  dead = `127.0.0.1:${await closedPort()}`;
  ids.primary = await insertServer(scratch.db, primary, 'green', 2 * HOUR);
  ids.secondary = await insertServer(scratch.db, secondary, 'red', HOUR / 2);
  ids.dead = await insertServer(scratch.db, dead, null, null);
  await insertServerRepos(scratch.db, ids.primary, [
    { name: 'ext-alpha', health: 'green', healthAgeSeconds: HOUR, hasRemote: true },
    { name: 'int-beta', health: 'amber', healthAgeSeconds: 600, hasRemote: true },
    { name: 'snap-2024-ext-alpha', health: null, healthAgeSeconds: null, hasRemote: false },
  ]);
  await insertServerRepos(scratch.db, ids.secondary, [
    { name: 'ext-alpha', health: 'red', healthAgeSeconds: 100, hasRemote: true },
  ]);
  const p = ids.primary;
  const s = ids.secondary;
  const seeds: TaskSeed[] = [
    // Live states count whatever their age: the 3-day-old running task is still running.
    { serverId: p, type: 'repo_group_sync', state: 'running', queuedAgo: 3 * 24 * HOUR },
    { serverId: p, type: 'repo_sync', state: 'running', queuedAgo: 60 },
    { serverId: p, type: 'repo_sync', state: 'queued', queuedAgo: 30 },
    // Final states count within 24 hours of creation.
    ...Array.from({ length: 3 }, () => ({
      serverId: p,
      type: 'repo_sync' as const,
      state: 'completed' as const,
      queuedAgo: 5 * HOUR,
      durationSeconds: 120,
    })),
    ...Array.from({ length: 5 }, () => ({
      serverId: p,
      type: 'repo_sync' as const,
      state: 'completed' as const,
      queuedAgo: 48 * HOUR,
      durationSeconds: 120,
    })),
    { serverId: p, type: 'repo_sync', state: 'failed', queuedAgo: HOUR, durationSeconds: 10 },
    { serverId: p, type: 'repo_removal', state: 'canceled', queuedAgo: HOUR, durationSeconds: 10 },
    { serverId: p, type: 'repo_snapshot', state: 'failed_to_start', queuedAgo: HOUR },
    { serverId: p, type: 'repo_sync', state: 'skipped', queuedAgo: HOUR },
    { serverId: s, type: 'repo_sync', state: 'failed', queuedAgo: 2 * HOUR, durationSeconds: 5 },
    { serverId: s, type: 'repo_sync', state: 'failed', queuedAgo: 3 * HOUR, durationSeconds: 5 },
    // A task whose server was deleted is nobody's.
    { serverId: null, type: 'repo_sync', state: 'running', queuedAgo: 60 },
  ];
  await insertTasks(scratch.db, seeds);
});

describe('metrics from the database', () => {
  it("exposes the original exporter's metric names and labels with the database's values", async () => {
    const text = await scrape();
    const l = lines(text);
    for (const line of [
      `pulp_manager_pulp_server_repo_sync_health_rollup{pulp_server_name="${primary}",repo_sync_health_rollup="green"} 1`,
      `pulp_manager_pulp_server_repo_sync_health_rollup{pulp_server_name="${secondary}",repo_sync_health_rollup="red"} 1`,
      `pulp_manager_pulp_server_repo_sync_health_rollup{pulp_server_name="${dead}",repo_sync_health_rollup="None"} 1`,
      `pulp_manager_pulp_server_repo_sync_health_rollup_last_run_seconds{pulp_server_name="${dead}"} -1`,
      `pulp_manager_pulp_server_repo_sync_health{pulp_server_name="${primary}",repo_name="ext-alpha",repo_sync_health="green",has_remote="1"} 1`,
      `pulp_manager_pulp_server_repo_sync_health{pulp_server_name="${primary}",repo_name="int-beta",repo_sync_health="amber",has_remote="1"} 1`,
      `pulp_manager_pulp_server_repo_sync_health{pulp_server_name="${primary}",repo_name="snap-2024-ext-alpha",repo_sync_health="None",has_remote="0"} 1`,
      `pulp_manager_pulp_server_repo_sync_health{pulp_server_name="${secondary}",repo_name="ext-alpha",repo_sync_health="red",has_remote="1"} 1`,
      `pulp_manager_pulp_server_repo_sync_health_last_run_seconds{pulp_server_name="${primary}",repo_name="snap-2024-ext-alpha"} -1`,
      `pulp_manager_pulp_server_tasks_in_queued_state{pulp_server_name="${primary}"} 1`,
      `pulp_manager_pulp_server_tasks_in_running_state{pulp_server_name="${primary}"} 2`,
      `pulp_manager_pulp_server_tasks_in_completed_state{pulp_server_name="${primary}"} 3`,
      `pulp_manager_pulp_server_tasks_in_failed_state{pulp_server_name="${primary}"} 1`,
      `pulp_manager_pulp_server_tasks_in_canceled_state{pulp_server_name="${primary}"} 1`,
      `pulp_manager_pulp_server_tasks_in_failed_to_start_state{pulp_server_name="${primary}"} 1`,
      `pulp_manager_pulp_server_tasks_in_skipped_state{pulp_server_name="${primary}"} 1`,
      `pulp_manager_pulp_server_tasks_in_failed_state{pulp_server_name="${secondary}"} 2`,
      `pulp_manager_pulp_server_tasks_in_running_state{pulp_server_name="${secondary}"} 0`,
      `pulp_manager_pulp_server_tasks_in_completed_state{pulp_server_name="${dead}"} 0`,
      'pulp_manager_exporter_database_up 1',
    ]) {
      expect(l, line).toContain(line);
    }
    // Ages in seconds, from the database clock (the seed wrote them a moment ago).
    const rollupAge = samples(text, 'pulp_manager_pulp_server_repo_sync_health_rollup_last_run_seconds');
    expect(rollupAge.get(`{pulp_server_name="${primary}"}`)).toBeGreaterThanOrEqual(2 * HOUR);
    expect(rollupAge.get(`{pulp_server_name="${primary}"}`)).toBeLessThan(2 * HOUR + 120);
    const repoAge = samples(text, 'pulp_manager_pulp_server_repo_sync_health_last_run_seconds');
    expect(repoAge.get(`{pulp_server_name="${primary}",repo_name="int-beta"}`)).toBeGreaterThanOrEqual(600);
    expect(repoAge.get(`{pulp_server_name="${primary}",repo_name="int-beta"}`)).toBeLessThan(720);
    // One gauge family per task state of db/enums, each with a sample for every server.
    for (const state of taskStates) {
      const name = `pulp_manager_pulp_server_tasks_in_${state}_state`;
      expect(l).toContain(`# TYPE ${name} gauge`);
      expect(samples(text, name).size, name).toBe(3);
    }
    expect(samples(text, 'pulp_manager_pulp_server_repo_sync_health').size).toBe(4);
  });

  it('drops the series of a repo whose health changed (a gauge per current value, not a history)', async () => {
    const { pulp_server_repos } = await import('../../db/schema.js');
    await scratch.db
      .update(pulp_server_repos)
      .set({ repo_sync_health: 'green' })
      .where(eq(pulp_server_repos.pulp_server_id, ids.secondary as number));
    try {
      const l = lines(await scrape());
      expect(l).toContain(
        `pulp_manager_pulp_server_repo_sync_health{pulp_server_name="${secondary}",repo_name="ext-alpha",repo_sync_health="green",has_remote="1"} 1`,
      );
      expect(l.join('\n')).not.toContain(
        `pulp_server_name="${secondary}",repo_name="ext-alpha",repo_sync_health="red"`,
      );
    } finally {
      await scratch.db
        .update(pulp_server_repos)
        .set({ repo_sync_health: 'red' })
        .where(eq(pulp_server_repos.pulp_server_id, ids.secondary as number));
    }
  });

  it('promtool check metrics accepts the whole exposition (process metrics included)', async () => {
    const text = await scrape({}, { defaultMetrics: true });
    expect(text).toContain('process_cpu_user_seconds_total');
    const result = await promtoolCheckMetrics(text);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});

describe('Pulp status from each server, in parallel and with a deadline', () => {
  it('reports what each live Pulp says and 0 for a closed port, without waiting for it', async () => {
    const started = performance.now();
    const text = await scrape();
    const elapsed = performance.now() - started;
    const db1 = samples(text, 'pulp_manager_pulp_server_database_connection');
    const redis = samples(text, 'pulp_manager_pulp_server_redis_connection');
    const up = samples(text, 'pulp_manager_pulp_server_status_api_up');
    for (const server of [stack.pulp.primary, stack.pulp.secondary]) {
      const res = await fetch(`${server.url}/pulp/api/v3/status/`);
      const status = (await res.json()) as {
        database_connection: { connected: boolean };
        redis_connection?: { connected: boolean };
      };
      const labels = `{pulp_server_name="${server.name}"}`;
      expect(up.get(labels)).toBe(1);
      expect(db1.get(labels)).toBe(status.database_connection.connected ? 1 : 0);
      expect(db1.get(labels)).toBe(1);
      expect(redis.get(labels)).toBe(status.redis_connection?.connected ? 1 : 0);
    }
    expect(lines(text)).toEqual(
      expect.arrayContaining([
        `pulp_manager_pulp_server_database_connection{pulp_server_name="${dead}"} 0`,
        `pulp_manager_pulp_server_redis_connection{pulp_server_name="${dead}"} 0`,
        `pulp_manager_pulp_server_status_api_up{pulp_server_name="${dead}"} 0`,
      ]),
    );
    // A refused connection fails at once: the scrape is not held up to the 5 s deadline.
    expect(elapsed).toBeLessThan(4000);
  });

  it('a Pulp that accepts connections and never answers costs one deadline, not a stalled scrape', async () => {
    const hole = await blackHole();
    const hung = `127.0.0.1:${hole.port}`;
    const hungId = await insertServer(scratch.db, hung, 'green', 60);
    try {
      const started = performance.now();
      const text = await scrape({}, { pulpStatusTimeoutMs: 1500 });
      const elapsed = performance.now() - started;
      expect(lines(text)).toContain(`pulp_manager_pulp_server_status_api_up{pulp_server_name="${hung}"} 0`);
      expect(lines(text)).toContain(
        `pulp_manager_pulp_server_database_connection{pulp_server_name="${hung}"} 0`,
      );
      // The other servers were asked at the same time, not after the hung one.
      expect(samples(text, 'pulp_manager_pulp_server_status_api_up').size).toBe(4);
      expect(elapsed).toBeGreaterThanOrEqual(1400);
      expect(elapsed).toBeLessThan(3000);
    } finally {
      await scratch.db.delete(pulp_servers).where(eq(pulp_servers.id, hungId));
      await hole.close();
    }
  });
});

describe('sync and snapshot duration histograms', () => {
  it('observe each task finished since the exporter started exactly once, however often it is scraped', async () => {
    const startedAt = Date.now();
    const metrics = createMetricsRegistry({ db: scratch.db, config }, { pulpStatusTimeoutMs: 5000 });
    const scrapeNow = () => metrics.render();
    // The seed's tasks finished before the exporter started: history is not replayed.
    let text = await scrapeNow();
    expect(samples(text, 'pulp_manager_repo_sync_duration_seconds_count').size).toBe(0);
    expect(lines(text)).toContain('# TYPE pulp_manager_repo_sync_duration_seconds histogram');

    const [groupId] = await insertTasks(scratch.db, [
      {
        serverId: ids.primary as number,
        type: 'repo_snapshot',
        state: 'completed',
        queuedAgo: 600,
        durationSeconds: 500,
        finishedAgo: 0,
      },
    ]);
    const now = new Date();
    await insertTasks(scratch.db, [
      {
        serverId: ids.primary as number,
        type: 'repo_sync',
        state: 'completed',
        queuedAgo: 60,
        durationSeconds: 42,
        finishedAt: now,
      },
      {
        serverId: ids.primary as number,
        type: 'repo_sync',
        state: 'failed',
        queuedAgo: 800,
        durationSeconds: 700,
        finishedAt: now,
      },
      {
        serverId: ids.secondary as number,
        type: 'repo_group_sync',
        state: 'completed',
        queuedAgo: 4000,
        durationSeconds: 3000,
        finishedAt: now,
      },
      {
        serverId: ids.primary as number,
        type: 'repo_snapshot',
        state: 'completed',
        queuedAgo: 100,
        durationSeconds: 90,
        finishedAt: now,
        parentTaskId: groupId,
      },
    ]);
    const expected = [
      `pulp_manager_repo_sync_duration_seconds_bucket{le="30",pulp_server_name="${primary}",state="completed"} 0`,
      `pulp_manager_repo_sync_duration_seconds_bucket{le="60",pulp_server_name="${primary}",state="completed"} 1`,
      `pulp_manager_repo_sync_duration_seconds_sum{pulp_server_name="${primary}",state="completed"} 42`,
      `pulp_manager_repo_sync_duration_seconds_count{pulp_server_name="${primary}",state="completed"} 1`,
      `pulp_manager_repo_sync_duration_seconds_bucket{le="600",pulp_server_name="${primary}",state="failed"} 0`,
      `pulp_manager_repo_sync_duration_seconds_bucket{le="1200",pulp_server_name="${primary}",state="failed"} 1`,
      `pulp_manager_repo_sync_duration_seconds_sum{pulp_server_name="${primary}",state="failed"} 700`,
      `pulp_manager_repo_group_sync_duration_seconds_sum{pulp_server_name="${secondary}",state="completed"} 3000`,
      `pulp_manager_repo_group_sync_duration_seconds_count{pulp_server_name="${secondary}",state="completed"} 1`,
      `pulp_manager_repo_snapshot_duration_seconds_bucket{le="+Inf",pulp_server_name="${primary}",state="completed"} 1`,
      `pulp_manager_repo_snapshot_duration_seconds_sum{pulp_server_name="${primary}",state="completed"} 90`,
    ];
    for (let i = 0; i < 3; i++) {
      text = await scrapeNow();
      for (const line of expected) expect(lines(text), `scrape ${i + 1}: ${line}`).toContain(line);
      // The snapshot run itself (no parent) is not one repo's snapshot.
      expect(samples(text, 'pulp_manager_repo_snapshot_duration_seconds_count').size).toBe(1);
    }

    // A task that finished before the last scrape but whose row committed after it (a slow
    // worker commit, a clock behind) is still counted, once.
    await new Promise((r) => setTimeout(r, 1100 - (Date.now() - startedAt)));
    await scrapeNow();
    // This scrape is over a second after the exporter started; the task finished 0.5 s after.
    await insertTasks(scratch.db, [
      {
        serverId: ids.primary as number,
        type: 'repo_sync',
        state: 'completed',
        queuedAgo: 30,
        durationSeconds: 8,
        finishedAt: new Date(startedAt + 500),
      },
    ]);
    for (let i = 0; i < 2; i++) {
      text = await scrapeNow();
      expect(lines(text)).toContain(
        `pulp_manager_repo_sync_duration_seconds_count{pulp_server_name="${primary}",state="completed"} 2`,
      );
      expect(lines(text)).toContain(
        `pulp_manager_repo_sync_duration_seconds_sum{pulp_server_name="${primary}",state="completed"} 50`,
      );
    }
    expect((await promtoolCheckMetrics(text)).code).toBe(0);
  });
});

describe('TaskDurationTracker window (simulated clock)', () => {
  it('counts late commits and tasks finished during a scrape gap once, and forgets ids behind the window', async () => {
    const registry = new Registry();
    const histogram = new Histogram({
      name: 'tracker_test_seconds',
      help: 'test',
      labelNames: ['pulp_server_name', 'state'] as const,
      buckets: [10, 100],
      registers: [registry],
    });
    const minute = 60_000;
    const t0 = Date.now() - 3 * 60 * minute;
    const at = (m: number) => new Date(t0 + m * minute);
    const tracker = new TaskDurationTracker(
      [{ taskType: 'remove_repo_content', histogram }],
      10 * minute,
      at(0),
    );
    const server = ids.dead as number;
    const task = (finishedMinute: number, seconds: number): TaskSeed => ({
      serverId: server,
      type: 'remove_repo_content',
      state: 'completed',
      queuedAgo: 4 * 3600,
      durationSeconds: seconds,
      finishedAt: at(finishedMinute),
    });
    const count = async () => {
      const values = (await histogram.get()).values;
      return values.find((v) => v.metricName === 'tracker_test_seconds_count')?.value ?? 0;
    };

    await insertTasks(scratch.db, [task(-5, 1), task(10, 2)]);
    expect(await tracker.refresh(scratch.db, at(15))).toBe(1); // the one before start is history
    // Finished at 12 (before the last refresh at 15) but visible only now: inside the lookback.
    // Finished at 30: no scrape between 15 and 60, the window still starts at 15 - 10.
    await insertTasks(scratch.db, [task(12, 4), task(30, 8)]);
    expect(await tracker.refresh(scratch.db, at(60))).toBe(2);
    expect(await tracker.refresh(scratch.db, at(61))).toBe(0);
    expect(await count()).toBe(3);
    // The window now starts at 50: ids of tasks finished before are forgotten, never re-read.
    expect(tracker.remembered).toBe(0);
    expect(await tracker.refresh(scratch.db, at(62))).toBe(0);
    expect(await count()).toBe(3);
  });
});

describe('managed schedules (Temporal)', () => {
  const namespace = `${stack.temporal.testNamespace}-metrics`;
  const run = randomBytes(3).toString('hex');
  const pausedId = `repo-group-sync/${primary}/ext-${run}`;
  const registrationServer = `r-${run}.example.com:8443`;
  const activeId = `repo-registration/${registrationServer}`;
  const foreignId = `repo-group-sync/${primary}/foreign-${run}`;
  let connection: Connection;
  let client: Client;

  beforeAll(async () => {
    connection = await Connection.connect({ address: stack.temporal.address });
    try {
      await connection.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs('1 day'),
      });
    } catch (err) {
      if (!/already exists/i.test((err as Error).message)) throw err;
    }
    client = new Client({ connection, namespace });
    const create = (scheduleId: string, paused: boolean, memo?: Record<string, unknown>) =>
      eventually(() =>
        client.schedule.create({
          scheduleId,
          spec: { cronExpressions: ['0 0 1 1 *'] },
          action: {
            type: 'startWorkflow',
            workflowType: 'repoGroupSyncWorkflow',
            taskQueue: `metrics-${run}`,
            args: [],
          },
          memo,
          state: { paused },
        }),
      );
    await create(pausedId, true, { ...MANAGED_BY_MEMO });
    await create(activeId, false, { ...MANAGED_BY_MEMO });
    // Same prefix, but not created by Pulp Manager (no memo): never reported.
    await create(foreignId, true);
  });

  afterAll(async () => {
    for (const id of [pausedId, activeId, foreignId])
      await client.schedule
        .getHandle(id)
        .delete()
        .catch(() => undefined);
    await connection.close();
  });

  it('exports the paused flag of the schedules Pulp Manager manages, and only those', async () => {
    const text = await eventually(async () => {
      const t = await scrape({ temporal: client });
      const paused = samples(t, 'pulp_manager_schedule_paused');
      expect(paused.get(`{schedule_id="${pausedId}",pulp_server_name="${primary}"}`)).toBe(1);
      expect(paused.get(`{schedule_id="${activeId}",pulp_server_name="${registrationServer}"}`)).toBe(0);
      return t;
    });
    expect(text).not.toContain(foreignId);
    expect(lines(text)).toContain('pulp_manager_exporter_temporal_up 1');
  });

  it('a Temporal that does not answer reports temporal_up 0 within the deadline', async () => {
    const lazy = Connection.lazy({ address: `127.0.0.1:${await closedPort()}` });
    const down = new Client({ connection: lazy, namespace });
    const errors: string[] = [];
    try {
      const started = performance.now();
      const text = await scrape(
        { temporal: down, onError: (part) => errors.push(part) },
        { temporalTimeoutMs: 800 },
      );
      expect(performance.now() - started).toBeLessThan(3000);
      expect(lines(text)).toContain('pulp_manager_exporter_temporal_up 0');
      expect(lines(text)).toContain(
        'pulp_manager_exporter_collect_errors_total{part="temporal schedules"} 1',
      );
      expect(samples(text, 'pulp_manager_schedule_paused').size).toBe(0);
      expect(errors).toEqual(['temporal schedules']);
    } finally {
      await lazy.close();
    }
  });
});

describe('HTTP endpoints', () => {
  it('/health answers while /ready follows the database', async () => {
    const metrics = createMetricsRegistry({ db: scratch.db, config });
    const app = createExporterApp(metrics, scratch.db);
    expect((await app.request('/health')).status).toBe(200);
    const ready = await app.request('/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });

    const unreachable = createDatabase({ ...scratch.settings, port: await closedPort() });
    const downMetrics = createMetricsRegistry({ db: unreachable, config, onError: () => undefined });
    try {
      const downApp = createExporterApp(downMetrics, unreachable, 2000);
      const notReady = await downApp.request('/ready');
      expect(notReady.status).toBe(503);
      expect(((await notReady.json()) as { detail: string }).detail).toMatch(/^database: /);
      // A scrape with the database down still answers, and says so.
      const metricsRes = await downApp.request('/metrics');
      expect(metricsRes.status).toBe(200);
      const text = await metricsRes.text();
      expect(lines(text)).toContain('pulp_manager_exporter_database_up 0');
      expect(samples(text, 'pulp_manager_pulp_server_repo_sync_health').size).toBe(0);
    } finally {
      downMetrics.exposition.stop();
      await downMetrics.exposition.settled();
      await closeDatabase(unreachable);
    }
  });

  it('runExporter serves /metrics over HTTP in the Prometheus text format', async () => {
    const exporter = await runExporter(config, { host: '127.0.0.1', port: 0 });
    try {
      const res = await fetch(`http://127.0.0.1:${exporter.address.port}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      expect(lines(text)).toContain(
        `pulp_manager_pulp_server_repo_sync_health_rollup{pulp_server_name="${primary}",repo_sync_health_rollup="green"} 1`,
      );
      expect(lines(text)).toContain('pulp_manager_exporter_temporal_up 1');
      expect(text).toContain('nodejs_heap_size_used_bytes');
      expect((await fetch(`http://127.0.0.1:${exporter.address.port}/health`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${exporter.address.port}/ready`)).status).toBe(200);
    } finally {
      await exporter.stop();
    }
  });
});
