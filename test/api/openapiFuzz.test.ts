import { like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PulpServerClients } from '../../activities/pulp/serverClients.js';
import type { ApiApp } from '../../api/context.js';
import { tasks } from '../../db/schema.js';
import { stackPulpClient } from '../support/pulp.js';
import { stack } from '../support/stack.js';
import { type ApiHarness, body, startApiHarness } from './support/apiHarness.js';

// Schema-driven fuzzing: every operation of /openapi.json gets CASES requests whose path
// parameters, query parameters and JSON bodies are built from the document and then broken
// (wrong types, hostile strings, missing and unknown fields, non-JSON). Nothing may answer
// 5xx: bad input is the client's fault. Seeded, so a failure replays identically.
// Every server is read through the stack's real Pulp primary, and workflows that a valid
// body starts land on the test's task queue (no worker) and are terminated afterwards.
// A longer run: API_FUZZ_CASES=400 API_FUZZ_SEED=<n> npx vitest run --project unit test/api/openapiFuzz.test.ts

const CASES = Number(process.env.API_FUZZ_CASES ?? 40);
const SEED = Number(process.env.API_FUZZ_SEED ?? 0x5eed);

type Schema = {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  nullable?: boolean;
  example?: unknown;
};
type Parameter = { name: string; in: 'path' | 'query'; schema?: Schema };
type Operation = {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
};
type Doc = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
};

function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let h: ApiHarness;
let app: ApiApp;
let doc: Doc;
let token: string;
const random = prng(SEED);
const chance = (p: number) => random() < p;
function pick<T>(values: readonly T[]): T {
  return values[Math.floor(random() * values.length)] as T;
}

const hostileStrings = [
  '',
  ' ',
  'a',
  '0',
  '-1',
  '1.5',
  '1e3',
  '99999999999999999999',
  'null',
  'true',
  '%00',
  '\u0000',
  '%2F..%2F',
  '../../etc/passwd',
  "'; DROP TABLE tasks; --",
  '(',
  '[z-a]',
  '*)(uid=*',
  '\\',
  'ünïcødé ✓',
  '2024-13-45',
  '2024-01-01T00:00:00+25:00',
  '20m',
  '1d',
  'snap-',
  '/pulp/api/v3/content/rpm/packages/00000000-0000-0000-0000-000000000000/',
  'x'.repeat(3000),
];
const hostileNumbers = [-1, 0, 1, 2, 3, 1.5, 2 ** 31, 2 ** 53, Number.MAX_SAFE_INTEGER, -0];
// Values a well-meaning client sends, so that half of the requests get past validation.
const plausibleStrings = [
  '1h',
  '300',
  '^ext-',
  '-old$',
  'ext-centos-rpm',
  'pm-hello',
  '2024-05',
  'canceled',
  'queued',
];
const plausibleQueryValues = [
  '1',
  '2',
  'asc',
  'desc',
  'name',
  'state',
  'green',
  'rpm',
  'true',
  'repo_sync',
  '2024-03-01',
];

/** Half the cases are plausible requests with few faults, half are hostile. */
let hostile = true;

function resolve(schema: Schema): Schema {
  if (schema.$ref) return resolve(doc.components.schemas[schema.$ref.split('/').at(-1) ?? ''] ?? {});
  if (schema.allOf?.length) return resolve(schema.allOf[0] ?? {});
  if (schema.anyOf?.length) return resolve(pick(schema.anyOf));
  if (schema.oneOf?.length) return resolve(pick(schema.oneOf));
  return schema;
}

function anyValue(depth = 0): unknown {
  const kind = pick(['string', 'number', 'bool', 'null', 'array', 'object']);
  if (kind === 'string') return pick(hostileStrings);
  if (kind === 'number') return pick(hostileNumbers);
  if (kind === 'bool') return chance(0.5);
  if (kind === 'null') return null;
  if (depth > 2) return {};
  if (kind === 'array') return [anyValue(depth + 1)];
  return { [pick(['a', 'name', '__proto__', 'constructor'])]: anyValue(depth + 1) };
}

