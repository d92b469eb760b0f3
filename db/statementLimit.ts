// A time limit on the list endpoints' statements, so that no request (a catastrophic
// `__match` pattern, a count over a huge filter) holds a pool connection for more than a
// fraction of a second. MariaDB's `SET STATEMENT max_statement_time=<s> FOR <statement>`
// limits that one statement on the server, which stops its work and answers ER_STATEMENT_TIMEOUT
// (1969); the connection stays usable and goes back to the pool. A session-wide limit would
// also cut the API's legitimate long writes (deleting a server with 10,000 repos).
import { drizzle } from 'drizzle-orm/mysql2';
import type mysql from 'mysql2/promise';
import type { Database } from './client.js';

type QueryOptions = mysql.QueryOptions;

const limited = new WeakMap<mysql.Pool, Map<number, Database>>();

/**
 * A drizzle database on `db`'s pool whose every statement runs under max_statement_time of
 * `timeoutMs` (0: no limit, `db` itself). Read-only use: no transactions on it.
 */
export function withStatementLimit(db: Database, timeoutMs: number): Database {
  if (timeoutMs <= 0) return db;
  const pool = db.$client;
  let byTimeout = limited.get(pool);
  if (byTimeout === undefined) {
    byTimeout = new Map();
    limited.set(pool, byTimeout);
  }
  let found = byTimeout.get(timeoutMs);
  if (found === undefined) {
    const prefix = `SET STATEMENT max_statement_time=${(timeoutMs / 1000).toFixed(3)} FOR `;
    // drizzle's mysql2 session only calls query() (and execute() for raw SQL) on a pool that
    // has no getConnection: exactly these two, with the statement text prefixed.
    const client = {
      query: (options: QueryOptions | string, values?: unknown[]) =>
        pool.query(
          typeof options === 'string' ? { sql: prefix + options } : { ...options, sql: prefix + options.sql },
          values,
        ),
      execute: (sqlText: string, values?: unknown[]) => pool.query({ sql: prefix + sqlText }, values),
    };
    found = Object.assign(drizzle({ client: client as unknown as mysql.Pool }), { $client: pool });
    byTimeout.set(timeoutMs, found);
  }
  return found;
}
