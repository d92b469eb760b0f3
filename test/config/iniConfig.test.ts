import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, formatIssue } from '../../config/errors.js';
import { checkIniConfig } from '../../config/iniConfigFile.js';
import { loadAppConfig, parseIniConfig } from '../../config/loadAppConfig.js';

const FILE = 'config.ini';

// The original README's sample with [redis] replaced by [temporal].
const SEED_INI = `
[ca]
root_ca_file_path=/etc/pulp_manager/root.pem

[auth]
method=ldap
use_ssl=true
ldap_servers=dc.example.com
base_dn=DC=example,DC=com
default_domain=example.com
jwt_algorithm=HS256
jwt_token_lifetime_mins=480
admin_group=pulpmaster-rw
require_jwt_auth=true

[pulp]
deb_signing_service=pulp_deb
banned_package_regex=bannedexample|another
internal_domains=example.com
git_repo_config=https://git.example.com/Pulp-Repo-Config
git_repo_config_dir=repo_config
password=password
internal_package_prefix=corp_
package_name_replacement_pattern=
package_name_replacement_rule=
remote_tls_validation=true
use_https_for_sync=true

[temporal]
address=temporal.example.com:7233
namespace=pulp
task_queue=pulp-manager

[remotes]
sock_connect_timeout=120.0
sock_read_timeout=600.0

[paging]
default_page_size=50
max_page_size=20000

[vault]
vault_addr=http://127.0.0.1:8200
repo_secret_namespace=secrets-common
`;

function issuesOf(text: string): string[] {
  try {
    parseIniConfig(text, FILE);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.map((i) => `${i.file}: ${i.path}: ${i.message}`);
  }
  throw new Error('expected the config to be rejected');
}

describe('config.ini', () => {
  it('accepts the original sample and types its values', () => {
    const cfg = parseIniConfig(SEED_INI, FILE);
    expect(cfg.auth.ldap_servers).toEqual(['dc.example.com']);
    expect(cfg.auth.require_jwt_auth).toBe(true);
    expect(cfg.auth.jwt_token_lifetime_mins).toBe(480);
    expect(cfg.pulp.internal_domains).toEqual(['example.com']);
    expect(cfg.pulp.package_name_replacement_pattern).toBeUndefined();
    expect(cfg.remotes.sock_read_timeout).toBe(600);
    expect(cfg.paging.max_page_size).toBe(20000);
    expect(cfg.temporal.task_queue).toBe('pulp-manager');
  });

  it.each([
    [
      'bad boolean',
      SEED_INI.replace('use_ssl=true', 'use_ssl=maybe'),
      `${FILE}: auth.use_ssl: expected true or false, got "maybe"`,
    ],
    [
      'bad number',
      SEED_INI.replace('sock_read_timeout=600.0', 'sock_read_timeout=ten'),
      `${FILE}: remotes.sock_read_timeout: expected a positive number, got "ten"`,
    ],
    [
      'bad banned regex',
      SEED_INI.replace('banned_package_regex=bannedexample|another', 'banned_package_regex=(unclosed'),
      `${FILE}: pulp.banned_package_regex: invalid regex "(unclosed": Unterminated group`,
    ],
    [
      'default page size above the cap',
      SEED_INI.replace('default_page_size=50', 'default_page_size=50000'),
      `${FILE}: paging.default_page_size: must not be larger than max_page_size`,
    ],
    [
      'unsupported auth method',
      SEED_INI.replace('method=ldap', 'method=kerberos'),
      `${FILE}: auth.method: Invalid option: expected one of "ldap"|"none"`,
    ],
  ])('rejects %s', (_name, text, expected) => {
    expect(issuesOf(text)).toContain(expected);
  });

  it('takes database settings and secrets from the environment, naming what is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-config-'));
    const path = join(dir, 'config.ini');
    writeFileSync(path, `${SEED_INI}\n[database]\nhost=db.example.com\nuser=pm\ndb_name=pulp_manager\n`);
    const env = { PULP_MANAGER_CONFIG_PATH: path, DB_PASSWORD: 's3cret', DB_PORT: '13306', JWT_SECRET: 'j' };
    const cfg = await loadAppConfig(env);
    expect(cfg.database).toEqual({
      host: 'db.example.com',
      port: 13306,
      user: 'pm',
      password: 's3cret',
      database: 'pulp_manager',
    });
    expect(cfg.jwtSecret).toBe('j');
    expect(cfg.pulpConfigPath).toBe('/etc/pulp_manager/pulp_config.yml');

    const err = await loadAppConfig({ PULP_MANAGER_CONFIG_PATH: path }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain(
      'database.password: not set: set DB_PASSWORD or [database] password',
    );
  });

  it('names the file it cannot read', async () => {
    const err = await loadAppConfig({ PULP_MANAGER_CONFIG_PATH: '/nonexistent/config.ini' }).catch(
      (e: unknown) => e,
    );
    expect((err as ConfigError).issues[0]?.file).toBe('/nonexistent/config.ini');
    expect((err as ConfigError).issues[0]?.message).toMatch(/cannot read file: ENOENT/);
  });
});

