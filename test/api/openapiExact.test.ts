import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PAGE } from '../../api/schemas/listParams.js';
import { type ApiHarness, body, startApiHarness } from './support/apiHarness.js';

// What the OpenAPI document says the list parameters, bodies and methods are, against what the
// API does with them: the same rules, so that a schema-driven client is neither refused for a
// value the document allows nor answered for one it does not (schemathesis.test.ts runs the
// generated version of this).

type Schema = {
  type?: string;
  enum?: string[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  anyOf?: Schema[];
  required?: string[];
};
type Doc = {
  paths: Record<
    string,
    Record<string, { parameters?: { name: string; schema: Schema }[]; responses: Record<string, unknown> }>
  >;
  components: { schemas: Record<string, Schema> };
};

let h: ApiHarness;
let doc: Doc;

beforeAll(async () => {
  h = await startApiHarness();
  doc = await body<Doc>(await h.app.request('/openapi.json'));
}, 60_000);

afterAll(async () => {
  await h?.close();
});

function param(path: string, name: string): Schema {
  const found = doc.paths[path]?.get?.parameters?.find((p) => p.name === name);
  if (found === undefined) throw new Error(`${path} documents no ${name}`);
  return found.schema;
}

describe('list query parameters are typed as the list layer parses them', () => {
  it('enums, integers with bounds, sort fields and order', () => {
    expect(param('/v1/tasks', 'state').enum).toContain('failed_to_start');
    expect(param('/v1/tasks', 'parent_task_id')).toMatchObject({ type: 'integer' });
    expect(param('/v1/tasks', 'page')).toMatchObject({ type: 'integer', minimum: 1, maximum: MAX_PAGE });
    expect(param('/v1/tasks', 'page_size')).toMatchObject({ type: 'integer', minimum: 1 });
    expect(param('/v1/tasks', 'sort_by').enum).toEqual(
      expect.arrayContaining(['id', 'date_queued', 'state']),
    );
    expect(param('/v1/tasks', 'order_by').enum).toEqual(['asc', 'desc']);
    expect(param('/v1/tasks', 'name__match').maxLength).toBeGreaterThan(0);
    expect(param('/v1/pulp_servers/{id}/repos', 'repo_sync_health').enum).toEqual(['green', 'amber', 'red']);
    expect(param('/v1/schedules', 'page_size').maximum).toBeGreaterThan(0);
  });

  it('every boolean spelling the pattern allows is accepted, and others are refused', async () => {
    const pattern = new RegExp(param('/v1/pulp_servers', 'snapshot_supported').pattern ?? '');
    for (const value of ['true', 'FALSE', 'Yes', 'no', 'ON', 'off', 't', 'F', 'y', 'N', '1', '0']) {
      expect(pattern.test(value), value).toBe(true);
      expect((await h.app.request(`/v1/pulp_servers?snapshot_supported=${value}`)).status, value).toBe(200);
    }
    for (const value of ['', 'maybe', '2', 'truee', ' true']) {
      expect(pattern.test(value), value).toBe(false);
      const res = await h.app.request(`/v1/pulp_servers?snapshot_supported=${encodeURIComponent(value)}`);
      expect(res.status, value).toBe(422);
      expect(await body(res)).toMatchObject({ field: 'query.snapshot_supported' });
    }
  });

  it('dates: ISO 8601 date, date-time or Unix time; anything else is a 422 naming the parameter', async () => {
    expect(
      param('/v1/tasks', 'date_queued__ge').anyOf?.map((s) => s.pattern ?? (s as { format?: string }).format),
    ).toEqual(['date', 'date-time', expect.any(String)]);
    for (const value of ['2024-05-01', '2024-05-01T10:00:00Z', '2024-05-01T10:00:00.5+02:00', '1714557600']) {
      expect(
        (await h.app.request(`/v1/tasks?date_queued__ge=${encodeURIComponent(value)}`)).status,
        value,
      ).toBe(200);
    }
    for (const value of ['2024-02-30', 'yesterday', '']) {
      const res = await h.app.request(`/v1/tasks?date_queued__ge=${encodeURIComponent(value)}`);
      expect(res.status, value).toBe(422);
      expect(await body(res)).toMatchObject({ field: 'query.date_queued__ge' });
    }
  });

  it('integers outside the documented bounds are refused, those inside accepted', async () => {
    expect((await h.app.request(`/v1/tasks?page=${MAX_PAGE}`)).status).toBe(200);
    expect((await h.app.request(`/v1/tasks?page=${MAX_PAGE + 1}`)).status).toBe(422);
    expect((await h.app.request('/v1/tasks?page_size=999999999999999')).status).toBe(200);
    expect((await h.app.request('/v1/tasks?pulp_server_id=-5')).status).toBe(200);
    expect((await h.app.request('/v1/tasks?pulp_server_id=1.5')).status).toBe(422);
  });
});

describe('bodies and answers', () => {
  it('find_package_content says "at least one of name, version, sha256" in the document', () => {
    const schema = doc.components.schemas.FindPackageContentRequest;
    expect(schema?.anyOf?.map((s) => s.required)).toEqual([['name'], ['version'], ['sha256']]);
  });

  it('a route with a JSON body documents 400, 413, 415 and 422; login documents 429', () => {
    for (const [path, method] of [
      ['/v1/auth/login', 'post'],
      ['/v1/pulp_servers/{id}/sync_repos', 'post'],
      ['/v1/tasks/{id}', 'patch'],
      ['/v1/schedules/{schedule_id}/pause', 'post'],
    ] as const) {
      const responses = Object.keys(doc.paths[path]?.[method]?.responses ?? {});
      expect(responses, `${method} ${path}`).toEqual(expect.arrayContaining(['400', '413', '415', '422']));
    }
    expect(Object.keys(doc.paths['/v1/auth/login']?.post?.responses ?? {})).toContain('429');
  });
});

describe('methods', () => {
  it('a path the API serves, asked with another method, is a 405 with Allow', async () => {
    for (const [method, path, allow] of [
      ['OPTIONS', '/v1/tasks', 'GET'],
      ['DELETE', `/v1/tasks/${h.seed.tasks.syncOk}`, 'GET, PATCH'],
      // The static path wins over /v1/tasks/{id}: no token check answers first.
      ['PATCH', '/v1/tasks/task_types', 'GET'],
      ['GET', '/v1/auth/login', 'POST'],
      ['PUT', '/v1/pulp_servers/', 'GET'],
    ] as const) {
      const res = await h.app.request(path, { method });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get('Allow'), `${method} ${path}`).toBe(allow);
      expect(await body(res)).toEqual({ detail: 'Method Not Allowed' });
    }
  });

  it('HEAD of a GET route is answered; an unknown path is still a 404', async () => {
    expect((await h.app.request('/health', { method: 'HEAD' })).status).toBe(200);
    expect((await h.app.request('/v1/nothing', { method: 'DELETE' })).status).toBe(404);
  });
});
