import { Client, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import {
  type ApiHarness,
  body,
  jsonRequest,
  startApiHarness,
  terminateStarted,
} from './support/apiHarness.js';

// Routes that start work: the Task row in the real MariaDB and the workflow on the real
// Temporal dev server. No worker runs on the test's task queue: the real workflows are not
// what is under test here, so the started workflows stay RUNNING until canceled or terminated.

type Task = {
  id: number;
  state: string;
  task_type: string;
  name: string;
  task_args: Record<string, unknown>;
  workflow_id: string | null;
  run_id: string | null;
  error: { msg: string } | null;
  date_finished: string | null;
};

let h: ApiHarness;
let aliceToken: string;
const started: string[] = [];

const post = async (path: string, payload: unknown, token = aliceToken, app = h.app) =>
  app.request(path, jsonRequest('POST', payload, token));

async function startOk(path: string, payload: unknown, app = h.app): Promise<Task> {
  const res = await post(path, payload, aliceToken, app);
  const text = await res.clone().text();
  expect(res.status, text).toBe(201);
  const task = await body<Task>(res);
  if (task.workflow_id) started.push(task.workflow_id);
  return task;
}

const server = (name: 'alpha' | 'beta') => `/v1/pulp_servers/${h.seed.servers[name]}`;

async function workflowInput(handle: WorkflowHandle): Promise<unknown> {
  const history = await handle.fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  return payload ? defaultPayloadConverter.fromPayload(payload) : undefined;
}

beforeAll(async () => {
  h = await startApiHarness();
  aliceToken = await h.tokenFor('alice');
}, 60_000);

afterAll(async () => {
  if (h) await terminateStarted(h.temporal, started);
  await h?.close();
});

describe('POST /v1/pulp_servers/{id}/sync_repos', () => {
  it('records a queued task and starts repoGroupSyncWorkflow with its id', async () => {
    const task = await startOk(`${server('alpha')}/sync_repos`, {
      max_runtime: '2h',
      max_concurrent_syncs: 3,
      regex_include: '^ext-',
      regex_exclude: null,
      sync_options: { sync_policy: 'mirror_content_only' },
    });
    const { alpha } = h.seed.serverNames;
    expect(task).toMatchObject({
      task_type: 'repo_group_sync',
      name: `repo sync ${alpha}`,
      state: 'queued',
      task_args: {
        pulp_server_name: alpha,
        regex_include: '^ext-',
        regex_exclude: null,
        max_runtime: '2h',
        max_concurrent_syncs: 3,
        source_pulp_server_name: null,
        sync_options: { sync_policy: 'mirror_content_only' },
        deb_publish_mode: 'resign',
      },
    });
    expect(task.workflow_id).toMatch(
      new RegExp(`^repo-group-sync/${alpha.replace(/\./g, '\\.')}/api-[0-9a-f-]{36}$`),
    );
    expect(task.run_id).toBeTruthy();

    const row = await body<Task>(await h.app.request(`/v1/tasks/${task.id}`));
    expect(row).toMatchObject({ id: task.id, state: 'queued', workflow_id: task.workflow_id });

    const handle = h.temporal.workflow.getHandle(task.workflow_id ?? '');
    const desc = await handle.describe();
    expect(desc.type).toBe('repoGroupSyncWorkflow');
    expect(desc.taskQueue).toBe(h.taskQueue);
    expect(desc.status.name).toBe('RUNNING');
    expect(desc.runId).toBe(task.run_id);
    expect(desc.memo).toEqual({ pulpManagerTaskId: task.id, requestedBy: 'alice' });
    // max_runtime (2h) plus the 15 min backstop the schedules use too.
    expect(Number(desc.raw.executionConfig?.workflowExecutionTimeout?.seconds)).toBe(2 * 3600 + 900);
    expect(await workflowInput(handle)).toEqual({
      server: alpha,
      regexInclude: '^ext-',
      maxConcurrentSyncs: 3,
      maxRuntimeSeconds: 7200,
      syncOptions: { sync_policy: 'mirror_content_only' },
      debPublishMode: 'resign',
      taskId: task.id,
    });
  });

  it('passes a primary to sync from', async () => {
    const task = await startOk(`${server('beta')}/sync_repos`, {
      max_runtime: 600,
      max_concurrent_syncs: 1,
      source_pulp_server_name: h.seed.serverNames.alpha,
      deb_publish_mode: 'verbatim',
    });
    const input = await workflowInput(h.temporal.workflow.getHandle(task.workflow_id ?? ''));
    expect(input).toMatchObject({
      sourceServer: h.seed.serverNames.alpha,
      debPublishMode: 'verbatim',
      maxRuntimeSeconds: 600,
    });
  });

  it.each([
    [{ max_runtime: '1h', max_concurrent_syncs: 0 }, 'body.max_concurrent_syncs'],
    [{ max_runtime: '1h', max_concurrent_syncs: 1.5 }, 'body.max_concurrent_syncs'],
    [{ max_runtime: '1h' }, 'body.max_concurrent_syncs'],
    [{ max_runtime: '5 weeks', max_concurrent_syncs: 1 }, 'body.max_runtime'],
    [{ max_concurrent_syncs: 1 }, 'body.max_runtime'],
    [{ max_runtime: '1h', max_concurrent_syncs: 1, regex_include: '(' }, 'body.regex_include'],
    [{ max_runtime: '1h', max_concurrent_syncs: 1, regex_exclude: '[z-a]' }, 'body.regex_exclude'],
    [
      { max_runtime: '1h', max_concurrent_syncs: 1, source_pulp_server_name: 'nowhere.example.com' },
      'body.source_pulp_server_name',
    ],
    [
      { max_runtime: '1h', max_concurrent_syncs: 1, sync_options: { mirror: [1] } },
      'body.sync_options.mirror',
    ],
    [{ max_runtime: '1h', max_concurrent_syncs: 1, deb_publish_mode: 'sign' }, 'body.deb_publish_mode'],
  ])('answers 422 naming the field for %j', async (payload, field) => {
    const res = await post(`${server('alpha')}/sync_repos`, payload);
    expect(res.status).toBe(422);
    expect(await body(res)).toMatchObject({ field });
  });

  it('refuses a server syncing from itself', async () => {
    const res = await post(`${server('alpha')}/sync_repos`, {
      max_runtime: '1h',
      max_concurrent_syncs: 1,
      source_pulp_server_name: h.seed.serverNames.alpha,
    });
    expect(res.status).toBe(422);
    expect(await body(res)).toMatchObject({ field: 'body.source_pulp_server_name' });
  });

  it('answers 400 for malformed JSON, 415 for another content type, 404 for an unknown server', async () => {
    const malformed = await h.app.request(`${server('alpha')}/sync_repos`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${aliceToken}` },
      body: '{"max_runtime": ',
    });
    expect(malformed.status).toBe(400);
    expect(await body(malformed)).toHaveProperty('detail');
    const text = await h.app.request(`${server('alpha')}/sync_repos`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', Authorization: `Bearer ${aliceToken}` },
      body: 'sync please',
    });
    expect(text.status).toBe(415);
    const unknown = await post('/v1/pulp_servers/999999/sync_repos', {
      max_runtime: '1h',
      max_concurrent_syncs: 1,
    });
    expect(unknown.status).toBe(404);
  });

  it('marks the task failed_to_start when Temporal refuses the start', async () => {
    const refusing = new Client({
      connection: h.temporal.connection,
      namespace: `no-such-namespace-${h.run}`,
    });
    const app = h.appWith({ deps: { temporal: refusing } });
    const task = await startOk(
      `${server('alpha')}/sync_repos`,
      { max_runtime: '1h', max_concurrent_syncs: 1 },
      app,
    );
    expect(task.state).toBe('failed_to_start');
    expect(task.error?.msg).toMatch(/^Temporal did not start workflow repoGroupSyncWorkflow: .*namespace/i);
    expect(task.date_finished).not.toBeNull();
    expect(task.run_id).toBeNull();
    expect(
      h.logs.some((l) => l.includes('"msg":"workflow start failed"') && l.includes(`"task_id":${task.id}`)),
    ).toBe(true);
  });
});

describe('POST /v1/pulp_servers/{id}/snapshot_repos', () => {
  it('normalises the prefix to snap-…- and starts snapshotReposWorkflow', async () => {
    const task = await startOk(`${server('alpha')}/snapshot_repos`, {
      max_runtime: '1d',
      snapshot_prefix: '2024-05',
      regex_include: '^ext-',
    });
    expect(task).toMatchObject({
      task_type: 'repo_snapshot',
      task_args: { snapshot_prefix: 'snap-2024-05-', allow_snapshot_reuse: false, max_runtime: '1d' },
    });
    const handle = h.temporal.workflow.getHandle(task.workflow_id ?? '');
    expect((await handle.describe()).type).toBe('snapshotReposWorkflow');
    expect(await workflowInput(handle)).toEqual({
      server: h.seed.serverNames.alpha,
      snapshotPrefix: 'snap-2024-05-',
      regexInclude: '^ext-',
      allowSnapshotReuse: false,
      maxRuntimeSeconds: 86400,
      taskId: task.id,
    });
  });

  it.each([
    ['snap-2024-01', 'snap-2024-01-'],
    ['2024-01-', 'snap-2024-01-'],
  ])('answers 409 when repos named %j… exist, unless allow_snapshot_reuse', async (prefix, normalised) => {
    const res = await post(`${server('alpha')}/snapshot_repos`, {
      max_runtime: '1h',
      snapshot_prefix: prefix,
    });
    expect(res.status).toBe(409);
    expect((await body(res)).detail).toContain(`${normalised} is already used`);
    const reuse = await startOk(`${server('alpha')}/snapshot_repos`, {
      max_runtime: '1h',
      snapshot_prefix: prefix,
      allow_snapshot_reuse: true,
    });
    expect(reuse.task_args).toMatchObject({ snapshot_prefix: normalised, allow_snapshot_reuse: true });
  });

  it('answers 409 on a server without snapshot support', async () => {
    const res = await post(`${server('beta')}/snapshot_repos`, { max_runtime: '1h', snapshot_prefix: 'x' });
    expect(res.status).toBe(409);
    expect((await body(res)).detail).toContain('snapshots are not enabled');
  });

  it.each(['', '../etc', 'a b', 'x'.repeat(101)])('answers 422 for the prefix %j', async (prefix) => {
    const res = await post(`${server('alpha')}/snapshot_repos`, {
      max_runtime: '1h',
      snapshot_prefix: prefix,
    });
    expect(res.status).toBe(422);
    expect(await body(res)).toMatchObject({ field: 'body.snapshot_prefix' });
  });
});

describe('POST /v1/pulp_servers/{id}/remove_repos', () => {
  it('needs at least one regex', async () => {
    const res = await post(`${server('alpha')}/remove_repos`, { max_runtime: '1h', regex_include: null });
    expect(res.status).toBe(422);
    expect(await body(res)).toMatchObject({ field: 'body.regex_include' });
  });

  it('refuses unknown fields, so a misspelt regex cannot widen a removal', async () => {
    const res = await post(`${server('alpha')}/remove_repos`, {
      max_runtime: '1h',
      regex_includ: '^old-',
      regex_exclude: '^keep-',
    });
    expect(res.status).toBe(422);
    expect(await body(res)).toMatchObject({ field: 'body.regex_includ' });
  });

  it('is a dry run unless told otherwise', async () => {
    const task = await startOk(`${server('alpha')}/remove_repos`, {
      max_runtime: '1h',
      regex_exclude: '^keep-',
    });
    expect(task).toMatchObject({
      task_type: 'repo_removal',
      task_args: { dry_run: true, regex_exclude: '^keep-' },
    });
    const handle = h.temporal.workflow.getHandle(task.workflow_id ?? '');
    expect((await handle.describe()).type).toBe('repoRemovalWorkflow');
    expect(await workflowInput(handle)).toEqual({
      server: h.seed.serverNames.alpha,
      regexExclude: '^keep-',
      dryRun: true,
      maxRuntimeSeconds: 3600,
      taskId: task.id,
    });
    const real = await startOk(`${server('alpha')}/remove_repos`, {
      max_runtime: '1h',
      regex_include: '^old-',
      dry_run: false,
    });
    expect(real.task_args.dry_run).toBe(false);
  });
});

describe('POST /v1/pulp_servers/{id}/repos/{repo_id}/remove_repo_content', () => {
  const href = '/pulp/api/v3/content/rpm/packages/018f0c4e-2a43-7ad1-9d6e-8f1c3c0b7f55/';

  it('starts removeRepoContentWorkflow and lists the task under the repo', async () => {
    const path = `${server('alpha')}/repos/${h.seed.repos.rpm}`;
    const task = await startOk(`${path}/remove_repo_content`, { content_href: href, max_runtime: '30m' });
    expect(task).toMatchObject({
      task_type: 'remove_repo_content',
      task_args: { repo_name: 'ext-centos-rpm', content_href: href, force_publish: false },
    });
    const handle = h.temporal.workflow.getHandle(task.workflow_id ?? '');
    expect(await workflowInput(handle)).toEqual({
      server: h.seed.serverNames.alpha,
      repoName: 'ext-centos-rpm',
      contentHref: href,
      forcePublish: false,
      maxRuntimeSeconds: 1800,
      taskId: task.id,
    });
    const repoTasks = await body<{ items: { id: number }[] }>(
      await h.app.request(`${path}/tasks?task_type=remove_repo_content`),
    );
    expect(repoTasks.items.map((t) => t.id)).toEqual([task.id]);
  });

  it('answers 422 for something that is not a content href, 404 for a repo not on the server', async () => {
    const bad = await post(`${server('alpha')}/repos/${h.seed.repos.rpm}/remove_repo_content`, {
      content_href: 'https://evil.example.com/',
      max_runtime: '30m',
    });
    expect(bad.status).toBe(422);
    expect(await body(bad)).toMatchObject({ field: 'body.content_href' });
    const missing = await post(`${server('beta')}/repos/${h.seed.repos.deb}/remove_repo_content`, {
      content_href: href,
      max_runtime: '30m',
    });
    expect(missing.status).toBe(404);
  });
});

describe('PATCH /v1/tasks/{id}', () => {
  const patch = (id: number, state: string, token = aliceToken) =>
    h.app.request(`/v1/tasks/${id}`, jsonRequest('PATCH', { state }, token));

  it('cancels the workflow of a running task and marks the task canceled; a second cancel is 409', async () => {
    const task = await startOk(`${server('alpha')}/sync_repos`, {
      max_runtime: '1h',
      max_concurrent_syncs: 1,
    });
    const res = await patch(task.id, 'canceled');
    expect(res.status).toBe(200);
    expect(await body(res)).toMatchObject({ id: task.id, state: 'canceled' });
    const handle = h.temporal.workflow.getHandle(task.workflow_id ?? '');
    await eventually(async () => {
      const history = await handle.fetchHistory();
      const types = (history.events ?? []).map((e) => e.workflowExecutionCancelRequestedEventAttributes);
      expect(types.some(Boolean)).toBe(true);
    });
    const again = await patch(task.id, 'canceled');
    expect(again.status).toBe(409);
    expect(await body(again)).toEqual({ detail: `task ${task.id} is already canceled` });
  });

  it('cancels a task whose workflow has already ended', async () => {
    const task = await startOk(`${server('alpha')}/sync_repos`, {
      max_runtime: '1h',
      max_concurrent_syncs: 1,
    });
    await h.temporal.workflow.getHandle(task.workflow_id ?? '').terminate('gone before the cancel');
    const res = await patch(task.id, 'canceled');
    expect(res.status).toBe(200);
    expect(await body(res)).toMatchObject({ state: 'canceled' });
  });

  it('cancels a queued task that has no workflow', async () => {
    const res = await patch(h.seed.tasks.removal, 'canceled');
    expect(res.status).toBe(200);
    expect(await body(res)).toMatchObject({ state: 'canceled' });
  });

  it('refuses other states with 400, final tasks with 409, unknown ids with 404, plain users with 403', async () => {
    const bad = await patch(h.seed.tasks.snapshot, 'completed');
    expect(bad.status).toBe(400);
    expect(await body(bad)).toMatchObject({ field: 'body.state' });
    expect((await patch(h.seed.tasks.groupSync, 'canceled')).status).toBe(409);
    expect((await patch(999999, 'canceled')).status).toBe(404);
    expect((await patch(h.seed.tasks.snapshot, 'canceled', await h.tokenFor('bob'))).status).toBe(403);
    expect(
      (await h.app.request(`/v1/tasks/${h.seed.tasks.snapshot}`, jsonRequest('PATCH', { state: 'canceled' })))
        .status,
    ).toBe(401);
  });
});