describe('config.ini of the original, read with configparser rules', () => {
  const check = (text: string) => {
    const c = checkIniConfig(text, FILE);
    return {
      ini: c.ini,
      issues: c.issues.map(formatIssue),
      notices: c.notices.map(formatIssue),
    };
  };

  it("accepts the original README's sample verbatim ([redis] included) with one notice", () => {
    const readme = SEED_INI.replace(
      '[temporal]\naddress=temporal.example.com:7233\nnamespace=pulp\ntask_queue=pulp-manager\n',
      '[redis]\nhost=redis\nport=6379\ndb=0\nmax_page_size=24\n',
    ).replace('internal_package_prefix=corp_', 'internal_repo_prefix=corp-\nexternal_repo_prefix=ext-');
    expect(readme).toContain('[redis]');
    const c = check(readme);
    expect(c.issues).toEqual([]);
    expect(c.notices).toEqual([
      expect.stringMatching(/: redis: \[redis\] \(host, port, db, max_page_size\): Redis is not used/),
    ]);
    expect(c.ini?.temporal.address).toBe('localhost:7233');
  });

  it('keeps inline ; and # in values and reads key: value lines and mixed-case keys', () => {
    const c = check(
      SEED_INI.replace('banned_package_regex=bannedexample|another', 'Banned_Package_Regex: ^foo#bar;baz$'),
    );
    expect(c.issues).toEqual([]);
    expect(c.ini?.pulp.banned_package_regex).toBe('^foo#bar;baz$');
  });

  it('accepts Python named groups in package_name_replacement_pattern', () => {
    const c = check(
      SEED_INI.replace(
        'package_name_replacement_pattern=',
        'package_name_replacement_pattern=^(?P<org>[a-z]+)-(?P<env>[a-z]+)-(?P<pkg>.+)$',
      ),
    );
    expect(c.issues).toEqual([]);
    expect(c.ini?.pulp.package_name_replacement_pattern).toBe(
      '^(?P<org>[a-z]+)-(?P<env>[a-z]+)-(?P<pkg>.+)$',
    );
  });

  it('accepts what it does not use with a notice naming the line: [redis], unknown keys and sections, placeholders', () => {
    const c = check(
      `${SEED_INI}\n[redis]\nhost=redis\nport=6379\n[Paging]\nx=1\n[database]\nport=\${DB_PORT:3306}\n[DEFAULT]\nnobody=1\n`.replace(
        '[vault]',
        '[vault]\nenabled=false',
      ),
    );
    expect(c.issues).toEqual([]);
    expect(c.ini?.database.port).toBeUndefined();
    const line = (s: string) => SEED_INI.split('\n').findIndex((l) => l === s) + 1;
    expect(c.notices).toEqual([
      `${FILE}:${line('[vault]') + 1}: vault.enabled: unknown key; ignored`,
      expect.stringMatching(/^config\.ini:\d+: redis: \[redis\] \(host, port\): Redis is not used/),
      expect.stringMatching(
        /: Paging: unknown section \[Paging\]; ignored \(section names are case-sensitive: did you mean \[paging\]\?\)$/,
      ),
      expect.stringMatching(
        /: database\.port: "\$\{DB_PORT:3306\}" is a placeholder, not a value; the DB_\* environment variables/,
      ),
      expect.stringMatching(/: DEFAULT\.nobody: key of \[DEFAULT\] that no section uses; ignored$/),
    ]);
  });

  it('keeps the empty values the original used as values: git_repo_config_dir (the clone root), internal_domains', () => {
    const c = check('[pulp]\ngit_repo_config_dir=\ninternal_domains=\ndeb_signing_service=\n');
    expect(c.ini?.pulp.git_repo_config_dir).toBe('');
    expect(c.ini?.pulp.internal_domains).toEqual([]);
    expect(c.ini?.pulp.deb_signing_service).toBeUndefined();
    expect(c.notices).toEqual([
      expect.stringMatching(
        /^config\.ini:3: pulp\.internal_domains: empty: no feed is internal here; the original/,
      ),
    ]);
    expect(check('[pulp]\n').ini?.pulp.git_repo_config_dir).toBe('repo_config');
  });

  it('accepts [auth] method=none with a notice, and refuses logins then', () => {
    const c = check(SEED_INI.replace('method=ldap', 'method=none'));
    expect(c.ini?.auth.method).toBe('none');
    expect(c.notices).toContainEqual(expect.stringContaining('auth.method: none: logins'));
  });

  it('applies [DEFAULT] and %(name)s interpolation like configparser', () => {
    const c = check(
      `[DEFAULT]\nroot=/etc/pulp_manager\n[ca]\nroot_ca_file_path=%(root)s/root.pem\n[pulp]\ninternal_domains=a.example.com,b.example.com\n`,
    );
    expect(c.ini?.ca.root_ca_file_path).toBe('/etc/pulp_manager/root.pem');
    expect(c.notices).toEqual([]);
  });

  it('reports every problem at once with file, line, section.key and reason', () => {
    const c = check(
      SEED_INI.replace('use_ssl=true', 'use_ssl=maybe')
        .replace('jwt_algorithm=HS256', 'jwt_algorithm=HS256\nJWT_algorithm=HS512')
        .replace('banned_package_regex=bannedexample|another', 'banned_package_regex=a(?i)b')
        .replace('sock_read_timeout=600.0', 'sock_read_timeout=60%'),
    );
    expect(c.ini).toBeUndefined();
    const lines = SEED_INI.split('\n');
    const at = (s: string) => lines.findIndex((l) => l === s) + 1;
    expect(c.issues).toEqual(
      expect.arrayContaining([
        `${FILE}:${at('jwt_algorithm=HS256') + 1}: auth.jwt_algorithm: key already set in [auth] (line ${at('jwt_algorithm=HS256')}); keys are case-insensitive`,
        `${FILE}:${at('sock_read_timeout=600.0') + 1}: remotes.sock_read_timeout: "%" must be followed by "%" or "(" (configparser interpolation); write %% for a %`,
        `${FILE}:${at('use_ssl=true')}: auth.use_ssl: expected true or false, got "maybe"`,
        `${FILE}:${at('banned_package_regex=bannedexample|another') + 1}: pulp.banned_package_regex: invalid regex "a(?i)b": inline flags like (?i) are only allowed at the start of the pattern`,
      ]),
    );
    expect(c.issues).toHaveLength(4);
  });
});

