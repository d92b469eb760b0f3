// The requests of the API latency bench: each list endpoint of the API as an operator (or a
// dashboard) calls it on the seeded fleet, first pages and deep ones, filtered and sorted. Each
// comes with a full check of one answer (run before the load) and a cheap check of every answer
// under load, so that an error page or an empty list cannot pass as a fast answer.
import type autocannon from 'autocannon';
import type { SeededFleet } from './seedLargeFleet.js';

export interface ApiScenario {
  name: string;
  path: string;
  /** Requests whose path depends on earlier answers (following `next`); else one GET of `path`. */
  requests?: autocannon.Request[];
  /** Under load, on the raw body: cheap string checks only (it runs in the load generator). */
  verify(body: string): boolean;
  /** Before the load, on the parsed body: what is wrong with it, or undefined. */
  check(json: unknown): string | undefined;
  /** What bounds its cost when that is more than an index range (from EXPLAIN on the seeded fleet). */
  cost?: string;
}

// Measured with EXPLAIN / ANALYZE on the seeded fleet, one query at a time. The total of a page
// is an exact COUNT (InnoDB counts index entry by index entry, ~80-100 ns each), run once per
// filter and [paging] total_cache_seconds and shared by every request in between.
const costs: Readonly<Record<string, string>> = {
  'server repos: red, by name': 'sorts the ~800 red repos of the server by name through the repos join',
  'server repos: name regex, 100 a page':
    "REGEXP on the server's repo names in the `ext-debian` prefix range (an index range first), and 100 rows per answer",
  'repo tasks: busiest repo, newest first':
    "51 entries of the links' (server repo, task_date_queued, task_id) index, then those tasks",
  tasks: 'COUNT of all tasks once per total_cache_seconds',
  'tasks: newest first': 'COUNT of all tasks once per total_cache_seconds',
  'tasks: deep page': 'at most 5,000 index entries from the nearest cached page boundary',
  'tasks: completed, 500 a page, newest first':
    '500 rows (~320 KB of JSON) per answer, each row written as JSON text by MariaDB (db/jsonItems.ts)',
};

type Row = Record<string, unknown>;
interface Page {
  items: Row[];
  page: number;
  page_size: number;
  total: number;
}

// A page of rows serializes as {"items":[{…}],…}; an empty one as {"items":[],…}.
const nonEmptyPage = (body: string) => body.startsWith('{"items":[{');

function asPage(json: unknown): Page | undefined {
  const p = json as Partial<Page> | null;
  return p && Array.isArray(p.items) && typeof p.total === 'number' ? (p as Page) : undefined;
}

/** A list scenario whose answer must be a non-empty page passing `rule`. */
function list(name: string, path: string, rule: (page: Page) => string | undefined): ApiScenario {
  return {
    name,
    path,
    verify: nonEmptyPage,
    check(json) {
      const page = asPage(json);
      if (page === undefined) return `not a page: ${JSON.stringify(json).slice(0, 200)}`;
      if (page.items.length === 0) return `empty page (total ${page.total})`;
      return rule(page);
    },
  };
}

const expect = (what: string, actual: unknown, expected: unknown) =>
  actual === expected ? undefined : `${what}: ${String(actual)}, expected ${String(expected)}`;

const every = (page: Page, what: string, pass: (row: Row) => boolean) =>
  page.items.every(pass) ? undefined : `an item is not ${what}`;

