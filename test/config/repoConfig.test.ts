import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { formatIssue } from '../../config/errors.js';
import { parseIniConfig } from '../../config/loadAppConfig.js';
import { globalJsonFor, readRepoConfigDir } from '../../config/repoConfigFiles.js';
import {
  applyNameReplacement,
  baseUrlFromDescription,
  distributionBasePath,
  mergeGlobal,
  type RepoConfigRules,
  registrationFilterName,
  repoConfigEntry,
  repoConfigRulesFromIni,
  repoDescription,
  repoNameOf,
} from '../../config/repoConfigRules.js';
import { type RepoConfigFile, repoConfigFileSchema } from '../../config/repoConfigSchema.js';
import { repoNameMatcher } from '../../domain/repoFilter.js';

const rules: RepoConfigRules = {
  externalPrefix: 'ext-',
  internalPrefix: 'corp_',
  internalDomains: ['example.com', 'localhost'],
  remoteTlsValidation: false,
  sockConnectTimeout: 120,
  sockReadTimeout: 600,
};

const file = (over: Partial<z.input<typeof repoConfigFileSchema>>): RepoConfigFile =>
  repoConfigFileSchema.parse({
    name: 'centos-base',
    content_repo_type: 'rpm',
    description: 'CentOS 7 Base Repository',
    owner: 'Core Linux Engineering',
    base_url: 'centos7-x86_64',
    url: 'http://mirror.centos.org/centos/7/os/x86_64/',
    ...over,
  });

describe('repo names, as the original gave them', () => {
  it.each([
    [{ name: 'centos-base', url: 'http://x/' }, undefined, 'ext-centos-base'],
    [{ name: 'ext-centos-base', url: 'http://x/' }, undefined, 'ext-centos-base'],
    // internal_repo_prefix never renames: a migrated fleet keeps its repositories
    [{ name: 'myapp' }, undefined, 'myapp'],
    [{ name: 'int-demo-packages' }, undefined, 'int-demo-packages'],
    // global.json's pulp.package_prefix names the url-less repositories of its folder, once
    [{ name: 'myapp' }, { pulp: { package_prefix: 'corp-' } }, 'corp-myapp'],
    [{ name: 'corp-myapp' }, { pulp: { package_prefix: 'corp-' } }, 'corp-myapp'],
    [{ name: 'mirror', url: 'http://x/' }, { pulp: { package_prefix: 'corp-' } }, 'ext-mirror'],
  ])('%j with global %j → %s', (f, global, expected) => {
    expect(repoNameOf(f, global)).toBe(expected);
  });

  it('ext- is the prefix of every repository with a url, whatever external_repo_prefix says', () => {
    const entry = repoConfigEntry(file({ name: 'base' }), undefined, 'f', { ...rules, externalPrefix: '' });
    expect(entry.name).toBe('ext-base');
  });

  it.each([
    ['remote', 'centos-base', 'ext-centos-base'],
    ['remote/el7', 'ext-centos-base', 'ext-centos-base'],
    ['internal', 'myapp', 'corp_myapp'],
    ['internal/deb', 'corp_myapp', 'corp_myapp'],
    ['other', 'myapp', 'myapp'],
  ])('registration regexes see %s/%s as %s (the folder prefixes of config.ini)', (folder, name, expected) => {
    expect(registrationFilterName(folder, name, rules)).toBe(expected);
  });

  it('internal_repo_prefix wins over internal_package_prefix; ext- is the default external prefix', () => {
    const both = parseIniConfig(
      '[pulp]\ninternal_repo_prefix=int-\ninternal_package_prefix=corp_\n',
      'c.ini',
    );
    expect(repoConfigRulesFromIni(both)).toMatchObject({ externalPrefix: 'ext-', internalPrefix: 'int-' });
    const seed = parseIniConfig('[pulp]\ninternal_package_prefix=corp_\n', 'c.ini');
    expect(repoConfigRulesFromIni(seed).internalPrefix).toBe('corp_');
    expect(repoConfigRulesFromIni(parseIniConfig('', 'c.ini')).internalPrefix).toBe('');
  });
});

