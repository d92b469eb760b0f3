import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiApp } from '../../api/context.js';
import { type ApiScenario, apiScenarios } from '../../bench/lib/apiListScenarios.js';
import { LARGE_FLEET, type SeededFleet, seedLargeFleet } from '../../bench/lib/seedLargeFleet.js';
import { useMigratedDatabase } from '../db/throwawayDatabase.js';
import { type ApiHarness, startApiHarness } from './support/apiHarness.js';

// The benchmark's list queries (bench/lib/apiListScenarios.ts) on the benchmark's fleet (5 ×
// 10,000 repos, 100,000 tasks): every statement they run is executed under ANALYZE, and none
// may read the tasks table whole or read more than a bounded number of its rows. Then the
// catastrophic pattern of issue 15 against the same 100,000 tasks.

interface Recorded {
  scenario: string;
  sql: string;
  values: unknown;
}

interface AnalyzeRow {
  id: number | null;
  table: string | null;
  type: string | null;
  key: string | null;
  rows: number | null;
  r_rows: number | null;
  Extra: string | null;
}

const STATEMENT_PREFIX = /^SET STATEMENT max_statement_time=[\d.]+ FOR /;
// The page's keys: page_size + 1 (the largest page is 500), plus an OFFSET of at most one
// boundary step (db/listQuery.ts BOUNDARY_STEP, 5,000) for a deep page number.
const MAX_TASK_ROWS_READ = 5000 + 501;

const scratch = useMigratedDatabase({ connectionLimit: 10 });
let fleet: SeededFleet;
let h: ApiHarness;
let app: ApiApp;
const recorded: Recorded[] = [];
let recordingFor: string | undefined;

beforeAll(async () => {
  fleet = await seedLargeFleet(scratch.db, LARGE_FLEET);
  for (const table of ['tasks', 'pulp_server_repo_tasks', 'pulp_server_repos', 'repos', 'task_stages']) {
    await scratch.db.$client.query(`ANALYZE TABLE \`${table}\``);
  }
  // Every statement the API sends through the pool, tagged with the request that sent it.
  const pool = scratch.db.$client;
  const query = pool.query.bind(pool) as (options: unknown, values?: unknown) => Promise<unknown>;
  pool.query = ((options: unknown, values?: unknown) => {
    const text = typeof options === 'string' ? options : (options as { sql: string }).sql;
    if (recordingFor !== undefined) recorded.push({ scenario: recordingFor, sql: text, values });
    return query(options, values);
  }) as typeof pool.query;
  h = await startApiHarness();
  app = h.appWith({
    ini: { paging: { default_page_size: 50, max_page_size: 20000 } },
    deps: { db: scratch.db },
  });
}, 180_000);

afterAll(async () => {
  await h?.close();
});

