/** MySQL/MariaDB error numbers this package reacts to. */
export const mysqlErrno = {
  noSuchTable: 1146,
  regexpError: 1139,
  /** ER_STATEMENT_TIMEOUT: max_statement_time exceeded (MariaDB). */
  statementTimeout: 1969,
} as const;

/**
 * The server's error number of a failed query, looking through drizzle's DrizzleQueryError
 * (which keeps the mysql2 error as `cause`).
 */
export function mysqlErrorNumber(err: unknown): number | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const errno = (current as { errno?: unknown }).errno;
    if (typeof errno === 'number') return errno;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
