import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The local stack's ports and development credentials live in one file shared with dev/*.sh.
const stackEnvPath = fileURLToPath(new URL('../../dev/stack.env', import.meta.url));

function parseStackEnv(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] !== undefined && m[2] !== undefined) vars[m[1]] = m[2];
  }
  return vars;
}

const vars = parseStackEnv(readFileSync(stackEnvPath, 'utf8'));

function need(key: string): string {
  const v = vars[key];
  if (v === undefined) throw new Error(`dev/stack.env: missing key ${key}`);
  return v;
}

const host = need('PM_HOST');
const cacheDir = process.env.PM_CACHE ?? `${process.env.HOME}/.cache/pulp-manager-dev`;
const stateDir = process.env.PM_STATE ?? `${cacheDir}/state`;

export const stack = {
  cacheDir,
  stateDir,
  temporal: {
    address: `${host}:${need('TEMPORAL_PORT')}`,
    namespace: 'default',
    testNamespace: need('TEMPORAL_TEST_NAMESPACE'),
    bin: `${cacheDir}/temporal-cli-v1.5.1/bin/temporal`,
  },
  mariadb: {
    host,
    port: Number(need('MARIADB_PORT')),
    database: need('MARIADB_DATABASE'),
    user: need('MARIADB_USER'),
    password: need('MARIADB_PASSWORD'),
  },
  ldap: {
    url: `ldap://${host}:${need('LDAP_PORT')}`,
    baseDn: need('LDAP_BASE_DN'),
    adminGroup: need('LDAP_ADMIN_GROUP'),
    adminUser: { name: need('LDAP_ADMIN_USER'), password: need('LDAP_ADMIN_USER_PASSWORD') },
    plainUser: { name: need('LDAP_PLAIN_USER'), password: need('LDAP_PLAIN_USER_PASSWORD') },
  },
  pulp: {
    username: need('PULP_ADMIN_USER'),
    password: need('PULP_ADMIN_PASSWORD'),
    debSigningService: need('DEB_SIGNING_SERVICE'),
    // Each server is reached through its nginx front, whose host:port is its name in config.
    primary: {
      name: `${host}:${need('PULP_PRIMARY_PORT')}`,
      url: `http://${host}:${need('PULP_PRIMARY_PORT')}`,
      contentUrl: `http://${host}:${need('PULP_PRIMARY_PORT')}/pulp/content`,
    },
    secondary: {
      name: `${host}:${need('PULP_SECONDARY_PORT')}`,
      url: `http://${host}:${need('PULP_SECONDARY_PORT')}`,
      contentUrl: `http://${host}:${need('PULP_SECONDARY_PORT')}/pulp/content`,
    },
    signingKeyFile: `${stateDir}/pulp/deb-signing-key.asc`,
  },
  fixtures: {
    baseUrl: `http://${host}:${need('FIXTURES_HTTP_PORT')}`,
    repoConfigGit: `${stateDir}/fixtures/repo-config.git`,
  },
} as const;
