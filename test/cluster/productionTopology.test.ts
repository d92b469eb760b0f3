import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateDatabase } from '../../db/migrate.js';
import { isManagedScheduleId } from '../../temporal/names.js';
import { createThrowawayDatabase, type ThrowawayDatabase } from '../db/throwawayDatabase.js';
import { eventually } from '../support/eventually.js';
import { pulpSyncTasksSince } from '../support/groupSyncRecords.js';
import {
  expectOneCompletedSyncEach,
  type MidGroupFaultRepos,
  registerMidGroupFaultRepos,
} from '../support/midGroupFault.js';
import { stackPulpClient } from '../support/pulp.js';
import { freePort, type ServiceProcess } from '../support/serviceProcess.js';
import { stack } from '../support/stack.js';
import {
  type ClusterEnv,
  clusterClient,
  clusterEnv,
  clusterScriptRun,
  clusterServicePid,
  logOf,
  repoRoot,
  startLoadBalancer,
  startPulpManager,
  type TopologyFiles,
  waitForLogLine,
  writeTopologyFiles,
} from './support/clusterTopology.js';

// Issue 16: Pulp Manager on the production topology. A multi-service Temporal cluster on
// PostgreSQL with mTLS (dev/temporal-cluster.sh), two worker processes, two API replicas behind
// nginx and the exporter, all started at once (each applies the config and its schedules at
// start-up), then a group sync on the stack's real Pulp primary through the load balancer while
// a history process, a worker and an API replica are killed. Figures go to RESILIENCE.md.
const run = `c${Date.now().toString(36)}`;
const groupName = `cluster_${run}`;
const primary = stackPulpClient(stack.pulp.primary);
let cluster: ClusterEnv;
let db: ThrowawayDatabase;
let files: TopologyFiles;
let client: Client;
let lbUrl: string;
let lb: ServiceProcess | undefined;
const procs: ServiceProcess[] = [];
const workers: ServiceProcess[] = [];
const apis: { proc: ServiceProcess; port: number }[] = [];
let exporterPort: number;
let repos: MidGroupFaultRepos | undefined;
const timings: Record<string, number> = {};

const since = (t0: number) => Date.now() - t0;

