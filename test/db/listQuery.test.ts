import { eq, type SQL } from 'drizzle-orm';
import type { MySqlColumn, SelectedFields } from 'drizzle-orm/mysql-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.js';
import { repoHealthStatuses, taskStates, taskTypes } from '../../db/enums.js';
import {
  type DefinedListSpec,
  type ListField,
  type ListPage,
  ListQueryError,
  type ListQueryInput,
  listPage,
} from '../../db/listQuery.js';
import {
  pulpServerList,
  serverRepoGroupList,
  serverRepoList,
  serverRepoTaskList,
  taskList,
} from '../../db/listSpecs.js';
import {
  type NewPulpServerRepo,
  type NewTask,
  pulp_server_repo_groups,
  pulp_server_repo_tasks,
  pulp_server_repos,
  pulp_servers,
  repo_groups,
  repos,
  tasks,
} from '../../db/schema.js';
import { linkTasksToServerRepos } from '../../db/taskRecords.js';
import { useMigratedDatabase } from './throwawayDatabase.js';

const TASKS = 3000;
const REPOS = 400;
const GROUP_SYNCS = 60;
const paging = { default_page_size: 50, max_page_size: 500 };

// Deterministic data: a failure reproduces on the next run.
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(20240611);
function pick<T>(values: readonly T[]): T {
  const value = values[Math.floor(random() * values.length)];
  if (value === undefined) throw new Error('pick from an empty list');
  return value;
}

// Mixed case, `-` and `_` on purpose: the name columns are utf8mb4_bin, so the server must
// order them exactly as JavaScript compares strings.
const repoPrefixes = ['ext-', 'Ext-', 'int-', 'snap-2025-', 'ext_'];
const distros = ['centos7', 'Rocky9', 'ubuntu-jammy', 'debian_12', 'EPEL', 'zabbix'];
const repoTypes = ['rpm', 'deb', 'file', 'container', 'python'];
const workers = ['worker-1', 'worker-2', 'Worker-3', 'worker_4', null];
const serverNames = ['pulp-a.example.com', 'pulp-b.example.com:8443', 'Pulp-C.example.com'];
const epoch = Date.UTC(2025, 0, 1);
const hour = 3_600_000;

interface Seeded {
  serverIds: number[];
  serverRepoIds: number[];
}

