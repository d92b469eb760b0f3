import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../config/errors.js';
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
    ['[redis] is gone', `${SEED_INI}\n[redis]\nhost=redis\n`, `${FILE}: redis: unknown key`],
    ['unknown key', SEED_INI.replace('[paging]', '[paging]\npage=3'), `${FILE}: paging.page: unknown key`],
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
      `${FILE}: auth.method: Invalid input: expected "ldap"`,
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
