import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { stack } from '../support/stack.js';
import { type PulpSimulator, startPulpSimulator } from './pulpApiSimulator.js';

/**
 * Contract of the Pulp API double (test/simulator) with the real Pulp: the same scenario runs
 * against the simulator and against the dev stack's Pulp primary, and the answers Pulp Manager
 * relies on must be the same: status codes, final task states, and the fields it reads (task
 * href in a 202, created_resources, error description, the task's name, reserved resources
 * lookups, a distribution's publication). Timing and the intermediate task states (waiting,
 * running) are Pulp's own and are only checked to be live states. Simulated benchmarks and
 * fault tests are only worth what this contract holds.
 */
const run = randomBytes(3).toString('hex');
const API = '/pulp/api/v3/';

interface Target {
  origin: string;
  /** Makes the next sync fail the way an unreachable upstream does. */
  failNextSync: () => void;
  upstream: string;
  badUpstream: string;
}

interface Step {
  step: string;
  status: number;
  [field: string]: unknown;
}

const auth = `Basic ${Buffer.from(`${stack.pulp.username}:${stack.pulp.password}`).toString('base64')}`;

async function call(t: Target, method: string, path: string, body?: unknown) {
  const res = await fetch(`${t.origin}${path}`, {
    method,
    headers: { Authorization: auth, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

const LIVE = new Set(['waiting', 'running']);

/** Polls a task to its end: the final task and whether every state seen before was a live one. */
async function finalTask(t: Target, href: string) {
  const seen: string[] = [];
  for (let i = 0; i < 600; i++) {
    const { body } = await call(t, 'GET', href);
    const state = String(body.state);
    if (!LIVE.has(state)) return { task: body, onlyLiveBefore: seen.every((s) => LIVE.has(s)) };
    seen.push(state);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`task ${href} did not end in 60 s`);
}

const createdOf = (task: Record<string, unknown>, part: string) =>
  ((task.created_resources as string[] | undefined) ?? []).find((h) => h.includes(part));

/** The scenario; returns what each step answered, as far as Pulp Manager reads it. */
async function scenario(t: Target, prefix: string): Promise<Step[]> {
  const steps: Step[] = [];
  const name = `${prefix}-file`;
  const remote = await call(t, 'POST', `${API}remotes/file/file/`, {
    name,
    url: t.upstream,
    policy: 'immediate',
    tls_validation: false,
  });
  steps.push({ step: 'create remote', status: remote.status, href: typeof remote.body.pulp_href });
  const remoteHref = String(remote.body.pulp_href);
  const repo = await call(t, 'POST', `${API}repositories/file/file/`, { name, remote: remoteHref });
  const repoHref = String(repo.body.pulp_href);
  steps.push({
    step: 'create repository',
    status: repo.status,
    latestVersion: String(repo.body.latest_version_href).replace(repoHref, '<repo>/'),
    remote: repo.body.remote === remoteHref,
  });
  const dist = await call(t, 'POST', `${API}distributions/file/file/`, { name, base_path: `${prefix}/file` });
  const distTask = await finalTask(t, String(dist.body.task));
  const distHref = String(createdOf(distTask.task, '/distributions/'));
  steps.push({
    step: 'create distribution',
    status: dist.status,
    state: distTask.task.state,
    created: distHref.startsWith(`${API}distributions/file/file/`),
  });

  const sync = await call(t, 'POST', `${repoHref}sync/`, { remote: remoteHref });
  const syncTask = await finalTask(t, String(sync.body.task));
  const version = String(createdOf(syncTask.task, '/versions/'));
  steps.push({
    step: 'sync',
    status: sync.status,
    state: syncTask.task.state,
    onlyLiveBefore: syncTask.onlyLiveBefore,
    error: syncTask.task.error,
    version: version.replace(repoHref, '<repo>/'),
    syncName: String(syncTask.task.name).includes('.synchronizing.synchronize'),
  });
  // How adoption finds a sync: by the repository it reserves and by the kind in its name.
  const found = await call(
    t,
    'GET',
    `${API}tasks/?reserved_resources=${encodeURIComponent(repoHref)}&name__contains=.synchronizing.synchronize&ordering=-pulp_created&limit=10`,
  );
  const listed = (found.body.results as { pulp_href: string }[] | undefined) ?? [];
  steps.push({
    step: 'find sync of repository',
    status: found.status,
    count: found.body.count,
    first: listed[0]?.pulp_href === sync.body.task,
  });
  const live = await call(
    t,
    'GET',
    `${API}tasks/?reserved_resources=${encodeURIComponent(repoHref)}&state__in=waiting,running&limit=10`,
  );
  steps.push({ step: 'find live tasks of repository', status: live.status, count: live.body.count });

  const pub = await call(t, 'POST', `${API}publications/file/file/`, { repository_version: version });
  const pubTask = await finalTask(t, String(pub.body.task));
  const pubHref = String(createdOf(pubTask.task, '/publications/'));
  steps.push({
    step: 'publish',
    status: pub.status,
    state: pubTask.task.state,
    created: pubHref.startsWith(`${API}publications/file/file/`),
  });
  const versionPubs = await call(t, 'GET', `${API}publications/file/file/?repository_version=${version}`);
  steps.push({ step: 'publications of version', status: versionPubs.status, count: versionPubs.body.count });

  const patch = await call(t, 'PATCH', distHref, { publication: pubHref });
  const patchTask = patch.status === 202 ? await finalTask(t, String(patch.body.task)) : undefined;
  const distNow = await call(t, 'GET', distHref);
  steps.push({
    step: 'PATCH distribution',
    status: patch.status,
    state: patchTask?.task.state ?? null,
    servesPublication: distNow.body.publication === pubHref,
    repository: distNow.body.repository ?? null,
  });
  // Registration updates remotes and repositories in place: 200 at once or 202 with a task.
  for (const [what, href, body] of [
    ['remote', remoteHref, { tls_validation: false }],
    ['repository', repoHref, { description: 'contract' }],
  ] as const) {
    const upd = await call(t, 'PATCH', href, body);
    const updTask = upd.status === 202 ? await finalTask(t, String(upd.body.task)) : undefined;
    steps.push({ step: `PATCH ${what}`, status: upd.status, state: updTask?.task.state ?? null });
  }
  const both = await call(t, 'PATCH', distHref, { repository: repoHref });
  steps.push({ step: 'PATCH distribution with repository and publication', status: both.status });

  const cancelDone = await call(t, 'PATCH', String(sync.body.task), { state: 'canceled' });
  steps.push({ step: 'cancel a finished task', status: cancelDone.status });

  const badRemote = await call(t, 'POST', `${API}remotes/file/file/`, {
    name: `${name}-bad`,
    url: t.badUpstream,
    policy: 'immediate',
    tls_validation: false,
  });
  t.failNextSync();
  const badSync = await call(t, 'POST', `${repoHref}sync/`, { remote: String(badRemote.body.pulp_href) });
  const badTask = await finalTask(t, String(badSync.body.task));
  steps.push({
    step: 'failing sync',
    status: badSync.status,
    state: badTask.task.state,
    description: typeof (badTask.task.error as { description?: unknown } | null)?.description,
    created: (badTask.task.created_resources as unknown[] | undefined)?.length ?? null,
  });
  return steps;
}

let sim: PulpSimulator | undefined;
const cleanups: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const c of cleanups) await c().catch((err: unknown) => console.error('cleanup failed', err));
  await sim?.close();
});

/** Deletes what the scenario made on the real primary (distributions, repositories, remotes). */
async function deleteByPrefix(t: Target, prefix: string): Promise<void> {
  for (const kind of ['distributions', 'repositories', 'remotes']) {
    const { body } = await call(t, 'GET', `${API}${kind}/?name__startswith=${prefix}&limit=100`);
    for (const o of (body.results as { pulp_href: string }[] | undefined) ?? []) {
      const del = await call(t, 'DELETE', o.pulp_href);
      if (del.status === 202) await finalTask(t, String(del.body.task));
    }
  }
}

describe('Pulp API double against the real Pulp primary', () => {
  it('answers the scenario as the real Pulp does', async () => {
    sim = await startPulpSimulator({
      durations: {
        sync: { kind: 'fixed', ms: 200 },
        publish: { kind: 'fixed', ms: 100 },
        update: { kind: 'fixed', ms: 50 },
      },
    });
    const simulator = sim;
    const simTarget: Target = {
      origin: simulator.url,
      upstream: 'https://upstream.example.com/file/PULP_MANIFEST',
      badUpstream: 'http://127.0.0.1:9/nothing/PULP_MANIFEST',
      failNextSync: () => simulator.setFaults({ syncFailureRate: 1 }),
    };
    const realTarget: Target = {
      origin: stack.pulp.primary.url,
      upstream: `${stack.fixtures.baseUrl}/file/PULP_MANIFEST`,
      // Nothing listens on the discard port: the sync fails as an unreachable upstream does.
      badUpstream: 'http://127.0.0.1:9/nothing/PULP_MANIFEST',
      failNextSync: () => undefined,
    };
    const prefix = `contract-${run}`;
    cleanups.push(() => deleteByPrefix(realTarget, prefix));
    const real = await scenario(realTarget, prefix);
    const simulated = await scenario(simTarget, prefix);
    expect(simulated).toEqual(real);
  });
});
