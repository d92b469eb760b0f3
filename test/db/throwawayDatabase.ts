import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import type { DatabaseSettings } from '../../db/client.js';
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
