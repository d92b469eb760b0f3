import { and, desc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PulpServerClients } from '../../activities/pulp/serverClients.js';
import { createApp } from '../../api/app.js';
import { createLdapAuthenticator } from '../../api/auth/ldapAuthenticator.js';
import { task_stages, tasks } from '../../db/schema.js';
import { readServerInventory } from '../../pulp/inventory.js';
import { removeContent } from '../../pulp/repoEndpoints.js';
import { type PulpSimulator, type SimTaskKind, startPulpSimulator } from '../simulator/pulpApiSimulator.js';
import { eventually } from '../support/eventually.js';
import { type PipelineHarness, startPipelineHarness } from '../support/pipelineHarness.js';
import { stack } from '../support/stack.js';

// Pulp faults the real Pulp cannot produce on demand (5xx bursts, hung calls, a task that never
// ends, a stage held open while an operator cancels), from the Pulp API SIMULATOR (a test double).
// Temporal, MariaDB, LDAP and the worker are the real ones.

let sim: PulpSimulator;
/** An EPEL-sized repository: paging through its packages outlasts a short heartbeat timeout. */
const LARGE_REPO_PACKAGES = 50_000;
let h: PipelineHarness;
let app: ReturnType<typeof createApp>;
let token: string;
let serverId: number;

const fleet = (server: string) => `pulp_servers:
  ${server}:
    credentials: local
    repo_groups:
      sim:
        schedule: "0 0 1 1 *"
        max_concurrent_syncs: 3
        max_runtime: "1h"
credentials:
  local:
    username: admin
    vault_service_account_mount: local-auth
repo_groups:
  sim:
    regex_include: ^ext-
`;

