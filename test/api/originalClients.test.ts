import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pulp_server_repos, repos, task_stages, tasks } from '../../db/schema.js';
import { type ApiHarness, body, startApiHarness, terminateStarted } from './support/apiHarness.js';

// Requests exactly as the original Pulp Manager's clients send them, against the real API on a
// throwaway MariaDB. The shapes come from the original's own router tests
// (pulp_manager/tests/unit/routers/v1/test_*.py: FastAPI TestClient, i.e. python-requests
// encoding: params urlencoded with `+` for spaces, booleans as `True`, a trailing slash on the
// list routes), its README (curl to sync_repos without a token under require_jwt_auth=false)
// and its demo playbook (GET /v1/pulp_servers/1/repos). Where this project deliberately answers
// differently, the test pins the difference that UPGRADING.md's table writes down.

interface Page<T = Record<string, unknown>> {
  items: T[];
  page: number;
  page_size: number;
  total: number;
}
type Task = Record<string, unknown> & { id: number; state: string; worker_job_id: string | null };
type Stage = { name: string; detail: Record<string, unknown> | null };

let h: ApiHarness;
const started: string[] = [];
/** An RQ job id, as a task migrated from the original holds in tasks.workflow_id. */
const rqJobId = randomUUID();
let migratedTask: number;
let mixedCaseRepo: number;

/** python-requests' query encoding (urllib.parse.urlencode): spaces as `+`, True as "True". */
const params = (p: Record<string, string | number | boolean>) =>
  new URLSearchParams(
    Object.entries(p).map(([k, v]): [string, string] => [
      k,
      v === true ? 'True' : v === false ? 'False' : String(v),
    ]),
  );

const jsonHeaders = (token?: string): Record<string, string> => ({
  'Content-Type': 'application/json',
  ...(token ? { Authorization: `Bearer ${token}` } : {}),
});

async function getPage<T = Record<string, unknown>>(path: string): Promise<Page<T>> {
  const res = await h.app.request(path);
  expect(res.status, await res.clone().text()).toBe(200);
  return body<Page<T>>(res);
}

beforeAll(async () => {
  h = await startApiHarness();
  const { alpha } = h.seed.servers;
  // A task and its stages as the database migrated from the original holds them: the RQ job id
  // in workflow_id, stage details written by the original ({msg, task_href}).
  const [task] = await h.db.insert(tasks).values({
    name: 'Repo Sync EXT-MixedCase-Repo',
    task_type: 'repo_sync',
    state: 'completed',
    pulp_server_id: alpha,
    task_args: {},
    date_queued: new Date('2024-04-01T12:00:00Z'),
    worker_name: 'rq-worker-1',
    workflow_id: rqJobId,
  });
  migratedTask = task.insertId;
  await h.db.insert(task_stages).values([
    {
      task_id: migratedTask,
      position: 0,
      name: 'sync repo',
      detail: {
        msg: 'sync repo completed. ',
        task_href: '/pulp/api/v3/tasks/0190aaaa-0000-7000-8000-000000000001/',
      },
    },
    // Written by this project's workflows: state, pulp_task, reason…
    {
      task_id: migratedTask,
      position: 1,
      name: 'publish repo',
      detail: { state: 'completed', pulp_task: '/pulp/api/v3/tasks/0190aaaa-0000-7000-8000-000000000002/' },
    },
    {
      task_id: migratedTask,
      position: 2,
      name: 'remove banned packages',
      detail: { state: 'skipped', reason: 'no banned packages' },
    },
    { task_id: migratedTask, position: 3, name: 'calculate repo health', detail: null },
  ]);
  const [repo] = await h.db.insert(repos).values({ name: 'Ext-MixedCase-Repo', repo_type: 'rpm' });
  mixedCaseRepo = repo.insertId;
  await h.db.insert(pulp_server_repos).values({
    pulp_server_id: alpha,
    repo_id: mixedCaseRepo,
    repo_href: `/pulp/api/v3/repositories/rpm/rpm/${randomUUID()}/`,
  });
}, 60_000);

afterAll(async () => {
  if (h) await terminateStarted(h.temporal, started);
  await h?.close();
});

