import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PulpServerClients } from '../../activities/pulp/serverClients.js';
import { type ApiServer, startApiServer } from '../../api/server.js';
import { tasks } from '../../db/schema.js';
import { stackPulpClient } from '../support/pulp.js';
import { stack } from '../support/stack.js';
import { type ApiHarness, startApiHarness } from './support/apiHarness.js';

// The API checked against its own OpenAPI document by schemathesis (from PyPI, pinned by
// dev/schemathesis-requirements.txt, installed by dev/schemathesis.sh), over real HTTP: every
// check (no 5xx, documented status codes, content types and headers, answers that match their
// schemas, schema-valid requests accepted, schema-invalid ones refused, 405 for undeclared
// methods, ...). One run without a token over every operation; one with an admin's token (a
// real LDAP login) over the read operations. A failure fails the test with schemathesis's report.
// Bounded and seeded, so a failure replays: ST_EXAMPLES=<n> ST_SEED=<n> to explore further.

const EXAMPLES = Number(process.env.ST_EXAMPLES ?? 15);
const SEED = Number(process.env.ST_SEED ?? 20261202);
const root = fileURLToPath(new URL('../..', import.meta.url));
const sh = promisify(execFile);

let h: ApiHarness;
let server: ApiServer;
let base: string;
let token: string;
let schemathesis: string;
/** schemathesis keeps a cache in its working directory: not in the work tree. */
let workDir: string;

beforeAll(async () => {
  // Installed by `make test` (dev/up) already; here too, so the file runs on its own.
  await sh('bash', ['dev/schemathesis.sh', 'install'], { cwd: root });
  const venv = (await sh('bash', ['dev/schemathesis.sh', 'path'], { cwd: root })).stdout.trim();
  schemathesis = `${venv}/bin/schemathesis`;
  workDir = await mkdtemp(join(tmpdir(), 'pm-schemathesis-'));
  h = await startApiHarness();
  token = await h.tokenFor('alice');
  // Servers are read through the stack's real Pulp primary; a start lands on the harness's
  // task queue, which no worker polls, and is terminated below.
  const primary = stackPulpClient(stack.pulp.primary);
  const pulpClients = { forServer: async () => primary } as unknown as PulpServerClients;
  server = await startApiServer(h.appWith({ deps: { pulpClients } }), { host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${server.address.port}`;
}, 180_000);

afterAll(async () => {
  await server?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
  if (h) {
    const started = await h.db
      .select({ id: tasks.workflow_id })
      .from(tasks)
      .where(like(tasks.workflow_id, '%/api-%'));
    for (const { id } of started) {
      await h.temporal.workflow
        .getHandle(id ?? '')
        .terminate('schemathesis cleanup')
        .catch(() => undefined);
    }
    await h.close();
  }
});

interface Run {
  code: number;
  output: string;
  seconds: number;
}

async function runSchemathesis(extra: string[]): Promise<Run> {
  const args = [
    'run',
    `${base}/openapi.json`,
    '--checks',
    'all',
    '--max-examples',
    String(EXAMPLES),
    '--seed',
    String(SEED),
    '--workers',
    '2',
    '--generation-database',
    'none',
    '--request-timeout',
    '20',
    '--no-color',
    ...extra,
  ];
  const t0 = Date.now();
  const env = {
    ...process.env,
    SCHEMATHESIS_HOOKS: 'schemathesis_hooks',
    PYTHONPATH: `${root}/test/api/support`,
    NO_COLOR: '1',
  };
  try {
    const { stdout, stderr } = await sh(schemathesis, args, {
      cwd: workDir,
      env,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, output: stdout + stderr, seconds: (Date.now() - t0) / 1000 };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof e.code === 'number' ? e.code : -1,
      output: `${e.stdout ?? ''}${e.stderr ?? String(err)}`,
      seconds: (Date.now() - t0) / 1000,
    };
  }
}

/** The summary's case count, so that a run that tested nothing cannot pass. */
function casesGenerated(output: string): number {
  return Number(/(\d+) generated/.exec(output)?.[1] ?? 0);
}

// The two runs go side by side: most of their time is waiting on the API, not CPU.
let runs: { anonymous: Promise<Run>; admin: Promise<Run> };

describe(`schemathesis against /openapi.json (${EXAMPLES} examples per operation, seed ${SEED})`, () => {
  beforeAll(() => {
    runs = {
      anonymous: runSchemathesis([]),
      admin: runSchemathesis(['--include-method', 'GET', '--header', `Authorization: Bearer ${token}`]),
    };
    // Awaited by the tests; a rejection is theirs to report.
    runs.anonymous.catch(() => undefined);
    runs.admin.catch(() => undefined);
  });

  it('finds nothing without a token, over every operation', async () => {
    const run = await runs.anonymous;
    console.log(`schemathesis (no token): ${casesGenerated(run.output)} cases in ${run.seconds} s`);
    expect(run.code, run.output).toBe(0);
    expect(casesGenerated(run.output)).toBeGreaterThan(100);
  }, 360_000);

  it("finds nothing with an admin's token, over the read operations", async () => {
    const run = await runs.admin;
    console.log(`schemathesis (admin token, GET): ${casesGenerated(run.output)} cases in ${run.seconds} s`);
    expect(run.code, run.output).toBe(0);
    expect(casesGenerated(run.output)).toBeGreaterThan(100);
  }, 360_000);
});