async function apiCall(method: string, path: string, token?: string, body?: unknown) {
  const res = await fetch(`${lbUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    json = { raw: text, parseError: String(err) };
  }
  return { status: res.status, body: json };
}

describe('Pulp Manager on a Temporal cluster with mTLS (production topology)', () => {
  beforeAll(async () => {
    let t0 = Date.now();
    await clusterScriptRun('start');
    timings.clusterStartMs = since(t0);
    cluster = await clusterEnv();
    db = await createThrowawayDatabase();
    await migrateDatabase(db.settings);
    files = await writeTopologyFiles({
      cluster,
      taskQueue: `pm-cluster-${randomBytes(3).toString('hex')}`,
      database: db.settings.database,
      groupName,
      regexInclude: `^ext-${run}-`,
    });
    client = await clusterClient(cluster);
    // Every replica at once: each applies pulp_config.yml to the database and the schedules to
    // Temporal at start-up, racing the others.
    t0 = Date.now();
    const apiPorts = [await freePort(), await freePort()];
    exporterPort = await freePort();
    for (const i of [1, 2])
      workers.push(startPulpManager(files, `worker-${i}`, ['worker', '--metrics-port', '0']));
    for (const [i, port] of apiPorts.entries()) {
      apis.push({
        proc: startPulpManager(files, `api-${i + 1}`, ['api', '--host', '127.0.0.1', '--port', String(port)]),
        port,
      });
    }
    const exporter = startPulpManager(files, 'exporter', [
      'exporter',
      '--host',
      '127.0.0.1',
      '--port',
      String(exporterPort),
    ]);
    procs.push(...workers, ...apis.map((a) => a.proc), exporter);
    await Promise.all([
      ...workers.map((w) => waitForLogLine(w, /worker polling/)),
      ...apis.map((a) => waitForLogLine(a.proc, /api listening/)),
      waitForLogLine(exporter, /exporter listening/),
    ]);
    timings.replicasUpMs = since(t0);
    const balancer = await startLoadBalancer(files, apiPorts);
    lb = balancer.proc;
    lbUrl = balancer.url;
  }, 900_000);

  afterAll(async () => {
    for (const p of [...procs, ...(lb ? [lb] : [])])
      await p.stop({ timeoutMs: 30_000 }).catch((err: unknown) => console.error(err));
    if (client) {
      for await (const s of client.schedule.list()) {
        if (isManagedScheduleId(s.scheduleId)) await client.schedule.getHandle(s.scheduleId).delete();
      }
      await client.connection.close();
    }
    await repos?.dispose();
    await db?.drop();
    await clusterScriptRun('stop');
    console.log(`[cluster] figures: ${JSON.stringify(timings)}`);
    if (files) {
      await writeFile(
        join(stack.stateDir, 'logs', 'cluster-test-figures.json'),
        `${JSON.stringify(timings, null, 2)}\n`,
      ).catch((err: unknown) => console.error('[cluster] figures not written', err));
      await rm(files.dir, { recursive: true, force: true });
    }
  }, 300_000);

  it('every replica applied the config and its schedules at start-up, none failed', async () => {
    for (const p of procs) expect(p.isRunning(), `${p.name} still running`).toBe(true);
    for (const p of procs) expect(await logOf(p), p.name).not.toMatch(/^pulp-manager: /m);
    const ids: string[] = [];
    await eventually(
      async () => {
        ids.length = 0;
        for await (const s of client.schedule.list())
          if (isManagedScheduleId(s.scheduleId)) ids.push(s.scheduleId);
        expect(ids.some((id) => id.includes(groupName))).toBe(true);
      },
      60_000,
      1000,
    );
    // One schedule per configured job, not one per replica.
    expect(new Set(ids).size).toBe(ids.length);
    const listed = await apiCall('GET', '/health');
    expect(listed.status).toBe(200);
    // The Web UI reaches the frontend over mTLS with the stack's client certificate.
    const uiNamespaces = await fetch(`${cluster.TEMPORAL_CLUSTER_UI_URL}/api/v1/namespaces`);
    expect(uiNamespaces.status).toBe(200);
    expect(await uiNamespaces.text()).toContain(cluster.TEMPORAL_CLUSTER_NAMESPACE);
    const metrics = await fetch(`http://127.0.0.1:${exporterPort}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/pulp_manager_/);
  });

  it('a worker whose client certificate another CA signed is refused, with an error naming the certificate', async () => {
    const bad = await writeTopologyFiles({
      cluster,
      taskQueue: 'pm-cluster-refused',
      database: db.settings.database,
      groupName,
      regexInclude: `^ext-${run}-`,
      cert: {
        cert: cluster.TEMPORAL_CLUSTER_UNTRUSTED_CLIENT_CERT,
        key: cluster.TEMPORAL_CLUSTER_UNTRUSTED_CLIENT_KEY,
      },
    });
    try {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'cli/main.ts', 'worker', '--metrics-port', '0'],
        {
          cwd: repoRoot,
          env: { ...process.env, ...bad.env },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      expect(code).toBe(1);
      expect(stderr).toContain('pulp-manager: TEMPORAL_UNREACHABLE: cannot connect to Temporal at');
      expect(stderr).toContain('the server refused the client certificate');
      expect(stderr).toContain(cluster.TEMPORAL_CLUSTER_UNTRUSTED_CLIENT_CERT);
      expect(stderr).toContain('issuer "O=Pulp Manager dev, CN=Some other CA"');
    } finally {
      await rm(bad.dir, { recursive: true, force: true });
    }
  });

  it('a group sync through the load balancer survives a killed history process, worker and API replica: one Pulp sync per repo, no 5xx', async () => {
    const startedAt = new Date();
    repos = await registerMidGroupFaultRepos(run, 45_000);
    const login = await apiCall('POST', '/v1/auth/login', undefined, {
      username: stack.ldap.adminUser.name,
      password: stack.ldap.adminUser.password,
    });
    expect(login.status).toBe(200);
    const token = login.body.access_token as string;
    const servers = await apiCall(
      'GET',
      `/v1/pulp_servers?name=${encodeURIComponent(stack.pulp.primary.name)}`,
      token,
    );
    const serverId = (servers.body.items as { id: number }[])[0]?.id;
    expect(serverId).toBeDefined();
    const groupStarted = Date.now();
    const started = await apiCall('POST', `/v1/pulp_servers/${serverId}/sync_repos`, token, {
      max_runtime: '30m',
      max_concurrent_syncs: 2,
      regex_include: `^ext-${run}-`,
    });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const taskId = started.body.id as number;
    const workflowId = started.body.workflow_id as string;

    // Clients poll the task through nginx all along; every status they saw is kept.
    const statuses: number[] = [];
    let lastState = '';
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const r = await apiCall('GET', `/v1/tasks/${taskId}`, token).catch((err: unknown) => ({
          status: -1,
          body: { error: String(err) },
        }));
        statuses.push(r.status);
        if (r.status === 200) lastState = String((r.body as Record<string, unknown>).state);
        await new Promise((res) => setTimeout(res, 300));
      }
    })();

    // Mid-group: the slow repo's Pulp sync runs (its upstream holds it).
    await eventually(
      async () => {
        const syncs = await pulpSyncTasksSince(primary, repos?.slowRepo ?? '', startedAt);
        expect(syncs.map((t) => t.state)).toEqual(['running']);
      },
      180_000,
      500,
    );

    // 1. A Temporal history process dies (SIGKILL) and is restarted.
    const historyPid = await clusterServicePid('history');
    process.kill(historyPid, 'SIGKILL');
    const killedAt = Date.now();
    await new Promise((r) => setTimeout(r, 2000));
    await clusterScriptRun('start-service', 'history');
    await eventually(
      async () => {
        await client.workflow.getHandle(workflowId).describe();
      },
      180_000,
      500,
    );
    timings.historyRecoverMs = since(killedAt);

    // 2. A Pulp Manager worker process dies (SIGKILL) while the group runs.
    const victim = workers[0] as ServiceProcess;
    await victim.stop({ signal: 'SIGKILL' });
    timings.workerKilledAtMs = since(groupStarted);

    // 3. An API replica dies while clients poll through nginx.
    const apiVictim = apis[0] as { proc: ServiceProcess };
    const pollsBefore = statuses.length;
    await apiVictim.proc.stop({ signal: 'SIGKILL' });
    const apiKilledAt = Date.now();
    await eventually(async () => expect(statuses.length).toBeGreaterThan(pollsBefore + 5), 60_000, 300);
    timings.apiFailoverMs = since(apiKilledAt);

    await eventually(async () => expect(lastState).toBe('completed'), 900_000, 1000);
    timings.groupMs = since(groupStarted);
    polling = false;
    await poller;
    timings.polls = statuses.length;

    expect(statuses.filter((s) => s >= 500 || s < 0)).toEqual([]);
    const children = await apiCall('GET', `/v1/tasks?parent_task_id=${taskId}&page_size=100`, token);
    const childStates = (children.body.items as { state: string }[]).map((c) => c.state);
    expect(childStates).toEqual(repos.repoNames.map(() => 'completed'));
    await expectOneCompletedSyncEach(repos.repoNames, startedAt);
    timings.repos = repos.repoNames.length;
    timings.pulpSyncsPerRepo = 1;
    // The surviving worker and API replica carried on.
    expect(workers[1]?.isRunning()).toBe(true);
    expect(apis[1]?.proc.isRunning()).toBe(true);
  }, 1_200_000);
});