describe('distribution base path', () => {
  const byNamedGroups = { pattern: '^ext-(?<distro>[a-z]+)-(?<rest>.+)$', rule: '{rest}-{distro}' };
  it.each([
    ['ext-centos-base', 'centos7-x86_64', undefined, 'centos7-x86_64/ext-centos-base'],
    ['ext-centos-base', 'centos7-x86_64/', undefined, 'centos7-x86_64/ext-centos-base'],
    ['int-demo-packages', 'int-demo-packages', undefined, 'int-demo-packages'],
    ['int-demo-packages', 'int-demo-packages/', undefined, 'int-demo-packages'],
    // as the original: only a base_url that is the name is not repeated
    ['int-demo', 'debian-12/int-demo', undefined, 'debian-12/int-demo/int-demo'],
    ['demo', 'debian-12/int-demo', undefined, 'debian-12/int-demo/demo'],
    ['ext-centos-base', 'el7', byNamedGroups, 'el7/base-centos'],
    ['int-app', 'el7', byNamedGroups, 'el7/int-app'],
    // Python's named groups, as the original's config files write them
    ['ext-centos-base', 'el7', { pattern: '^ext-(?P<n>.+)$', rule: '{n}' }, 'el7/centos-base'],
  ])('%s under %s (%j) → %s', (name, baseUrl, replacement, expected) => {
    expect(distributionBasePath(name, baseUrl, replacement)).toBe(expected);
  });

  it.each([
    ['xext-a', { pattern: 'ext-(?<n>.+)', rule: '{n}' }, 'xext-a'], // re.match: only at the start
    ['ext-a', { pattern: 'ext-(?<n>.+)', rule: 'pkg-{n}-{missing}' }, 'pkg-a-{missing}'],
    ['ext-a', undefined, 'ext-a'],
  ])('name replacement of %s with %j → %s', (name, replacement, expected) => {
    expect(applyNameReplacement(name, replacement)).toBe(expected);
  });
});

describe('description', () => {
  it('is "<description> - <owner> - base_url:<base_url>" and gives base_url back', () => {
    const d = repoDescription(file({}));
    expect(d).toBe('CentOS 7 Base Repository - Core Linux Engineering - base_url:centos7-x86_64');
    expect(baseUrlFromDescription(d)).toBe('centos7-x86_64');
    expect(baseUrlFromDescription('no base url here')).toBeUndefined();
    expect(baseUrlFromDescription(null)).toBeUndefined();
  });
});

