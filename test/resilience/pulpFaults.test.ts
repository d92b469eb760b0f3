import { and, desc, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PulpServerClients } from '../../activities/pulp/serverClients.js';
import { createApp } from '../../api/app.js';
import { createLdapAuthenticator } from '../../api/auth/ldapAuthenticator.js';
import { task_stages, tasks } from '../../db/schema.js';
import { readServerInventory } from '../../pulp/inventory.js';
import { removeContent } from '../../pulp/repoEndpoints.js';
import { repoSyncWorkflowId } from '../../temporal/names.js';
import { PULP_TASK_ACTIVITY } from '../../workflows/activityOptions.js';
import { type PulpSimulator, type SimTaskKind, startPulpSimulator } from '../simulator/pulpApiSimulator.js';
import { eventually } from '../support/eventually.js';
import { type FaultProxy, startFaultProxy } from '../support/faultProxy.js';
import { activityAttempts, stagesOf } from '../support/groupSyncRecords.js';
import { type PipelineHarness, startPipelineHarness } from '../support/pipelineHarness.js';
import { stack } from '../support/stack.js';

// Pulp faults the real Pulp cannot produce on demand (5xx bursts, hung calls, a task that never
// ends, a stage held open while an operator cancels), from the Pulp API SIMULATOR (a test double)
// behind the FAULT PROXY (test/support/faultProxy.ts), which faults exactly the calls a test
// names. Temporal, MariaDB, LDAP and the worker are the real ones. Every test seeds repositories
// of its own and every fault is cleared after each test, so each passes alone (`-t`).