const api = async (method: string, path: string, body?: unknown) => {
  const res = await app.request(path, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

async function runGroup(regexInclude: string, maxRuntimeSeconds = 600) {
  const handle = await h.client.workflow.start('repoGroupSyncWorkflow', {
    taskQueue: h.taskQueue,
    workflowId: `repo-group-sync/${sim.serverName}/${regexInclude}-${Date.now()}`,
    args: [
      {
        server: sim.serverName,
        regexInclude,
        maxConcurrentSyncs: 3,
        maxRuntimeSeconds,
        debPublishMode: 'resign' as const,
      },
    ],
  });
  const result = (await handle.result()) as Record<string, number>;
  return { handle, result };
}

async function repoTaskRows(prefix: string) {
  const rows = await h.db.select().from(tasks).where(eq(tasks.task_type, 'repo_sync'));
  return Object.fromEntries(
    rows
      .filter((t) => String((t.task_args as { repo: string }).repo).startsWith(prefix))
      .map((t) => [(t.task_args as { repo: string }).repo, t]),
  );
}

const running = async () =>
  (await h.db.select({ id: tasks.id }).from(tasks).where(eq(tasks.state, 'running'))).length;

beforeAll(async () => {
  sim = await startPulpSimulator({
    seed: 'resilience',
    durations: {
      sync: { kind: 'uniform', minMs: 300, maxMs: 900 },
      publish: { kind: 'uniform', minMs: 100, maxMs: 300 },
    },
    // Their upstreams re-offer a banned package with every new version: the removal stage runs.
    bannedRepoPattern: '^ext-(cancel|burst|large)',
    largeRepos: { repoPattern: '^ext-large-', packages: LARGE_REPO_PACKAGES },
  });
  sim.seed({ count: 1, prefix: 'ext-large-', types: ['rpm'] });
  sim.seed({ count: 1, prefix: 'ext-confuse-', types: ['rpm'] });
  for (const prefix of ['ext-burst-', 'ext-broken-', 'ext-stuck-']) sim.seed({ count: 4, prefix });
  for (const stage of ['sync', 'modify', 'publish']) sim.seed({ count: 1, prefix: `ext-cancel-${stage}-` });
  h = await startPipelineHarness({
    pulpConfigYaml: fleet(sim.serverName),
    configure: (c) => {
      // Hung calls must time out quickly in a test; production default is 60 s.
      c.ini.pulp.api_request_timeout = 1;
      c.jwtSecret = 'resilience-secret-long-enough-for-hs256-0123456789';
    },
  });
  app = createApp({
    config: h.config,
    db: h.db,
    temporal: h.client,
    pulpClients: new PulpServerClients(h.db, h.config),
    ldap: createLdapAuthenticator({ auth: h.config.ini.auth }),
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
  });
  const login = await app.request('/v1/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: stack.ldap.adminUser.name, password: stack.ldap.adminUser.password }),
  });
  expect(login.status).toBe(200);
  token = ((await login.json()) as { access_token: string }).access_token;
  const servers = await api('GET', `/v1/pulp_servers?name=${encodeURIComponent(sim.serverName)}`);
  serverId = (servers.body.items as { id: number }[])[0]?.id ?? -1;
});

afterAll(async () => {
  await h?.close();
  await sim?.close();
});

describe('Pulp faults (Pulp API simulator)', () => {
  it(`banned-package removal on an rpm repository of ${LARGE_REPO_PACKAGES} packages completes`, async () => {
    const { result } = await runGroup('^ext-large-');
    expect(result).toMatchObject({ total: 1, completed: 1, failed: 0 });
    const [stage] = await h.db
      .select()
      .from(task_stages)
      .innerJoin(tasks, eq(tasks.id, task_stages.task_id))
      .where(and(eq(tasks.task_type, 'repo_sync'), eq(task_stages.name, 'remove banned packages')))
      .orderBy(desc(tasks.id))
      .limit(1);
    expect(stage?.task_stages.detail).toMatchObject({ state: 'completed', removed: ['bannedexample-1'] });
    const modifies = sim.tasks('modify').filter((t) => t.repoName === 'ext-large-00000');
    expect(modifies.map((t) => t.state)).toEqual(['completed']);
  });

  it('a content removal running on a repository when its sync starts is not taken for the sync', async () => {
    const repo = 'ext-confuse-00000';
    sim.setFaults({ hold: { repoPattern: `^${repo}$`, kinds: ['modify'] } });
    const pulp = await new PulpServerClients(h.db, h.config).forServer(sim.serverName);
    const [entry] = (await readServerInventory(pulp)).filter((e) => e.name === repo);
    if (!entry) throw new Error(`${repo} not seeded`);
    const removal = await removeContent(pulp, 'rpm', entry.repoHref, [], undefined);
    await eventually(async () => {
      expect(sim.tasks('modify').find((t) => t.href === removal)?.state).toBe('running');
    }, 30_000);
    const { result } = await runGroup(`^${repo}$`);
    expect(result).toMatchObject({ total: 1, completed: 1, failed: 0 });
    // Its own sync, started and followed; the removal is untouched and still running.
    expect(sim.stats().syncsByRepo[repo]).toBe(1);
    const [syncStage] = await h.db
      .select()
      .from(task_stages)
      .innerJoin(tasks, eq(tasks.id, task_stages.task_id))
      .where(and(eq(tasks.task_type, 'repo_sync'), eq(task_stages.name, 'sync repo')))
      .orderBy(desc(tasks.id))
      .limit(1);
    const sync = sim.tasks('sync').find((t) => t.repoName === repo);
    expect(syncStage?.task_stages.detail).toMatchObject({
      state: 'completed',
      pulp_task: sync?.href,
      adopted_running_sync: false,
    });
    expect(sim.tasks('modify').find((t) => t.href === removal)?.state).toBe('running');
    sim.releaseHeld();
    sim.setFaults({});
  });

  it('5xx bursts and hung calls: bounded retries absorb them, every repo completes, no double sync', async () => {
    sim.setFaults({ errorBurst: 6, errorStatus: 503, hangRate: 0.05, hangMs: 2500 });
    const { result } = await runGroup('^ext-burst-');
    expect(result).toMatchObject({ total: 4, completed: 4, failed: 0 });
    const stats = sim.stats();
    expect(stats.injectedErrors).toBeGreaterThanOrEqual(6);
    expect(stats.injectedHangs).toBeGreaterThan(0);
    const syncs = Object.entries(stats.syncsByRepo).filter(([repo]) => repo.startsWith('ext-burst-'));
    expect(syncs.map(([, n]) => n)).toEqual([1, 1, 1, 1]);
    const rows = await repoTaskRows('ext-burst-');
    expect(Object.values(rows).map((t) => t.state)).toEqual([
      'completed',
      'completed',
      'completed',
      'completed',
    ]);
    sim.setFaults({});
  });

  it('persistent 5xx on one repo: bounded retries, then that repo fails with a clear error, its siblings complete', async () => {
    const before = sim.tasks().length;
    const res = await fetch(`${sim.url}/pulp/api/v3/repositories/?name=ext-broken-00001`, {
      headers: { authorization: 'Basic YTpi' },
    });
    const href = ((await res.json()) as { results: { pulp_href: string }[] }).results[0]?.pulp_href;
    sim.setFaults({ pathPattern: `^${href}sync/$`, errorRate: 1, errorStatus: 500 });
    const t0 = Date.now();
    const { result } = await runGroup('^ext-broken-');
    expect(result).toMatchObject({ total: 4, completed: 3, failed: 1 });
    // PULP_TASK_ACTIVITY: 5 attempts, 5 s doubling: bounded at ~75 s of backoff, not forever.
    expect(Date.now() - t0).toBeLessThan(180_000);
    const rows = await repoTaskRows('ext-broken-');
    expect(rows['ext-broken-00001']?.state).toBe('failed');
    expect(JSON.stringify(rows['ext-broken-00001']?.error)).toMatch(/500/);
    for (const name of ['ext-broken-00000', 'ext-broken-00002', 'ext-broken-00003']) {
      expect(rows[name]?.state, name).toBe('completed');
    }
    expect(
      sim
        .tasks()
        .slice(before)
        .filter((t) => t.repoName === 'ext-broken-00001'),
    ).toEqual([]);
    expect(sim.stats().injectedErrors).toBeGreaterThanOrEqual(5);
    sim.setFaults({});
  });

  it('a Pulp task that never finishes: max_runtime ends the group and the Pulp task is canceled', async () => {
    sim.setFaults({ hold: { repoPattern: '^ext-stuck-00002$', kinds: ['sync'] } });
    const { result } = await runGroup('^ext-stuck-', 20);
    expect(result.canceled).toBeGreaterThanOrEqual(1);
    expect(result.completed).toBe(3);
    const held = sim.tasks('sync').filter((t) => t.repoName === 'ext-stuck-00002');
    expect(held.map((t) => t.state)).toEqual(['canceled']);
    const rows = await repoTaskRows('ext-stuck-');
    expect(rows['ext-stuck-00002']?.state).toBe('canceled');
    expect(await running()).toBe(0);
    sim.setFaults({});
  });

  for (const [stage, kind] of [
    ['sync repo', 'sync'],
    ['remove banned packages', 'modify'],
    ['publish repo', 'publish'],
  ] as [string, SimTaskKind][]) {
    it(`cancel from the API during "${stage}" leaves no Pulp task running`, async () => {
      const repo = `ext-cancel-${kind}-00000`;
      sim.setFaults({ hold: { repoPattern: `^${repo}$`, kinds: [kind] } });
      const started = await api('POST', `/v1/pulp_servers/${serverId}/sync_repos`, {
        max_runtime: '10m',
        max_concurrent_syncs: 1,
        regex_include: `^${repo}$`,
      });
      expect(started.status).toBe(201);
      await eventually(async () => {
        const live = sim.tasks(kind).filter((t) => t.repoName === repo && t.state === 'running');
        expect(live).toHaveLength(1);
      }, 60_000);
      const canceled = await api('PATCH', `/v1/tasks/${started.body.id}`, { state: 'canceled' });
      expect(canceled.status).toBe(200);
      await h.client.workflow
        .getHandle(started.body.workflow_id as string)
        .result()
        .catch((err: unknown) => err);
      const mine = sim.tasks().filter((t) => t.repoName === repo);
      expect(
        mine.filter((t) => t.state === 'running' || t.state === 'waiting' || t.state === 'canceling'),
      ).toEqual([]);
      expect(mine.filter((t) => t.kind === kind).map((t) => t.state)).toEqual(['canceled']);
      const rows = await repoTaskRows(repo);
      expect(rows[repo]?.state).toBe('canceled');
      expect(await running()).toBe(0);
      sim.setFaults({});
    });
  }
});
