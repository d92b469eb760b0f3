import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PulpServerClients } from '../../activities/pulp/serverClients.js';
import { createApp } from '../../api/app.js';
import { createLdapAuthenticator } from '../../api/auth/ldapAuthenticator.js';
import { ensureRepository } from '../../pulp/ensureRepository.js';
import { eventually } from '../support/eventually.js';
import { deleteReposByPrefix, fixtureRepoSpecs, registerFixtureRepos } from '../support/fixtureRepos.js';
import { type PipelineHarness, startPipelineHarness } from '../support/pipelineHarness.js';
import { stackPulpClient } from '../support/pulp.js';
import { type SlowUpstream, startSlowUpstream } from '../support/slowUpstream.js';
import { stack } from '../support/stack.js';

// An operator's path end to end: LDAP login, a sync started through the API, followed to the
// end by the task and its stages, progress read while running, and a cancel through the API.
const run = `a${Date.now().toString(36)}`;
const primary = stackPulpClient(stack.pulp.primary);
let h: PipelineHarness;
let app: ReturnType<typeof createApp>;
let token: string;
let serverId: number;
let slow: SlowUpstream;

const api = async (method: string, path: string, body?: unknown) => {
  const res = await app.request(path, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('the API drives the real pipeline', () => {
  beforeAll(async () => {
    h = await startPipelineHarness((c) => {
      c.jwtSecret = 'e2e-secret-long-enough-for-hs256-0123456789';
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
    const servers = await api('GET', `/v1/pulp_servers?name=${encodeURIComponent(stack.pulp.primary.name)}`);
    serverId = (servers.body.items as { id: number }[])[0]?.id ?? -1;
    await registerFixtureRepos(
      primary,
      fixtureRepoSpecs(run).filter((s) => s.repoType === 'file' || s.repoType === 'rpm'),
    );
  });

  afterAll(async () => {
    await slow?.close();
    await deleteReposByPrefix(primary, stack.pulp.primary.url, `ext-${run}-`);
    await h?.close();
  });

  it('POST sync_repos answers 201 with the task, which ends completed with its stages', async () => {
    const started = await api('POST', `/v1/pulp_servers/${serverId}/sync_repos`, {
      max_runtime: '10m',
      max_concurrent_syncs: 2,
      regex_include: `^ext-${run}-(rpm|file)$`,
    });
    expect(started.status).toBe(201);
    const taskId = started.body.id as number;
    await h.client.workflow.getHandle(started.body.workflow_id as string).result();
    const task = await api('GET', `/v1/tasks/${taskId}`);
    expect(task.body).toMatchObject({ state: 'completed', task_type: 'repo_group_sync' });
    expect((task.body.stages as { name: string }[]).map((s) => s.name)).toEqual([
      'reconcile repos',
      'sync repos',
      'update repo health',
    ]);
    const children = await api('GET', `/v1/tasks?parent_task_id=${taskId}`);
    expect(children.body.total).toBe(2);
    expect((children.body.items as { state: string }[]).map((c) => c.state)).toEqual([
      'completed',
      'completed',
    ]);
  });

  it('progress is queryable while running, and PATCH state=canceled cancels the group and its Pulp task', async () => {
    slow = await startSlowUpstream(120_000);
    await ensureRepository(primary, {
      name: `ext-${run}-slow`,
      repoType: 'file',
      basePath: `${run}/slow`,
      remote: { url: slow.manifestUrl, tls_validation: false, policy: 'immediate' },
    });
    const started = await api('POST', `/v1/pulp_servers/${serverId}/sync_repos`, {
      max_runtime: '1h',
      max_concurrent_syncs: 1,
      regex_include: `^ext-${run}-slow$`,
    });
    const handle = h.client.workflow.getHandle(started.body.workflow_id as string);
    await eventually(async () => {
      expect(await handle.query('progress')).toMatchObject({ total: 1, running: 1, pending: 0 });
    }, 60_000);
    const stage = await eventually(async () => {
      const task = await api('GET', `/v1/tasks/${started.body.id}`);
      const sync = (task.body.stages as { name: string; detail: { message?: string } }[]).find(
        (s) => s.name === 'sync repos',
      );
      expect(sync?.detail.message).toBe('1 syncs in progress. 0/1 syncs completed');
      return sync;
    });
    expect(stage).toBeDefined();
    const [repo] =
      (await primary.GET('/pulp/api/v3/repositories/', { params: { query: { name: `ext-${run}-slow` } } }))
        .data?.results ?? [];
    const pulpTaskStates = async () =>
      (
        await primary.GET('/pulp/api/v3/tasks/', {
          params: { query: { reserved_resources: repo?.prn ?? '' } },
        })
      ).data?.results.map((t) => t.state) ?? [];
    await eventually(async () => expect(await pulpTaskStates()).toEqual(['running']), 60_000);

    const canceled = await api('PATCH', `/v1/tasks/${started.body.id}`, { state: 'canceled' });
    expect(canceled.status).toBe(200);
    expect(canceled.body.state).toBe('canceled');
    await expect(handle.result()).rejects.toThrow();
    const children = await api('GET', `/v1/tasks?parent_task_id=${started.body.id}`);
    expect((children.body.items as { state: string }[]).map((c) => c.state)).toEqual(['canceled']);
    expect(await pulpTaskStates()).toEqual(['canceled']);
  });
});