async function seed(db: Database): Promise<Seeded> {
  await db.insert(pulp_servers).values(
    serverNames.map((name, i) => ({
      name,
      username: 'svc-pulp',
      vault_service_account_mount: i === 2 ? null : 'service-accounts',
      snapshot_supported: i !== 1,
      repo_sync_health_rollup: i === 2 ? null : pick(repoHealthStatuses),
      repo_sync_health_rollup_date: i === 2 ? null : new Date(epoch + i * hour),
    })),
  );
  const servers = await db.select().from(pulp_servers).orderBy(pulp_servers.id);
  const serverIds = servers.map((s) => s.id);

  await db.insert(repo_groups).values([
    { name: 'rpm-external', regex_include: '^ext-', regex_exclude: 'debug' },
    { name: 'Deb-all', regex_include: '.*', regex_exclude: null },
    { name: 'internal', regex_include: '^int-', regex_exclude: null },
  ]);
  const groups = await db.select().from(repo_groups);
  const [a, b] = serverIds;
  if (a === undefined || b === undefined) throw new Error('servers not seeded');
  await db.insert(pulp_server_repo_groups).values(
    groups.flatMap((g, i) => [
      {
        pulp_server_id: a,
        repo_group_id: g.id,
        schedule: `0 ${i} * * *`,
        max_concurrent_syncs: 2,
        max_runtime: '6h',
      },
      {
        pulp_server_id: b,
        repo_group_id: g.id,
        max_concurrent_syncs: 1 + i,
        max_runtime: '20m',
        pulp_master_id: a,
        deb_publish_mode: 'verbatim' as const,
      },
    ]),
  );

  await db.insert(repos).values(
    Array.from({ length: REPOS }, (_, i) => ({
      name: `${pick(repoPrefixes)}${pick(distros)}-${i}`,
      repo_type: pick(repoTypes),
    })),
  );
  const repoRows = await db.select().from(repos).orderBy(repos.id);
  const serverRepos: NewPulpServerRepo[] = [];
  for (const [i, repo] of repoRows.entries()) {
    for (const serverId of i % 3 === 0 ? [a, b] : [a]) {
      const health = pick([...repoHealthStatuses, null]);
      serverRepos.push({
        pulp_server_id: serverId,
        repo_id: repo.id,
        repo_href: `/pulp/api/v3/repositories/${repo.repo_type}/${repo.repo_type}/${repo.id}/`,
        remote_feed: random() < 0.8 ? `https://upstream.example.com/${repo.name}/` : null,
        repo_sync_health: health,
        repo_sync_health_date: health === null ? null : new Date(epoch + Math.floor(random() * 1000) * hour),
      });
    }
  }
  await db.insert(pulp_server_repos).values(serverRepos);
  const serverRepoIds = (await db.select({ id: pulp_server_repos.id }).from(pulp_server_repos)).map(
    (r) => r.id,
  );

  const rows: NewTask[] = [];
  for (let id = 1; id <= TASKS; id++) {
    const isGroup = id <= GROUP_SYNCS;
    const task_type = isGroup ? 'repo_group_sync' : pick(taskTypes);
    const state = pick(taskStates);
    // Whole hours over ~200 days: plenty of equal date_queued values, so the tiebreak matters.
    const queued =
      epoch + Math.floor(random() * 4800) * hour + (random() < 0.5 ? Math.floor(random() * 1000) : 0);
    const started =
      state === 'queued' || state === 'failed_to_start' ? null : queued + Math.floor(random() * 600_000);
    const finished =
      started === null || state === 'running' ? null : started + Math.floor(random() * 3 * hour);
    rows.push({
      id,
      name: `${task_type} ${pick(repoPrefixes)}${pick(distros)} on ${pick(serverNames)}`,
      task_type,
      state,
      parent_task_id:
        !isGroup && task_type === 'repo_sync' && random() < 0.7
          ? 1 + Math.floor(random() * GROUP_SYNCS)
          : null,
      pulp_server_id: random() < 0.9 ? pick(serverIds) : null,
      task_args: { id, regex_include: '^ext-' },
      date_queued: new Date(queued),
      date_started: started === null ? null : new Date(started),
      date_finished: finished === null ? null : new Date(finished),
      worker_name: state === 'queued' ? null : pick(workers),
      workflow_id: `repo-sync/${pick(serverNames)}/${id}`,
      run_id: `run-${id}`,
      error: state === 'failed' ? { msg: 'sync failed', detail: { id } } : null,
    });
  }
  for (let i = 0; i < rows.length; i += 500) await db.insert(tasks).values(rows.slice(i, i + 500));

  // The first 20 server repos of server A each touched by many repo_sync tasks.
  const links = rows
    .filter((t) => t.task_type === 'repo_sync')
    .map((t, i) => ({ serverRepoId: serverRepoIds[i % 20] ?? 0, taskId: t.id ?? 0 }));
  await linkTasksToServerRepos(db, links);
  return { serverIds, serverRepoIds };
}

type Row = Record<string, unknown>;

const cursorOf = (state: unknown) => Buffer.from(JSON.stringify(state)).toString('base64url');

/** The order the server must produce: NULL first ascending, ENUMs by declaration order. */
function compareBy(field: ListField, name: string): (x: Row, y: Row) => number {
  return (x, y) => {
    const a = x[name];
    const b = y[name];
    if (a === b) return 0;
    if (a === null) return -1;
    if (b === null) return 1;
    if (field.kind === 'enum') return field.values.indexOf(String(a)) - field.values.indexOf(String(b));
    if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    if (typeof a === 'boolean') return Number(a) - Number(b);
    return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
  };
}

