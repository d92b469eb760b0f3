import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, body, startApiHarness } from './support/apiHarness.js';

// The read routes against a real MariaDB holding a small seeded fleet (support/seed.ts).
// Paging of the harness: default_page_size 4, max_page_size 5.

interface Page<T = Record<string, unknown>> {
  items: T[];
  page: number;
  page_size: number;
  total: number;
}

let h: ApiHarness;
const get = (path: string) => h.app.request(path);
async function page<T = Record<string, unknown>>(path: string): Promise<Page<T>> {
  const res = await get(path);
  expect(res.status, await res.clone().text()).toBe(200);
  return body<Page<T>>(res);
}
const names = (p: Page) => p.items.map((i) => i.name);

beforeAll(async () => {
  h = await startApiHarness();
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('GET /v1/pulp_servers', () => {
  it('pages every server with the original paging shape', async () => {
    const p = await page('/v1/pulp_servers');
    expect(p).toMatchObject({ page: 1, page_size: 4, total: 3 });
    expect(p.items[0]).toMatchObject({
      id: h.seed.servers.alpha,
      name: h.seed.serverNames.alpha,
      snapshot_supported: true,
      repo_sync_health_rollup: 'green',
      repo_sync_health_rollup_date: '2024-01-10T00:00:00.000Z',
    });
  });

  it('filters by exact value, regex, enum, boolean and date bounds', async () => {
    const { alpha, beta } = h.seed.serverNames;
    expect(names(await page(`/v1/pulp_servers?name=${encodeURIComponent(beta)}`))).toEqual([beta]);
    expect(names(await page('/v1/pulp_servers?name__match=^alpha-'))).toEqual([alpha]);
    expect(names(await page('/v1/pulp_servers?repo_sync_health_rollup=red'))).toEqual([beta]);
    expect(names(await page('/v1/pulp_servers?snapshot_supported=true'))).toEqual([alpha]);
    expect(names(await page('/v1/pulp_servers?repo_sync_health_rollup_date__ge=2024-02-01'))).toEqual([beta]);
    expect(
      names(await page('/v1/pulp_servers?repo_sync_health_rollup_date__le=2024-01-31T23:59:59Z')),
    ).toEqual([alpha]);
  });

  it('sorts by a field in either order', async () => {
    const { alpha, beta, primary } = h.seed.serverNames;
    const desc = names(await page('/v1/pulp_servers?sort_by=name&order_by=desc'));
    expect(desc).toEqual([alpha, beta, primary].sort().reverse());
  });

  it('clamps page_size to [paging] max_page_size and says so', async () => {
    const p = await page('/v1/tasks?page_size=1000');
    expect(p.page_size).toBe(5);
    expect(p.items).toHaveLength(5);
  });

  it.each([
    ['name__match=(', 'query.name__match'],
    ['repo_sync_health_rollup=purple', 'query.repo_sync_health_rollup'],
    ['repo_sync_health_rollup_date__le=yesterday', 'query.repo_sync_health_rollup_date__le'],
    ['snapshot_supported=maybe', 'query.snapshot_supported'],
    ['sort_by=password', 'query.sort_by'],
    ['order_by=up', 'query.order_by'],
    ['page=0', 'query.page'],
    ['page_size=abc', 'query.page_size'],
    ['name=a&name=b', 'query.name'],
  ])('answers 422 naming the parameter for ?%s', async (query, field) => {
    const res = await get(`/v1/pulp_servers?${query}`);
    expect(res.status).toBe(422);
    const err = await body<{ detail: string; field: string }>(res);
    expect(err.field).toBe(field);
    expect(err.detail).toContain(field.replace('query.', ''));
  });

  it('keeps the trailing-slash form of the original', async () => {
    expect((await get('/v1/pulp_servers/')).status).toBe(200);
  });

  it('lists the repo health statuses', async () => {
    expect(await body(await get('/v1/pulp_servers/repo_health_statuses'))).toEqual(['green', 'amber', 'red']);
  });

  it('answers one server by id, 404 for an unknown one and 422 for a malformed id', async () => {
    const res = await get(`/v1/pulp_servers/${h.seed.servers.beta}`);
    expect(await body(res)).toMatchObject({ name: h.seed.serverNames.beta, repo_sync_health_rollup: 'red' });
    const missing = await get('/v1/pulp_servers/999999');
    expect(missing.status).toBe(404);
    expect(await body(missing)).toEqual({ detail: 'Pulp server not found' });
    const malformed = await get('/v1/pulp_servers/abc');
    expect(malformed.status).toBe(422);
    expect(await body(malformed)).toMatchObject({ field: 'path.id' });
  });
});

describe('GET /v1/pulp_servers/{id}/repos', () => {
  const repos = (query = '') => page(`/v1/pulp_servers/${h.seed.servers.alpha}/repos${query}`);

  it('lists the repos of one server with their names and types', async () => {
    const p = await repos('?sort_by=name');
    expect(p.total).toBe(4);
    expect(names(p)).toEqual([
      'ext-centos-rpm',
      'ext-debian-deb',
      'int-tools-file',
      'snap-2024-01-ext-centos-rpm',
    ]);
    expect(p.items[0]).toMatchObject({
      repo_type: 'rpm',
      repo_sync_health: 'green',
      pulp_server_id: h.seed.servers.alpha,
    });
  });

  it('filters by name regex, type, health and health date, and pages', async () => {
    expect(names(await repos('?name__match=^ext-&sort_by=name'))).toEqual([
      'ext-centos-rpm',
      'ext-debian-deb',
    ]);
    expect(names(await repos('?repo_type=file'))).toEqual(['int-tools-file']);
    expect(names(await repos('?repo_sync_health=amber'))).toEqual(['ext-debian-deb']);
    expect(names(await repos('?repo_sync_health_date__le=2024-01-06&sort_by=repo_sync_health_date'))).toEqual(
      ['ext-centos-rpm', 'ext-debian-deb'],
    );
    const second = await repos('?sort_by=name&order_by=desc&page=2&page_size=3');
    expect(second).toMatchObject({ page: 2, page_size: 3, total: 4 });
    expect(names(second)).toEqual(['ext-centos-rpm']);
  });

  it('ignores an unknown filter (as the original did) and answers 404 for an unknown server', async () => {
    expect((await repos('?repo_href=x')).total).toBe(4);
    expect((await get('/v1/pulp_servers/999999/repos')).status).toBe(404);
  });

  it('answers one server repo by repo id, 404 when the server does not hold it', async () => {
    const one = await body(await get(`/v1/pulp_servers/${h.seed.servers.alpha}/repos/${h.seed.repos.deb}`));
    expect(one).toMatchObject({ name: 'ext-debian-deb', repo_type: 'deb', id: h.seed.serverRepos.alphaDeb });
    const res = await get(`/v1/pulp_servers/${h.seed.servers.beta}/repos/${h.seed.repos.deb}`);
    expect(res.status).toBe(404);
    expect(await body(res)).toEqual({ detail: 'Repo not found' });
  });

  it('lists the tasks that touched a server repo, with task filters', async () => {
    const { alpha } = h.seed.servers;
    const rpmTasks = await page(`/v1/pulp_servers/${alpha}/repos/${h.seed.repos.rpm}/tasks`);
    expect(rpmTasks.items.map((t) => t.id)).toEqual([h.seed.tasks.syncOk]);
    const failed = await page(`/v1/pulp_servers/${alpha}/repos/${h.seed.repos.deb}/tasks?state=failed`);
    expect(failed.items).toHaveLength(1);
    expect(failed.items[0]).toMatchObject({
      id: h.seed.tasks.syncFailed,
      error: { msg: 'Pulp task failed' },
    });
    expect(
      (await page(`/v1/pulp_servers/${alpha}/repos/${h.seed.repos.deb}/tasks?state=completed`)).total,
    ).toBe(0);
    expect((await get(`/v1/pulp_servers/${alpha}/repos/999999/tasks`)).status).toBe(404);
  });
});

describe('GET /v1/pulp_servers/{id}/repo_groups', () => {
  it('lists the groups linked to a server with their link settings', async () => {
    const p = await page(`/v1/pulp_servers/${h.seed.servers.alpha}/repo_groups?sort_by=name`);
    expect(names(p)).toEqual(['external_repos', 'internal_repos']);
    expect(p.items[0]).toMatchObject({
      schedule: '0 1 * * *',
      max_concurrent_syncs: 2,
      max_runtime: '6h',
      regex_include: '^ext-',
    });
  });

  it('answers one link by group id, with the primary it syncs from; 404 otherwise', async () => {
    const link = await body(
      await get(`/v1/pulp_servers/${h.seed.servers.beta}/repo_groups/${h.seed.groups.external}`),
    );
    expect(link).toMatchObject({
      name: 'external_repos',
      pulp_master_id: h.seed.servers.alpha,
      max_runtime: '1d',
    });
    const res = await get(`/v1/pulp_servers/${h.seed.servers.beta}/repo_groups/${h.seed.groups.internal}`);
    expect(res.status).toBe(404);
    expect(await body(res)).toEqual({ detail: 'Repo group not found' });
  });
});

describe('GET /v1/tasks', () => {
  const ids = (p: Page) => p.items.map((t) => t.id);

  it('filters by type, state, parent, worker, server, name regex and date bounds', async () => {
    const t = h.seed.tasks;
    expect(ids(await page('/v1/tasks?task_type=repo_sync'))).toEqual([t.syncOk, t.syncFailed]);
    expect(ids(await page('/v1/tasks?state=running'))).toEqual([t.snapshot]);
    expect(ids(await page(`/v1/tasks?parent_task_id=${t.groupSync}`))).toEqual([t.syncOk, t.syncFailed]);
    expect(ids(await page('/v1/tasks?worker_name=worker-2'))).toEqual([t.snapshot]);
    expect(ids(await page(`/v1/tasks?pulp_server_id=${h.seed.servers.beta}`))).toEqual([
      t.removal,
      t.content,
    ]);
    expect(ids(await page('/v1/tasks?name__match=^repo sync ext-'))).toEqual([t.syncOk, t.syncFailed]);
    expect(
      ids(await page('/v1/tasks?date_queued__ge=2024-03-02&date_queued__le=2024-03-03T00:00:00Z')),
    ).toEqual([t.snapshot, t.removal]);
  });

  it('sorts by date and by state (in the order of the states list), and pages', async () => {
    const t = h.seed.tasks;
    const byDate = await page('/v1/tasks?sort_by=date_queued&order_by=desc&page_size=2');
    expect(byDate).toMatchObject({ page: 1, page_size: 2, total: 6 });
    expect(ids(byDate)).toEqual([t.content, t.removal]);
    const byState = await page('/v1/tasks?sort_by=state&page_size=5');
    expect(byState.items.map((i) => i.state)).toEqual([
      'queued',
      'running',
      'completed',
      'completed',
      'failed',
    ]);
    expect(ids(await page('/v1/tasks?page=2'))).toEqual([t.removal, t.content]);
  });

  it.each([
    ['state=finished', 'query.state'],
    ['task_type=backup', 'query.task_type'],
    ['date_started__ge=03/02/2024', 'query.date_started__ge'],
    ['parent_task_id=one', 'query.parent_task_id'],
  ])('answers 422 for ?%s', async (query, field) => {
    const res = await get(`/v1/tasks?${query}`);
    expect(res.status).toBe(422);
    expect(await body(res)).toMatchObject({ field });
  });

  it('lists task types and states', async () => {
    expect(await body(await get('/v1/tasks/task_types'))).toContain('repo_group_sync');
    expect(await body(await get('/v1/tasks/task_states'))).toEqual([
      'queued',
      'running',
      'completed',
      'failed',
      'canceled',
      'failed_to_start',
      'skipped',
    ]);
  });

  it('answers one task with its stages ordered by position; 404 and 422 otherwise', async () => {
    const task = await body<{ stages: { position: number; name: string }[] }>(
      await get(`/v1/tasks/${h.seed.tasks.syncOk}`),
    );
    expect(task).toMatchObject({
      id: h.seed.tasks.syncOk,
      parent_task_id: h.seed.tasks.groupSync,
      state: 'completed',
    });
    expect(task.stages.map((s) => [s.position, s.name])).toEqual([
      [0, 'sync repo'],
      [1, 'remove banned packages'],
      [2, 'publish repo'],
    ]);
    const missing = await get('/v1/tasks/999999');
    expect(missing.status).toBe(404);
    expect(await body(missing)).toEqual({ detail: 'Task not found' });
    expect((await get('/v1/tasks/1.5')).status).toBe(422);
  });
});

describe('keyset pagination beside page numbers', () => {
  interface KeysetPage extends Page {
    next: string | null;
    total_as_of: string;
  }
  const walk = async (path: string): Promise<{ ids: unknown[]; pages: KeysetPage[] }> => {
    const pages: KeysetPage[] = [];
    let url = path;
    for (;;) {
      const p = await page<Record<string, unknown>>(url);
      pages.push(p as KeysetPage);
      const { next } = p as KeysetPage;
      if (next === null) break;
      url = `${path}${path.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(next)}`;
    }
    return { ids: pages.flatMap((p) => p.items.map((i) => i.id)), pages };
  };

  it('follows next to the same rows, in the same order, as page numbers; next is null on the last page', async () => {
    for (const query of [
      '',
      '?order_by=desc',
      '?sort_by=date_queued&order_by=desc',
      '?sort_by=state&page_size=2',
    ]) {
      const byCursor = await walk(`/v1/tasks${query}`);
      const byPage: unknown[] = [];
      for (let n = 1; n <= byCursor.pages.length; n++) {
        const sep = query === '' ? '?' : '&';
        byPage.push(...(await page(`/v1/tasks${query}${sep}page=${n}`)).items.map((i) => i.id));
      }
      expect(byCursor.ids, query).toEqual(byPage);
      expect(new Set(byCursor.ids).size, query).toBe(byCursor.pages[0]?.total);
      expect(byCursor.pages.map((p) => p.page)).toEqual(byCursor.pages.map((_, i) => i + 1));
      expect(Number.isNaN(Date.parse(byCursor.pages[0]?.total_as_of ?? ''))).toBe(false);
    }
  });

  it('refuses a cursor that is not one, or of another sort, or with page, with a 422 naming cursor', async () => {
    const { next } = (await page('/v1/tasks?sort_by=name')) as unknown as { next: string };
    const bad = [
      '/v1/tasks?cursor=garbage!',
      '/v1/tasks?cursor=e30',
      `/v1/tasks?sort_by=state&cursor=${next}`,
      `/v1/tasks?sort_by=name&order_by=desc&cursor=${next}`,
      `/v1/tasks?sort_by=name&page=2&cursor=${next}`,
    ];
    for (const path of bad) {
      const res = await get(path);
      expect(res.status, path).toBe(422);
      expect(await body(res), path).toMatchObject({ field: 'query.cursor' });
    }
  });

  it('refuses a __match pattern longer than 256 characters with a 422 naming it', async () => {
    const res = await get(`/v1/tasks?name__match=${'x'.repeat(257)}`);
    expect(res.status).toBe(422);
    expect(await body(res)).toMatchObject({ field: 'query.name__match' });
  });
});

describe('unknown paths', () => {
  it('answer 404 with a JSON detail', async () => {
    const res = await get('/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(await body(res)).toEqual({ detail: 'Not found' });
  });
});
