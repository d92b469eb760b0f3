import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDatabase, createDatabase, type Database } from '../../db/client.js';
import { NamedLockTimeoutError, withNamedLock } from '../../db/namedLock.js';
import { stack } from '../support/stack.js';

// Replicas applying the config at start-up take turns on a MariaDB named lock (issue 16).
describe('withNamedLock', () => {
  let a: Database;
  let b: Database;
  const name = `pulp_manager.test.${process.pid}.${Date.now()}`;

  beforeAll(() => {
    // Two pools: two processes as far as MariaDB can tell.
    a = createDatabase(stack.mariadb);
    b = createDatabase(stack.mariadb);
  });
  afterAll(async () => {
    await closeDatabase(a);
    await closeDatabase(b);
  });

  it('runs holders one after the other, never together, and releases on error', async () => {
    const events: string[] = [];
    const hold = (db: Database, who: string) =>
      withNamedLock(db, name, 30, async () => {
        events.push(`${who} in`);
        await new Promise((r) => setTimeout(r, 300));
        events.push(`${who} out`);
        return who;
      });
    expect(await Promise.all([hold(a, 'a'), hold(b, 'b')])).toEqual(['a', 'b']);
    expect(
      [events.slice(0, 2), events.slice(2)].map((p) => p[0]?.split(' ')[0] === p[1]?.split(' ')[0]),
    ).toEqual([true, true]);
    await expect(withNamedLock(a, name, 5, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await withNamedLock(b, name, 1, async () => 'free again')).toBe('free again');
  });

  it('gives up with DB_LOCK_TIMEOUT when another holder keeps the lock', async () => {
    let release: () => void = () => undefined;
    const held = withNamedLock(a, name, 5, () => new Promise<void>((r) => (release = r)));
    await new Promise((r) => setTimeout(r, 200));
    const err = await withNamedLock(b, name, 1, async () => 'never').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NamedLockTimeoutError);
    expect((err as NamedLockTimeoutError).code).toBe('DB_LOCK_TIMEOUT');
    release();
    await held;
  });
});
