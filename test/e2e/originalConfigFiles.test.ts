import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RepoConfigRegistration } from '../../activities/pulp/repoConfigActivities.js';
import { parsePulpConfig } from '../../config/loadPulpConfig.js';
import { pulp_server_repos, pulp_servers, repos, tasks } from '../../db/schema.js';
import { desiredSchedules } from '../../temporal/desiredSchedules.js';
import type { RepoGroupSyncArgs, RepoRegistrationArgs } from '../../workflows/args.js';
import { createThrowawayDatabase, type ThrowawayDatabase } from '../db/throwawayDatabase.js';
import { deleteReposByPrefix } from '../support/fixtureRepos.js';
import { type PipelineHarness, startPipelineHarness } from '../support/pipelineHarness.js';
import { download, stackPulpClient } from '../support/pulp.js';
import { stack } from '../support/stack.js';

// The original Pulp Manager's own demo files (test/fixtures/original/demo: config.ini,
// pulp-config.yml, repo-config/**) drive a `make demo`-style run: `config validate`, the
// registration its pulp-config.yml schedules, then a group sync of its `default` group. The
// copies differ from the original only where they must reach the dev stack: hosts, ports, the
// Pulp password, the repo config's git location, the [temporal] section an upgrade adds (see
// UPGRADING.md) and the remote's upstream (nginx.org → the stack's fixture deb repository).
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const original = join(repoRoot, 'test/fixtures/original/demo');
const run = `o${Date.now().toString(36)}`;
const work = mkdtempSync(join(tmpdir(), `pm-original-${run}-`));
const primary = stack.pulp.primary;
// The demo's repository names, exactly as the original registers them (no per-run prefix: the
// names are the point). Left-overs of an earlier run are removed first and after.
const EXT = 'ext-demo-packages';
const INT = 'int-demo-packages';
const secondary = stack.pulp.secondary;
const primaryClient = stackPulpClient(primary);
const secondaryClient = stackPulpClient(secondary);
const exec = promisify(execFile);
let h: PipelineHarness;
let db: ThrowawayDatabase;

const paths = {
  ini: join(work, 'config.ini'),
  pulpConfig: join(work, 'pulp-config.yml'),
  gitRepo: join(work, 'repo-config.git'),
};

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd })
    .toString()
    .trim();

/** Replaces one exact text of the original's file; a miss means the fixture changed under us. */
function rewrite(text: string, from: string | RegExp, to: string, file: string): string {
  const next = text.replace(from, to);
  if (next === text) throw new Error(`${file}: ${String(from)} not found`);
  return next;
}

function copyOriginalFiles(settings: ThrowawayDatabase['settings']) {
  let ini = readFileSync(join(original, 'config.ini'), 'utf8');
  const iniEdits: [string | RegExp, string][] = [
    [/^host=mariadb$/m, `host=${settings.host}`],
    [/^port=3306$/m, `port=${settings.port}`],
    [/^user=pulp-manager$/m, `user=${settings.user}`],
    [/^db_name=pulp_manager$/m, `db_name=${settings.database}`],
    [/^ldap_servers=server:389$/m, `ldap_servers=${stack.ldap.url.replace('ldap://', '')}`],
    [
      /^internal_domains=pulp-primary,pulp-secondary$/m,
      `internal_domains=${primary.name},${stack.pulp.secondary.name}`,
    ],
    // The demo read its repo config from a local folder; here it comes from git, as in production.
    [/^local_repo_config_dir=.*$/m, `git_repo_config=${paths.gitRepo}`],
    [/^password=password$/m, `password=${stack.pulp.password}\nuse_https_for_api=false`],
  ];
  for (const [from, to] of iniEdits) ini = rewrite(ini, from, to, 'config.ini');
  ini += `\n\n[temporal]\naddress=${stack.temporal.address}\nnamespace=${stack.temporal.testNamespace}\n`;
  writeFileSync(paths.ini, ini);

  let fleet = readFileSync(join(original, 'pulp-config.yml'), 'utf8');
  fleet = rewrite(fleet, /pulp-primary:80/g, primary.name, 'pulp-config.yml');
  fleet = rewrite(fleet, /pulp-secondary:80/g, stack.pulp.secondary.name, 'pulp-config.yml');
  writeFileSync(paths.pulpConfig, fleet);

  // The repo config as a git repository whose repo_config/ ([pulp] git_repo_config_dir) holds the
  // original's demo/repo-config/ with its folders, files and keys as they are.
  const checkout = join(work, 'repo-config-src');
  const dir = join(checkout, 'repo_config');
  mkdirSync(checkout);
  cpSync(join(original, 'repo-config'), dir, { recursive: true });
  const extFile = join(dir, 'remote/ext-demo-packages.json');
  let ext = readFileSync(extFile, 'utf8');
  ext = rewrite(ext, 'http://nginx.org/packages/debian/', `${stack.fixtures.baseUrl}/deb/`, extFile);
  ext = rewrite(ext, '"releases": "bookworm"', '"releases": "stable"', extFile);
  ext = rewrite(ext, '"components": "nginx"', '"components": "main"', extFile);
  writeFileSync(extFile, ext);
  git(checkout, 'init', '-q', '-b', 'main');
  git(checkout, 'add', '-A');
  git(checkout, 'commit', '-q', '-m', 'the original demo repo config');
  git(work, 'clone', '-q', '--bare', checkout, paths.gitRepo);
}