describe('repo config entry', () => {
  it.each([
    {
      case: 'iso means file',
      in: { content_repo_type: 'iso' as const },
      out: { repoType: 'file' },
    },
    {
      case: 'external feed keeps its proxy; the file’s tls_validation is the remote’s',
      in: { proxy: 'http://proxy.example.org:8080', tls_validation: true },
      out: {
        remote: { proxy_url: 'http://proxy.example.org:8080', tls_validation: true, internalFeed: false },
      },
    },
    {
      case: 'tls_validation false in the file wins over remote_tls_validation=true',
      rules: { remoteTlsValidation: true },
      in: { tls_validation: false },
      out: { remote: { tls_validation: false } },
    },
    {
      case: 'no tls_validation in the file: [pulp] remote_tls_validation decides',
      rules: { remoteTlsValidation: true },
      in: {},
      out: { remote: { tls_validation: true } },
    },
    {
      case: 'internal-domain feed: proxy dropped, TLS validated with the root CA, whatever the file says',
      in: {
        url: 'https://artifactory.example.com/rpm/',
        proxy: 'http://proxy.example.org:8080',
        tls_validation: false,
      },
      out: { remote: { proxy_url: null, tls_validation: true, internalFeed: true } },
    },
    {
      case: 'no proxy key: no proxy',
      in: {},
      out: { remote: { proxy_url: null } },
    },
    {
      case: 'the Pulp 2 token placeholder is removed from the url',
      in: { url: 'https://{{hpe_fwpp_token}}:null@mirror.example.org/x/' },
      out: { remote: { url: 'https://mirror.example.org/x/' } },
    },
    {
      case: 'remotes get the [remotes] timeouts and immediate policy',
      in: {},
      out: { remote: { sock_connect_timeout: 120, sock_read_timeout: 600, policy: 'immediate' } },
    },
    {
      case: 'deb without releases syncs stable',
      in: { content_repo_type: 'deb' as const },
      out: {
        remote: {
          distributions: 'stable',
          components: null,
          architectures: null,
          ignore_missing_package_indices: false,
        },
      },
    },
    {
      case: 'deb strings go to Pulp as written; components turn on ignore_missing_package_indices',
      in: {
        content_repo_type: 'deb' as const,
        releases: 'focal focal-updates',
        components: 'main',
        architectures: 'amd64',
      },
      out: {
        remote: {
          distributions: 'focal focal-updates',
          components: 'main',
          architectures: 'amd64',
          ignore_missing_package_indices: true,
        },
      },
    },
    {
      case: 'deb lists become Pulp’s space-separated strings',
      in: {
        content_repo_type: 'deb' as const,
        releases: ['bookworm', 'bookworm-updates'],
        components: ['main', 'contrib'],
        architectures: ['amd64'],
      },
      out: {
        remote: {
          distributions: 'bookworm bookworm-updates',
          components: 'main contrib',
          architectures: 'amd64',
          ignore_missing_package_indices: true,
        },
      },
    },
    {
      case: 'components still turn on ignore_missing_package_indices when the file says false (as the original)',
      in: { content_repo_type: 'deb' as const, components: 'main', ignore_missing_package_indices: false },
      out: { remote: { ignore_missing_package_indices: true } },
    },
    {
      case: 'container: the image name and tag filters go to the remote',
      in: {
        content_repo_type: 'container' as const,
        url: 'https://registry.example.org',
        upstream_name: 'library/busybox',
        include_tags: ['1.36', 'latest'],
      },
      out: {
        repoType: 'container',
        remote: {
          url: 'https://registry.example.org',
          upstream_name: 'library/busybox',
          include_tags: ['1.36', 'latest'],
          exclude_tags: null,
        },
      },
    },
    {
      case: 'python: the projects to mirror go to the remote; none listed is every project',
      in: {
        content_repo_type: 'python' as const,
        url: 'https://pypi.example.org/',
        includes: ['requests>=2'],
      },
      out: {
        repoType: 'python',
        remote: { url: 'https://pypi.example.org/', includes: ['requests>=2'], excludes: [] },
      },
    },
    {
      case: 'an explicit ignore_missing_package_indices true is honoured without components',
      in: { content_repo_type: 'deb' as const, ignore_missing_package_indices: true },
      out: { remote: { ignore_missing_package_indices: true } },
    },
    {
      case: 'vault secrets are references, kept apart from the remote',
      in: {
        vault_load_secrets: [
          { secret_name: 'cert', kv: 'secrets', path: 'rhel/cdn', remote_property: 'client_cert' as const },
        ],
      },
      out: {
        secrets: [{ secret_name: 'cert', kv: 'secrets', path: 'rhel/cdn', remote_property: 'client_cert' }],
      },
    },
  ] as {
    case: string;
    rules?: Partial<RepoConfigRules>;
    in: Record<string, unknown>;
    out: object;
  }[])('$case', ({ rules: over, in: input, out }) => {
    const f = file(input);
    expect(repoConfigEntry(f, undefined, 'repo_config/remote/x.json', { ...rules, ...over })).toMatchObject(
      out,
    );
  });

  it('rpm remotes carry no deb fields; repos without url have no remote and keep their name', () => {
    const rpm = repoConfigEntry(file({}), undefined, 'f', rules);
    expect(rpm.remote).not.toHaveProperty('distributions');
    const internal = repoConfigEntry(
      file({ url: undefined, name: 'myapp', releases: ['stable'] }),
      undefined,
      'f',
      rules,
    );
    expect(internal).toMatchObject({ name: 'myapp', basePath: 'centos7-x86_64/myapp', secrets: [] });
    expect(internal.remote).toBeUndefined();
  });

  it('global.json wins over the file’s own keys', () => {
    expect(mergeGlobal({ proxy: 'http://p:3128' }, { name: 'a', proxy: 'http://other:8080' })).toEqual({
      name: 'a',
      proxy: 'http://p:3128',
    });
  });

  it.each([
    ['remote/a.json', 'remote/global.json'],
    ['remote/el7/a.json', 'remote/global.json'],
    ['x/remote/el7/a.json', 'x/remote/global.json'],
    ['internal/deb/a.json', 'internal/global.json'],
    ['other/a.json', undefined],
  ])('%s is merged with %s', (path, expected) => {
    expect(globalJsonFor(path)).toBe(expected);
  });
});