export function apiScenarios(fleet: SeededFleet, now: Date): ApiScenario[] {
  const server = fleet.servers[1] ?? fleet.servers[0];
  if (server === undefined) throw new Error('apiScenarios: the fleet has no server');
  const reposPerServer = fleet.size.reposPerServer;
  const totalTasks = fleet.size.tasks;
  const dayAgo = `${new Date(now.getTime() - 24 * 3600 * 1000).toISOString().slice(0, 19)}Z`;
  const dayAgoMs = Date.parse(dayAgo);
  const time = (value: unknown) => new Date(String(value)).getTime();
  const repos = `/v1/pulp_servers/${server.id}/repos`;
  const lastRepoPage = Math.ceil(reposPerServer / 50);
  const deepTaskPage = Math.floor(totalTasks / 50 / 4) * 3;
  const { hotRepo } = fleet;

  const scenarios: ApiScenario[] = [
    list('servers', '/v1/pulp_servers', (p) => expect('total', p.total, fleet.size.servers)),
    list('server repos', repos, (p) => expect('total', p.total, reposPerServer)),
    list('server repos: red, by name', `${repos}?repo_sync_health=red&sort_by=name`, (p) =>
      every(p, 'red', (r) => r.repo_sync_health === 'red'),
    ),
    list(
      'server repos: health older than a day, oldest first',
      `${repos}?repo_sync_health_date__le=${dayAgo}&sort_by=repo_sync_health_date`,
      (p) => every(p, 'older than a day', (r) => time(r.repo_sync_health_date) <= dayAgoMs),
    ),
    list('server repos: name regex, 100 a page', `${repos}?name__match=^ext-debian&page_size=100`, (p) =>
      every(p, 'an ext-debian repo', (r) => String(r.name).startsWith('ext-debian')),
    ),
    list('server repos: last page', `${repos}?page=${lastRepoPage}`, (p) =>
      expect('page', p.page, lastRepoPage),
    ),
    list('server repo groups', `/v1/pulp_servers/${server.id}/repo_groups`, (p) =>
      expect('total', p.total, 2),
    ),
    list(
      'repo tasks: busiest repo, newest first',
      `/v1/pulp_servers/${hotRepo.serverId}/repos/${hotRepo.repoId}/tasks?sort_by=date_queued&order_by=desc`,
      (p) => expect('total', p.total, hotRepo.tasks),
    ),
    list('tasks', '/v1/tasks', (p) => expect('first id', p.items[0]?.id, 1)),
    list('tasks: newest first', '/v1/tasks?order_by=desc', (p) =>
      expect('first id', p.items[0]?.id, totalTasks),
    ),
    list('tasks: failed, newest first', '/v1/tasks?state=failed&sort_by=date_queued&order_by=desc', (p) =>
      expect('total', p.total, fleet.tasksByState.failed),
    ),
    list('tasks: running', '/v1/tasks?state=running', (p) =>
      expect('total', p.total, fleet.tasksByState.running),
    ),
    list(
      'tasks: group syncs of a server, newest first',
      `/v1/tasks?pulp_server_id=${server.id}&task_type=repo_group_sync&order_by=desc`,
      (p) =>
        every(
          p,
          'a group sync of the server',
          (r) => r.pulp_server_id === server.id && r.task_type === 'repo_group_sync',
        ),
    ),
    list(
      'tasks: queued in the last day, newest first',
      `/v1/tasks?date_queued__ge=${dayAgo}&sort_by=date_queued&order_by=desc`,
      (p) => every(p, 'queued in the last day', (r) => time(r.date_queued) >= dayAgoMs),
    ),
    list('tasks: children of a group sync', `/v1/tasks?parent_task_id=${fleet.groupSyncTaskId}`, (p) =>
      every(p, 'a child of the group sync', (r) => r.parent_task_id === fleet.groupSyncTaskId),
    ),
    list('tasks: deep page', `/v1/tasks?page=${deepTaskPage}`, (p) =>
      expect('first id', p.items[0]?.id, (deepTaskPage - 1) * 50 + 1),
    ),
    list(
      'tasks: completed, 500 a page, newest first',
      '/v1/tasks?state=completed&page_size=500&order_by=desc',
      (p) => expect('items', p.items.length, 500),
    ),
    {
      name: 'task with its stages',
      path: `/v1/tasks/${fleet.groupSyncTaskId}`,
      verify: (body) => body.startsWith('{"id":') && body.includes('"stages":[{'),
      check(json) {
        const task = json as { id?: unknown; stages?: unknown[] } | null;
        if (task?.id !== fleet.groupSyncTaskId) return `not task ${fleet.groupSyncTaskId}`;
        return (task.stages?.length ?? 0) >= 2 ? undefined : 'fewer than 2 stages';
      },
    },
  ];
  return scenarios.map((s) => (costs[s.name] === undefined ? s : { ...s, cost: costs[s.name] }));
}

