import { afterEach, describe, expect, it } from 'vitest';
import { createPulpClient, type PulpClient } from '../../pulp/client.js';
import { PulpApiError, PulpConnectionError, PulpTaskFailedError } from '../../pulp/errors.js';
import { readServerInventory } from '../../pulp/inventory.js';
import {
  findBannedContent,
  readRepository,
  startPublish,
  startSync,
  versionHasPublication,
} from '../../pulp/repoEndpoints.js';
import { cancelPulpTask, createdResource, findTaskToAdopt, waitForPulpTask } from '../../pulp/tasks.js';
import { type PulpSimulator, type SimulatorOptions, startPulpSimulator } from './pulpApiSimulator.js';

// The simulator is only worth its benchmarks if Pulp Manager's own Pulp client code works
// against it unchanged: these tests drive it through activities/pulp, never through raw HTTP.

let sim: PulpSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(opts: SimulatorOptions = {}, clientOpts: { timeoutMs?: number } = {}) {
  sim = await startPulpSimulator({
    durations: { sync: { kind: 'fixed', ms: 30 }, publish: { kind: 'fixed', ms: 20 } },
    ...opts,
  });
  const client: PulpClient = createPulpClient({
    baseUrl: sim.url,
    username: 'admin',
    password: async () => 'secret',
    baseDelayMs: 10,
    requestTimeoutMs: clientOpts.timeoutMs ?? 5000,
  });
  return { sim, client };
}

