import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll } from 'vitest';
import { closeDatabase, createDatabase, type Database, type DatabaseSettings } from '../../db/client.js';
import { createThrowawayDatabase, type ThrowawayDatabase } from '../db/throwawayDatabase.js';
import { eventually } from './eventually.js';
import { stack } from './stack.js';

const sh = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

export interface CliSandboxOptions {
  /** A namespace of the file's own: applying a config deletes every managed schedule it does not name. */
  namespace: string;
  /** config.ini keys to set besides namespace; each must be a line of dev/config/config.ini. */
  ini?: Record<string, string>;
  /** The first pulp_config.yml. */
  fleet: string;
  /** Variables the CLI gets besides the config paths and the database's. */
  env?: NodeJS.ProcessEnv;
}

/** Read these inside a hook or a test, once beforeAll has run (`ready`). */
export interface CliSandbox {
  /** False when beforeAll has not run or failed: teardown that needs the sandbox skips. */
  readonly ready: boolean;
  /** Holds config.ini and pulp_config.yml. */
  readonly dir: string;
  /** The environment to run `pulp-manager` with. */
  readonly env: NodeJS.ProcessEnv;
  /** The throwaway database's settings: empty, not migrated. */
  readonly settings: DatabaseSettings;
  /** A pool on that database (it connects on first use). */
  readonly db: Database;
  /** A client on the namespace. */
  readonly temporal: Client;
  writeFleet(text: string): Promise<void>;
}

/**
 * `pulp-manager` run as an operator runs it (a real process), for the file or describe block
 * that calls this: beforeAll creates the namespace (if missing), an empty throwaway database
 * and a folder with config.ini (dev/config/config.ini on that namespace) and pulp_config.yml;
 * afterAll closes the client and the pool, drops the database and removes the folder. The
 * caller's own afterAll hooks, registered afterwards, run before that teardown (vitest runs
 * afterAll hooks in reverse order, sequence.hooks 'stack').
 */
export function useCliSandbox(options: CliSandboxOptions): CliSandbox {
  let throwaway: ThrowawayDatabase | undefined;
  let dir: string | undefined;
  let env: NodeJS.ProcessEnv | undefined;
  let db: Database | undefined;
  let temporal: Client | undefined;
  let ready = false;

  beforeAll(async () => {
    await sh(stack.temporal.bin, [
      'operator',
      'namespace',
      'create',
      '--address',
      stack.temporal.address,
      '-n',
      options.namespace,
    ]).catch((err: { stderr?: string }) => {
      if (!/already exists|AlreadyExists/i.test(err.stderr ?? '')) throw err;
    });
    throwaway = await createThrowawayDatabase();
    dir = await mkdtemp(join(tmpdir(), 'pm-cli-'));
    let ini = await readFile(join(root, 'dev/config/config.ini'), 'utf8');
    for (const [key, value] of Object.entries({ namespace: options.namespace, ...options.ini })) {
      ini = ini.replace(new RegExp(`^${key}=.*$`, 'm'), `${key}=${value}`);
      if (!ini.includes(`${key}=${value}\n`)) throw new Error(`dev/config/config.ini: no ${key}= line`);
    }
    await writeFile(join(dir, 'config.ini'), ini);
    await writeFile(join(dir, 'pulp_config.yml'), options.fleet);
    env = {
      ...process.env,
      PULP_MANAGER_CONFIG_PATH: join(dir, 'config.ini'),
      PULP_SYNC_CONFIG_PATH: join(dir, 'pulp_config.yml'),
      ...options.env,
      DB_NAME: throwaway.settings.database,
      DB_PASSWORD: stack.mariadb.password,
    };
    db = createDatabase(throwaway.settings);
    const connection = await Connection.connect({ address: stack.temporal.address });
    const client = new Client({ connection, namespace: options.namespace });
    temporal = client;
    // A fresh namespace takes a moment to be usable.
    await eventually(async () => {
      for await (const _ of client.schedule.list()) break;
    }, 30_000);
    ready = true;
  });

  afterAll(async () => {
    await temporal?.connection.close();
    if (db !== undefined) await closeDatabase(db);
    await throwaway?.drop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const started = <T>(value: T | undefined, what: string): T => {
    if (!ready || value === undefined)
      throw new Error(`useCliSandbox: ${what} was read before its beforeAll ran (or after it failed)`);
    return value;
  };
  return {
    get ready() {
      return ready;
    },
    get dir() {
      return started(dir, 'dir');
    },
    get env() {
      return started(env, 'env');
    },
    get settings() {
      return started(throwaway, 'settings').settings;
    },
    get db() {
      return started(db, 'db');
    },
    get temporal() {
      return started(temporal, 'temporal');
    },
    writeFleet: (text) => writeFile(join(started(dir, 'dir'), 'pulp_config.yml'), text),
  };
}
