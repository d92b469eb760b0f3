// The requests of the API latency bench: each list endpoint of the API as an operator (or a
// dashboard) calls it on the seeded fleet, first pages and deep ones, filtered and sorted. Each
// comes with a full check of one answer (run before the load) and a cheap check of every answer
// under load, so that an error page or an empty list cannot pass as a fast answer.
import type { SeededFleet } from './seedLargeFleet.js';

export interface ApiScenario {
  name: string;
  path: string;
  /** Under load, on the raw body: cheap string checks only (it runs in the load generator). */
  verify(body: string): boolean;
  /** Before the load, on the parsed body: what is wrong with it, or undefined. */
  check(json: unknown): string | undefined;
  /** What bounds its cost when that is more than an index range (from EXPLAIN on the seeded fleet). */
  cost?: string;
}

// Measured with EXPLAIN and SHOW PROFILES on the seeded fleet, one query at a time. The total of
// a page is an exact COUNT: InnoDB counts index entry by index entry (~80-100 ns each).
const costs: Readonly<Record<string, string>> = {
  'server repos: red, by name': 'sorts the ~800 red repos of the server by name through the repos join',
  'server repos: name regex, 100 a page':
    "REGEXP on each of the server's 10,000 repo names, for the page and the count",
  tasks: 'COUNT of all 100,000 tasks (~8 ms)',
  'tasks: newest first': 'COUNT of all 100,000 tasks (~8 ms)',
  'tasks: deep page':
    'OFFSET 74,950 over the primary key (~10 ms) and the COUNT of all 100,000 tasks (~8 ms)',
  'tasks: completed, 500 a page, newest first':
    'COUNT of the ~82,000 completed tasks (~10 ms) and 500 rows (~300 KB of JSON) per answer',
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
