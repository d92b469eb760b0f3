import { drizzle, type MySql2Database } from 'drizzle-orm/mysql2';
import mysql from 'mysql2/promise';

/** Where the reporting database is; building this from config.ini / the environment is config/'s job. */
export interface DatabaseSettings {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** Pool size; mysql2's default (10) when absent. */
  connectionLimit?: number;
}

// No relational schema on purpose: drizzle's relational queries (`db.query.x.findMany({ with })`)
// compile to LATERAL joins or to derived tables with outer references, neither of which
// MariaDB accepts. Joins are written with the query builder (see listSpecs.ts, taskQueries.ts).
export type Database = MySql2Database & { $client: mysql.Pool };

/** mysql2 options shared by the pool and the migrator's single connection. */
export function connectionOptions(settings: DatabaseSettings): mysql.ConnectionOptions {
  return {
    host: settings.host,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    database: settings.database,
    charset: 'utf8mb4_unicode_ci',
    // Dates cross the wire as UTC strings (drizzle's datetime mapping); keep raw queries consistent.
    timezone: 'Z',
  };
}

/** Session setup: NOW() and friends in UTC, like every DATETIME the application writes. */
export const sessionSetupSql = "SET time_zone = '+00:00'";

/** A pooled drizzle database. Close it with `closeDatabase` (or `db.$client.end()`). */
export function createDatabase(settings: DatabaseSettings): Database {
  const pool = mysql.createPool({
    ...connectionOptions(settings),
    connectionLimit: settings.connectionLimit ?? 10,
    waitForConnections: true,
  });
  // The core pool emits 'connection' (with a callback-style connection) before handing a new
  // connection out, and a connection runs its commands in order: the SET precedes any query.
  pool.pool.on('connection', (conn) => {
    conn.query(sessionSetupSql, (err) => {
      if (err) conn.destroy();
    });
  });
  return drizzle({ client: pool });
}

export async function closeDatabase(db: Database): Promise<void> {
  await db.$client.end();
}
