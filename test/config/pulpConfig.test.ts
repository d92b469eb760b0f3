import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../config/errors.js';
import { parsePulpConfig } from '../../config/loadPulpConfig.js';

const FILE = 'pulp_config.yml';

// The sample from the original README, unchanged (note `max_concurrent_sync`).
const SEED_SAMPLE = `
pulp_servers:
  pulp3.example.com:
    credentials: example
    repo_config_registration:
        schedule: "0,15,30,45 * * * *"
        max_runtime: "20m"
    repo_groups:
      external_repos:
        schedule: "0 0 * * *"
        max_concurrent_sync: 2
        max_runtime: "6h"
    snapshot_support:
      max_concurrent_snapshots: 2

  pulp3slav1.example.com:
    credentials: example
    repo_groups:
      external_repos:
        schedule: "0 6 * * *"
        max_concurrent_sync: 2
        max_runtime: "6h"
        pulp_master: pulp3.example.com

credentials:
  example:
    username: svc-linux-pulp-dapi
    vault_service_account_mount: service-accounts

repo_groups:
  external_repos:
    regex_include: ^ext-
`;

function issuesOf(text: string): string[] {
  try {
    parsePulpConfig(text, FILE);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.map((i) => `${i.file}: ${i.path}: ${i.message}`);
  }
  throw new Error('expected the config to be rejected');
}

/** Replaces one line of the seed sample, so each case differs from a valid file by one edit. */
function edit(find: string, replace: string): string {
  expect(SEED_SAMPLE).toContain(find);
  return SEED_SAMPLE.replace(find, replace);
}