async function cleanPulp() {
  for (const name of [EXT, INT]) await deleteReposByPrefix(primaryClient, primary.url, name);
  await deleteReposByPrefix(secondaryClient, secondary.url, EXT);
}

describe('the original Pulp Manager demo files on the dev stack', () => {
  beforeAll(async () => {
    db = await createThrowawayDatabase();
    copyOriginalFiles(db.settings);
    await cleanPulp();
    h = await startPipelineHarness({ configPaths: paths, database: db.settings });
  });

  afterAll(async () => {
    if (!process.env.PM_TEST_KEEP_PULP) await cleanPulp();
    await h?.close();
    await db?.drop();
    rmSync(work, { recursive: true, force: true });
  });

  it('config validate accepts the three files (the repo config cloned from its git URL)', async () => {
    const { stdout } = await exec(
      process.execPath,
      [
        ...['--import', 'tsx', join(repoRoot, 'cli/main.ts'), 'config', 'validate'],
        ...[
          '--config',
          paths.ini,
          '--pulp-config',
          paths.pulpConfig,
          '--repo-config',
          `file://${paths.gitRepo}`,
        ],
      ],
      {
        cwd: repoRoot,
        env: { ...process.env, PULP_MANAGER_LOCAL_AUTH: 'true', DB_PASSWORD: db.settings.password },
      },
    );
    const lines = stdout.split('\n');
    expect(lines).toContain(`${paths.ini}: valid (0 problems, 1 notice)`); // [redis] is not used
    expect(lines).toContain(`${paths.pulpConfig}: valid (2 servers, 3 repo groups)`);
    expect(stdout).toMatch(
      new RegExp(
        `^repo config file://${paths.gitRepo} at [0-9a-f]{12}: valid \\(2 repository files, 2 repositories, 0 problems, 1 notice\\)$`,
        'm',
      ),
    );
    expect(stdout).not.toContain('problems:');
  });

  it('registers the demo repositories with the original’s names, then syncs its default group', async () => {
    const fleet = parsePulpConfig(readFileSync(paths.pulpConfig, 'utf8'), paths.pulpConfig);
    const schedules = desiredSchedules(fleet, h.config.ini);
    const scheduled = (id: string) => {
      const s = schedules.find((d) => d.scheduleId === id);
      if (!s) throw new Error(`pulp-config.yml gives no schedule ${id}`);
      return s;
    };

    // The registration the demo's pulp-config.yml schedules for the primary, run now.
    const registration = scheduled(`repo-registration/${primary.name}`);
    const registered = (await h.client.workflow.execute(registration.workflowType, {
      taskQueue: h.taskQueue,
      workflowId: `${registration.workflowId}/test-${run}`,
      args: registration.args as [RepoRegistrationArgs],
    })) as RepoConfigRegistration;
    expect(registered).toMatchObject({
      files: 2,
      selected: 2,
      created: [EXT, INT],
      failed: {},
      fileErrors: [],
    });
    expect(registered.commit).toMatch(/^[0-9a-f]{40}$/);
    // The demo's internal/global.json ({"proxy": null}) is read, which the original did not.
    expect(registered.notices).toEqual([
      'repo_config/internal/global.json: (root): applied to every repository under its folder (proxy); the original read only remote/global.json',
    ]);

    const auth = `Basic ${Buffer.from(`${stack.pulp.username}:${stack.pulp.password}`).toString('base64')}`;
    const one = async (path: string, name: string) => {
      const res = await fetch(`${primary.url}/pulp/api/v3/${path}/?name=${name}`, {
        headers: { Authorization: auth },
      });
      return ((await res.json()) as { results: Record<string, unknown>[] }).results[0];
    };
    expect(await one('repositories/deb/apt', EXT)).toMatchObject({
      description: `External demo packages from nginx.org - pulp-primary - base_url:${EXT}`,
    });
    expect(await one('remotes/deb/apt', EXT)).toMatchObject({
      url: `${stack.fixtures.baseUrl}/deb/`,
      distributions: 'stable',
      components: 'main',
      architectures: 'amd64',
      ignore_missing_package_indices: true,
      proxy_url: null,
      tls_validation: false,
    });
    expect(await one('distributions/deb/apt', EXT)).toMatchObject({ base_path: EXT });
    // The internal file's list-valued releases/architectures/components are accepted; an
    // internal repository has no remote.
    expect(await one('repositories/deb/apt', INT)).toMatchObject({
      description: `Internal demo repository - pulp-primary - base_url:${INT}`,
      remote: null,
    });
    expect(await one('distributions/deb/apt', INT)).toMatchObject({ base_path: INT });

    // The demo's `default` group of the primary (max_concurrent_syncs 1, max_runtime 1h). Its
    // regex is `.*`; on the shared dev Pulp that would sync every test's repositories, so this run
    // is narrowed to the demo's two.
    const group = scheduled(`repo-group-sync/${primary.name}/default`);
    const [groupArgs] = group.args as [RepoGroupSyncArgs];
    expect(groupArgs).toMatchObject({ regexInclude: '.*', maxConcurrentSyncs: 1, maxRuntimeSeconds: 3600 });
    const handle = await h.client.workflow.start(group.workflowType, {
      taskQueue: h.taskQueue,
      workflowId: `${group.workflowId}/test-${run}`,
      args: [{ ...groupArgs, regexInclude: `^(${EXT}|${INT})$` }],
    });
    expect(await handle.result()).toMatchObject({ total: 1, completed: 1, failed: 0 });
    const [groupTask] = await h.db
      .select()
      .from(tasks)
      .where(and(eq(tasks.workflow_id, handle.workflowId), eq(tasks.task_type, 'repo_group_sync')));
    expect(groupTask?.state).toBe('completed');

    const packages = await download(`${primary.contentUrl}/${EXT}/dists/stable/main/binary-amd64/Packages`);
    expect(packages.toString()).toContain('Package: pm-tools');
    // The demo's banned_package_regex (bannedexample|another) applies to the external repository.
    expect(packages.toString()).not.toContain('bannedexample');

    const health = await h.db
      .select({ name: repos.name, health: pulp_server_repos.repo_sync_health })
      .from(pulp_server_repos)
      .innerJoin(repos, eq(repos.id, pulp_server_repos.repo_id))
      .innerJoin(pulp_servers, eq(pulp_servers.id, pulp_server_repos.pulp_server_id))
      .where(and(eq(pulp_servers.name, primary.name), eq(repos.name, EXT)));
    expect(health).toEqual([{ name: EXT, health: 'green' }]);
  });

  it('syncs the secondary’s external_repos group from the primary (pulp_master), as the demo does', async () => {
    const fleet = parsePulpConfig(readFileSync(paths.pulpConfig, 'utf8'), paths.pulpConfig);
    const group = desiredSchedules(fleet, h.config.ini).find(
      (d) => d.scheduleId === `repo-group-sync/${secondary.name}/external_repos`,
    );
    if (!group) throw new Error('pulp-config.yml gives the secondary no external_repos schedule');
    const [groupArgs] = group.args as [RepoGroupSyncArgs];
    expect(groupArgs).toMatchObject({ regexInclude: '^ext', sourceServer: primary.name });
    const handle = await h.client.workflow.start(group.workflowType, {
      taskQueue: h.taskQueue,
      workflowId: `${group.workflowId}/test-${run}`,
      // `^ext` narrowed to the demo's repository: the shared primary holds other tests' ext- repos.
      args: [{ ...groupArgs, regexInclude: `^${EXT}$` }],
    });
    expect(await handle.result()).toMatchObject({ total: 1, completed: 1, failed: 0 });
    const packages = await download(`${secondary.contentUrl}/${EXT}/dists/stable/main/binary-amd64/Packages`);
    expect(packages.toString()).toContain('Package: pm-tools');
  });
});