function tiebreakKey(row: Row, columns: readonly MySqlColumn[]): number[] {
  return columns.map((c) => Number(row[c.name]));
}

function jsSort(rows: Row[], spec: DefinedListSpec<SelectedFields>, sortBy: string, dir: 'asc' | 'desc') {
  const field = spec.fields[sortBy];
  if (field === undefined) throw new Error(`no field ${sortBy}`);
  // By the column: worker_job_id is another name of workflow_id.
  const primary = compareBy(field, field.column.name);
  const sorted = [...rows].sort((x, y) => {
    const byField = primary(x, y);
    if (byField !== 0) return byField;
    const [kx, ky] = [tiebreakKey(x, spec.tiebreak), tiebreakKey(y, spec.tiebreak)];
    for (let i = 0; i < kx.length; i++) {
      const d = (kx[i] ?? 0) - (ky[i] ?? 0);
      if (d !== 0) return d;
    }
    return 0;
  });
  return dir === 'asc' ? sorted : sorted.reverse();
}

/** Every page of a query, concatenated. */
async function allPages<T>(
  db: Database,
  spec: DefinedListSpec<SelectedFields>,
  query: ListQueryInput,
  where: SQL[] = [],
): Promise<{ items: T[]; totals: number[]; pages: number }> {
  const items: T[] = [];
  const totals: number[] = [];
  let page = 1;
  for (;;) {
    const result = (await listPage(
      db,
      spec,
      { ...query, page: String(page), page_size: '500' },
      paging,
      where,
    )) as ListPage<T>;
    totals.push(result.total);
    if (result.items.length === 0) break;
    items.push(...result.items);
    page++;
  }
  return { items, totals, pages: page - 1 };
}

/** Every page of a query by following `next` from the first page. */
async function allByCursor<T>(
  db: Database,
  spec: DefinedListSpec<SelectedFields>,
  query: ListQueryInput,
  where: SQL[] = [],
): Promise<{ items: T[]; pages: number[] }> {
  const items: T[] = [];
  const pages: number[] = [];
  let cursor: string | undefined;
  for (;;) {
    const result = (await listPage(
      db,
      spec,
      { ...query, page_size: '500', ...(cursor === undefined ? {} : { cursor }) },
      paging,
      where,
    )) as ListPage<T>;
    items.push(...result.items);
    pages.push(result.page);
    if (result.next === null) return { items, pages };
    expect(result.items).toHaveLength(500);
    cursor = result.next;
  }
}

async function rejection(promise: Promise<unknown>): Promise<ListQueryError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ListQueryError)) throw new Error(`expected a ListQueryError, got ${String(err)}`);
  return err;
}

