import { afterEach, describe, expect, it } from 'vitest';
import { createPulpClient, type PulpClient } from '../../pulp/client.js';
import {
  distributionUpdateAfterPublish,
  patchDistribution,
  readDistributionMode,
} from '../../pulp/distributionMode.js';
import { ensureRepository } from '../../pulp/ensureRepository.js';
import { PulpApiError } from '../../pulp/errors.js';
import { startPublish } from '../../pulp/repoEndpoints.js';
import { createdResource, waitForPulpTask } from '../../pulp/tasks.js';
import { type PulpSimulator, startPulpSimulator } from '../simulator/pulpApiSimulator.js';

// Registration and publishing against the Pulp API double, which validates distributions as
// pulpcore 3.123 does (repository and publication are exclusive). The real Pulp is in
// test/e2e/distributionModes.test.ts.
let sim: PulpSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(): Promise<PulpClient> {
  sim = await startPulpSimulator({ durations: { publish: { kind: 'fixed', ms: 5 } } });
  return createPulpClient({
    baseUrl: sim.url,
    username: 'admin',
    password: async () => 'x',
    baseDelayMs: 10,
  });
}

async function publish(client: PulpClient, repoHref: string) {
  const task = await waitForPulpTask(
    client,
    await startPublish(client, 'file', `${repoHref}versions/0/`, {}),
    {
      minIntervalMs: 5,
    },
  );
  return createdResource(task, '/publications/') ?? '';
}

describe('distribution modes through registration and publishing (Pulp API double)', () => {
  it('registration creates a distribution that follows its repository; a publish leaves it so', async () => {
    const client = await start();
    const ensured = await ensureRepository(client, { name: 'int-a', repoType: 'file', basePath: 'x/int-a' });
    const mode = await readDistributionMode(client, ensured.distributionHref);
    expect(mode).toEqual({ kind: 'repository', repository: ensured.repoHref });
    const pub = await publish(client, ensured.repoHref);
    expect(distributionUpdateAfterPublish(mode, pub, ensured.repoHref)).toBeNull();
    // what the release before this one did: Pulp refuses it
    const refused = await patchDistribution(client, ensured.distributionHref, { publication: pub }).catch(
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(PulpApiError);
    expect((refused as PulpApiError).status).toBe(400);
  });

  it('a pinned distribution keeps its pin through registration and moves to each new publication', async () => {
    const client = await start();
    const ensured = await ensureRepository(client, { name: 'ext-b', repoType: 'file', basePath: 'x/ext-b' });
    const first = await publish(client, ensured.repoHref);
    // an operator pins it (Pulp wants the repository cleared in the same PATCH)
    const pin = await client.PATCH('{file_file_distribution_href}', {
      params: { path: { file_file_distribution_href: ensured.distributionHref } },
      body: { repository: null, publication: first },
    });
    await waitForPulpTask(client, (pin.data as { task: string }).task, { minIntervalMs: 5 });
    expect(await readDistributionMode(client, ensured.distributionHref)).toEqual({
      kind: 'publication',
      publication: first,
    });
    // re-registration with a new base path changes the path, not the pin
    await ensureRepository(client, { name: 'ext-b', repoType: 'file', basePath: 'y/ext-b' });
    expect(await readDistributionMode(client, ensured.distributionHref)).toEqual({
      kind: 'publication',
      publication: first,
    });
    const second = await publish(client, ensured.repoHref);
    const patch = distributionUpdateAfterPublish(
      await readDistributionMode(client, ensured.distributionHref),
      second,
      ensured.repoHref,
    );
    expect(patch).toEqual({ publication: second });
    const task = await patchDistribution(client, ensured.distributionHref, patch ?? { publication: second });
    if (task) await waitForPulpTask(client, task, { minIntervalMs: 5 });
    expect(await readDistributionMode(client, ensured.distributionHref)).toEqual({
      kind: 'publication',
      publication: second,
    });
  });

  it('registration makes a distribution that serves nothing (created by earlier releases) follow', async () => {
    const client = await start();
    sim?.seed({ count: 1, types: ['file'], prefix: 'old-' });
    const ensured = await ensureRepository(client, {
      name: 'old-00000',
      repoType: 'file',
      basePath: 'old-00000',
      remote: { url: 'https://upstream.example.com/old-00000/', policy: 'immediate', tls_validation: true },
    });
    expect(ensured.updated).toContain('distribution');
    expect(await readDistributionMode(client, ensured.distributionHref)).toEqual({
      kind: 'repository',
      repository: ensured.repoHref,
    });
  });
});