describe('pulp_config.yml', () => {
  it('accepts the original README sample and normalises it', () => {
    const cfg = parsePulpConfig(SEED_SAMPLE, FILE);
    const primary = cfg.pulp_servers['pulp3.example.com'];
    expect(primary?.repo_groups.external_repos).toEqual({
      schedule: '0 0 * * *',
      max_concurrent_syncs: 2,
      max_runtime: { text: '6h', seconds: 21600 },
      deb_publish_mode: 'resign',
    });
    expect(primary?.repo_config_registration?.max_runtime.seconds).toBe(1200);
    expect(primary?.snapshot_support?.max_concurrent_snapshots).toBe(2);
    expect(cfg.pulp_servers['pulp3slav1.example.com']?.repo_groups.external_repos?.pulp_master).toBe(
      'pulp3.example.com',
    );
  });

  it('accepts server names the original allowed (with _) and Python re regexes', () => {
    const text = SEED_SAMPLE.replaceAll('pulp3.example.com', 'pulp_primary:8080').replace(
      'regex_include: ^ext-',
      'regex_include: "(?i)^(?P<kind>ext)-(?P=kind)?\\\\w+\\\\Z"',
    );
    const cfg = parsePulpConfig(text, FILE);
    expect(cfg.pulp_servers['pulp_primary:8080']).toBeDefined();
    expect(cfg.repo_groups.external_repos?.regex_include).toBe('(?i)^(?P<kind>ext)-(?P=kind)?\\w+\\Z');
  });

  it('refuses a Python regex that cannot be translated, naming the key and the reason', () => {
    expect(() => parsePulpConfig(edit('regex_include: ^ext-', 'regex_include: "^ext-(?i)x"'), FILE)).toThrow(
      `${FILE}: repo_groups.external_repos.regex_include: invalid regex "^ext-(?i)x": inline flags like (?i) are only allowed at the start of the pattern`,
    );
  });

  it('sync_options keep any JSON value Pulp takes, lists included (rpm skip_types)', () => {
    const text = edit(
      '        max_concurrent_sync: 2\n        max_runtime: "6h"\n        pulp_master',
      '        max_concurrent_sync: 2\n        max_runtime: "6h"\n        sync_options:\n          skip_types: [srpm]\n          mirror: true\n          optimize: false\n        pulp_master',
    );
    const cfg = parsePulpConfig(text, FILE);
    expect(cfg.pulp_servers['pulp3slav1.example.com']?.repo_groups.external_repos?.sync_options).toEqual({
      skip_types: ['srpm'],
      mirror: true,
      optimize: false,
    });
  });

  it.each([
    ['mirror: yes-please', 'mirror', /expected boolean/],
    ['skip_types: [rpms]', 'skip_types.0', /srpm.*treeinfo/],
    ['sync_policy: mirror', 'sync_policy', /additive/],
  ])('refuses sync_options %s naming the key', (line, key, message) => {
    const issues = issuesOf(
      edit(
        '        max_runtime: "6h"\n        pulp_master',
        `        max_runtime: "6h"\n        sync_options:\n          ${line}\n        pulp_master`,
      ),
    );
    const at = `${FILE}: pulp_servers.pulp3slav1.example.com.repo_groups.external_repos.sync_options.${key}: `;
    expect(issues.find((i) => i.startsWith(at))).toMatch(message);
  });

  it('accepts the dev stack config shipped in dev/config', () => {
    const text = readFileSync(new URL('../../dev/config/pulp_config.yml', import.meta.url), 'utf8');
    expect(() => parsePulpConfig(text, FILE)).not.toThrow();
  });

  it.each([
    [
      'unknown key on a server',
      edit(
        '    credentials: example\n    repo_config',
        '    credentials: example\n    colour: blue\n    repo_config',
      ),
      `${FILE}: pulp_servers.pulp3.example.com.colour: unknown key`,
    ],
    ['unknown top-level key', `${SEED_SAMPLE}\nextra: 1\n`, `${FILE}: extra: unknown key`],
    [
      'server without credentials',
      edit('  pulp3slav1.example.com:\n    credentials: example\n', '  pulp3slav1.example.com:\n'),
      `${FILE}: pulp_servers.pulp3slav1.example.com.credentials: required: every server needs a credentials block`,
    ],
    [
      'credentials block not defined',
      edit(
        '  pulp3slav1.example.com:\n    credentials: example',
        '  pulp3slav1.example.com:\n    credentials: nope',
      ),
      `${FILE}: pulp_servers.pulp3slav1.example.com.credentials: credentials block "nope" is not defined under credentials`,
    ],
    [
      'repo group used but not defined',
      edit(
        'repo_groups:\n  external_repos:\n    regex_include: ^ext-',
        'repo_groups:\n  other:\n    regex_include: ^ext-',
      ),
      `${FILE}: pulp_servers.pulp3.example.com.repo_groups.external_repos: repo group "external_repos" is not defined under repo_groups`,
    ],
    [
      'pulp_master that is not a configured server',
      edit('pulp_master: pulp3.example.com', 'pulp_master: pulp9.example.com'),
      `${FILE}: pulp_servers.pulp3slav1.example.com.repo_groups.external_repos.pulp_master: pulp_master "pulp9.example.com" is not a server under pulp_servers`,
    ],
    [
      'pulp_master that is the server itself',
      edit('pulp_master: pulp3.example.com', 'pulp_master: pulp3slav1.example.com'),
      `${FILE}: pulp_servers.pulp3slav1.example.com.repo_groups.external_repos.pulp_master: a server cannot be its own pulp_master`,
    ],
    [
      'invalid cron',
      edit('schedule: "0 0 * * *"', 'schedule: "0 0 * *"'),
      `${FILE}: pulp_servers.pulp3.example.com.repo_groups.external_repos.schedule: cron expression "0 0 * *" has 4 fields, expected 5`,
    ],
    [
      'cron value out of range',
      edit('schedule: "0 6 * * *"', 'schedule: "0 26 * * *"'),
      `${FILE}: pulp_servers.pulp3slav1.example.com.repo_groups.external_repos.schedule: invalid cron expression "0 26 * * *": Constraint error, got value 26 expected range 0-23`,
    ],
    [
      'invalid max_runtime',
      edit('max_runtime: "20m"', 'max_runtime: "20 minutes"'),
      `${FILE}: pulp_servers.pulp3.example.com.repo_config_registration.max_runtime: invalid max_runtime "20 minutes": use seconds (300) or a number with s, m, h or d (20m, 6h, 1d)`,
    ],
    [
      'invalid regex',
      edit('regex_include: ^ext-', 'regex_include: "^ext-(["'),
      `${FILE}: repo_groups.external_repos.regex_include: invalid regex "^ext-([": unterminated character set [...]`,
    ],
    [
      'zero concurrency',
      edit(
        'max_concurrent_sync: 2\n        max_runtime: "6h"\n    snapshot',
        'max_concurrent_sync: 0\n        max_runtime: "6h"\n    snapshot',
      ),
      `${FILE}: pulp_servers.pulp3.example.com.repo_groups.external_repos.max_concurrent_sync: Too small: expected number to be >=1`,
    ],
    [
      'both spellings of max_concurrent_syncs',
      edit(
        'max_concurrent_sync: 2\n        max_runtime: "6h"\n    snapshot',
        'max_concurrent_sync: 2\n        max_concurrent_syncs: 2\n        max_runtime: "6h"\n    snapshot',
      ),
      `${FILE}: pulp_servers.pulp3.example.com.repo_groups.external_repos.max_concurrent_sync: give max_concurrent_syncs or max_concurrent_sync, not both`,
    ],
    [
      'server name that is not host[:port]',
      edit('  pulp3slav1.example.com:', '  "pulp3 slave":'),
      `${FILE}: pulp_servers.pulp3 slave: invalid key: server name must be host or host:port (letters, digits, ".", "-", "_")`,
    ],
    [
      'a server defined twice',
      `${SEED_SAMPLE.replace('pulp_servers:\n', 'pulp_servers:\n  pulp3.example.com:\n    credentials: example\n')}`,
      /YAML DUPLICATE_KEY: Map keys must be unique at line 5, column 3$/,
    ],
  ])('rejects %s', (_name, text, expected) => {
    const issues = issuesOf(text);
    if (typeof expected === 'string') expect(issues).toContain(expected);
    else expect(issues.join('\n')).toMatch(expected);
  });

  it('reports several problems together', () => {
    const text = edit('max_runtime: "20m"', 'max_runtime: "soon"')
      .replace('pulp_master: pulp3.example.com', 'pulp_master: nowhere')
      .replace('credentials: example\n    repo_groups', 'credentials: missing\n    repo_groups');
    const issues = issuesOf(text);
    expect(issues).toHaveLength(3);
    expect(issues.join('\n')).toMatch(/max_runtime.*soon/);
    expect(issues.join('\n')).toMatch(/pulp_master "nowhere"/);
    expect(issues.join('\n')).toMatch(/credentials block "missing"/);
  });
});
