import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll } from 'vitest';
import { closeDatabase, createDatabase, type Database, type DatabaseSettings } from '../../db/client.js';
import { migrateDatabase } from '../../db/migrate.js';
import { stack } from '../support/stack.js';

// The development user may create and drop databases named pulp_manager_test% (dev/mariadb.sh).
const prefix = 'pulp_manager_test_';

export interface ThrowawayDatabase {
  settings: DatabaseSettings;
  drop(): Promise<void>;
}

async function serverConnection(): Promise<mysql.Connection> {
  const { host, port, user, password } = stack.mariadb;
  try {
    return await mysql.createConnection({ host, port, user, password, connectTimeout: 5000 });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `MariaDB at ${host}:${port} is unreachable as ${user} (${reason}); ` +
        'these tests need it: start the local stack with `make stack-up` (or `bash dev/mariadb.sh`)',
    );
  }
}

/** An empty database of its own for one test file; `drop()` removes it. */
export async function createThrowawayDatabase(
  options: { charset?: string } = {},
): Promise<ThrowawayDatabase> {
  const name = `${prefix}${randomBytes(6).toString('hex')}`;
  const conn = await serverConnection();
  try {
    const charset = options.charset === undefined ? '' : ` CHARACTER SET ${options.charset}`;
    await conn.query(`CREATE DATABASE \`${name}\`${charset}`);
  } finally {
    await conn.end();
  }
  return {
    settings: { ...stack.mariadb, database: name },
    async drop() {
      const dropConn = await serverConnection();
      try {
        await dropConn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await dropConn.end();
      }
    },
  };
}

export interface MigratedDatabase {
  /** The pool on the database; read it inside a hook or a test, once beforeAll has run. */
  readonly db: Database;
  /** The throwaway database's own settings (without the pool's connectionLimit). */
  readonly settings: DatabaseSettings;
  /** How long creating and migrating it took, in milliseconds. */
  readonly setUpMs: number;
}

/**
 * A throwaway database with every migration applied, for the test file or describe block that
 * calls this: beforeAll creates and migrates it and opens a pool, afterAll closes the pool and
 * drops it. Hooks the caller registers afterwards run after the pool is open and, as vitest runs
 * afterAll hooks in reverse order (sequence.hooks 'stack'), before it is closed.
 */
export function useMigratedDatabase(options: { connectionLimit?: number } = {}): MigratedDatabase {
  let scratch: ThrowawayDatabase | undefined;
  let db: Database | undefined;
  let setUpMs: number | undefined;
  beforeAll(async () => {
    const t0 = performance.now();
    scratch = await createThrowawayDatabase();
    await migrateDatabase(scratch.settings);
    db = createDatabase(
      options.connectionLimit === undefined
        ? scratch.settings
        : { ...scratch.settings, connectionLimit: options.connectionLimit },
    );
    setUpMs = performance.now() - t0;
  });
  afterAll(async () => {
    if (db !== undefined) await closeDatabase(db);
    await scratch?.drop();
  });
  const notReady = (what: string) =>
    new Error(`useMigratedDatabase: ${what} was read before its beforeAll ran (or after it failed)`);
  return {
    get db() {
      if (db === undefined) throw notReady('db');
      return db;
    },
    get settings() {
      if (scratch === undefined) throw notReady('settings');
      return scratch.settings;
    },
    get setUpMs() {
      if (setUpMs === undefined) throw notReady('setUpMs');
      return setUpMs;
    },
  };
}