describe('the original environment switches', () => {
  const write = (text: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-config-'));
    const path = join(dir, 'config.ini');
    writeFileSync(path, text);
    return path;
  };
  const dbEnv = { DB_HOSTNAME: 'db', DB_USER: 'u', DB_PASSWORD: 'p', DB_NAME: 'n' };

  it('PULP_MANAGER_CA_FILE replaces [ca] root_ca_file_path, and is logged once', async () => {
    const logged: string[] = [];
    const cfg = await loadAppConfig(
      { ...dbEnv, PULP_MANAGER_CONFIG_PATH: write(SEED_INI), PULP_MANAGER_CA_FILE: '/ca/root.pem' },
      (l) => logged.push(l),
    );
    expect(cfg.ini.ca.root_ca_file_path).toBe('/ca/root.pem');
    expect(logged).toEqual([
      expect.stringContaining('environment: PULP_MANAGER_CA_FILE: /ca/root.pem is the root CA'),
    ]);
  });

  it('Is_local=true means [pulp] password instead of Vault, and http to Pulp unless use_https_for_api is set', async () => {
    const logged: string[] = [];
    const quiet = (line: string) => logged.push(line);
    const local = await loadAppConfig(
      { ...dbEnv, PULP_MANAGER_CONFIG_PATH: write(SEED_INI), Is_local: 'true' },
      quiet,
    );
    expect(local.localAuth).toBe(true);
    expect(local.ini.pulp.use_https_for_api).toBe(false);
    expect(logged).toEqual([
      expect.stringContaining(
        'environment: Is_local: true: Pulp logins use [pulp] password instead of Vault, Pulp APIs are called over http',
      ),
    ]);

    const explicit = await loadAppConfig(
      {
        ...dbEnv,
        PULP_MANAGER_CONFIG_PATH: write(SEED_INI.replace('[pulp]', '[pulp]\nuse_https_for_api=true')),
        Is_local: 'TRUE',
      },
      quiet,
    );
    expect(explicit.localAuth).toBe(true);
    expect(explicit.ini.pulp.use_https_for_api).toBe(true);

    const remote = await loadAppConfig(
      { ...dbEnv, PULP_MANAGER_CONFIG_PATH: write(SEED_INI), Is_local: 'false' },
      quiet,
    );
    expect(remote.localAuth).toBe(false);
    expect(remote.ini.pulp.use_https_for_api).toBe(true);

    const err = await loadAppConfig(
      {
        ...dbEnv,
        PULP_MANAGER_CONFIG_PATH: write(SEED_INI.replace('password=password\n', '')),
        Is_local: 'true',
      },
      quiet,
    ).catch((e: unknown) => e);
    expect((err as ConfigError).message).toContain(
      'pulp.password: required when PULP_MANAGER_LOCAL_AUTH=true or Is_local=true',
    );
  });
});