/** The cursor of the page after `body`'s, without parsing 30-300 KB of JSON in the load generator. */
const nextOf = (body: string) => /"next":"([A-Za-z0-9_-]+)"/.exec(body)?.[1];

/** Pages a connection walks by `next` before it starts again from page 1. */
const WALK_PAGES = 100;

export interface CursorScenarios {
  scenarios: ApiScenario[];
  /** Why there are none: the API does not answer `next` (cursor pagination not there). */
  skipped?: string;
}

type Get = (path: string) => Promise<{ status: number; text: string }>;

/**
 * Deep paging by cursor (issue 15), when the API answers a `next`: a deep cursor obtained once
 * (the `next` of the page before the deep page) and replayed, and a walk that follows each
 * answer's `next`, newest first, page after page.
 */
export async function cursorScenarios(fleet: SeededFleet, get: Get): Promise<CursorScenarios> {
  const totalTasks = fleet.size.tasks;
  const deepTaskPage = Math.floor(totalTasks / 50 / 4) * 3;
  const before = await get(`/v1/tasks?page=${deepTaskPage - 1}`);
  if (before.status !== 200)
    throw new Error(`GET /v1/tasks?page=${deepTaskPage - 1}: status ${before.status}`);
  const json = JSON.parse(before.text) as { next?: unknown };
  if (!('next' in json)) {
    return {
      scenarios: [],
      skipped: 'the list answers have no `next` field: cursor pagination is not in this build',
    };
  }
  const deepCursor = typeof json.next === 'string' ? json.next : undefined;
  if (deepCursor === undefined)
    throw new Error(`page ${deepTaskPage - 1} of /v1/tasks answered next ${String(json.next)}`);

  const start = '/v1/tasks?order_by=desc';
  const follow = (cursor: string) => `${start}&cursor=${cursor}`;
  // Each connection: page 1, then the next WALK_PAGES pages by their cursors; context starts
  // empty again when autocannon loops back to page 1.
  const remember = (status: number, body: string, context: Record<string, unknown>) => {
    context.next = status === 200 ? nextOf(body) : undefined;
  };
  const walk: autocannon.Request[] = [
    { method: 'GET', path: start, onResponse: remember as autocannon.Request['onResponse'] },
    ...Array.from({ length: WALK_PAGES }, () => ({
      method: 'GET' as const,
      setupRequest: ((req: autocannon.Request, context: Record<string, unknown>) =>
        typeof context.next === 'string'
          ? { ...req, path: follow(context.next) }
          : undefined) as unknown as autocannon.Request['setupRequest'],
      onResponse: remember as autocannon.Request['onResponse'],
    })),
  ];
  // The walk's full check: page 2 by cursor continues page 1 without a gap.
  const first = await get(start);
  const firstNext = nextOf(first.text);
  if (firstNext === undefined) throw new Error(`GET ${start}: no next in ${first.text.slice(0, 200)}`);
  const second = await get(follow(firstNext));
  const ids = (text: string) => (JSON.parse(text) as { items: { id: number }[] }).items.map((r) => r.id);
  const lastOfFirst = ids(first.text).at(-1);
  const firstOfSecond = ids(second.text)[0];
  if (second.status !== 200 || lastOfFirst === undefined || firstOfSecond !== lastOfFirst - 1) {
    throw new Error(
      `following next of ${start}: status ${second.status}, page 2 starts at id ${String(firstOfSecond)} ` +
        `after ${String(lastOfFirst)}: ${second.text.slice(0, 200)}`,
    );
  }
  return {
    scenarios: [
      list('tasks: deep page by cursor (replayed)', `/v1/tasks?cursor=${deepCursor}`, (p) =>
        expect('first id', p.items[0]?.id, (deepTaskPage - 1) * 50 + 1),
      ),
      {
        name: `tasks: following next, newest first (pages 1-${WALK_PAGES + 1})`,
        path: `${start} then &cursor=<next> ×${WALK_PAGES}`,
        requests: walk,
        verify: nonEmptyPage,
        check: () => undefined,
      },
    ],
  };
}
