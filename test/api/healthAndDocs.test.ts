import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDatabase, createDatabase, type Database } from '../../db/client.js';
import { type ApiHarness, body, startApiHarness } from './support/apiHarness.js';

let h: ApiHarness;
let downDb: Database;

beforeAll(async () => {
  h = await startApiHarness();
  // Nothing listens on port 1: connections are refused at once.
  downDb = createDatabase({ ...h.config.database, port: 1 });
}, 60_000);

afterAll(async () => {
  await closeDatabase(downDb);
  await h?.close();
});

describe('GET /health and /ready', () => {
  it('/health answers while the process runs', async () => {
    const res = await h.app.request('/health');
    expect(res.status).toBe(200);
    expect(await body(res)).toEqual({ status: 'ok' });
  });

  it('/ready is 200 when the database and Temporal answer', async () => {
    const res = await h.app.request('/ready');
    expect(res.status).toBe(200);
    expect(await body(res)).toEqual({
      status: 'ready',
      checks: { database: { ok: true }, temporal: { ok: true } },
    });
  });

  it('/ready is 503 naming the database when it is unreachable', async () => {
    const res = await h.appWith({ deps: { db: downDb } }).request('/ready');
    expect(res.status).toBe(503);
    const answer = await body<{
      detail: string;
      checks: { database: { ok: boolean }; temporal: { ok: boolean } };
    }>(res);
    expect(answer.detail).toMatch(/^database unreachable \(.*ECONNREFUSED/);
    expect(answer.checks).toMatchObject({ database: { ok: false }, temporal: { ok: true } });
  });

  it('/ready is 503 naming Temporal when it is unreachable', async () => {
    const connection = Connection.lazy({ address: '127.0.0.1:1' });
    try {
      const temporal = new Client({ connection, namespace: 'default' });
      const res = await h.appWith({ deps: { temporal } }).request('/ready');
      expect(res.status).toBe(503);
      const answer = await body<{ detail: string }>(res);
      expect(answer.detail).toMatch(/^temporal unreachable/);
    } finally {
      await connection.close().catch(() => undefined);
    }
  }, 20_000);

  it('a read while the database is down is a 503, not a 500', async () => {
    const res = await h.appWith({ deps: { db: downDb } }).request('/v1/tasks');
    expect(res.status).toBe(503);
    expect(await body(res)).toEqual({ detail: 'database is unreachable; try again later' });
  });
});

describe('request ids', () => {
  it('every answer carries one, and a caller-supplied one is kept', async () => {
    const res = await h.app.request('/health');
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const mine = await h.app.request('/health', { headers: { 'X-Request-Id': 'trace-123' } });
    expect(mine.headers.get('x-request-id')).toBe('trace-123');
    expect(h.logs.some((l) => l.includes('"request_id":"trace-123"') && l.includes('"path":"/health"'))).toBe(
      true,
    );
  });
});

describe('OpenAPI document and Swagger UI', () => {
  const routes = [
    ['get', '/v1/pulp_servers'],
    ['get', '/v1/pulp_servers/repo_health_statuses'],
    ['get', '/v1/pulp_servers/{id}'],
    ['get', '/v1/pulp_servers/{id}/repos'],
    ['get', '/v1/pulp_servers/{id}/repos/{repo_id}'],
    ['get', '/v1/pulp_servers/{id}/repos/{repo_id}/tasks'],
    ['get', '/v1/pulp_servers/{id}/repo_groups'],
    ['get', '/v1/pulp_servers/{id}/repo_groups/{repo_group_id}'],
    ['post', '/v1/pulp_servers/{id}/sync_repos'],
    ['post', '/v1/pulp_servers/{id}/snapshot_repos'],
    ['post', '/v1/pulp_servers/{id}/remove_repos'],
    ['post', '/v1/pulp_servers/{id}/repos/{repo_id}/remove_repo_content'],
    ['post', '/v1/pulp_servers/{id}/repos/{repo_id}/find_package_content'],
    ['get', '/v1/tasks'],
    ['get', '/v1/tasks/task_types'],
    ['get', '/v1/tasks/task_states'],
    ['get', '/v1/tasks/{id}'],
    ['patch', '/v1/tasks/{id}'],
    ['post', '/v1/auth/login'],
    ['get', '/v1/auth/token_lookup'],
    ['get', '/v1/schedules'],
    ['get', '/v1/schedules/{schedule_id}'],
    ['post', '/v1/schedules/{schedule_id}/trigger'],
    ['post', '/v1/schedules/{schedule_id}/pause'],
    ['post', '/v1/schedules/{schedule_id}/unpause'],
    ['get', '/health'],
    ['get', '/ready'],
  ] as const;

  type Operation = {
    security?: unknown[];
    responses: Record<string, unknown>;
    parameters?: { name: string; in: string }[];
  };
  type Doc = {
    openapi: string;
    paths: Record<string, Record<string, Operation>>;
    components: Record<string, Record<string, unknown>>;
  };

  it('/openapi.json documents every route, and nothing else', async () => {
    const doc = await body<Doc>(await h.app.request('/openapi.json'));
    expect(doc.openapi).toBe('3.0.3');
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m} ${p}`),
    );
    expect(documented.sort()).toEqual(routes.map(([m, p]) => `${m} ${p}`).sort());
  });

  it('marks the mutating routes as needing the bearer token, and documents list filters', async () => {
    const doc = await body<Doc>(await h.app.request('/openapi.json'));
    expect(doc.components.securitySchemes?.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const [method, p] of routes) {
      const op = doc.paths[p]?.[method];
      const mutating = method !== 'get' && !p.endsWith('find_package_content') && p !== '/v1/auth/login';
      expect(op?.security ?? [], `${method} ${p}`).toEqual(mutating ? [{ bearerAuth: [] }] : []);
      if (mutating)
        expect(Object.keys(op?.responses ?? {})).toEqual(expect.arrayContaining(['401', '403', '422']));
    }
    const taskParams = doc.paths['/v1/tasks']?.get?.parameters?.map((p) => p.name) ?? [];
    expect(taskParams).toEqual(
      expect.arrayContaining([
        'state',
        'name__match',
        'date_queued__le',
        'date_finished__ge',
        'sort_by',
        'order_by',
        'page',
        'page_size',
      ]),
    );
  });

  it('/docs is Swagger UI served from the API itself, no CDN', async () => {
    const page = await h.app.request('/docs');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('/docs/assets/swagger-ui-dist/swagger-ui-bundle.js');
    expect(html).toContain("url: '/openapi.json'");
    expect(html).not.toMatch(/https?:\/\//);
    const script = await h.app.request('/docs/assets/swagger-ui-dist/swagger-ui-bundle.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toContain('javascript');
    expect((await script.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    expect((await h.app.request('/docs/assets/swagger-ui-dist/swagger-ui.css')).status).toBe(200);
    expect((await h.app.request('/docs/assets/swagger-ui-dist/package.json')).status).toBe(404);
  });

  it('/redoc is ReDoc over the same document, its script served from the API itself', async () => {
    const page = await h.app.request('/redoc');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain('<redoc spec-url="/openapi.json">');
    expect(html).toContain('<script src="/redoc/assets/redoc.standalone.js">');
    expect(html).not.toMatch(/https?:\/\//);
    const script = await h.app.request('/redoc/assets/redoc.standalone.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toContain('javascript');
    const text = await script.text();
    expect(text.length).toBeGreaterThan(500_000);
    expect(text).toContain('Redoc');
  });
});
