import { ApplicationFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { PulpTaskSteps } from '../../../activities/pulp/pulpTaskSteps.js';
import type { PulpServerClients } from '../../../activities/pulp/serverClients.js';
import { createRepoSyncSteps, type SyncRepositoryResult } from '../../../activities/pulp/syncActivities.js';
import { createPulpClient, type PulpClient } from '../../../pulp/client.js';
import { readDistributionMode } from '../../../pulp/distributionMode.js';
import { PulpTaskFailedError } from '../../../pulp/errors.js';
import { readServerInventory } from '../../../pulp/inventory.js';
import { startSync } from '../../../pulp/repoEndpoints.js';
import { readPulpTask } from '../../../pulp/tasks.js';
import {
  type PulpSimulator,
  type SimulatorOptions,
  startPulpSimulator,
} from '../../simulator/pulpApiSimulator.js';

/**
 * The repo sync steps (activities/pulp/syncActivities.ts with PulpTaskSteps) in an activity
 * context of their own (MockActivityEnvironment: attempt, heartbeat details), against the Pulp
 * API double, for the Pulp behaviours SPEC names and the dev stack's Pulp cannot be made to show
 * on demand: a sync already live on the repository is adopted, not doubled; a `skipped` task is
 * a final success; "Worker has gone missing" is transient and the retry syncs again; an update
 * answered 200 (done at once) and one answered 202 (a task) both update the distribution.
 */
let sim: PulpSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const SERVER = 'sim';

async function start(opts: SimulatorOptions = {}) {
  sim = await startPulpSimulator({
    durations: {
      sync: { kind: 'fixed', ms: 40 },
      publish: { kind: 'fixed', ms: 20 },
      update: { kind: 'fixed', ms: 20 },
    },
    ...opts,
  });
  sim.seed({ count: 2, types: ['rpm'] });
  const client: PulpClient = createPulpClient({
    baseUrl: sim.url,
    username: 'admin',
    password: async () => 'secret',
    baseDelayMs: 10,
  });
  const clients = { forServer: async () => client } as unknown as PulpServerClients;
  const steps = createRepoSyncSteps(clients, { internalDomains: [] });
  const [entry] = (await readServerInventory(client)).filter((e) => e.name === 'ext-sim-00001');
  if (!entry?.remoteHref || !entry.distributionHref) throw new Error('seeded repo not found');
  return { sim, client, steps, entry: { ...entry, remoteHref: entry.remoteHref } };
}

type Setup = Awaited<ReturnType<typeof start>>;

/** One attempt of the sync step; its last heartbeat details are what the next attempt gets. */
async function syncAttempt(s: Setup, attempt: number, heartbeatDetails?: unknown) {
  const env = new MockActivityEnvironment({
    attempt,
    heartbeatDetails,
    scheduledTimestampMs: Date.now() - 60_000,
  });
  let details: unknown = heartbeatDetails;
  env.on('heartbeat', (d: unknown) => {
    details = structuredClone(d);
  });
  const input = {
    server: SERVER,
    repoType: 'rpm' as const,
    repoHref: s.entry.repoHref,
    remoteHref: s.entry.remoteHref,
  };
  const outcome: { result?: SyncRepositoryResult; error?: unknown } = await env
    .run(async () => s.steps.sync(new PulpTaskSteps(s.client, { heartbeatEveryMs: 50 }), input))
    .then(
      (result) => ({ result: result as SyncRepositoryResult, error: undefined }),
      (error: unknown) => ({ result: undefined, error }),
    );
  return { ...outcome, details };
}

describe('repo sync steps against the Pulp API double', () => {
  it('adopts a sync already live on the repository instead of starting a second one', async () => {
    const s = await start({ faults: { hold: { repoPattern: '00001$', kinds: ['sync'] } } });
    // Someone else (an operator, an earlier release) started a sync of the repo: it runs.
    const theirs = await startSync(s.client, 'rpm', s.entry.repoHref, s.entry.remoteHref);
    const attempt = syncAttempt(s, 1);
    // The adoption is a lookup of live tasks on the repo; then the task is followed until it ends.
    await new Promise((r) => setTimeout(r, 500));
    s.sim.releaseHeld();
    const { result, error } = await attempt;
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ taskHref: theirs, adopted: true });
    expect(s.sim.stats().syncsByRepo).toEqual({ 'ext-sim-00001': 1 });
  });

  it('starts its own sync when the live task on the repository is not a sync', async () => {
    const s = await start({ faults: { hold: { repoPattern: '00001$', kinds: ['update'] } } });
    // A live update of the repository (another kind of task on the same resource).
    const patched = await fetch(`${s.sim.url}${s.entry.repoHref}`, {
      method: 'PATCH',
      headers: {
        'Content-Type': 'application/json',
        Authorization: `Basic ${Buffer.from('admin:secret').toString('base64')}`,
      },
      body: JSON.stringify({ description: 'x' }),
    });
    expect(patched.status).toBe(202);
    const attempt = syncAttempt(s, 1);
    await new Promise((r) => setTimeout(r, 300));
    s.sim.releaseHeld();
    const { result, error } = await attempt;
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ adopted: false });
    expect(s.sim.stats().syncsByRepo).toEqual({ 'ext-sim-00001': 1 });
  });

  it('a sync Pulp ends `skipped` is a final success: no version, no error', async () => {
    const s = await start({ faults: { skipSyncsOf: '00001$' } });
    const { result, error } = await syncAttempt(s, 1);
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ createdVersionHref: null, adopted: false });
    const task = await readPulpTask(s.client, result?.taskHref ?? '');
    expect(task.state).toBe('skipped');
    expect(result?.latestVersionHref).toMatch(/\/versions\/0\/$/);
  });

  it('"Worker has gone missing" fails the attempt retryably; the next attempt syncs again and succeeds', async () => {
    const s = await start({ faults: { vanishWorker: { repoPattern: '00001$', times: 1 } } });
    const first = await syncAttempt(s, 1);
    expect(first.error).toBeInstanceOf(PulpTaskFailedError);
    expect(first.error).not.toBeInstanceOf(ApplicationFailure);
    expect((first.error as PulpTaskFailedError).workerVanished).toBe(true);
    const second = await syncAttempt(s, 2, first.details);
    expect(second.error).toBeUndefined();
    expect(second.result?.createdVersionHref).toMatch(/\/versions\/1\/$/);
    const task = await readPulpTask(s.client, second.result?.taskHref ?? '');
    expect(task.state).toBe('completed');
    expect(s.sim.stats().syncsByRepo).toEqual({ 'ext-sim-00001': 2 });
  });

  it('a failed sync (not a vanished worker) fails the attempt for good', async () => {
    const s = await start({ faults: { syncFailureRate: 1 } });
    const { error } = await syncAttempt(s, 1);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect((error as ApplicationFailure).message).toMatch(/ended failed: simulated sync failure/);
  });

  it.each([
    ['202 with a task', undefined],
    ['200 at once', ['distributions' as const]],
  ])(
    'publishes and points the distribution at the repository when Pulp answers the PATCH %s',
    async (_how, immediateUpdates) => {
      const s = await start({ ...(immediateUpdates ? { immediateUpdates } : {}) });
      const synced = await syncAttempt(s, 1);
      const versionHref = synced.result?.createdVersionHref ?? '';
      expect(versionHref).toMatch(/\/versions\/1\/$/);
      const env = new MockActivityEnvironment({ attempt: 1, scheduledTimestampMs: Date.now() });
      const published = await env.run(async () =>
        s.steps.publish(new PulpTaskSteps(s.client, { heartbeatEveryMs: 50 }), {
          server: SERVER,
          repoType: 'rpm',
          remoteHref: s.entry.remoteHref,
          versionHref,
          distributionHref: s.entry.distributionHref ?? null,
          debPublishMode: 'resign',
        }),
      );
      expect(published).toMatchObject({ distributionUpdated: true, distributionMode: 'none' });
      const updates = s.sim.tasks('update');
      expect(updates).toHaveLength(immediateUpdates ? 0 : 1);
      expect(await readDistributionMode(s.client, s.entry.distributionHref ?? '')).toEqual({
        kind: 'repository',
        repository: s.entry.repoHref,
      });
    },
  );
});
