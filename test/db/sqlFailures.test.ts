import { ApplicationFailure } from '@temporalio/common';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import {
  classifySqlError,
  SQL_STATEMENT_REJECTED,
  withSqlErrorClassification,
} from '../../activities/db/sqlFailures.js';
import { closeDatabase, createDatabase } from '../../db/client.js';
import { repos } from '../../db/schema.js';
import { useMigratedDatabase } from './throwawayDatabase.js';

// The errors are the real ones: drizzle's DrizzleQueryError wrapping mysql2's error from MariaDB,
// and the driver's own error when nothing listens on the port.
const scratch = useMigratedDatabase();

const failureOf = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('the statement was expected to fail');
    },
    (err: unknown) => err,
  );

function expectRejected(err: unknown, code: string, errno: number): void {
  const classified = classifySqlError(err);
  expect(classified).toBeInstanceOf(ApplicationFailure);
  const failure = classified as ApplicationFailure;
  expect(failure.nonRetryable).toBe(true);
  expect(failure.type).toBe(SQL_STATEMENT_REJECTED);
  expect(failure.details).toEqual([{ code, errno }]);
  expect(failure.message).toContain(`the database rejected the statement (${code}, ${errno}): `);
  expect(failure.cause).toBe(err);
}

describe('classifySqlError: what retrying cannot fix fails at once', () => {
  it('a syntax error', async () => {
    expectRejected(await failureOf(scratch.db.execute(sql.raw('SELEC 1'))), 'ER_PARSE_ERROR', 1064);
  });

  it('an unknown column and an unknown table', async () => {
    expectRejected(
      await failureOf(scratch.db.execute(sql.raw('SELECT nope FROM repos'))),
      'ER_BAD_FIELD_ERROR',
      1054,
    );
    expectRejected(
      await failureOf(scratch.db.execute(sql.raw('SELECT 1 FROM nowhere'))),
      'ER_NO_SUCH_TABLE',
      1146,
    );
  });

  it('a value too long for its column (strict mode), with the server message', async () => {
    const err = await failureOf(scratch.db.insert(repos).values({ name: 'x'.repeat(600), repo_type: 'rpm' }));
    expectRejected(err, 'ER_DATA_TOO_LONG', 1406);
    expect((classifySqlError(err) as Error).message).toContain("Data too long for column 'name'");
  });

  it('a duplicate of a unique key no upsert covers', async () => {
    await scratch.db.insert(repos).values({ name: 'dup', repo_type: 'rpm' });
    expectRejected(
      await failureOf(scratch.db.insert(repos).values({ name: 'dup', repo_type: 'rpm' })),
      'ER_DUP_ENTRY',
      1062,
    );
  });
});

describe('classifySqlError: what an outage or contention causes stays retryable', () => {
  it('connection refused passes through unchanged', async () => {
    // Port 1 on loopback: nothing listens, the connect is refused at once.
    const down = createDatabase({ ...scratch.settings, port: 1 });
    try {
      const err = await failureOf(down.execute(sql.raw('SELECT 1')));
      expect(JSON.stringify(err, ['code', 'cause'])).toContain('ECONNREFUSED');
      expect(classifySqlError(err)).toBe(err);
    } finally {
      await closeDatabase(down);
    }
  });

  it('lost connections, deadlocks and lock wait timeouts pass through unchanged', () => {
    const lost = Object.assign(new Error('Connection lost: The server closed the connection.'), {
      code: 'PROTOCOL_CONNECTION_LOST',
      fatal: true,
    });
    const deadlock = Object.assign(new Error('Deadlock found when trying to get lock'), {
      code: 'ER_LOCK_DEADLOCK',
      errno: 1213,
    });
    const lockWait = Object.assign(new Error('Lock wait timeout exceeded'), {
      code: 'ER_LOCK_WAIT_TIMEOUT',
      errno: 1205,
    });
    const timedOut = Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT', errno: -110 });
    for (const driverError of [lost, deadlock, lockWait, timedOut]) {
      const wrapped = new Error('Failed query: UPDATE tasks …', { cause: driverError });
      expect(classifySqlError(wrapped)).toBe(wrapped);
      expect(classifySqlError(driverError)).toBe(driverError);
    }
  });
});

describe('withSqlErrorClassification', () => {
  it('DB activities throw the classified failure and pass results and other errors through', async () => {
    const activities = withSqlErrorClassification({
      async broken(): Promise<number> {
        await scratch.db.execute(sql.raw('SELEC 1'));
        return 1;
      },
      async fine(input: { n: number }): Promise<number> {
        return input.n + 1;
      },
      async unreachable(): Promise<void> {
        throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED', errno: -111 });
      },
    });
    await expect(activities.fine({ n: 1 })).resolves.toBe(2);
    const broken = await failureOf(activities.broken());
    expect(broken).toBeInstanceOf(ApplicationFailure);
    expect((broken as ApplicationFailure).nonRetryable).toBe(true);
    const unreachable = await failureOf(activities.unreachable());
    expect(unreachable).not.toBeInstanceOf(ApplicationFailure);
    expect((unreachable as { code?: string }).code).toBe('ECONNREFUSED');
  });
});