const trees: string[] = [];
afterAll(() => {
  for (const dir of trees) rmSync(dir, { recursive: true, force: true });
});

function writeTree(files: Record<string, string | object>): string {
  const root = mkdtempSync(join(tmpdir(), 'pm-repo-config-'));
  trees.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return root;
}

const good = (name: string, extra: object = {}) => ({
  name,
  content_repo_type: 'rpm',
  description: `${name} packages`,
  base_url: 'el9-x86_64',
  url: `http://mirror.example.org/${name}/`,
  ...extra,
});

async function read(files: Record<string, string | object>, filter = {}) {
  return readRepoConfigDir(writeTree(files), {
    rules,
    matches: repoNameMatcher(filter),
    displayRoot: 'repo_config',
  });
}

describe('reading a repo config folder', () => {
  it('merges global.json into every file of its folder; global.json wins, with a notice', async () => {
    const r = await read({
      'remote/global.json': { owner: 'Linux Team', proxy: 'http://proxy.example.org:3128' },
      'remote/a.json': good('a'),
      'remote/nested/b.json': good('b', { owner: 'B Team', proxy: null }),
      'internal/global.json': { owner: 'Platform' },
      'internal/app.json': {
        name: 'app',
        content_repo_type: 'deb',
        description: 'Apps',
        base_url: 'debian-12',
      },
    });
    expect(r.issues).toEqual([]);
    expect(r.files).toBe(3);
    const byName = Object.fromEntries(r.entries.map((e) => [e.name, e]));
    expect(byName['ext-a']).toMatchObject({
      file: 'repo_config/remote/a.json',
      description: 'a packages - Linux Team - base_url:el9-x86_64',
      basePath: 'el9-x86_64/ext-a',
      remote: { proxy_url: 'http://proxy.example.org:3128' },
    });
    expect(byName['ext-b']).toMatchObject({
      file: 'repo_config/remote/nested/b.json',
      description: 'b packages - Linux Team - base_url:el9-x86_64',
      remote: { proxy_url: 'http://proxy.example.org:3128' },
    });
    expect(byName.app).toMatchObject({
      repoType: 'deb',
      basePath: 'debian-12/app',
      description: 'Apps - Platform - base_url:debian-12',
    });
    expect(byName.app?.remote).toBeUndefined();
    expect(r.notices.map(formatIssue)).toEqual([
      'repo_config/internal/global.json: (root): applied to every repository under its folder (owner); the original read only remote/global.json',
      'repo_config/remote/nested/b.json: owner: replaced by the value of its global.json (global.json wins)',
      'repo_config/remote/nested/b.json: proxy: replaced by the value of its global.json (global.json wins)',
    ]);
  });

  it('unknown keys are notices; the file still yields its repository', async () => {
    const r = await read({
      'remote/global.json': { owner: 'o', proxy: null, mirror_policy: 'x' },
      'remote/a.json': good('a', { repo_type: 'external', publish_latest: true }),
    });
    expect(r.issues).toEqual([]);
    expect(r.entries.map((e) => e.name)).toEqual(['ext-a']);
    expect(r.notices.map(formatIssue)).toEqual([
      'repo_config/remote/global.json: mirror_policy: unknown key, ignored (the original did not read it either)',
      'repo_config/remote/a.json: repo_type: unknown key, ignored (the original did not read it either)',
      'repo_config/remote/a.json: publish_latest: unknown key, ignored (the original did not read it either)',
    ]);
  });

  it('a file without url under remote/ is a repository without remote, named by global.json’s package_prefix', async () => {
    const r = await read({
      'remote/global.json': { owner: 'o', pulp: { package_prefix: 'corp-' } },
      'remote/local.json': { ...good('local'), url: undefined },
    });
    expect(r.issues).toEqual([]);
    expect(r.entries).toMatchObject([{ name: 'corp-local', basePath: 'el9-x86_64/corp-local' }]);
    expect(r.entries[0]?.remote).toBeUndefined();
  });

  it('files outside remote/ and internal/ are repositories too (no global.json)', async () => {
    const r = await read({ 'other/a.json': good('a', { owner: 'o' }) });
    expect(r.issues).toEqual([]);
    expect(r.entries.map((e) => e.name)).toEqual(['ext-a']);
  });

  it('reads the original’s demo/repo-config as it is', async () => {
    const demo = fileURLToPath(new URL('../fixtures/original/demo/repo-config', import.meta.url));
    const r = await readRepoConfigDir(demo, { rules, matches: () => true, displayRoot: 'repo-config' });
    expect(r.issues).toEqual([]);
    expect(r.files).toBe(2);
    const byName = Object.fromEntries(r.entries.map((e) => [e.name, e]));
    expect(Object.keys(byName).sort()).toEqual(['ext-demo-packages', 'int-demo-packages']);
    expect(byName['ext-demo-packages']).toMatchObject({
      repoType: 'deb',
      basePath: 'ext-demo-packages',
      description: 'External demo packages from nginx.org - pulp-primary - base_url:ext-demo-packages',
      remote: {
        url: 'http://nginx.org/packages/debian/',
        proxy_url: null,
        distributions: 'bookworm',
        components: 'nginx',
        architectures: 'amd64',
        ignore_missing_package_indices: true,
      },
    });
    expect(byName['int-demo-packages']).toMatchObject({ repoType: 'deb', basePath: 'int-demo-packages' });
    expect(byName['int-demo-packages']?.remote).toBeUndefined();
  });

  it('reads the original README’s two samples as its code did', async () => {
    // README "Example Repository Configuration", with its config.ini (internal_repo_prefix=corp-,
    // remote_tls_validation=true). The README says internal repos get the prefix; its code
    // never renamed them, and existing fleets are named by the code.
    const r = await readRepoConfigDir(
      writeTree({
        'remote/centos-base.json': {
          name: 'centos-base',
          content_repo_type: 'rpm',
          description: 'CentOS 7 Base Repository',
          owner: 'Core Linux Engineering',
          base_url: 'centos7-x86_64',
          url: 'http://mirror.centos.org/centos/7/os/x86_64/',
          proxy: 'http://proxy.example.com:8080',
          tls_validation: true,
        },
        'internal/myapp.json': {
          name: 'myapp',
          content_repo_type: 'deb',
          description: 'Internal Application Packages',
          owner: 'Application Team',
          base_url: 'ubuntu-20.04-x86_64',
        },
      }),
      {
        rules: { ...rules, internalPrefix: 'corp-', remoteTlsValidation: true },
        matches: () => true,
        displayRoot: 'repo_config',
      },
    );
    expect(r.issues).toEqual([]);
    expect(r.notices).toEqual([]);
    expect(r.entries).toMatchObject([
      {
        name: 'myapp',
        repoType: 'deb',
        description: 'Internal Application Packages - Application Team - base_url:ubuntu-20.04-x86_64',
        basePath: 'ubuntu-20.04-x86_64/myapp',
      },
      {
        name: 'ext-centos-base',
        repoType: 'rpm',
        basePath: 'centos7-x86_64/ext-centos-base',
        remote: { proxy_url: 'http://proxy.example.com:8080', tls_validation: true },
      },
    ]);
  });

  it("a container or python key in another type's file is a notice, not used", async () => {
    const r = await read({
      'remote/a.json': good('a', { owner: 'o', upstream_name: 'x/y', includes: ['pkg'] }),
      'remote/b.json': good('b', { owner: 'o', content_repo_type: 'python', includes: ['pkg'] }),
    });
    expect(r.issues).toEqual([]);
    expect(r.notices.map(formatIssue).sort()).toEqual([
      'repo_config/remote/a.json: includes: ignored: read for python repositories only, this one is rpm',
      'repo_config/remote/a.json: upstream_name: ignored: read for container repositories only, this one is rpm',
    ]);
    expect(r.entries.find((e) => e.name === 'ext-a')?.remote).not.toHaveProperty('upstream_name');
  });

  it.each([
    ['invalid JSON', '{"name": "x",', '', /invalid JSON/],
    ['not an object', '[1, 2]', '', /must be a JSON object/],
    ['missing owner', good('x'), 'owner', /expected string/],
    ['wrong type', good('x', { owner: 'o', tls_validation: 'yes' }), 'tls_validation', /expected boolean/],
    ['unsupported type', good('x', { owner: 'o', content_repo_type: 'helm' }), 'content_repo_type', /.+/],
    [
      'container with a url and no upstream_name',
      good('x', { owner: 'o', content_repo_type: 'container' }),
      'upstream_name',
      /required for a container repository with a url/,
    ],
    ['bad url', good('x', { owner: 'o', url: 'mirror.example.org/x' }), 'url', /http\(s\) URL/],
    [
      'empty releases list',
      good('x', { owner: 'o', content_repo_type: 'deb', releases: [] }),
      'releases',
      /.+/,
    ],
    [
      'two words in one list item',
      good('x', { owner: 'o', content_repo_type: 'deb', components: ['main contrib'] }),
      'components.0',
      /one word/,
    ],
    [
      'bad remote_property',
      good('x', {
        owner: 'o',
        vault_load_secrets: [{ secret_name: 's', kv: 'k', path: 'p', remote_property: 'url' }],
      }),
      'vault_load_secrets.0.remote_property',
      /.+/,
    ],
    ['name with a slash', good('a/b', { owner: 'o' }), 'name', /must not contain/],
  ])(
    '%s: reported with its path and key, the other files still apply',
    async (_case, content, key, message) => {
      const r = await read({ 'remote/bad.json': content, 'remote/ok.json': good('ok', { owner: 'o' }) });
      expect(r.entries.map((e) => e.name)).toEqual(['ext-ok']);
      expect(r.issues.length).toBeGreaterThan(0);
      for (const issue of r.issues) expect(issue.file).toBe('repo_config/remote/bad.json');
      expect(r.issues.map((i) => i.path)).toContain(key);
      expect(r.issues.map(formatIssue).join('\n')).toMatch(message);
    },
  );

  it('a broken global.json stops its folder only, and says so', async () => {
    const r = await read({
      'remote/global.json': { owner: 'o', proxy: 'not a url' },
      'remote/a.json': good('a'),
      'internal/app.json': {
        name: 'app',
        content_repo_type: 'rpm',
        description: 'd',
        owner: 'p',
        base_url: 'el9',
      },
    });
    expect(r.entries.map((e) => e.name)).toEqual(['app']);
    expect(r.issues.map(formatIssue)).toEqual([
      'repo_config/remote/global.json: proxy: must be an http(s) URL',
      'repo_config/remote/global.json: (root): 1 file(s) not applied: this global.json is invalid',
    ]);
  });

  it('a global.json with a name is refused (it would name every repository alike)', async () => {
    const r = await read({ 'remote/global.json': { name: 'x' }, 'remote/a.json': good('a', { owner: 'o' }) });
    expect(r.entries).toEqual([]);
    expect(r.issues.map(formatIssue)[0]).toMatch(/^repo_config\/remote\/global.json: name: /);
  });

  it('two files for one repository: the second is reported', async () => {
    const r = await read({
      'remote/a.json': good('a', { owner: 'o' }),
      'remote/b.json': good('ext-a', { owner: 'o' }),
    });
    expect(r.entries.map((e) => e.file)).toEqual(['repo_config/remote/a.json']);
    expect(r.issues.map(formatIssue)).toEqual([
      'repo_config/remote/b.json: name: repository ext-a is also defined by repo_config/remote/a.json',
    ]);
  });

  it('filters on the folder-prefixed name, before validating the rest of the file', async () => {
    const r = await read(
      {
        'remote/a.json': good('a', { owner: 'o' }),
        'remote/skip.json': { name: 'skipped', broken: true },
        'internal/app.json': {
          name: 'app',
          content_repo_type: 'rpm',
          description: 'd',
          owner: 'o',
          base_url: 'x',
        },
      },
      { regexInclude: '^(ext-|corp_)', regexExclude: 'skipped' },
    );
    expect(r).toMatchObject({ files: 3, filteredOut: 1, issues: [] });
    // corp_app matched the regex; its repository keeps the name of its file
    expect(r.entries.map((e) => e.name)).toEqual(['app', 'ext-a']);
  });

  it('a repo config with no repository file is an error', async () => {
    const r = await read({ 'remote/global.json': { owner: 'o' } });
    expect(r.issues.map(formatIssue)).toEqual(['repo_config: (root): holds no repository file (*.json)']);
  });
});
