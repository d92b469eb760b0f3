import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatIssue } from '../../config/errors.js';
import { parseIniConfig } from '../../config/loadAppConfig.js';
import { readRepoConfigDir } from '../../config/repoConfigFiles.js';
import {
  applyNameReplacement,
  baseUrlFromDescription,
  distributionBasePath,
  type RepoConfigRules,
  repoConfigEntry,
  repoConfigRulesFromIni,
  repoDescription,
  repoNameFor,
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

const file = (over: Partial<RepoConfigFile>): RepoConfigFile =>
  repoConfigFileSchema.parse({
    name: 'centos-base',
    content_repo_type: 'rpm',
    description: 'CentOS 7 Base Repository',
    owner: 'Core Linux Engineering',
    base_url: 'centos7-x86_64',
    url: 'http://mirror.centos.org/centos/7/os/x86_64/',
    ...over,
  });

describe('repo names get the prefix of their folder, once', () => {
  it.each([
    ['remote', 'centos-base', 'ext-centos-base'],
    ['remote', 'ext-centos-base', 'ext-centos-base'],
    ['internal', 'myapp', 'corp_myapp'],
    ['internal', 'corp_myapp', 'corp_myapp'],
    ['internal', 'ext-myapp', 'corp_ext-myapp'],
  ] as const)('%s/%s → %s', (kind, name, expected) => {
    expect(repoNameFor(kind, name, rules)).toBe(expected);
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
    ['int-demo', 'debian-12/int-demo', undefined, 'debian-12/int-demo'],
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
      case: 'external feed keeps its proxy and follows remote_tls_validation',
      in: { proxy: 'http://proxy.example.org:8080', tls_validation: true },
      out: {
        remote: { proxy_url: 'http://proxy.example.org:8080', tls_validation: false, internalFeed: false },
      },
    },
    {
      case: 'internal-domain feed: proxy dropped, TLS validated with the root CA',
      in: { url: 'https://artifactory.example.com/rpm/', proxy: 'http://proxy.example.org:8080' },
      out: { remote: { proxy_url: null, tls_validation: true, internalFeed: true } },
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
      case: 'deb components tolerate missing indices unless the file says otherwise',
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
      case: 'explicit ignore_missing_package_indices',
      in: { content_repo_type: 'deb' as const, components: 'main', ignore_missing_package_indices: false },
      out: { remote: { ignore_missing_package_indices: false } },
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
  ])('$case', ({ in: over, out }) => {
    expect(repoConfigEntry(file(over), 'remote', 'repo_config/remote/x.json', rules)).toMatchObject(out);
  });

  it('rpm remotes carry no deb fields; internal repos without url have no remote', () => {
    const rpm = repoConfigEntry(file({}), 'remote', 'f', rules);
    expect(rpm.remote).not.toHaveProperty('distributions');
    const internal = repoConfigEntry(file({ url: undefined, name: 'myapp' }), 'internal', 'f', rules);
    expect(internal).toMatchObject({ name: 'corp_myapp', basePath: 'centos7-x86_64/corp_myapp' });
    expect(internal.remote).toBeUndefined();
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
  it('merges global.json into every file of its folder; a file’s own keys win', async () => {
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
      description: 'b packages - B Team - base_url:el9-x86_64',
      remote: { proxy_url: null },
    });
    expect(byName.corp_app).toMatchObject({ repoType: 'deb', basePath: 'debian-12/corp_app' });
    expect(byName.corp_app?.remote).toBeUndefined();
  });

  it.each([
    ['invalid JSON', '{"name": "x",', '', /invalid JSON/],
    ['not an object', '[1, 2]', '', /must be a JSON object/],
    ['missing owner', good('x'), 'owner', /expected string/],
    ['unknown key', good('x', { owner: 'o', feed: 'http://x/' }), 'feed', /unknown key/],
    ['wrong type', good('x', { owner: 'o', tls_validation: 'yes' }), 'tls_validation', /expected boolean/],
    [
      'unsupported type',
      good('x', { owner: 'o', content_repo_type: 'container' }),
      'content_repo_type',
      /.+/,
    ],
    ['no url under remote/', { ...good('x', { owner: 'o' }), url: undefined }, 'url', /required/],
    ['bad url', good('x', { owner: 'o', url: 'mirror.example.org/x' }), 'url', /http\(s\) URL/],
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
      'remote/global.json': { owner: 'o', bogus: true },
      'remote/a.json': good('a'),
      'internal/global.json': { owner: 'p' },
      'internal/app.json': { name: 'app', content_repo_type: 'rpm', description: 'd', base_url: 'el9' },
    });
    expect(r.entries.map((e) => e.name)).toEqual(['corp_app']);
    expect(r.issues.map(formatIssue)).toEqual([
      'repo_config/remote/global.json: bogus: unknown key',
      'repo_config/remote: (root): 1 file(s) not applied: their global.json is invalid',
    ]);
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

  it('filters on the prefixed name, before validating the rest of the file', async () => {
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
      { regexInclude: '^ext-', regexExclude: 'skipped' },
    );
    expect(r).toMatchObject({ files: 3, filteredOut: 2, issues: [] });
    expect(r.entries.map((e) => e.name)).toEqual(['ext-a']);
  });

  it('a folder with neither remote/ nor internal/ is an error', async () => {
    const r = await read({ 'other/a.json': good('a') });
    expect(r.issues.map(formatIssue)).toEqual([
      'repo_config: (root): holds neither a remote/ nor an internal/ folder',
    ]);
  });
});