let sim: PulpSimulator;
/** The Pulp server the fleet names: the simulator, through the fault proxy. */
let proxy: FaultProxy;
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
    workflowId: `repo-group-sync/${proxy.serverName}/${regexInclude}-${Date.now()}`,
    args: [
      {
        server: proxy.serverName,
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

async function repoHref(name: string): Promise<string> {
  const res = await fetch(`${sim.url}/pulp/api/v3/repositories/?name=${encodeURIComponent(name)}`, {
    headers: { authorization: 'Basic YTpi' },
  });
  const href = ((await res.json()) as { results: { pulp_href: string }[] }).results[0]?.pulp_href;
  if (!href) throw new Error(`the simulator has no repository ${name}`);
  return href;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The sync POST of one repository, by its href. */
const syncPost = (href: string) => new RegExp(`^${escapeRegExp(href)}sync/$`);
/** A poll of one Pulp task (GET of a task's href). */
const TASK_POLL = /^\/pulp\/api\/v3\/tasks\/[^/]+\/$/;

/** The "sync repo" stage of a repo's task row. */
async function syncStageOf(repo: string) {
  const row = (await repoTaskRows(repo))[repo];
  if (!row) throw new Error(`no repo_sync task row for ${repo}`);
  const stage = (await stagesOf(h.db, row.id)).find((s) => s.name === 'sync repo');
  return { row, detail: stage?.detail as Record<string, unknown> | undefined };
}

/** The attempts of a repo's pipeline activity (Temporal's history): [1] when nothing was retried. */
const pipelineAttempts = async (repo: string) =>
  (await activityAttempts(h.client, repoSyncWorkflowId(proxy.serverName, repo))).runRepoSyncPipeline;

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
  sim.seed({ count: 1, prefix: 'ext-hung-', types: ['rpm'] });
  for (const prefix of ['ext-burst-', 'ext-broken-', 'ext-stuck-']) sim.seed({ count: 4, prefix });
  proxy = await startFaultProxy(sim.url);
  for (const stage of ['sync', 'modify', 'publish']) sim.seed({ count: 1, prefix: `ext-cancel-${stage}-` });
  h = await startPipelineHarness({
    pulpConfigYaml: fleet(proxy.serverName),
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
  const servers = await api('GET', `/v1/pulp_servers?name=${encodeURIComponent(proxy.serverName)}`);
  serverId = (servers.body.items as { id: number }[])[0]?.id ?? -1;
});

// A failed test must not leave its faults to the next one.
afterEach(() => {
  proxy?.reset();
  sim?.setFaults({});
  sim?.releaseHeld();
});

afterAll(async () => {
  await h?.close();
  await proxy?.close();
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
    const pulp = await new PulpServerClients(h.db, h.config).forServer(proxy.serverName);
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
  });

  it('the sync POST hangs (Pulp starts the sync, the answer is lost): exactly one Pulp sync, adopted by the retry', async () => {
    const repo = 'ext-hung-00000';
    const href = await repoHref(repo);
    // Longer than api_request_timeout (1 s): the client gives up, the simulator has started the sync.
    proxy.setRules([
      {
        name: 'sync POST',
        method: 'POST',
        path: syncPost(href),
        occurrences: [1],
        fault: { kind: 'hang', ms: 3000 },
      },
    ]);
    const { result } = await runGroup(`^${repo}$`);
    expect(result).toMatchObject({ total: 1, completed: 1, failed: 0 });
    // The fault hit, once; the retried attempt found the sync instead of POSTing again.
    expect(proxy.counts('sync POST')).toEqual({ matched: 1, injected: 1 });
    // Pulp's own task list: one sync of the repository, completed.
    const syncs = sim.tasks('sync').filter((t) => t.repoName === repo);
    expect(syncs.map((t) => t.state)).toEqual(['completed']);
    const { row, detail } = await syncStageOf(repo);
    expect(row.state).toBe('completed');
    expect(detail).toMatchObject({
      state: 'completed',
      pulp_task: syncs[0]?.href,
      adopted_running_sync: true,
    });
    // The first attempt lost the answer and failed; the second adopted.
    expect(await pipelineAttempts(repo)).toEqual([2]);
  });

  it('503 bursts and a hung poll are retried inside the call: exact fault counts, every repo completes, no double sync, nothing adopted', async () => {
    const burstRepo = 'ext-burst-00001';
    const href = await repoHref(burstRepo);
    proxy.setRules([
      // A 503 means Pulp did not take the POST: pulpFetch sends it again (twice here).
      {
        name: 'sync POST 503',
        method: 'POST',
        path: syncPost(href),
        occurrences: [1, 2],
        fault: { kind: 'error', status: 503 },
      },
      {
        name: 'poll 503',
        method: 'GET',
        path: TASK_POLL,
        occurrences: [1, 2, 3],
        fault: { kind: 'error', status: 503 },
      },
      {
        name: 'poll hang',
        method: 'GET',
        path: TASK_POLL,
        occurrences: [5],
        fault: { kind: 'hang', ms: 2500 },
      },
    ]);
    const { result } = await runGroup('^ext-burst-');
    expect(result).toMatchObject({ total: 4, completed: 4, failed: 0 });
    expect(proxy.counts('sync POST 503')).toEqual({ matched: 3, injected: 2 });
    expect(proxy.counts('poll 503').injected).toBe(3);
    expect(proxy.counts('poll hang').injected).toBe(1);
    // The polls went on after the faults: the 6th onwards were answered.
    expect(proxy.counts('poll 503').matched).toBeGreaterThan(5);
    const syncs = sim.tasks('sync').filter((t) => t.repoName?.startsWith('ext-burst-'));
    expect(syncs.map((t) => [t.repoName, t.state]).sort()).toEqual(
      ['ext-burst-00000', 'ext-burst-00001', 'ext-burst-00002', 'ext-burst-00003'].map((r) => [
        r,
        'completed',
      ]),
    );
    for (const name of ['ext-burst-00000', 'ext-burst-00001', 'ext-burst-00002', 'ext-burst-00003']) {
      const { row, detail } = await syncStageOf(name);
      expect(row.state, name).toBe('completed');
      // Absorbed by pulpFetch's retries: no attempt failed, so none had a sync to adopt.
      expect(detail, name).toMatchObject({ state: 'completed', adopted_running_sync: false });
      expect(await pipelineAttempts(name), name).toEqual([1]);
    }
  });

  it('persistent 5xx on one repo: bounded retries, then that repo fails with a clear error, its siblings complete', async () => {
    const broken = 'ext-broken-00001';
    const href = await repoHref(broken);
    proxy.setRules([
      { name: 'sync POST 500', method: 'POST', path: syncPost(href), fault: { kind: 'error', status: 500 } },
    ]);
    const t0 = Date.now();
    const { result } = await runGroup('^ext-broken-');
    expect(result).toMatchObject({ total: 4, completed: 3, failed: 1 });
    // A 500 to a POST is not resent by pulpFetch (Pulp may have acted): one POST per activity
    // attempt, and the activity's attempts are bounded.
    const attempts = PULP_TASK_ACTIVITY.retry?.maximumAttempts ?? Number.NaN;
    expect(proxy.counts('sync POST 500')).toEqual({ matched: attempts, injected: attempts });
    // 5 attempts, 5 s doubling: bounded at ~75 s of backoff, not forever.
    expect(Date.now() - t0).toBeLessThan(180_000);
    const rows = await repoTaskRows('ext-broken-');
    expect(rows[broken]?.state).toBe('failed');
    expect(JSON.stringify(rows[broken]?.error)).toMatch(/500/);
    for (const name of ['ext-broken-00000', 'ext-broken-00002', 'ext-broken-00003']) {
      expect(rows[name]?.state, name).toBe('completed');
    }
    expect(sim.tasks().filter((t) => t.repoName === broken)).toEqual([]);
    expect(await pipelineAttempts(broken)).toEqual([attempts]);
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
    });
  }
});
