import { randomBytes } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { PulpTaskSteps } from '../../../activities/pulp/pulpTaskSteps.js';
import type { PulpServerClients } from '../../../activities/pulp/serverClients.js';
import { createRepoSyncSteps, type SyncRepositoryResult } from '../../../activities/pulp/syncActivities.js';
import { ensureRepository } from '../../../pulp/ensureRepository.js';
import { startSync } from '../../../pulp/repoEndpoints.js';
import { readPulpTask } from '../../../pulp/tasks.js';
import { deleteReposByPrefix } from '../../support/fixtureRepos.js';
import { pulpSyncTasksSince } from '../../support/groupSyncRecords.js';
import { stackPulpClient } from '../../support/pulp.js';
import { type SlowUpstream, startSlowUpstream } from '../../support/slowUpstream.js';
import { stack } from '../../support/stack.js';

/**
 * Adoption on the real Pulp primary: a sync of the repository is already running in Pulp
 * (started by someone else, held by a slow upstream) when the repo sync step starts. The step
 * must follow that task to its end (adopted) and Pulp must show one sync of the repository, not
 * a second one queued behind the first.
 */
const prefix = `ext-adopt-${randomBytes(3).toString('hex')}`;
const client = stackPulpClient(stack.pulp.primary);
let slow: SlowUpstream | undefined;

afterAll(async () => {
  await slow?.close();
  await deleteReposByPrefix(client, stack.pulp.primary.url, prefix);
});

describe('repo sync step on the real primary', () => {
  it('adopts the sync already running on the repository: one Pulp sync, followed to its end', async () => {
    slow = await startSlowUpstream(4000);
    const name = `${prefix}-file`;
    const repo = await ensureRepository(client, {
      name,
      repoType: 'file',
      basePath: `${prefix}/file`,
      remote: { url: slow.manifestUrl, policy: 'immediate', tls_validation: false },
    });
    const remoteHref = repo.remoteHref ?? '';
    const since = new Date(Date.now() - 1000);
    const theirs = await startSync(client, 'file', repo.repoHref, remoteHref);
    // Theirs holds the repository's lock before the step looks.
    for (let i = 0; i < 100 && (await readPulpTask(client, theirs)).state !== 'running'; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await readPulpTask(client, theirs)).state).toBe('running');

    const clients = { forServer: async () => client } as unknown as PulpServerClients;
    const steps = createRepoSyncSteps(clients, { internalDomains: [] });
    const env = new MockActivityEnvironment({ attempt: 1, scheduledTimestampMs: Date.now() });
    const result = (await env.run(async () =>
      steps.sync(new PulpTaskSteps(client, { heartbeatEveryMs: 200 }), {
        server: stack.pulp.primary.name,
        repoType: 'file',
        repoHref: repo.repoHref,
        remoteHref,
      }),
    )) as SyncRepositoryResult;

    expect(result).toMatchObject({ taskHref: theirs, adopted: true });
    expect(result.createdVersionHref).toMatch(/\/versions\/1\/$/);
    const tasks = await pulpSyncTasksSince(client, name, since);
    expect(tasks.map((t) => [t.pulp_href, t.state])).toEqual([[theirs, 'completed']]);
  });
});