async function getJson(path: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await app.request(path);
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function analyze(statement: Recorded): Promise<AnalyzeRow[]> {
  const text = statement.sql.replace(STATEMENT_PREFIX, '');
  const [rows] = (await scratch.db.$client.query(
    `ANALYZE ${text}`,
    statement.values as unknown[],
  )) as unknown as [AnalyzeRow[]];
  return rows;
}

describe('the benchmark list queries on 100,000 tasks', () => {
  it('never read the tasks table whole, nor more than a bounded number of its rows', async () => {
    const scenarios = apiScenarios(fleet, new Date()).filter(
      (s: ApiScenario) => !/^\/v1\/tasks\/\d+$/.test(s.path),
    );
    expect(scenarios.length).toBeGreaterThanOrEqual(16);
    for (const scenario of scenarios) {
      recordingFor = scenario.name;
      const first = await getJson(scenario.path);
      expect(first.status, `${scenario.name}: ${JSON.stringify(first.json).slice(0, 300)}`).toBe(200);
      expect(scenario.check(first.json), scenario.name).toBeUndefined();
      // The same query's next page by its cursor: the keyset seek.
      if (typeof first.json.next === 'string') {
        recordingFor = `${scenario.name} (cursor)`;
        // A cursor replaces the page number.
        const url = new URL(scenario.path, 'http://api');
        url.searchParams.delete('page');
        url.searchParams.set('cursor', first.json.next);
        const second = await getJson(`${url.pathname}${url.search}`);
        expect(second.status, `${scenario.name} by cursor`).toBe(200);
      }
    }
    recordingFor = undefined;

    const listStatements = recorded.filter((r) => STATEMENT_PREFIX.test(r.sql) && !/REGEXP \?$/.test(r.sql));
    expect(listStatements.length).toBeGreaterThan(scenarios.length);
    const problems: string[] = [];
    let tasksStatements = 0;
    for (const statement of listStatements) {
      const isCount = /select count\(\*\)/i.test(statement.sql);
      for (const row of await analyze(statement)) {
        if (row.table !== 'tasks') continue;
        tasksStatements++;
        const read = Number(row.r_rows ?? 0);
        const what = `${statement.scenario}: tasks ${row.type} on ${row.key ?? '(no key)'} read ${read} rows`;
        if (row.type === 'ALL') problems.push(`${what} (full table scan)`);
        else if (!isCount && read > MAX_TASK_ROWS_READ)
          problems.push(`${what} (more than ${MAX_TASK_ROWS_READ})`);
      }
    }
    expect(tasksStatements).toBeGreaterThan(20);
    expect(problems).toEqual([]);
  }, 120_000);

  it('answers a page number deep in the tasks exactly as OFFSET would', async () => {
    const deep = 1500;
    const byPage = await getJson(`/v1/tasks?page=${deep}`);
    expect(byPage.status).toBe(200);
    const ids = (byPage.json.items as { id: number }[]).map((t) => t.id);
    const [expected] = (await scratch.db.$client.query('SELECT id FROM tasks ORDER BY id LIMIT 50 OFFSET ?', [
      (deep - 1) * 50,
    ])) as unknown as [{ id: number }[]];
    expect(ids).toEqual(expected.map((r) => r.id));

    // Filtered, sorted on a nullable date, newest first: the boundaries follow that order.
    const query = 'state=completed&sort_by=date_finished&order_by=desc&page_size=20';
    const deepSorted = await getJson(`/v1/tasks?${query}&page=3000`);
    expect(deepSorted.status).toBe(200);
    const [sorted] = (await scratch.db.$client.query(
      "SELECT id FROM tasks WHERE state = 'completed' ORDER BY date_finished DESC, id DESC LIMIT 20 OFFSET ?",
      [2999 * 20],
    )) as unknown as [{ id: number }[]];
    expect(sorted).toHaveLength(20);
    expect((deepSorted.json.items as { id: number }[]).map((t) => t.id)).toEqual(sorted.map((r) => r.id));
  });

  it('answers 503 with Retry-After when a statement without a pattern runs past the limit', async () => {
    // A filter no other test uses, so its total is not cached: its COUNT (every task, on the
    // date index: ~10 ms) runs past 4 x 1 ms.
    const impatient = h.appWith({
      ini: {
        paging: {
          default_page_size: 50,
          max_page_size: 20000,
          list_statement_timeout_ms: 1,
        },
      },
      deps: { db: scratch.db },
    });
    const res = await impatient.request('/v1/tasks?date_queued__ge=1999-12-31&page_size=500');
    expect(res.status, await res.clone().text()).toBe(503);
    expect(res.headers.get('Retry-After')).toBe('1');
    expect(((await res.json()) as { detail: string }).detail).toMatch(/longer than 1 ms/);
    expect((await app.request('/v1/tasks?state=completed')).status).toBe(200);
  });
});

describe('a catastrophic __match pattern on 100,000 tasks', () => {
  it('is cut off by the statement time limit: a 422 naming the field within a second, and the pool stays usable', async () => {
    const pattern = encodeURIComponent('^(\\w*\\s?)*$');
    const started = performance.now();
    const res = await app.request(`/v1/tasks?name__match=${pattern}`);
    const elapsed = performance.now() - started;
    const body = (await res.json()) as { detail: string; field?: string };
    expect(res.status, JSON.stringify(body)).toBe(422);
    expect(body.field).toBe('query.name__match');
    expect(body.detail).toMatch(/longer than 500 ms/);
    expect(elapsed).toBeLessThan(1000);

    // Ten of them at once (the pool has 10 connections), then ordinary pages: all answered.
    const attack = await Promise.all(
      Array.from({ length: 10 }, () => app.request(`/v1/tasks?name__match=${pattern}&state=completed`)),
    );
    expect(attack.map((r) => r.status)).toEqual(Array(10).fill(422));
    const after = await Promise.all(Array.from({ length: 20 }, () => app.request('/v1/tasks?order_by=desc')));
    expect(after.map((r) => r.status)).toEqual(Array(20).fill(200));
    const [[{ limit }]] = (await scratch.db.$client.query(
      'SELECT @@max_statement_time AS `limit`',
    )) as unknown as [[{ limit: number }]];
    expect(Number(limit)).toBe(0);
  }, 60_000);

  it('refuses a pattern longer than 256 characters with a 422 naming the field', async () => {
    const res = await app.request(`/v1/tasks?worker_name__match=${'a'.repeat(257)}`);
    expect(res.status).toBe(422);
    expect(((await res.json()) as { field?: string }).field).toBe('query.worker_name__match');
  });
});
