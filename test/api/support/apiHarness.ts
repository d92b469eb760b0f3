import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { PulpServerClients } from '../../../activities/pulp/serverClients.js';
import { createApp } from '../../../api/app.js';
import { createLdapAuthenticator } from '../../../api/auth/ldapAuthenticator.js';
import type { ApiApp } from '../../../api/context.js';
import type { ApiDeps } from '../../../api/deps.js';
import { jsonLogger } from '../../../api/logging.js';
import type { AppConfig } from '../../../config/loadAppConfig.js';
import { parseIniConfig } from '../../../config/loadAppConfig.js';
import { formatIni } from '../../../config/pythonIni.js';
import { closeDatabase, createDatabase, type Database } from '../../../db/client.js';
import { migrateDatabase } from '../../../db/migrate.js';
import { createThrowawayDatabase, type ThrowawayDatabase } from '../../db/throwawayDatabase.js';
import { stack } from '../../support/stack.js';
import { type SeedIds, seedFleet } from './seed.js';

/**
 * The API tests' own Temporal namespace: the schedule reconcile tests delete every managed
 * schedule of theirs, so the API's schedule tests must not share one with them.
 */
export const API_TEST_NAMESPACE = `${stack.temporal.testNamespace}-api`;
export const JWT_SECRET = 'api-test-secret-that-is-long-enough-for-hs512-0123456789abcdef';

type IniSections = Record<string, Record<string, string | number | boolean>>;

export function testIniSections(taskQueue: string): IniSections {
  return {
    auth: {
      use_ssl: false,
      ldap_servers: stack.ldap.url,
      base_dn: stack.ldap.baseDn,
      default_domain: 'PULPMANAGER',
      bind_dn_template: `uid={username},ou=people,${stack.ldap.baseDn}`,
      admin_group: `other-admins, ${stack.ldap.adminGroup}`,
      jwt_algorithm: 'HS256',
      jwt_token_lifetime_mins: 30,
      require_jwt_auth: true,
    },
    paging: { default_page_size: 4, max_page_size: 5 },
    temporal: { address: stack.temporal.address, namespace: API_TEST_NAMESPACE, task_queue: taskQueue },
    pulp: { use_https_for_api: false, password: stack.pulp.password },
  };
}

function mergeSections(base: IniSections, overrides: IniSections): IniSections {
  const out: IniSections = { ...base };
  for (const [section, values] of Object.entries(overrides)) out[section] = { ...base[section], ...values };
  return out;
}

export async function ensureNamespace(connection: Connection, namespace: string): Promise<void> {
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
  } catch (err) {
    if (!/already exists/i.test((err as Error).message)) throw err;
  }
}

export interface ApiHarness {
  run: string;
  app: ApiApp;
  db: Database;
  temporal: Client;
  config: AppConfig;
  seed: SeedIds;
  taskQueue: string;
  /** Every log line the app wrote. */
  logs: string[];
  /** Another app over the same dependencies, with config.ini sections or dependencies replaced. */
  appWith(overrides: { ini?: IniSections; deps?: Partial<ApiDeps>; jwtSecret?: string | undefined }): ApiApp;
  /** A token from the real LDAP login (alice: admin group, bob: not). */
  tokenFor(user: 'alice' | 'bob'): Promise<string>;
  close(): Promise<void>;
}

export async function startApiHarness(): Promise<ApiHarness> {
  const run = randomBytes(4).toString('hex');
  const taskQueue = `api-test-${run}`;
  const scratch: ThrowawayDatabase = await createThrowawayDatabase();
  await migrateDatabase(scratch.settings);
  const db = createDatabase(scratch.settings);
  const seed = await seedFleet(db, run);
  const connection = await Connection.connect({ address: stack.temporal.address });
  await ensureNamespace(connection, API_TEST_NAMESPACE);
  const temporal = new Client({ connection, namespace: API_TEST_NAMESPACE });
  const logs: string[] = [];
  const logger = jsonLogger((line) => logs.push(line));
  const sections = testIniSections(taskQueue);

  const configFor = (ini: IniSections, jwtSecret: string | undefined): AppConfig => ({
    configPath: 'test/api/config.ini',
    pulpConfigPath: 'test/api/pulp_config.yml',
    ini: parseIniConfig(formatIni(ini), 'test/api/config.ini'),
    database: scratch.settings,
    jwtSecret,
    localAuth: true,
  });
  const config = configFor(sections, JWT_SECRET);
  const baseDeps: ApiDeps = {
    config,
    db,
    temporal,
    pulpClients: new PulpServerClients(db, config),
    ldap: createLdapAuthenticator({ auth: config.ini.auth }),
    logger,
  };
  const app = createApp(baseDeps);

  const appWith: ApiHarness['appWith'] = ({ ini = {}, deps = {}, ...rest }) => {
    const changed = configFor(
      mergeSections(sections, ini),
      'jwtSecret' in rest ? rest.jwtSecret : JWT_SECRET,
    );
    return createApp({
      ...baseDeps,
      config: changed,
      ldap: createLdapAuthenticator({ auth: changed.ini.auth, connectTimeoutMs: 2000 }),
      ...deps,
    });
  };

  const tokens = new Map<string, string>();
  const tokenFor = async (user: 'alice' | 'bob') => {
    const cached = tokens.get(user);
    if (cached) return cached;
    const creds = user === 'alice' ? stack.ldap.adminUser : stack.ldap.plainUser;
    const res = await app.request('/v1/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: creds.name, password: creds.password }),
    });
    if (res.status !== 200) throw new Error(`login of ${user} answered ${res.status}: ${await res.text()}`);
    const { access_token } = (await res.json()) as { access_token: string };
    tokens.set(user, access_token);
    return access_token;
  };

  return {
    run,
    app,
    db,
    temporal,
    config,
    seed,
    taskQueue,
    logs,
    appWith,
    tokenFor,
    async close() {
      await closeDatabase(db);
      await connection.close();
      await scratch.drop();
    },
  };
}

/**
 * Terminates the workflows a test started through the API (no worker runs them), ignoring
 * those already closed.
 */
export async function terminateStarted(temporal: Client, workflowIds: readonly string[]): Promise<void> {
  for (const id of workflowIds) {
    await temporal.workflow
      .getHandle(id)
      .terminate('api test cleanup')
      .catch(() => undefined);
  }
}

/** JSON request helpers over app.request. */
export function jsonRequest(method: string, body: unknown, token?: string): RequestInit {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  return { method, headers, body: JSON.stringify(body) };
}

export function bearer(token: string): RequestInit {
  return { headers: { Authorization: `Bearer ${token}` } };
}

export async function body<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}