describe('list routes as the original clients call them', () => {
  // Runs first: later tests add tasks.
  it('GET /v1/tasks/ (trailing slash) with ?state= and ?task_type=', async () => {
    const all = await getPage<Task>('/v1/tasks/');
    expect(all.total).toBe(7);
    const queued = await getPage<Task>(`/v1/tasks/?${params({ state: 'queued' })}`);
    expect(queued.items.map((t) => t.state)).toEqual(['queued']);
    const syncs = await getPage<Task>(`/v1/tasks/?${params({ task_type: 'repo_sync', page_size: 5 })}`);
    expect(syncs.items.map((t) => t.task_type)).toEqual(['repo_sync', 'repo_sync', 'repo_sync']);
  });

  it('GET /v1/pulp_servers/ with ?repo_sync_health_rollup= and a python True', async () => {
    const green = await getPage(`/v1/pulp_servers/?${params({ repo_sync_health_rollup: 'green' })}`);
    expect(green.items.map((s) => s.name)).toEqual([h.seed.serverNames.alpha]);
    const snapshots = await getPage(`/v1/pulp_servers/?${params({ snapshot_supported: true })}`);
    expect(snapshots.items.map((s) => s.name)).toEqual([h.seed.serverNames.alpha]);
    const none = await getPage(`/v1/pulp_servers/?${params({ snapshot_supported: false })}`);
    expect(none.total).toBe(2);
  });

  it('GET /v1/pulp_servers/1/repos (the demo playbook) pages in the original shape', async () => {
    const p = await getPage(`/v1/pulp_servers/${h.seed.servers.alpha}/repos`);
    // The original's four keys with their meaning, plus two a client that does not know them
    // ignores: the cursor of the next page and when the (cached) total was counted.
    expect(Object.keys(p).sort()).toEqual(['items', 'next', 'page', 'page_size', 'total', 'total_as_of']);
    expect(p.total).toBe(5);
  });

  it('ignores query parameters it does not know, as FastAPI did', async () => {
    const { alpha } = h.seed.servers;
    // A filter of another route, an operator the route never had, a client's cache buster.
    expect(
      (await getPage(`/v1/tasks/?${params({ colour: 'blue', name__in: 'a,b', _: 1712345678 })}`)).total,
    ).toBe(7);
    expect(
      (await getPage(`/v1/pulp_servers/${alpha}/repos?${params({ repo_href: 'x', state: 'queued' })}`)).total,
    ).toBe(5);
    const res = await h.app.request(`/v1/tasks/${migratedTask}?${params({ verbose: 1 })}`);
    expect(res.status).toBe(200);
  });

  it.each([
    ['/v1/tasks/', { state: 'finished' }, 'query.state'],
    ['/v1/tasks/', { date_queued__ge: 'yesterday' }, 'query.date_queued__ge'],
    ['/v1/tasks/', { sort_by: 'no_such_column' }, 'query.sort_by'],
    ['/v1/pulp_servers/', { snapshot_supported: 'perhaps' }, 'query.snapshot_supported'],
    ['/v1/pulp_servers/', { name__match: '(' }, 'query.name__match'],
  ])('still answers 422 for a known parameter with a bad value: %s %o', async (path, query, field) => {
    const res = await h.app.request(`${path}?${params(query)}`);
    expect(res.status).toBe(422);
    expect(await body(res)).toMatchObject({ field });
  });

  it('worker_job_id: filter and field (the RQ job id of a migrated task, the workflow id otherwise)', async () => {
    const found = await getPage<Task>(`/v1/tasks/?${params({ worker_job_id: rqJobId })}`);
    expect(found.items.map((t) => t.id)).toEqual([migratedTask]);
    expect(found.items[0]).toMatchObject({ worker_job_id: rqJobId, workflow_id: rqJobId });
    const group = await getPage<Task>(`/v1/tasks/?${params({ task_type: 'repo_group_sync' })}`);
    expect(group.items[0]?.worker_job_id).toBe(`repo-group-sync/${h.seed.serverNames.alpha}/external_repos`);
    expect(group.items[0]?.worker_job_id).toBe(group.items[0]?.workflow_id);
    const one = await body<Task>(await h.app.request(`/v1/tasks/${h.seed.tasks.removal}`));
    expect(one).toHaveProperty('worker_job_id', null);
    const repoTasks = await getPage<Task>(
      `/v1/pulp_servers/${h.seed.servers.alpha}/repos/${h.seed.repos.rpm}/tasks`,
    );
    expect(repoTasks.items[0]).toHaveProperty('worker_job_id');
  });

  it('__match is case-insensitive on the real MariaDB, as with the original collation', async () => {
    const { alpha } = h.seed.servers;
    const repoNames = async (pattern: string) =>
      (
        await getPage(`/v1/pulp_servers/${alpha}/repos?${params({ name__match: pattern, sort_by: 'name' })}`)
      ).items.map((r) => r.name);
    // Sorted by code point (utf8mb4_bin), so upper case first: the original sorted ignoring case.
    expect(await repoNames('^EXT-')).toEqual(['Ext-MixedCase-Repo', 'ext-centos-rpm', 'ext-debian-deb']);
    expect(await repoNames('mixedcase')).toEqual(['Ext-MixedCase-Repo']);
    // The flag covers every alternative, not only the first.
    expect(await repoNames('^EXT-CENTOS|^INT-')).toEqual(['ext-centos-rpm', 'int-tools-file']);
    const taskIds = (
      await getPage<Task>(`/v1/tasks/?${params({ name__match: 'repo sync ext-mixedcase' })}`)
    ).items.map((t) => t.id);
    expect(taskIds).toEqual([migratedTask]);
    const servers = await getPage(`/v1/pulp_servers/?${params({ name__match: '^ALPHA-' })}`);
    expect(servers.items.map((s) => s.name)).toEqual([h.seed.serverNames.alpha]);
  });

  it('takes the date-times a python client sends (naive isoformat, Unix time)', async () => {
    const naive = await getPage<Task>(
      `/v1/tasks/?${params({ date_queued__ge: '2024-04-01T00:00:00', date_queued__le: '2024-04-02T00:00:00.000000' })}`,
    );
    expect(naive.items.map((t) => t.id)).toEqual([migratedTask]);
    const epoch = await getPage<Task>(`/v1/tasks/?${params({ date_queued__ge: 1711929600 })}`);
    expect(epoch.items.map((t) => t.id)).toEqual([migratedTask]);
  });
});

