import { ApplicationFailure } from '@temporalio/activity';
import { mysqlErrorNumber } from '../../db/driverErrors.js';

/** ApplicationFailure type of a statement the database refused for what it says. */
export const SQL_STATEMENT_REJECTED = 'SqlStatementRejected';

/**
 * Server errors the same statement meets again on every attempt: the statement or its values
 * are wrong, not the database's availability. DB activities retry for hours (DB_ACTIVITY) to
 * ride out an outage; these would only spin until that budget ends, so they fail at once.
 * Everything else stays retryable: connection errors (ECONNREFUSED, PROTOCOL_CONNECTION_LOST,
 * ETIMEDOUT carry no server error number), ER_LOCK_DEADLOCK (1213), ER_LOCK_WAIT_TIMEOUT (1205),
 * read-only or shutting-down servers. ER_DUP_ENTRY is here because every write that may meet an
 * existing row is an upsert on its unique key: a duplicate that still escapes is another key's.
 */
const deterministicSqlErrors: Readonly<Record<number, string>> = {
  1048: 'ER_BAD_NULL_ERROR',
  1054: 'ER_BAD_FIELD_ERROR',
  1062: 'ER_DUP_ENTRY',
  1064: 'ER_PARSE_ERROR',
  1136: 'ER_WRONG_VALUE_COUNT_ON_ROW',
  1139: 'ER_REGEXP_ERROR',
  1146: 'ER_NO_SUCH_TABLE',
  1149: 'ER_SYNTAX_ERROR',
  1264: 'ER_WARN_DATA_OUT_OF_RANGE',
  1265: 'WARN_DATA_TRUNCATED',
  1292: 'ER_TRUNCATED_WRONG_VALUE',
  1364: 'ER_NO_DEFAULT_FOR_FIELD',
  1366: 'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD',
  1406: 'ER_DATA_TOO_LONG',
  1451: 'ER_ROW_IS_REFERENCED_2',
  1452: 'ER_NO_REFERENCED_ROW_2',
  3140: 'ER_INVALID_JSON_TEXT',
  4025: 'ER_CONSTRAINT_FAILED',
};

/** The error name of a statement the database rejects deterministically, else undefined. */
export function deterministicSqlErrorCode(err: unknown): string | undefined {
  const errno = mysqlErrorNumber(err);
  return errno === undefined ? undefined : deterministicSqlErrors[errno];
}

/**
 * What a DB activity throws for `err`: a non-retryable ApplicationFailure of type
 * SQL_STATEMENT_REJECTED (details: the error name and number) when retrying cannot help,
 * otherwise `err` itself, which Temporal retries.
 */
export function classifySqlError(err: unknown): unknown {
  const code = deterministicSqlErrorCode(err);
  if (code === undefined) return err;
  const errno = mysqlErrorNumber(err);
  // drizzle's DrizzleQueryError says only which query failed; the driver error it wraps says why.
  const driverError = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  const reason = driverError instanceof Error ? driverError.message : String(driverError);
  return ApplicationFailure.create({
    message: `the database rejected the statement (${code}, ${errno}): ${reason}`,
    type: SQL_STATEMENT_REJECTED,
    nonRetryable: true,
    details: [{ code, errno }],
    cause: err instanceof Error ? err : undefined,
  });
}

type AsyncActivity = (...args: never[]) => Promise<unknown>;

/**
 * The DB activities with their SQL errors classified by `classifySqlError`: every factory in
 * activities/db returns its activities through this, so the rule lives in one place.
 */
export function withSqlErrorClassification<T extends Record<string, AsyncActivity>>(activities: T): T {
  const wrapped: Record<string, AsyncActivity> = {};
  for (const [name, activity] of Object.entries(activities)) {
    wrapped[name] = async (...args) => {
      try {
        return await activity(...args);
      } catch (err) {
        throw classifySqlError(err);
      }
    };
  }
  return wrapped as T;
}