describe('listPage on a few thousand rows of real MariaDB', () => {
  let seeded: Seeded;
  let allTasks: Row[];
  const timings: Record<string, number> = {};
  const scratch = useMigratedDatabase();

  beforeAll(async () => {
    timings.createAndMigrateMs = scratch.setUpMs;
    const t1 = performance.now();
    seeded = await seed(scratch.db);
    timings.seedMs = performance.now() - t1;
    allTasks = await scratch.db.select().from(tasks);
  }, 120_000);

  afterAll(() => {
    console.info(
      `[listQuery] ${TASKS} tasks, ${REPOS} repos; timings (ms): ${JSON.stringify(timings, (_k, v) => (typeof v === 'number' ? Math.round(v) : v))}`,
    );
  });

  const count = (predicate: (t: Row) => boolean) => allTasks.filter(predicate).length;

  describe('totals', () => {
    it('counts every row without filters', async () => {
      const page = await listPage(scratch.db, taskList, {}, paging);
      expect(allTasks).toHaveLength(TASKS);
      expect(page.total).toBe(TASKS);
      expect(page).toMatchObject({ page: 1, page_size: 50 });
      expect(page.items).toHaveLength(50);
    });

    it('counts with exact filters, alone and combined', async () => {
      for (const state of taskStates) {
        const page = await listPage(scratch.db, taskList, { state }, paging);
        expect(page.total, state).toBe(count((t) => t.state === state));
        expect(page.items.every((t) => t.state === state)).toBe(true);
      }
      const combined = await listPage(
        scratch.db,
        taskList,
        { task_type: 'repo_sync', state: 'completed', worker_name: 'Worker-3' },
        paging,
      );
      expect(combined.total).toBe(
        count((t) => t.task_type === 'repo_sync' && t.state === 'completed' && t.worker_name === 'Worker-3'),
      );
      expect(combined.total).toBeGreaterThan(0);
      const parent = await listPage(scratch.db, taskList, { parent_task_id: '7' }, paging);
      expect(parent.total).toBe(count((t) => t.parent_task_id === 7));
      const workflow = await listPage(
        scratch.db,
        taskList,
        { workflow_id: String(allTasks[41]?.workflow_id) },
        paging,
      );
      expect(workflow.items.map((t) => t.id)).toEqual([allTasks[41]?.id]);
    });

    it('matches names with a case-insensitive REGEXP, as the original (a _ci collation) did', async () => {
      const cases = [
        '^repo_sync Ext-',
        '^repo_sync ext-',
        'EPEL on Pulp-C',
        '(centos7|Rocky9) on pulp-[ab]',
        '^remove_repo_content ',
      ];
      for (const pattern of cases) {
        const page = await listPage(scratch.db, taskList, { name__match: pattern }, paging);
        const re = new RegExp(pattern, 'i');
        expect(page.total, pattern).toBe(count((t) => re.test(String(t.name))));
        expect(page.total, pattern).toBeGreaterThan(0);
      }
    });

    it('filters dates with __ge / __le, inclusive, in any ISO 8601 form', async () => {
      const from = new Date(Date.UTC(2025, 2, 1));
      const to = new Date(Date.UTC(2025, 3, 15, 12, 30));
      const within = (d: unknown) => d instanceof Date && d >= from && d <= to;
      const expected = count((t) => within(t.date_queued));
      expect(expected).toBeGreaterThan(100);
      const forms: Record<string, string>[] = [
        { date_queued__ge: '2025-03-01', date_queued__le: '2025-04-15T12:30:00Z' },
        { date_queued__ge: '2025-03-01T00:00:00.000Z', date_queued__le: '2025-04-15T14:30:00+02:00' },
        // `+` decoded as a space by a URL parser, and a space instead of T.
        { date_queued__ge: '2025-03-01 01:00:00 01:00', date_queued__le: '2025-04-15T12:30' },
      ];
      for (const query of forms) {
        expect((await listPage(scratch.db, taskList, query, paging)).total, JSON.stringify(query)).toBe(
          expected,
        );
      }
      // A boundary value equal to a row's date is included by both bounds.
      const exact = allTasks.find((t) => (t.date_queued as Date).getUTCMilliseconds() !== 0)
        ?.date_queued as Date;
      const iso = exact.toISOString();
      const atInstant = count((t) => (t.date_queued as Date).getTime() === exact.getTime());
      expect(
        (await listPage(scratch.db, taskList, { date_queued__ge: iso, date_queued__le: iso }, paging)).total,
      ).toBe(atInstant);
      expect((await listPage(scratch.db, taskList, { date_queued: iso }, paging)).total).toBe(atInstant);
      // NULL dates never match a bound.
      const finishedAfter = await listPage(scratch.db, taskList, { date_finished__ge: '2000-01-01' }, paging);
      expect(finishedAfter.total).toBe(count((t) => t.date_finished !== null));
    });

    it('applies the fixed conditions of a route (server, server repo) under the filters', async () => {
      const [a, b] = seeded.serverIds as [number, number];
      const onA = await listPage(scratch.db, serverRepoList, {}, paging, [
        eq(pulp_server_repos.pulp_server_id, a),
      ]);
      const onB = await listPage(scratch.db, serverRepoList, {}, paging, [
        eq(pulp_server_repos.pulp_server_id, b),
      ]);
      expect(onA.total).toBe(REPOS);
      expect(onB.total).toBe(Math.ceil(REPOS / 3));
      const debOnB = await listPage(
        scratch.db,
        serverRepoList,
        { repo_type: 'deb', name__match: '^[Ee]xt' },
        paging,
        [eq(pulp_server_repos.pulp_server_id, b)],
      );
      expect(
        debOnB.items.every((r) => r.repo_type === 'deb' && /^[Ee]xt/.test(r.name) && r.pulp_server_id === b),
      ).toBe(true);
      expect(debOnB.total).toBe(debOnB.items.length);

      const serverRepoId = seeded.serverRepoIds[3] as number;
      const linked = await scratch.db
        .select()
        .from(pulp_server_repo_tasks)
        .where(eq(pulp_server_repo_tasks.pulp_server_repo_id, serverRepoId));
      const repoTasks = await listPage(scratch.db, serverRepoTaskList, { state: 'failed' }, paging, [
        eq(pulp_server_repo_tasks.pulp_server_repo_id, serverRepoId),
      ]);
      const linkedIds = new Set(linked.map((l) => l.task_id));
      expect(repoTasks.total).toBe(count((t) => linkedIds.has(t.id as number) && t.state === 'failed'));
      expect(repoTasks.items.every((t) => t.error?.msg === 'sync failed' && t.task_args.id === t.id)).toBe(
        true,
      );

      const snapshotCapable = await listPage(
        scratch.db,
        pulpServerList,
        { snapshot_supported: 'true' },
        paging,
      );
      expect(snapshotCapable.items.map((s) => s.name).sort()).toEqual([
        'Pulp-C.example.com',
        'pulp-a.example.com',
      ]);
      expect((await listPage(scratch.db, pulpServerList, { snapshot_supported: '0' }, paging)).total).toBe(1);
    });
  });

  describe('cached totals', () => {
    const cachedPaging = { ...paging, total_cache_seconds: 1 };
    const marker = { name__match: '^zz-cache-' };

    it('reuses a total within total_cache_seconds and counts again after it', async () => {
      const first = await listPage(scratch.db, pulpServerList, marker, cachedPaging);
      expect(first.total).toBe(0);
      const [{ insertId }] = (await scratch.db.$client.query(
        "INSERT INTO pulp_servers (name, username, snapshot_supported) VALUES ('zz-cache-1', 'svc', 0)",
      )) as unknown as [{ insertId: number }];
      try {
        // Within the TTL: the cached total (and its time), while the page itself is live.
        const cached = await listPage(scratch.db, pulpServerList, marker, cachedPaging);
        expect(cached.items).toHaveLength(1);
        expect({ total: cached.total, at: cached.total_as_of }).toEqual({ total: 0, at: first.total_as_of });
        // Past twice the TTL: counted again before answering.
        await new Promise((resolve) => setTimeout(resolve, 2100));
        const recounted = await listPage(scratch.db, pulpServerList, marker, cachedPaging);
        expect(recounted.total).toBe(1);
        expect(Date.parse(recounted.total_as_of)).toBeGreaterThan(Date.parse(first.total_as_of));
        // With total_cache_seconds = 0 every page counts.
        await scratch.db.$client.query("UPDATE pulp_servers SET name = 'zz-cache-x' WHERE id = ?", [
          insertId,
        ]);
        expect(
          (await listPage(scratch.db, pulpServerList, marker, { ...paging, total_cache_seconds: 0 })).total,
        ).toBe(1);
        await scratch.db.$client.query("UPDATE pulp_servers SET name = 'other' WHERE id = ?", [insertId]);
        expect(
          (await listPage(scratch.db, pulpServerList, marker, { ...paging, total_cache_seconds: 0 })).total,
        ).toBe(0);
      } finally {
        await scratch.db.$client.query('DELETE FROM pulp_servers WHERE id = ?', [insertId]);
      }
    });

    it('runs one COUNT for twenty concurrent identical requests', async () => {
      const pool = scratch.db.$client;
      const query = pool.query;
      const counts: string[] = [];
      pool.query = ((options: unknown, values?: unknown) => {
        const text = typeof options === 'string' ? options : (options as { sql: string }).sql;
        if (/count\(\*\)/i.test(text)) counts.push(text);
        return (query as (o: unknown, v?: unknown) => unknown).call(pool, options, values);
      }) as typeof pool.query;
      try {
        const filter = { worker_name: 'worker-2', state: 'completed' };
        const pages = await Promise.all(
          Array.from({ length: 20 }, () => listPage(scratch.db, taskList, filter, paging)),
        );
        expect(new Set(pages.map((p) => p.total))).toEqual(
          new Set([count((t) => t.worker_name === 'worker-2' && t.state === 'completed')]),
        );
        expect(counts).toHaveLength(1);
      } finally {
        pool.query = query;
      }
    });
  });

  describe('paging', () => {
    it('uses the default page size, clamps page_size to the cap and reports what it applied', async () => {
      const capped = await listPage(scratch.db, taskList, { page_size: '100000' }, paging);
      expect(capped).toMatchObject({ page: 1, page_size: 500, total: TASKS });
      expect(capped.items).toHaveLength(500);
      const small = await listPage(scratch.db, taskList, { page_size: '7', page: '3' }, paging);
      expect(small.items.map((t) => t.id)).toEqual([15, 16, 17, 18, 19, 20, 21]);
    });

    it('returns a partial last page and an empty page past the end, with the total', async () => {
      const last = await listPage(scratch.db, taskList, { page_size: '400', page: '8' }, paging);
      expect(last.items).toHaveLength(TASKS - 7 * 400);
      const past = await listPage(scratch.db, taskList, { page_size: '400', page: '9' }, paging);
      expect(past).toMatchObject({ items: [], page: 9, page_size: 400, total: TASKS });
    });

    it('orders by primary key by default, and order_by alone reverses it', async () => {
      const desc = await listPage(scratch.db, taskList, { order_by: 'desc', page_size: '3' }, paging);
      expect(desc.items.map((t) => t.id)).toEqual([TASKS, TASKS - 1, TASKS - 2]);
    });
  });

  describe('sort_by on every allowed column, both directions, across all pages', () => {
    const specs = { taskList, serverRepoList, serverRepoTaskList, pulpServerList, serverRepoGroupList };

    async function rowsOf(name: keyof typeof specs): Promise<{ rows: Row[]; where: SQL[] }> {
      const [a] = seeded.serverIds as [number];
      switch (name) {
        case 'taskList':
          return { rows: allTasks, where: [] };
        case 'pulpServerList':
          return { rows: await scratch.db.select().from(pulp_servers), where: [] };
        case 'serverRepoList': {
          const where = [eq(pulp_server_repos.pulp_server_id, a)];
          const rows = await scratch.db
            .select(serverRepoList.select)
            .from(pulp_server_repos)
            .innerJoin(repos, eq(repos.id, pulp_server_repos.repo_id))
            .where(where[0]);
          return { rows, where };
        }
        case 'serverRepoTaskList': {
          const where = [eq(pulp_server_repo_tasks.pulp_server_repo_id, seeded.serverRepoIds[0] as number)];
          const rows = await scratch.db
            .select(serverRepoTaskList.select)
            .from(tasks)
            .innerJoin(pulp_server_repo_tasks, eq(pulp_server_repo_tasks.task_id, tasks.id))
            .where(where[0]);
          return { rows, where };
        }
        case 'serverRepoGroupList': {
          const where = [eq(pulp_server_repo_groups.pulp_server_id, a)];
          const rows = await scratch.db
            .select(serverRepoGroupList.select)
            .from(pulp_server_repo_groups)
            .innerJoin(repo_groups, eq(repo_groups.id, pulp_server_repo_groups.repo_group_id))
            .where(where[0]);
          return { rows, where };
        }
      }
    }

    for (const [specName, spec] of Object.entries(specs) as [
      keyof typeof specs,
      (typeof specs)[keyof typeof specs],
    ][]) {
      const sortable = Object.entries(spec.fields as Record<string, ListField>)
        .filter(([, f]) => f.sort !== false)
        .map(([name]) => name);
      it(`${specName}: ${sortable.join(', ')}`, async () => {
        const { rows, where } = await rowsOf(specName);
        expect(rows.length).toBeGreaterThan(specName === 'taskList' ? 2000 : 2);
        const started = performance.now();
        let queries = 0;
        for (const sortBy of sortable) {
          for (const dir of ['asc', 'desc'] as const) {
            const generic = spec as unknown as DefinedListSpec<SelectedFields>;
            const got = await allPages<Row>(scratch.db, generic, { sort_by: sortBy, order_by: dir }, where);
            queries += got.pages + 1;
            const expected = jsSort(rows, generic, sortBy, dir);
            const key = (r: Row) => tiebreakKey(r, generic.tiebreak).join('/');
            expect(got.items.map(key), `${specName} sort_by=${sortBy} ${dir}`).toEqual(expected.map(key));
            expect(new Set(got.totals)).toEqual(new Set([rows.length]));
            // The same walk by cursor: the same rows in the same order, page numbers counted on.
            const byCursor = await allByCursor<Row>(
              scratch.db,
              generic,
              { sort_by: sortBy, order_by: dir },
              where,
            );
            queries += byCursor.pages.length;
            expect(byCursor.items.map(key), `${specName} sort_by=${sortBy} ${dir} by cursor`).toEqual(
              expected.map(key),
            );
            expect(byCursor.pages).toEqual(byCursor.pages.map((_, i) => i + 1));
          }
        }
        timings[`sort_${specName}_ms`] = performance.now() - started;
        timings[`sort_${specName}_pages`] = queries;
      });
    }
  });

  describe('rejections name the offending parameter', () => {
    const cases: [string, ListQueryInput, string, string][] = [
      ['unknown sort column', { sort_by: 'task_args' }, 'unknown_sort_column', 'sort_by'],
      ['sort by a made-up column', { sort_by: 'nope; DROP TABLE tasks' }, 'unknown_sort_column', 'sort_by'],
      ['unknown filter key', { colour: 'red' }, 'unknown_parameter', 'colour'],
      ['prototype key', { constructor: '1' }, 'unknown_parameter', 'constructor'],
      ['filter on a sort-only field', { id: '5' }, 'unknown_parameter', 'id'],
      ['__le on a string', { name__le: '2025-01-01' }, 'unknown_parameter', 'name__le'],
      ['__match on an enum', { state__match: 'fail' }, 'unknown_parameter', 'state__match'],
      ['unknown operator', { date_queued__lt: '2025-01-01' }, 'unknown_parameter', 'date_queued__lt'],
      ['two operators', { date_queued__ge__le: '2025-01-01' }, 'unknown_parameter', 'date_queued__ge__le'],
      ['words for a date', { date_queued__ge: 'yesterday' }, 'invalid_date', 'date_queued__ge'],
      ['month 13', { date_queued__le: '2025-13-01' }, 'invalid_date', 'date_queued__le'],
      ['30 February', { date_started__ge: '2025-02-30T00:00:00Z' }, 'invalid_date', 'date_started__ge'],
      ['hour 25', { date_finished: '2025-01-01T25:00:00Z' }, 'invalid_date', 'date_finished'],
      ['empty date', { date_queued__ge: '' }, 'invalid_date', 'date_queued__ge'],
      ['unknown enum value', { state: 'sleeping' }, 'invalid_value', 'state'],
      ['non-integer id', { parent_task_id: '1.5' }, 'invalid_value', 'parent_task_id'],
      ['bad regex', { name__match: '(unclosed' }, 'invalid_regex', 'name__match'],
      ['page 0', { page: '0' }, 'invalid_page', 'page'],
      ['negative page', { page: '-1' }, 'invalid_page', 'page'],
      ['page not a number', { page: 'two' }, 'invalid_page', 'page'],
      ['fractional page', { page: '1.5' }, 'invalid_page', 'page'],
      ['huge page', { page: '999999999999999', page_size: '500' }, 'invalid_page', 'page'],
      ['page_size 0', { page_size: '0' }, 'invalid_page_size', 'page_size'],
      ['page_size words', { page_size: 'all' }, 'invalid_page_size', 'page_size'],
      ['order_by other than asc/desc', { sort_by: 'name', order_by: 'up' }, 'invalid_order_by', 'order_by'],
      ['pattern longer than 256', { name__match: 'a'.repeat(257) }, 'invalid_regex', 'name__match'],
      [
        'a start-of-pattern verb',
        { name__match: '(*LIMIT_MATCH=99999999)x' },
        'invalid_regex',
        'name__match',
      ],
      ['cursor not base64url', { cursor: 'not a cursor!' }, 'invalid_value', 'cursor'],
      ['cursor of random bytes', { cursor: 'eyJzIjpudWxsfQ' }, 'invalid_value', 'cursor'],
      [
        'cursor of another sort',
        { cursor: cursorOf({ s: 'name', o: 'asc', k: ['x', 1], p: 2 }) },
        'invalid_value',
        'cursor',
      ],
      [
        'cursor of another order',
        { order_by: 'desc', cursor: cursorOf({ s: null, o: 'asc', k: [1], p: 2 }) },
        'invalid_value',
        'cursor',
      ],
      [
        'cursor with a key of the wrong type',
        {
          sort_by: 'date_queued',
          cursor: cursorOf({ s: 'date_queued', o: 'asc', k: ['yesterday', 1], p: 2 }),
        },
        'invalid_value',
        'cursor',
      ],
      [
        'cursor with too few key values',
        { sort_by: 'state', cursor: cursorOf({ s: 'state', o: 'asc', k: [1], p: 2 }) },
        'invalid_value',
        'cursor',
      ],
      [
        'cursor with an enum value that is not one',
        { sort_by: 'state', cursor: cursorOf({ s: 'state', o: 'asc', k: ['sleeping', 1], p: 2 }) },
        'invalid_value',
        'cursor',
      ],
      [
        'cursor and page together',
        { page: '2', cursor: cursorOf({ s: null, o: 'asc', k: [1], p: 2 }) },
        'invalid_value',
        'cursor',
      ],
    ];
    for (const [title, query, code, field] of cases) {
      it(`${title}: ${code} on ${field}`, async () => {
        const err = await rejection(listPage(scratch.db, taskList, query, paging));
        expect({ code: err.code, field: err.field }).toEqual({ code, field });
        expect(err.message.startsWith(`${field}: `)).toBe(true);
      });
    }

    it('a boolean field refuses what is not one of the spellings pydantic took (true/false/1/0/yes/no/on/off/t/f/y/n)', async () => {
      for (const ok of ['True', 'FALSE', 'yes', 'off', '1', 'f']) {
        await expect(
          listPage(scratch.db, pulpServerList, { snapshot_supported: ok }, paging),
          ok,
        ).resolves.toBeDefined();
      }
      const err = await rejection(
        listPage(scratch.db, pulpServerList, { snapshot_supported: 'yes please' }, paging),
      );
      expect({ code: err.code, field: err.field }).toEqual({
        code: 'invalid_value',
        field: 'snapshot_supported',
      });
    });
  });
});