// The fields of the original's response models (pulp_manager/app/schemas/*.py).
const originalFields = {
  page: ['items', 'total', 'page', 'page_size'],
  PulpServer: [
    'id',
    'name',
    'username',
    'vault_service_account_mount',
    'repo_sync_health_rollup',
    'repo_sync_health_rollup_date',
    'snapshot_supported',
    'max_concurrent_snapshots',
    'repo_config_registration_schedule',
    'repo_config_registration_max_runtime',
    'repo_config_registration_regex_include',
    'repo_config_registration_regex_exclude',
    'date_created',
    'date_last_updated',
  ],
  PulpServerRepo: [
    'id',
    'name',
    'repo_type',
    'pulp_server_id',
    'repo_id',
    'repo_href',
    'remote_href',
    'remote_feed',
    'distribution_href',
    'repo_sync_health',
    'repo_sync_health_date',
    'date_created',
    'date_last_updated',
  ],
  PulpServerRepoGroup: [
    'pulp_server_id',
    'repo_group_id',
    'name',
    'schedule',
    'max_concurrent_syncs',
    'max_runtime',
    'date_created',
    'date_last_updated',
  ],
  Task: [
    'id',
    'name',
    'parent_task_id',
    'task_type',
    'task_args',
    'date_queued',
    'date_started',
    'date_finished',
    'state',
    'error',
    'worker_name',
    'worker_job_id',
  ],
  TaskStage: ['id', 'task_id', 'name', 'detail', 'error'],
};

