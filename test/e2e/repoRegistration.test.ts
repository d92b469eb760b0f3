import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RepoConfigRegistration } from '../../activities/pulp/repoConfigActivities.js';
import { parsePulpConfig } from '../../config/loadPulpConfig.js';
import { pulp_server_repos, pulp_servers, repos, task_stages, tasks } from '../../db/schema.js';
import { desiredSchedules } from '../../temporal/desiredSchedules.js';
import type { RepoRegistrationArgs } from '../../workflows/args.js';
import { eventually } from '../support/eventually.js';
import { deleteReposByPrefix } from '../support/fixtureRepos.js';
import { type PipelineHarness, startPipelineHarness } from '../support/pipelineHarness.js';
import { stackPulpClient } from '../support/pulp.js';
import { stack } from '../support/stack.js';

// Registration from a copy of the stack's git repo-config fixture onto the real primary. As in
// the original, a repository is named by its file (ext- added when it has a url), so the copy's
// names carry this run (ext-<run>-…, int-<run>-…) to keep names and base paths unique.
const run = `r${Date.now().toString(36)}`;
const ext = `ext-${run}-`;
const int = `int-${run}-`;
const server = stack.pulp.primary.name;
const primary = stackPulpClient(stack.pulp.primary);
const auth = `Basic ${Buffer.from(`${stack.pulp.username}:${stack.pulp.password}`).toString('base64')}`;
const SECRET = `s3cret-${run}-upstream-password`;
let h: PipelineHarness;
let vault: Server;
const work = mkdtempSync(join(tmpdir(), `pm-${run}-`));

type PulpObject = Record<string, unknown> & { pulp_href: string; pulp_last_updated: string };

async function pulpList(path: string, query: Record<string, string>): Promise<PulpObject[]> {
  const res = await fetch(`${stack.pulp.primary.url}${path}?${new URLSearchParams(query)}`, {
    headers: { Authorization: auth },
  });
  if (!res.ok) throw new Error(`GET ${path} answered ${res.status}`);
  return ((await res.json()) as { results: PulpObject[] }).results;
}

const PLUGIN = { rpm: 'rpm/rpm', deb: 'deb/apt', file: 'file/file' } as const;
async function pulpRepo(name: string, type: keyof typeof PLUGIN) {
  const [repository] = await pulpList(`/pulp/api/v3/repositories/${PLUGIN[type]}/`, { name });
  const [remote] = await pulpList(`/pulp/api/v3/remotes/${PLUGIN[type]}/`, { name });
  const [distribution] = await pulpList(`/pulp/api/v3/distributions/${PLUGIN[type]}/`, { name });
  return { repository, remote, distribution };
}

async function register(args: Partial<RepoRegistrationArgs> = {}) {
  return h.client.workflow.execute('repoRegistrationWorkflow', {
    taskQueue: h.taskQueue,
    workflowId: `repo-registration/${server}/test-${run}-${Date.now()}`,
    args: [{ server, maxRuntimeSeconds: 600, regexInclude: `^(${ext}|${int})`, ...args }],
  }) as Promise<RepoConfigRegistration>;
}

async function taskOf(workflowId: string) {
  const [t] = await h.db.select().from(tasks).where(eq(tasks.workflow_id, workflowId));
  if (!t) throw new Error(`no task for ${workflowId}`);
  const stages = await h.db.select().from(task_stages).where(eq(task_stages.task_id, t.id));
  return { ...t, stages: stages.sort((a, b) => a.position - b.position) };
}

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd })
    .toString()
    .trim();

const repoConfig = join(work, 'repo-config');

/** Edits one file of this run's repo-config copy (uncommitted). */
function edit(path: string, change: (j: Record<string, unknown>) => void) {
  const p = join(repoConfig, 'repo_config', path);
  const j = JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
  change(j);
  writeFileSync(p, JSON.stringify(j, null, 2));
}

const ALL = [
  `${ext}fixture-container`,
  `${ext}fixture-deb`,
  `${ext}fixture-deb-flat`,
  `${ext}fixture-file`,
  `${ext}fixture-iso`,
  `${ext}fixture-python`,
  `${ext}fixture-rpm`,
  `${int}int-pm-apps`,
  `${int}int-pm-tools-el9`,
];

