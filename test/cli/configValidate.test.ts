import { execFile } from 'node:child_process';
import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// `pulp-manager config validate` as an operator runs it: a real process, offline.
const sh = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const original = join(root, 'test/fixtures/original');

async function validate(args: string[], extraEnv: Record<string, string> = {}) {
  const env: Record<string, string | undefined> = { ...process.env, ...extraEnv };
  for (const key of [
    'PULP_MANAGER_CONFIG_PATH',
    'PULP_SYNC_CONFIG_PATH',
    'PULP_MANAGER_CA_FILE',
    'Is_local',
  ]) {
    if (!(key in extraEnv)) delete env[key];
  }
  try {
    const { stdout } = await sh('npx', ['tsx', 'cli/main.ts', 'config', 'validate', ...args], {
      cwd: root,
      env,
    });
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'pm-validate-'));
}

describe('pulp-manager config validate', () => {
  it("passes the original's config-examples (notices for [redis], ${…} placeholders, method=none)", async () => {
    const r = await validate([
      '--config',
      join(original, 'config-examples/config.ini'),
      '--pulp-config',
      join(original, 'config-examples/pulp_config.yml'),
    ]);
    expect(r.out).not.toContain('problems:');
    expect(r.code).toBe(0);
    expect(r.out).toContain('config-examples/config.ini: valid (0 problems, 9 notices)');
    expect(r.out).toContain('config-examples/pulp_config.yml: valid (0 servers, 0 repo groups)');
    expect(r.out).toMatch(/config\.ini:45: redis: \[redis\] \(host, port, db\): Redis is not used/);
    expect(r.out).toMatch(/config\.ini:12: database\.port: "\$\{DB_PORT:3306\}" is a placeholder/);
    expect(r.out).toContain('auth.method: none: logins (POST /v1/auth/login) are refused');
    expect(r.out).toContain('config.ini:32: pulp.internal_domains: empty: no feed is internal here');
    expect(r.out).toContain('repo config: not checked');
  });

  it("passes the original's demo config.ini, pulp-config.yml and repo-config", async () => {
    const r = await validate([
      '--config',
      join(original, 'demo/config.ini'),
      join(original, 'demo/pulp-config.yml'),
      '--repo-config',
      join(original, 'demo/repo-config'),
    ]);
    expect(r.out).not.toContain('problems:');
    expect(r.code).toBe(0);
    expect(r.out).toContain('demo/config.ini: valid (0 problems, 1 notice)');
    expect(r.out).toContain('demo/pulp-config.yml: valid (2 servers, 3 repo groups)');
    expect(r.out).toMatch(
      /repo config \S+demo\/repo-config: valid \(2 repository files, 2 repositories, 0 problems/,
    );
  });

  it('clones a repo config given as a git URL and reads its git_repo_config_dir', async () => {
    const repo = await tempDir();
    await cp(join(original, 'demo/repo-config'), join(repo, 'repo_config'), { recursive: true });
    const git = (...args: string[]) => sh('git', ['-C', repo, ...args]);
    await git('init', '--quiet', '--initial-branch=main');
    await git('add', '.');
    await git(
      '-c',
      'user.name=t',
      '-c',
      'user.email=t@example.com',
      'commit',
      '--quiet',
      '-m',
      'repo config',
    );
    const r = await validate([
      '--config',
      join(original, 'demo/config.ini'),
      '--skip',
      'pulp-config',
      '--repo-config',
      `file://${repo}`,
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      new RegExp(`repo config file://${repo} at [0-9a-f]{12}: valid \\(2 repository files, 2 repositories`),
    );
    expect(r.out).not.toContain('pulp-config.yml');
  });

  it('reports every problem of every file with file and key, and exits 2', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'config.ini'),
      [
        '[auth]',
        'use_ssl = maybe',
        'Use_SSL = true',
        '[pulp]',
        'banned_package_regex = a(?i)b',
        'package_name_replacement_pattern: ^(?P<org>[a-z]+)-(?P<pkg>.+)$',
        '[remotes]',
        'sock_read_timeout = 60%',
        '[redis]',
        'host = redis',
        '',
      ].join('\n'),
    );
    await writeFile(
      join(dir, 'pulp_config.yml'),
      [
        'pulp_servers:',
        '  pulp_primary:80:',
        '    credentials: missing',
        '    repo_groups:',
        '      ext:',
        '        max_concurrent_syncs: 1',
        '        max_runtime: "6x"',
        'repo_groups:',
        '  ext:',
        '    regex_include: "(?>atomic)"',
        '',
      ].join('\n'),
    );
    const repoConfig = join(dir, 'repo-config');
    await cp(join(original, 'demo/repo-config'), repoConfig, { recursive: true });
    await writeFile(join(repoConfig, 'remote/broken.json'), '{ "name": "broken", ');
    await writeFile(
      join(repoConfig, 'remote/noname.json'),
      JSON.stringify({
        description: 'x',
        owner: 'y',
        base_url: 'z',
        content_repo_type: 'rpm',
        url: 'https://a/',
      }),
    );

    const r = await validate([
      '--config',
      join(dir, 'config.ini'),
      join(dir, 'pulp_config.yml'),
      '--repo-config',
      repoConfig,
    ]);
    expect(r.code).toBe(2);
    const ini = join(dir, 'config.ini');
    const yml = join(dir, 'pulp_config.yml');
    expect(r.out).toContain(
      `${ini}:3: auth.use_ssl: key already set in [auth] (line 2); keys are case-insensitive`,
    );
    expect(r.out).toContain(`${ini}:5: pulp.banned_package_regex: invalid regex "a(?i)b": inline flags`);
    expect(r.out).toContain(`${ini}:8: remotes.sock_read_timeout: "%" must be followed by "%" or "("`);
    expect(r.out).toContain(
      `${yml}: pulp_servers.pulp_primary:80.repo_groups.ext.max_runtime: invalid max_runtime "6x"`,
    );
    expect(r.out).toContain(
      `${yml}: repo_groups.ext.regex_include: invalid regex "(?>atomic)": atomic groups`,
    );
    expect(r.out).toContain(
      `${yml}: pulp_servers.pulp_primary:80.credentials: credentials block "missing" is not defined`,
    );
    expect(r.out).toContain(join(repoConfig, 'remote/broken.json'));
    expect(r.out).toMatch(new RegExp(`${join(repoConfig, 'remote/noname.json')}: name: `));
    // The Python named groups are fine, and notices still come with the problems.
    expect(r.out).not.toContain('package_name_replacement_pattern');
    expect(r.out).toMatch(
      /notices \(accepted, not used as written\):\n(.*\n)*.*config\.ini:9: redis: \[redis\] \(host\)/,
    );
  });

  it('says what it checks in its help', async () => {
    const r = await validate(['--help']);
    expect(r.code).toBe(0);
    for (const part of [
      'config.ini',
      'pulp_config.yml',
      'repo config',
      '--repo-config <dir|git-url>',
      'Exit status',
    ]) {
      expect(r.out).toContain(part);
    }
  });
});