describe("every field of the original's answers is still there", () => {
  const hasAll = (value: unknown, fields: string[], what: string) =>
    expect(Object.keys(value as object), what).toEqual(expect.arrayContaining(fields));

  it('pages, servers, server repos, repo groups, tasks and stages', async () => {
    const { alpha } = h.seed.servers;
    const servers = await getPage('/v1/pulp_servers/');
    hasAll(servers, originalFields.page, 'page');
    hasAll(servers.items[0], originalFields.PulpServer, 'PulpServer');
    hasAll(
      await body(await h.app.request(`/v1/pulp_servers/${alpha}`)),
      originalFields.PulpServer,
      'PulpServer',
    );
    hasAll(
      (await getPage(`/v1/pulp_servers/${alpha}/repos`)).items[0],
      originalFields.PulpServerRepo,
      'repos',
    );
    hasAll(
      await body(await h.app.request(`/v1/pulp_servers/${alpha}/repos/${h.seed.repos.rpm}`)),
      originalFields.PulpServerRepo,
      'repo',
    );
    hasAll(
      (await getPage(`/v1/pulp_servers/${alpha}/repo_groups`)).items[0],
      originalFields.PulpServerRepoGroup,
      'repo_groups',
    );
    hasAll(
      await body(await h.app.request(`/v1/pulp_servers/${alpha}/repo_groups/${h.seed.groups.external}`)),
      originalFields.PulpServerRepoGroup,
      'repo_group',
    );
    hasAll((await getPage('/v1/tasks/')).items[0], originalFields.Task, 'tasks');
    hasAll(
      (await getPage(`/v1/pulp_servers/${alpha}/repos/${h.seed.repos.rpm}/tasks`)).items[0],
      originalFields.Task,
      'repo tasks',
    );
    const detail = await body<Task & { stages: unknown[] }>(await h.app.request(`/v1/tasks/${migratedTask}`));
    hasAll(detail, [...originalFields.Task, 'stages'], 'TaskDetail');
    for (const stage of detail.stages) hasAll(stage, originalFields.TaskStage, 'TaskStage');
  });
});

describe('task detail: the original stage keys beside the new ones', () => {
  it('GET /v1/tasks/{id} answers msg and task_href for every stage that has them', async () => {
    const res = await h.app.request(`/v1/tasks/${migratedTask}`);
    expect(res.status).toBe(200);
    const task = await body<Task & { stages: Stage[] }>(res);
    expect(task.id).toBe(migratedTask);
    expect(task.stages.map((s) => s.detail)).toEqual([
      // Written by the original: answered as it is.
      { msg: 'sync repo completed. ', task_href: '/pulp/api/v3/tasks/0190aaaa-0000-7000-8000-000000000001/' },
      {
        msg: 'publish repo completed',
        task_href: '/pulp/api/v3/tasks/0190aaaa-0000-7000-8000-000000000002/',
        state: 'completed',
        pulp_task: '/pulp/api/v3/tasks/0190aaaa-0000-7000-8000-000000000002/',
      },
      {
        msg: 'remove banned packages skipped: no banned packages',
        state: 'skipped',
        reason: 'no banned packages',
      },
      null,
    ]);
    for (const stage of task.stages) {
      expect(Object.keys(stage)).toEqual(
        expect.arrayContaining(['id', 'task_id', 'name', 'detail', 'error']),
      );
    }
  });
});

describe('cancel (PATCH /v1/tasks/{id}) always needs an admin', () => {
  const cancel = (app: ApiHarness['app'], id: number, token?: string) =>
    app.request(`/v1/tasks/${id}`, {
      method: 'PATCH',
      headers: jsonHeaders(token),
      body: JSON.stringify({ state: 'canceled' }),
    });

  it('even with require_jwt_auth = false: 401 without a token, 403 for a non-admin, 200 for an admin', async () => {
    const open = h.appWith({ ini: { auth: { require_jwt_auth: false } } });
    const id = h.seed.tasks.removal;
    const anonymous = await cancel(open, id);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    expect((await cancel(open, id, await h.tokenFor('bob'))).status).toBe(403);
    const res = await cancel(open, id, await h.tokenFor('alice'));
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await body<Task>(res)).toMatchObject({ id, state: 'canceled', worker_job_id: null });
  });

  it('a task migrated while running (an RQ job id, no workflow) is canceled; a finished one is a 409', async () => {
    const jobId = randomUUID();
    const [row] = await h.db.insert(tasks).values({
      name: 'repo sync ext-centos-rpm',
      task_type: 'repo_sync',
      state: 'running',
      pulp_server_id: h.seed.servers.alpha,
      task_args: {},
      date_queued: new Date('2024-04-02T00:00:00Z'),
      workflow_id: jobId,
    });
    const token = await h.tokenFor('alice');
    const res = await cancel(h.app, row.insertId, token);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await body<Task>(res)).toMatchObject({ state: 'canceled', worker_job_id: jobId });
    const again = await cancel(h.app, row.insertId, token);
    expect(again.status).toBe(409);
    expect(await body(again)).toEqual({ detail: `task ${row.insertId} is already canceled` });
  });
});