describe('Pulp API simulator (test double) driven by activities/pulp', () => {
  it('lists thousands of repos with their remotes and distributions over many pages', async () => {
    const { sim, client } = await start();
    sim.seed({ count: 1234 });
    const inventory = await readServerInventory(client);
    expect(inventory).toHaveLength(1234);
    expect([...new Set(inventory.map((e) => e.repoType))].sort()).toEqual(['deb', 'file', 'rpm']);
    const first = inventory[0];
    expect(first?.name).toBe('ext-sim-00000');
    expect(first?.remoteFeed).toBe('https://upstream.example.com/ext-sim-00000/');
    expect(first?.distributionHref).toMatch(/^\/pulp\/api\/v3\/distributions\/rpm\/rpm\/.+\/$/);
    expect(first?.latestVersionHref).toMatch(/\/versions\/0\/$/);
  });

  it('syncs (a new version), publishes, and finds the publication of that version', async () => {
    const { sim, client } = await start({ bannedRepoPattern: '00001$' });
    sim.seed({ count: 3, types: ['deb'] });
    const [entry] = (await readServerInventory(client)).filter((e) => e.name === 'ext-sim-00001');
    if (!entry?.remoteHref) throw new Error('seeded repo not found');
    const syncHref = await startSync(client, 'deb', entry.repoHref, entry.remoteHref);
    const sync = await waitForPulpTask(client, syncHref, { minIntervalMs: 5 });
    const version = createdResource(sync, '/versions/');
    expect(version).toBe(`${entry.repoHref}versions/1/`);
    expect((await readRepository(client, entry.repoHref))?.latest_version_href).toBe(version);
    const banned = await findBannedContent(client, 'deb', version as string, 'bannedexample|another');
    expect(banned.map((b) => b.name)).toEqual(['bannedexample-1']);
    expect(await versionHasPublication(client, 'deb', version as string)).toBe(false);
    const pub = await waitForPulpTask(client, await startPublish(client, 'deb', version as string), {
      minIntervalMs: 5,
    });
    expect(createdResource(pub, '/publications/deb/apt/')).toBeDefined();
    expect(await versionHasPublication(client, 'deb', version as string)).toBe(true);
    expect(sim.stats().syncsByRepo).toEqual({ 'ext-sim-00001': 1 });
  });

  it('holds a task until it is canceled, shows it as live on the repo, and cancels it', async () => {
    const { sim, client } = await start({ faults: { hold: { repoPattern: '.', kinds: ['sync'] } } });
    sim.seed({ count: 1, types: ['rpm'] });
    const [entry] = await readServerInventory(client);
    if (!entry?.remoteHref) throw new Error('seeded repo not found');
    const repo = await readRepository(client, entry.repoHref);
    const href = await startSync(client, 'rpm', entry.repoHref, entry.remoteHref);
    const live = { since: new Date(), liveOnly: true, anyLive: true, exclude: [] };
    expect(await findTaskToAdopt(client, 'sync', repo?.prn ?? '', live)).toBe(href);
    // A task of another kind on the same repository is never taken for the sync.
    expect(await findTaskToAdopt(client, 'modify', repo?.prn ?? '', live)).toBeUndefined();
    const final = await cancelPulpTask(client, href);
    expect(final.state).toBe('canceled');
    expect(await findTaskToAdopt(client, 'sync', repo?.prn ?? '', live)).toBeUndefined();
    // A second cancel answers 409, which the client treats as "already final".
    expect((await cancelPulpTask(client, href)).state).toBe('canceled');
  });

  it('fails sync tasks at the configured rate with Pulp-style errors', async () => {
    const { sim, client } = await start({ faults: { syncFailureRate: 1 } });
    sim.seed({ count: 1, types: ['file'] });
    const [entry] = await readServerInventory(client);
    if (!entry?.remoteHref) throw new Error('seeded repo not found');
    const href = await startSync(client, 'file', entry.repoHref, entry.remoteHref);
    const err = await waitForPulpTask(client, href, { minIntervalMs: 5 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PulpTaskFailedError);
    expect((err as PulpTaskFailedError).state).toBe('failed');
  });

  it('injects 5xx bursts that the client retries through, and persistent 5xx that it reports', async () => {
    const { sim, client } = await start({ faults: { errorBurst: 3, errorStatus: 502 } });
    sim.seed({ count: 2 });
    expect(await readServerInventory(client)).toHaveLength(2);
    expect(sim.stats().injectedErrors).toBe(3);

    sim.setFaults({ errorRate: 1, errorStatus: 500, pathPattern: '/repositories/' });
    const err = await readServerInventory(client).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PulpApiError);
    expect((err as PulpApiError).status).toBe(500);
  });

  it('hangs calls past the client timeout (reads retried, then a connection error)', async () => {
    const { sim, client } = await start(
      { faults: { hangRate: 1, hangMs: 2000, pathPattern: '/status/' } },
      { timeoutMs: 200 },
    );
    const err = await client.GET('/pulp/api/v3/status/').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PulpConnectionError);
    // One first attempt plus pulpFetch's 4 retries, every one of them hung.
    expect(sim.stats().injectedHangs).toBe(5);
  });

  it('rejects unknown filters like Pulp does, so a client typo cannot pass silently', async () => {
    const { client } = await start();
    const res = await client.GET('/pulp/api/v3/repositories/', {
      params: { query: { nmae: 'x' } as never },
    });
    expect(res.response.status).toBe(400);
  });

  it('draws task durations from a distribution, reproducibly for the same seed', async () => {
    const durations = async (seed: string) => {
      const s = await startPulpSimulator({
        seed,
        durations: { sync: { kind: 'lognormal', medianMs: 20, sigma: 0.6 } },
      });
      try {
        const client = createPulpClient({ baseUrl: s.url, username: 'a', password: async () => 'b' });
        s.seed({ count: 20, types: ['file'] });
        for (const e of await readServerInventory(client)) {
          await startSync(client, 'file', e.repoHref, e.remoteHref as string);
        }
        return s
          .tasks('sync')
          .sort((a, b) => (a.repoName ?? '').localeCompare(b.repoName ?? ''))
          .map((t) => t.durationMs);
      } finally {
        await s.close();
      }
    };
    const a = await durations('one');
    expect(await durations('one')).toEqual(a);
    expect(await durations('two')).not.toEqual(a);
    expect(new Set(a).size).toBeGreaterThan(10);
  });
});