describe('repo registration from the git repo config', () => {
  beforeAll(async () => {
    // A root CA for internal-domain remotes ([ca] root_ca_file_path): Pulp validates PEM.
    execFileSync('openssl', [
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=pm-test-${run}`],
      ...['-keyout', join(work, 'ca.key'), '-out', join(work, 'ca.pem')],
    ]);
    // The Vault agent's API for vault_load_secrets (KV v2 mount `kv`); nothing else of Vault is needed.
    vault = createServer((req, res) => {
      const path = req.url?.replace(/^\/v1\//, '');
      const body =
        path === 'sys/mounts'
          ? { data: { 'kv/': { type: 'kv', options: { version: '2' } } } }
          : path === 'kv/data/pulp/fixture-upstream' && req.headers['x-vault-namespace'] === 'pm-test'
            ? { data: { data: { password: SECRET, username: 'fixture-user' } } }
            : undefined;
      res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(body ?? {}));
    });
    await new Promise<void>((r) => vault.listen(0, '127.0.0.1', r));
    git(work, 'clone', '-q', stack.fixtures.repoConfigGit, repoConfig);
    for (const [folder, prefix] of [
      ['remote', `${run}-`],
      ['internal', int],
    ] as const) {
      for (const f of readdirSync(join(repoConfig, 'repo_config', folder)).filter((n) => n !== 'global.json'))
        edit(`${folder}/${f}`, (j) => {
          j.name = `${prefix}${String(j.name)}`;
        });
    }
    git(repoConfig, 'commit', '-qam', `names of run ${run}`);
    h = await startPipelineHarness((c) => {
      c.ini.pulp.git_repo_config = repoConfig;
      c.ini.pulp.local_repo_config_dir = undefined;
      // The dev stack's folder prefixes (what the registration regexes see): ext- and int-.
      c.ini.pulp.external_repo_prefix = 'ext-';
      c.ini.pulp.internal_repo_prefix = 'int-';
      c.ini.ca.root_ca_file_path = join(work, 'ca.pem');
      c.ini.vault.vault_addr = `http://127.0.0.1:${(vault.address() as AddressInfo).port}`;
      c.ini.vault.repo_secret_namespace = 'pm-test';
    });
  });

  afterAll(async () => {
    if (!process.env.PM_TEST_KEEP_PULP) {
      await deleteReposByPrefix(primary, stack.pulp.primary.url, ext);
      await deleteReposByPrefix(primary, stack.pulp.primary.url, int);
    }
    await h?.close();
    await new Promise<void>((r) => (vault ? vault.close(() => r()) : r()));
    rmSync(work, { recursive: true, force: true });
  });

  it('creates the repos named as their files (ext- for a url) with their remotes, descriptions and base paths', async () => {
    const result = await register();
    expect(result).toMatchObject({
      files: 9,
      selected: 9,
      unchanged: 0,
      updated: [],
      failed: {},
      fileErrors: [],
    });
    // The fixture's internal/global.json gives the internal repos their owner.
    expect(result.notices).toEqual([
      'repo_config/internal/global.json: (root): applied to every repository under its folder (owner); the original read only remote/global.json',
    ]);
    expect(result.created.sort()).toEqual(ALL);

    const rpm = await pulpRepo(`${ext}fixture-rpm`, 'rpm');
    expect(rpm.repository?.description).toBe(
      'Fixture rpm upstream (pm-hello, pm-tools, bannedexample) - Pulp Manager Dev Fixtures - base_url:el9-x86_64',
    );
    expect(rpm.repository?.remote).toBe(rpm.remote?.pulp_href);
    expect(rpm.distribution?.base_path).toBe(`el9-x86_64/${ext}fixture-rpm`);
    expect(rpm.remote).toMatchObject({
      url: 'http://127.0.0.1:18800/rpm/',
      proxy_url: null,
      tls_validation: false, // the file's tls_validation
      ca_cert: null,
      sock_connect_timeout: 30,
      sock_read_timeout: 120,
      policy: 'immediate',
    });

    const deb = await pulpRepo(`${ext}fixture-deb`, 'deb');
    expect(deb.remote).toMatchObject({
      distributions: 'stable',
      components: 'main',
      architectures: 'amd64',
      ignore_missing_package_indices: true,
    });
    expect(deb.distribution?.base_path).toBe(`debian-12-amd64/${ext}fixture-deb`);

    // localhost is an internal domain: the fixture's proxy is dropped, TLS validated with our CA.
    const flat = await pulpRepo(`${ext}fixture-deb-flat`, 'deb');
    expect(flat.remote).toMatchObject({
      url: 'http://localhost:18800/deb-flat/',
      distributions: '/',
      components: null,
      proxy_url: null,
      tls_validation: true,
    });
    expect(String(flat.remote?.ca_cert).trim()).toBe(readFileSync(join(work, 'ca.pem'), 'utf8').trim());

    const file = await pulpRepo(`${ext}fixture-file`, 'file');
    expect(file.remote).toMatchObject({
      url: 'http://127.0.0.1:18800/file/PULP_MANIFEST',
      proxy_url: 'http://127.0.0.1:18800',
      // the file says true, [pulp] remote_tls_validation=false: the file's value is the remote's
      tls_validation: true,
    });
    // iso means file
    const iso = await pulpRepo(`${ext}fixture-iso`, 'file');
    expect(iso.distribution?.base_path).toBe(`isos/${ext}fixture-iso`);

    for (const [name, type, basePath] of [
      [`${int}int-pm-apps`, 'deb', `debian-12-amd64/${int}int-pm-apps`],
      [`${int}int-pm-tools-el9`, 'rpm', `el9-x86_64/${int}int-pm-tools-el9`],
    ] as const) {
      const r = await pulpRepo(name, type);
      expect(r.repository?.description, name).toMatch(/ - Pulp Manager Dev Platform Team - base_url:/);
      expect(r.repository?.remote ?? null, name).toBeNull();
      expect(r.remote, name).toBeUndefined();
      expect(r.distribution?.base_path, name).toBe(basePath);
      // upload-only: its distribution follows the repository, so whatever is published is served
      expect(r.distribution?.repository, name).toBe(r.repository?.pulp_href);
    }

    // reconciled into the DB
    const rows = await h.db
      .select({ name: repos.name, feed: pulp_server_repos.remote_feed })
      .from(pulp_server_repos)
      .innerJoin(repos, eq(repos.id, pulp_server_repos.repo_id))
      .innerJoin(pulp_servers, eq(pulp_servers.id, pulp_server_repos.pulp_server_id))
      .where(and(eq(pulp_servers.name, server), inArray(repos.name, ALL)));
    expect(rows.map((r) => r.name).sort()).toEqual(ALL);
  });

  it('re-running (from its repo-registration schedule) changes nothing', async () => {
    const before = await Promise.all(ALL.map((n) => pulpList('/pulp/api/v3/repositories/', { name: n })));
    const remotesBefore = await pulpList('/pulp/api/v3/remotes/', { name__startswith: ext });
    // The schedule config apply creates for the primary, pointed at this test's task queue.
    const cfg = parsePulpConfig(readFileSync(h.config.pulpConfigPath, 'utf8'), h.config.pulpConfigPath);
    const d = desiredSchedules(cfg, h.config.ini).find((s) => s.scheduleId === `repo-registration/${server}`);
    if (!d) throw new Error('no registration schedule for the primary in dev/config/pulp_config.yml');
    const schedule = await h.client.schedule.create({
      scheduleId: `test-${run}/${d.scheduleId}`,
      spec: { cronExpressions: [d.cron] },
      action: {
        type: 'startWorkflow',
        workflowType: d.workflowType,
        workflowId: `${d.workflowId}/test-${run}`,
        taskQueue: h.taskQueue,
        args: d.args,
      },
      state: { paused: true },
    });
    try {
      await schedule.trigger();
      const workflowId = await eventually(async () => {
        const id = (await schedule.describe()).info.recentActions[0]?.action.workflow.workflowId;
        if (!id) throw new Error('not started yet');
        return id;
      });
      const result = (await h.client.workflow.getHandle(workflowId).result()) as RepoConfigRegistration;
      expect(result).toMatchObject({ selected: 9, created: [], updated: [], unchanged: 9, failed: {} });
      expect((await taskOf(workflowId)).state).toBe('completed');
    } finally {
      await schedule.delete();
    }
    const after = await Promise.all(ALL.map((n) => pulpList('/pulp/api/v3/repositories/', { name: n })));
    expect(after).toEqual(before);
    expect(await pulpList('/pulp/api/v3/remotes/', { name__startswith: ext })).toEqual(remotesBefore);
  });

  it('an edited file updates its remote; a malformed file is reported by path and the others apply', async () => {
    const clone = repoConfig;
    edit('remote/fixture-rpm.json', (j) => {
      j.url = 'http://127.0.0.1:18800/rpm/?edited';
    });
    edit('remote/fixture-deb.json', (j) => {
      j.components = 'main contrib';
    });
    writeFileSync(join(clone, 'repo_config/remote/broken.json'), '{ "name": "broken", ');
    writeFileSync(
      join(clone, 'repo_config/internal/typo.json'),
      JSON.stringify({
        name: `${int}typo`,
        content_repo_type: 'rpm',
        description: 'd',
        base_url: 'x',
        tls_validation: 'yes',
      }),
    );
    writeFileSync(
      join(clone, 'repo_config/remote/fixture-secret.json'),
      JSON.stringify({
        name: `${run}-fixture-secret`,
        content_repo_type: 'rpm',
        description: 'Fixture rpm upstream behind credentials',
        base_url: 'el9-x86_64',
        url: 'http://127.0.0.1:18800/rpm/',
        vault_load_secrets: [
          { secret_name: 'username', kv: 'kv', path: 'pulp/fixture-upstream', remote_property: 'username' },
          { secret_name: 'password', kv: 'kv', path: 'pulp/fixture-upstream', remote_property: 'password' },
        ],
      }),
    );
    git(clone, 'add', '-A');
    git(clone, 'commit', '-q', '-m', 'edit, break, add a repo with secrets');
    h.config.ini.pulp.git_repo_config = clone;

    const workflowId = `repo-registration/${server}/test-${run}-edited`;
    const err = await h.client.workflow
      .execute('repoRegistrationWorkflow', {
        taskQueue: h.taskQueue,
        workflowId,
        args: [{ server, maxRuntimeSeconds: 600, regexInclude: `^(${ext}|${int})` }],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const message = String((err as WorkflowFailedError).cause?.message);
    expect(message).toContain('repo_config/remote/broken.json: (root): invalid JSON');
    expect(message).toContain('repo_config/internal/typo.json: tls_validation: ');

    const task = await taskOf(workflowId);
    expect(task.state).toBe('failed');
    expect(task.error?.msg).toContain('repo_config/remote/broken.json');
    expect(task.stages.map((s) => s.name)).toEqual(['register repos from repo config', 'reconcile repos']);
    expect(task.stages[0]?.detail).toMatchObject({
      selected: 10,
      created: [`${ext}fixture-secret`],
      unchanged: 7,
      failed: {},
    });
    expect((task.stages[0]?.detail as { updated?: string[] } | undefined)?.updated).toEqual([
      `${ext}fixture-deb`,
      `${ext}fixture-rpm`,
    ]);

    expect((await pulpRepo(`${ext}fixture-rpm`, 'rpm')).remote?.url).toBe(
      'http://127.0.0.1:18800/rpm/?edited',
    );
    expect((await pulpRepo(`${ext}fixture-deb`, 'deb')).remote?.components).toBe('main contrib');
    // The secrets went into the remote, write-only …
    const secretRemote = (await pulpRepo(`${ext}fixture-secret`, 'rpm')).remote;
    expect(secretRemote?.hidden_fields).toEqual(
      expect.arrayContaining([
        { name: 'username', is_set: true },
        { name: 'password', is_set: true },
      ]),
    );
    // … and nowhere else: not in the task, its stages, nor the workflow's Temporal history.
    expect(JSON.stringify(task)).not.toContain(SECRET);
    const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
    expect(historyText(history)).not.toContain(SECRET);
    expect(historyText(history)).toContain(`${ext}fixture-secret`);
  });
});

/** Every string and decoded byte payload of a history, to search for a value. */
function historyText(value: unknown): string {
  const parts: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string') parts.push(v);
    else if (v instanceof Uint8Array) parts.push(Buffer.from(v).toString('utf8'));
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  return parts.join('\n');
}