describe('auth as the original clients use it', () => {
  it('POST /v1/auth/login {username, password} then GET /v1/auth/token_lookup?token=', async () => {
    const token = await h.tokenFor('alice');
    const res = await h.app.request(`/v1/auth/token_lookup?${params({ token })}`);
    expect(res.status).toBe(200);
    const decoded = await body(res);
    expect(Object.keys(decoded).sort()).toEqual(['expires', 'groups', 'username']);
  });
});

describe('routes that start work, with the bodies of the original tests and README', () => {
  it('README: POST sync_repos without a token under require_jwt_auth = false, max_runtime "3600"', async () => {
    const open = h.appWith({ ini: { auth: { require_jwt_auth: false } } });
    const res = await open.request(`/v1/pulp_servers/${h.seed.servers.alpha}/sync_repos`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"max_runtime": "3600", "max_concurrent_syncs": 2, "regex_include": "^ext-demo"}',
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const task = await body<Task>(res);
    if (typeof task.workflow_id === 'string') started.push(task.workflow_id);
    expect(task).toMatchObject({ task_type: 'repo_group_sync', state: 'queued' });
    expect(task.worker_job_id).toBe(task.workflow_id);
    expect(task.task_args).toMatchObject({
      max_runtime: '3600',
      max_concurrent_syncs: 2,
      regex_include: '^ext-demo',
    });
  });

  it("the original tests' snapshot and sync bodies pass validation (404 names the unknown server)", async () => {
    const token = await h.tokenFor('alice');
    const send = (path: string, payload: unknown) =>
      h.app.request(path, { method: 'POST', headers: jsonHeaders(token), body: JSON.stringify(payload) });
    const snapshot = await send('/v1/pulp_servers/999999/snapshot_repos', {
      max_runtime: '12h',
      snapshot_prefix: 'test-snap',
      allow_snapshot_reuse: true,
      regex_include: '^ext-',
    });
    expect(snapshot.status).toBe(404);
    expect(await body(snapshot)).toEqual({ detail: 'Pulp server not found' });
    const sync = await send('/v1/pulp_servers/999999/sync_repos', {
      max_runtime: '12h',
      max_concurrent_syncs: 2,
      regex_include: '^ext-',
    });
    expect(sync.status).toBe(404);
  });

  it('deliberate differences: max_concurrent_syncs 0 and an unknown body field are 422 (the original: 400, ignored)', async () => {
    const token = await h.tokenFor('alice');
    const send = (payload: unknown) =>
      h.app.request(`/v1/pulp_servers/${h.seed.servers.alpha}/sync_repos`, {
        method: 'POST',
        headers: jsonHeaders(token),
        body: JSON.stringify(payload),
      });
    const zero = await send({ max_runtime: '12h', max_concurrent_syncs: 0, regex_include: '^ext-' });
    expect(zero.status).toBe(422);
    expect(await body(zero)).toMatchObject({ field: 'body.max_concurrent_syncs' });
    const extra = await send({ max_runtime: '12h', max_concurrent_syncs: 1, regex_includes: '^ext-' });
    expect(extra.status).toBe(422);
    expect(await body(extra)).toMatchObject({ field: 'body.regex_includes' });
  });
});

describe('documentation and removed routes', () => {
  it('/docs and /redoc are served', async () => {
    expect((await h.app.request('/docs')).status).toBe(200);
    const redoc = await h.app.request('/redoc');
    expect(redoc.status).toBe(200);
    expect(await redoc.text()).toContain('spec-url="/openapi.json"');
  });

  it('/v1/rq_jobs/* answers 410 and says where to look instead', async () => {
    for (const path of [
      '/v1/rq_jobs/queues',
      '/v1/rq_jobs/queues/default/jobs/failed',
      '/v1/rq_jobs/queues/jobs/abc',
    ]) {
      const res = await h.app.request(path);
      expect(res.status, path).toBe(410);
      expect((await body<{ detail: string }>(res)).detail).toContain('/v1/tasks');
    }
  });
});
