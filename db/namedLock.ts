import type { PoolConnection } from 'mysql2/promise';
import type { Database } from './client.js';

/** Another process held the lock longer than the caller was willing to wait. */
export class NamedLockTimeoutError extends Error {
  readonly code = 'DB_LOCK_TIMEOUT';

  constructor(
    readonly lockName: string,
    readonly waitedSeconds: number,
  ) {
    super(`database lock ${lockName} still held by another process after ${waitedSeconds}s`);
    this.name = 'NamedLockTimeoutError';
  }
}

/**
 * Runs `fn` while this process holds the MariaDB named lock `name` (GET_LOCK), so that replicas
 * starting together (API and worker processes each apply the config at start-up) take turns
 * instead of racing on the same inserts. The lock lives on a connection of its own, outside the
 * transactions `fn` runs, and goes with it if the process dies.
 */
export async function withNamedLock<T>(
  db: Database,
  name: string,
  timeoutSeconds: number,
  fn: () => Promise<T>,
): Promise<T> {
  const conn: PoolConnection = await db.$client.getConnection();
  try {
    const [rows] = await conn.query('SELECT GET_LOCK(?, ?) AS got', [name, timeoutSeconds]);
    const got = (rows as { got: number | null }[])[0]?.got;
    if (got !== 1) throw new NamedLockTimeoutError(name, timeoutSeconds);
    try {
      return await fn();
    } finally {
      await conn.query('SELECT RELEASE_LOCK(?)', [name]);
    }
  } finally {
    conn.release();
  }
}