/** A value for the schema: mostly plausible, often of the wrong kind. */
function valueFor(raw: Schema, depth = 0): unknown {
  const schema = resolve(raw);
  if (chance(hostile ? 0.15 : 0.02)) return anyValue(depth);
  if (schema.enum && chance(0.8)) return pick(schema.enum);
  if (schema.example !== undefined && chance(hostile ? 0.4 : 0.6)) return schema.example;
  switch (schema.type) {
    case 'string':
      return pick(hostile ? hostileStrings : plausibleStrings);
    case 'integer':
    case 'number':
      return hostile ? pick(hostileNumbers) : pick([1, 2, 3]);
    case 'boolean':
      return chance(0.8) ? chance(0.5) : pick(['true', 0, null]);
    case 'array':
      return [valueFor(schema.items ?? {}, depth + 1)];
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [key, prop] of Object.entries(schema.properties ?? {})) {
        if (chance(hostile ? 0.75 : 0.9)) out[key] = valueFor(prop, depth + 1);
      }
      if (chance(0.2)) out[pick(['extra', 'password', 'taskId'])] = anyValue(depth + 1);
      return out;
    }
    default:
      return anyValue(depth);
  }
}

function pathValue(name: string): string {
  const ids: Record<string, number[]> = {
    id: [...Object.values(h.seed.servers), ...Object.values(h.seed.tasks)],
    repo_id: Object.values(h.seed.repos),
    repo_group_id: Object.values(h.seed.groups),
  };
  if (name === 'schedule_id' && chance(0.5))
    return `repo-group-sync/${pick(['x', h.seed.serverNames.alpha])}/${pick(['g', ''])}`;
  const known = ids[name];
  if (known && chance(hostile ? 0.5 : 0.9)) return String(pick(known));
  return pick(hostileStrings);
}

function buildRequest(path: string, method: string, op: Operation): { url: string; init: RequestInit } {
  let url = path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(pathValue(name)));
  const query = new URLSearchParams();
  for (const p of op.parameters ?? []) {
    if (p.in !== 'query' || !chance(hostile ? 0.3 : 0.1)) continue;
    query.append(
      p.name,
      hostile ? String(valueFor(p.schema ?? { type: 'string' })) : pick(plausibleQueryValues),
    );
  }
  if (hostile && chance(0.1)) query.append(pick(['unknown', 'id', 'sort_by', 'page']), pick(hostileStrings));
  if (query.size > 0) url += `?${query}`;

  const headers: Record<string, string> = {};
  if (hostile ? chance(0.9) : chance(0.97)) headers.Authorization = `Bearer ${token}`;
  const init: RequestInit = { method: method.toUpperCase(), headers };
  const schema = op.requestBody?.content['application/json']?.schema;
  if (schema) {
    const how = hostile ? random() : 1;
    headers['Content-Type'] = how < 0.05 ? 'text/plain' : 'application/json';
    if (how < 0.1) init.body = pick(['{', '{"a":', 'not json', '']);
    else if (how < 0.2) init.body = JSON.stringify(anyValue());
    else init.body = JSON.stringify(valueFor(schema));
  }
  return { url, init };
}

beforeAll(async () => {
  h = await startApiHarness();
  token = await h.tokenFor('alice');
  const primary = stackPulpClient(stack.pulp.primary);
  const pulpClients = { forServer: async () => primary } as unknown as PulpServerClients;
  app = h.appWith({ deps: { pulpClients } });
  doc = await body<Doc>(await app.request('/openapi.json'));
}, 60_000);

afterAll(async () => {
  const startedByFuzz = await h.db
    .select({ id: tasks.workflow_id })
    .from(tasks)
    .where(like(tasks.workflow_id, '%/api-%'));
  for (const { id } of startedByFuzz) {
    await h.temporal.workflow
      .getHandle(id ?? '')
      .terminate('api fuzz cleanup')
      .catch(() => undefined);
  }
  await h?.close();
});

describe(`fuzzing every operation of /openapi.json (${CASES} cases each, seed ${SEED})`, () => {
  it('finds no 5xx answer', async () => {
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let requests = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        for (let i = 0; i < CASES; i++) {
          hostile = i % 2 === 0;
          const { url, init } = buildRequest(path, method, op);
          const res = await app.request(url, init);
          requests++;
          const text = await res.text();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const expected = path === '/ready' ? res.status === 200 : res.status < 500;
          if (!expected)
            failures.push(
              `${method.toUpperCase()} ${url.slice(0, 200)} ${String(init.body ?? '').slice(0, 200)} → ${res.status} ${text.slice(0, 300)}`,
            );
          if (res.status >= 400 && res.headers.get('content-type')?.includes('application/json')) {
            expect(JSON.parse(text), `${method} ${url}`).toHaveProperty('detail');
          }
        }
      }
    }
    expect(requests).toBeGreaterThan(20 * CASES);
    expect(failures).toEqual([]);
    // The plausible half must get past validation: starts, reads, conflicts and 404s all occur.
    for (const status of [200, 201, 401, 404, 409, 415, 422])
      expect(statuses.get(status), `status ${status}`).toBeGreaterThan(0);
  }, 300_000);
});
